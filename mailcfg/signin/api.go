package signin

import (
	"context"
	"net/http"
	"time"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/oauthloopback"
)

// Config is what a Service needs. Only Policy is required.
type Config struct {
	// Policy gives each provider's client id, client secret, authority
	// and (Microsoft) tenant, and allowedMethods.
	Policy policy.Policy
	// PolicyFile is named in "not configured" texts; "": policy.FilePath.
	PolicyFile string
	// Store keeps refresh tokens; nil: sign-ins are not stored and Tokens
	// cannot refresh.
	Store secrets.Store
	// HTTPClient makes discovery, JWKS and token requests; nil: a client
	// with DefaultHTTPTimeout (proxy from the environment, system roots).
	HTTPClient *http.Client
	// LookupMX returns a domain's MX hosts, to find firm domains on
	// Google Workspace or Microsoft 365; nil: domains are found by the
	// table only.
	LookupMX func(ctx context.Context, domain string) ([]string, error)
	// Opener opens sign-in pages; nil: the system browser.
	Opener oauthloopback.Opener
	// Lang is the language of the page shown in the browser after the
	// sign-in: "pl", "en", or "" for both.
	Lang string
	// Timeout bounds the wait for the browser; 0: 5 minutes.
	Timeout time.Duration
	// Now is the clock of token expiry and ID token checks; nil: time.Now.
	Now func() time.Time
	// Table and OAuth are the provider tables; nil: the bundled ones.
	Table *mailcfg.Table
	OAuth *mailcfg.OAuthTable
	// Lock takes the lock every process of the app shares for one keyring
	// key (refresh under it); nil: secrets.LockKey.
	Lock func(ctx context.Context, key string) (unlock func(), err error)
}

// DefaultHTTPTimeout bounds one request when Config.HTTPClient is nil.
const DefaultHTTPTimeout = 30 * time.Second

// Service is the sign-in of every configured provider; the composition root
// (mailcfg/world) makes one. Methods are safe for concurrent use.
type Service struct {
	cfg Config
}

// New makes a Service.
func New(c Config) *Service { return &Service{cfg: c} }

// Config returns the service's configuration.
func (s *Service) Config() Config { return s.cfg }

// OAuthProvider is one sign-in a face may offer, as the window shows it.
type OAuthProvider struct {
	// ID is the OAuth table id: "microsoft", "google", "yahoo", "aol",
	// "fastmail" (the command line's "signin <id>").
	ID string
	// Name is the display name: "Microsoft", "Google"; the button reads
	// "Zaloguj przez " + Name.PL / "Sign in with " + Name.EN (ButtonText).
	Name mailcfg.Text
	// Configured: the policy sets a client id and allows the method. A
	// provider that is not configured shows no button; Setup says what IT
	// must set, where the user would have expected it.
	Configured bool
	// Setup is the bilingual "what IT must set" text (empty when
	// Configured).
	Setup mailcfg.Text
	// MailProvider is the provider table entry the address belongs to
	// ("gmail.com", "google-workspace", "microsoft365"…), or "".
	MailProvider string
	// ByMX: the address's domain was recognised by its MX hosts (a firm
	// domain on Google Workspace or Microsoft 365), not by the table.
	ByMX bool
	// SharedMailbox: the provider lets a user connect a mailbox shared
	// with them (Microsoft 365), so the window may offer "To skrzynka
	// współdzielona".
	SharedMailbox bool
	// PasswordRefused: the provider refuses passwords for this kind of
	// address (Microsoft 365, Outlook.com): warn with PasswordWarning
	// before a password verification and offer the sign-in.
	PasswordRefused bool
	// PasswordWarning is that warning, in Polish and English (empty when
	// not PasswordRefused).
	PasswordWarning mailcfg.Text
}

// ButtonText is "Zaloguj przez <Name>" / "Sign in with <Name>".
func (p OAuthProvider) ButtonText() mailcfg.Text {
	return mailcfg.Text{PL: "Zaloguj przez " + p.Name.PL, EN: "Sign in with " + p.Name.EN}
}

// Request is one sign-in.
type Request struct {
	// Provider is the OAuth table id.
	Provider string
	// LoginHint is the address typed (pre-filled at the provider). For
	// providers without ID tokens (Fastmail) it is the mailbox address and
	// required.
	LoginHint string
	// Shared is a shared mailbox's address (Microsoft 365): the user signs
	// in as themselves and the settings are for Shared, with the user's
	// token (XOAUTH2 user = Shared). "": the user's own mailbox.
	Shared string
	// Protocol is the incoming protocol (IMAP default, or POP3): it picks
	// the scopes and the incoming server.
	Protocol mailcfg.Protocol
	// OnURL is called with the sign-in page's address before the browser
	// opens; OnOpen with the browser's result. Either may be nil.
	OnURL  func(authURL string)
	OnOpen func(err error)
}

// Session is one running sign-in. Show AuthURL (with Copy: a browser that
// did not open is common); Close cancels.
type Session struct {
	// AuthURL is the provider's sign-in page for this session.
	AuthURL string

	svc *Service
	req Request
	p   *mailcfg.OAuthProvider
	e   *endpoints
	lb  *oauthloopback.Session
	// nonce was sent with the authorization request; the ID token must
	// carry it back ("" for providers without ID tokens).
	nonce string
}

// Account is a signed-in mailbox.
type Account struct {
	// Settings are complete: servers for the protocol asked, auth oauth2,
	// user name = Address (the shared address for a shared mailbox),
	// the provider, Source the OAuth provider id.
	Settings mailcfg.Settings
	// Provider is the OAuth provider id.
	Provider string
	// Address is the mailbox's address (ASCII domain): the shared one for
	// a shared mailbox.
	Address string
	// SignedInAs is who signed in (equals Address unless Shared).
	SignedInAs string
	Shared     bool
	Name       string // display name, may be empty
	// TenantID (Microsoft) and Personal (Microsoft consumer tenant).
	TenantID string
	Personal bool

	tokens *Tokens
}

// Tokens returns the account's access token source (starting with the one
// the sign-in got); its AccessToken fits verify.TokenFunc.
func (a *Account) Tokens() *Tokens { return a.tokens }

// ConsentNeeded is the error when an administrator must approve the app
// first (Microsoft AADSTS65001, 90094, 90095…). errors.As finds it in the
// *Error a sign-in returns.
type ConsentNeeded struct {
	Provider string
	// Tenant is the tenant the administrator approves for: from the error
	// or the address's domain.
	Tenant string
	// URL is the v2.0 adminconsent link for that tenant with the app's
	// client id, scopes and redirect.
	URL string
	// Request is a ready message to IT (Polish and English) with URL.
	Request mailcfg.Text
	// Scopes and RedirectURI are those in URL.
	Scopes      []string
	RedirectURI string
	// AADSTS is Microsoft's error number.
	AADSTS int
}

func (c *ConsentNeeded) Error() string {
	return "signin: the administrator of tenant " + c.Tenant + " must approve the app"
}

// AdminConsentRequest is an administrator's approval of the app for a
// tenant ("infino-mailbox admin-consent microsoft").
type AdminConsentRequest struct {
	Provider string // "microsoft"
	// Tenant to approve for: a tenant id or domain; "" : "organizations"
	// (the administrator's own tenant).
	Tenant string
	OnURL  func(consentURL string)
	OnOpen func(err error)
}

// AdminConsentResult is what the provider's redirect said.
type AdminConsentResult struct {
	// Granted: admin_consent=True came back.
	Granted bool
	// Tenant is the tenant the consent was given for.
	Tenant string
	// Scope is the scope granted, as returned.
	Scope string
}
