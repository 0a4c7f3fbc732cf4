package world

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/microsoft"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/verify"
)

// OAuthCredential is the credential for settings with auth "oauth2": access
// tokens refreshed from the refresh token a provider's sign-in stored for
// the address, under the lock every process of the app shares (so that the
// window and the command line never present a spent refresh token). It
// gets the first token before any server is contacted, so that "not
// configured", "not signed in", "sign in again" and keyring problems are
// reported as such (as *signin.Error, which errors.As also reads as a
// *mailcfg.Failure; for a provider without a sign-in, a *mailcfg.Failure).
func (w *World) OAuthCredential(ctx context.Context, s mailcfg.Settings) (verify.Credential, error) {
	tokens, err := w.SignIn().TokensFor(s)
	if err != nil {
		return nil, &mailcfg.Failure{
			Kind:  mailcfg.KindAuthFailed,
			Field: "auth",
			Message: mailcfg.Text{
				PL: "Logowanie OAuth2 jest obsługiwane tylko u dostawców z logowaniem na ich stronie (Microsoft, Google, Yahoo, AOL, Fastmail).",
				EN: "OAuth2 sign-in is supported only for providers with their own sign-in page (Microsoft, Google, Yahoo, AOL, Fastmail).",
			},
			Hint: mailcfg.Text{
				PL: "Dla tej skrzynki użyj logowania hasłem (auth: password).",
				EN: "Use password sign-in (auth: password) for this mailbox.",
			},
			Detail: "oauth2 provider unknown",
		}
	}
	if _, err := tokens.Token(ctx); err != nil {
		return nil, err
	}
	return verify.TokenFunc(tokens.AccessToken), nil
}

// isMicrosoft: the settings came from a Microsoft sign-in, or their
// provider (by id, domain or server host, in the bundled table) prefers
// Microsoft sign-in.
func (w *World) isMicrosoft(s mailcfg.Settings) bool {
	if s.Source == mailcfg.SourceMicrosoft {
		return true
	}
	p := mailcfg.Bundled().ProviderFor(s)
	return p != nil && p.OAuth == "microsoft"
}

// SecretFor is the secret to hand over for settings that verification has
// just accepted with cred: a verify.Password becomes a password secret; for
// settings with auth "oauth2" the Microsoft refresh token is read from the
// store (secrets.MicrosoftRefreshKey) — after verification, because using it
// may have rotated it, and under the lock of the refreshes, so that a
// rotation under way in another process is waited for — with the policy's
// registration.
func (w *World) SecretFor(ctx context.Context, s mailcfg.Settings, cred verify.Credential) (infino.Secret, error) {
	switch s.Auth {
	case mailcfg.AuthPassword:
		pw, ok := cred.(verify.Password)
		if !ok || pw == "" {
			return infino.Secret{}, errors.New("world: settings with a password need a verify.Password")
		}
		return infino.PasswordSecret(string(pw)), nil
	case mailcfg.AuthOAuth2:
		if w.Store == nil {
			return infino.Secret{}, infino.StoreError(errors.New("no secret store"))
		}
		// Settings of no known provider are Microsoft's, as before other
		// providers signed in.
		provider := "microsoft"
		if !w.isMicrosoft(s) {
			if tokens, err := w.SignIn().TokensFor(s); err == nil {
				provider = tokens.Provider()
			}
		}
		// Read under the lock a refresh holds: another process of the app
		// may be redeeming this very token, and the one it writes back is
		// the live one.
		key := secrets.RefreshKey(s.Email, provider)
		unlock, err := secrets.LockKey(ctx, key)
		if err != nil {
			return infino.Secret{}, infino.StoreError(err)
		}
		rt, err := w.Store.Get(ctx, key)
		unlock()
		if err != nil {
			if errors.Is(err, secrets.ErrNotFound) {
				name := w.SignIn().DisplayName(provider)
				return infino.Secret{}, &infino.Error{Kind: infino.KindSignIn, Err: fmt.Errorf("no %s sign-in stored for %s", provider, s.Email),
					Message: mailcfg.Text{PL: "Zaloguj się ponownie przez " + name.PL + ".", EN: "Sign in with " + name.EN + " again."}}
			}
			return infino.Secret{}, infino.StoreError(err)
		}
		if provider != "microsoft" {
			sec := infino.MicrosoftSecret(rt, strings.TrimSpace(w.Policy.Client(provider).ClientID), "", w.SignIn().Scopes(provider, s.Incoming.Protocol))
			sec.Provider = provider
			return sec, nil
		}
		ms := w.Policy.Microsoft
		tenant := strings.TrimSpace(ms.Tenant)
		if tenant == "" {
			tenant = microsoft.DefaultTenant
		}
		return infino.MicrosoftSecret(rt, strings.TrimSpace(ms.ClientID), tenant, microsoft.Scopes), nil
	}
	return infino.Secret{}, fmt.Errorf("world: unknown auth %q", s.Auth)
}
