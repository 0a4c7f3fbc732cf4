package sandbox

import (
	"strings"
	"time"

	"infino.legal/mailbox/internal/fakeidp"
	"infino.legal/mailbox/internal/fakemail"
	"infino.legal/mailbox/mailcfg"
)

// Microsoft is the sandbox "Microsoft identity platform": the strict fake
// of internal/fakeidp with the Microsoft profile at {authority}/{tenant}/…,
// signing in whoever the login_hint names (any address works in the demo)
// into the demo tenant. Its access tokens are what the sandbox IMAP and
// SMTP servers accept with XOAUTH2.
type Microsoft struct {
	*fakeidp.Server
}

func newMicrosoft(authority, clientID string, now func() time.Time, page bool) (*Microsoft, error) {
	p := fakeidp.MicrosoftProfile(clientID, func(t string) bool {
		switch t {
		case "common", "organizations", "consumers", DemoTenantID, MicrosoftDomain, ConsentTenantID, ConsentDomain:
			return true
		}
		return false
	})
	p.AccountFromHint = func(hint string) (fakeidp.Account, bool) {
		if a, err := mailcfg.ParseAddress(hint); err == nil {
			return microsoftAccount(a.String()), true
		}
		return fakeidp.Account{}, false
	}
	s, err := fakeidp.New(p, authority, fakeidp.Options{Page: page, Now: now, Account: microsoftAccount(MicrosoftEmail)})
	if err != nil {
		return nil, err
	}
	// The consent tenant's users see "Need admin approval" until IT
	// approves the app (admin-consent microsoft, or the link to IT).
	s.RequireAdminConsent(ConsentTenantID)
	return &Microsoft{s}, nil
}

// microsoftAccount is a demo-tenant account for an address.
func microsoftAccount(email string) fakeidp.Account {
	tenant := DemoTenantID
	if strings.HasSuffix(strings.ToLower(email), "@"+ConsentDomain) {
		tenant = ConsentTenantID
	}
	return fakeidp.Account{PreferredUsername: email, Email: email, Name: displayName(email), TenantID: tenant}
}

// TenantID is the tid in the id_tokens.
func (m *Microsoft) TenantID() string { return DemoTenantID }

// Mint issues tokens for user without the browser, with the IMAP and SMTP
// scopes.
func (m *Microsoft) Mint(user string) (access, refresh string) {
	return m.Server.Mint(microsoftAccount(user), MicrosoftScopes)
}

// checkMailToken is the mail servers' XOAUTH2 check: a valid access token
// of user with the protocol's Outlook scope.
func (m *Microsoft) checkMailToken(protocol, user, token string) bool {
	scope := "SMTP.Send"
	if protocol == fakemail.IMAP {
		scope = "IMAP.AccessAsUser.All"
	}
	a, ok := m.CheckToken(token, scope)
	return ok && strings.EqualFold(a.PreferredUsername, user)
}

// AuthStats counts what the authorization server was asked.
func (m *Microsoft) AuthStats() AuthStats { return m.Stats() }
