package signin

import (
	"context"
	"errors"

	"infino.legal/mailbox/mailcfg"
)

var errTODO = errors.New("signin: not built yet")

// ProvidersFor lists the sign-ins for an address, best first: the provider
// table's entry for the domain, else the MX hosts (LookupMX) for firm
// domains on Google Workspace or Microsoft 365. Providers that are not
// configured are listed too (Configured false, Setup says what IT must
// set). An address without a known provider gives nil.
func (s *Service) ProvidersFor(ctx context.Context, address string) []OAuthProvider { return nil }

// All lists every provider of the OAuth table, configured or not.
func (s *Service) All() []OAuthProvider { return nil }

// Provider is one provider by id.
func (s *Service) Provider(id string) (OAuthProvider, bool) { return OAuthProvider{}, false }

// Start begins a sign-in: binds the loopback listener, opens the page.
// Errors are *Error: CodeNotConfigured / CodeMisconfigured (IT first),
// CodeLoopback, CodeCancelled, CodeUnknownProvider.
func (s *Service) Start(ctx context.Context, r Request) (*Session, error) { return nil, errTODO }

// SignIn is Start followed by Wait.
func (s *Service) SignIn(ctx context.Context, r Request) (*Account, error) { return nil, errTODO }

// OpenBrowser opens the sign-in page again.
func (s *Session) OpenBrowser(ctx context.Context) error { return errTODO }

// Close cancels the sign-in; a pending Wait returns CodeCancelled.
func (s *Session) Close() error { return nil }

// Wait blocks until the sign-in completes in the browser, verifies the ID
// token, fills the settings and stores the refresh token. Errors are
// *Error; an administrator-consent refusal also holds a *ConsentNeeded.
func (s *Session) Wait(ctx context.Context) (*Account, error) { return nil, errTODO }

// ConsentFor builds the admin-consent link and the IT request for a tenant
// (a tenant id or domain; "" : the domain of address) without a failed
// sign-in, e.g. for "Microsoft prosi o zgodę administratora?" while
// waiting.
func (s *Service) ConsentFor(provider, tenant, address string) (*ConsentNeeded, error) {
	return nil, errTODO
}

// AdminConsent runs the administrator's approval in the browser and
// receives the answer on the loopback redirect (state checked). A refusal
// is an *Error.
func (s *Service) AdminConsent(ctx context.Context, r AdminConsentRequest) (*AdminConsentResult, error) {
	return nil, errTODO
}

// Tokens is the access token source of a mailbox signed in earlier with a
// provider (the refresh token in the keyring).
func (s *Service) Tokens(provider, address string) *Tokens { return nil }

// TokensFor is the token source for saved settings (auth oauth2): the
// provider from settings.Source / the provider table, the mailbox address
// from settings.Email. nil, *Error when the settings are not an OAuth
// mailbox.
func (s *Service) TokensFor(settings mailcfg.Settings) (*Tokens, error) { return nil, errTODO }

// Tokens hands out access tokens for one mailbox (see AccessToken).
type Tokens struct{}

// AccessToken returns a valid access token; fits verify.TokenFunc.
func (t *Tokens) AccessToken(ctx context.Context) (string, error) { return "", errTODO }
