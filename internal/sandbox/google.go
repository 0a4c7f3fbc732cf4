package sandbox

import (
	"strings"
	"time"

	"infino.legal/mailbox/internal/fakeidp"
	"infino.legal/mailbox/mailcfg"
)

// Google is the sandbox "Google": the strict Google profile of
// internal/fakeidp (issuer https://accounts.google.com, iss in the
// redirect, the desktop client's secret, email_verified) at {authority},
// signing in whoever the login_hint names. The sandbox mail servers accept
// its access tokens with XOAUTH2.
type Google struct {
	*fakeidp.Server
}

func newGoogle(authority string, now func() time.Time, page bool) (*Google, error) {
	p := fakeidp.GoogleProfile(GoogleClientID, GoogleClientSecret)
	p.AccountFromHint = func(hint string) (fakeidp.Account, bool) {
		if a, err := mailcfg.ParseAddress(hint); err == nil {
			return googleAccount(a.String()), true
		}
		return fakeidp.Account{}, false
	}
	s, err := fakeidp.New(p, authority, fakeidp.Options{Page: page, Now: now, Account: googleAccount(GoogleEmail)})
	if err != nil {
		return nil, err
	}
	return &Google{s}, nil
}

func googleAccount(email string) fakeidp.Account {
	return fakeidp.Account{PreferredUsername: email, Email: email, Name: displayName(email)}
}

// checkMailToken: a valid access token of user with Google's mail scope.
func (g *Google) checkMailToken(user, token string) bool {
	a, ok := g.ValidAccessToken(token)
	return ok && g.HasScope(token, "https://mail.google.com/") && strings.EqualFold(a.Email, user)
}

// displayName is the name the fake providers show for a sandbox address:
// its local part, capitalised, marked "(sandbox)".
func displayName(email string) string {
	if local, _, _ := strings.Cut(email, "@"); local != "" {
		return strings.ToUpper(local[:1]) + local[1:] + " (sandbox)"
	}
	return email
}
