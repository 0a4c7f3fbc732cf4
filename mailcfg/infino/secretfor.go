package infino

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/microsoft"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/verify"
)

// SecretFor is the secret to hand over for settings that verification has
// just accepted with cred: a verify.Password becomes a password secret; for
// settings with auth "oauth2" the Microsoft refresh token is read from the
// store (secrets.MicrosoftRefreshKey) — after verification, because using it
// may have rotated it — with the registration of the policy.
func SecretFor(ctx context.Context, s mailcfg.Settings, cred verify.Credential, store secrets.Store, ms policy.Microsoft) (Secret, error) {
	switch s.Auth {
	case mailcfg.AuthPassword:
		pw, ok := cred.(verify.Password)
		if !ok || pw == "" {
			return Secret{}, errors.New("infino: settings with a password need a verify.Password")
		}
		return PasswordSecret(string(pw)), nil
	case mailcfg.AuthOAuth2:
		if store == nil {
			return Secret{}, storeError(errors.New("no secret store"))
		}
		rt, err := store.Get(ctx, secrets.MicrosoftRefreshKey(s.Email))
		if err != nil {
			if errors.Is(err, secrets.ErrNotFound) {
				return Secret{}, &Error{Kind: KindSignIn, Err: fmt.Errorf("no Microsoft sign-in stored for %s", s.Email),
					Message: mailcfg.Text{PL: "Zaloguj się ponownie przez Microsoft.", EN: "Sign in with Microsoft again."}}
			}
			return Secret{}, storeError(err)
		}
		tenant := strings.TrimSpace(ms.Tenant)
		if tenant == "" {
			tenant = microsoft.DefaultTenant
		}
		return MicrosoftSecret(rt, strings.TrimSpace(ms.ClientID), tenant, microsoft.Scopes), nil
	}
	return Secret{}, fmt.Errorf("infino: unknown auth %q", s.Auth)
}
