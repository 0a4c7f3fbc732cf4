// Package microsoft is what is particular to Microsoft's identity platform
// (Entra ID) and Exchange Online, on top of the provider-neutral sign-in of
// package signin (whose data, oauth.json, describes Microsoft's endpoints,
// scopes and redirect): the tenant rules of its ID tokens (ParseIDToken:
// the issuer per tenant, the consumer tenant), the settings of a work or
// personal mailbox (SettingsFor), and what its AADSTS error numbers mean in
// package signin's failure codes, with its own words where they say more
// (errors.go: Read, Words, SetupHint). The failures themselves are
// *signin.Error.
package microsoft

import (
	"net/http"
	"strings"
	"time"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/oauthloopback"
)

// Microsoft's fixed values.
const (
	// DefaultAuthority and DefaultTenant apply when the policy sets none.
	DefaultAuthority = "https://login.microsoftonline.com"
	DefaultTenant    = "common"
	// ConsumerTenantID is the tenant of every personal Microsoft account.
	ConsumerTenantID = "9188040d-6c67-4c5b-b112-36a304b66dad"

	IMAPHost         = "outlook.office365.com"
	IMAPPort         = 993
	SMTPWorkHost     = "smtp.office365.com"    // Microsoft 365 work and school accounts
	SMTPPersonalHost = "smtp-mail.outlook.com" // Outlook.com, Hotmail, Live
	SMTPPort         = 587

	// Provider table ids of the two kinds of account.
	ProviderWork     = "microsoft365"
	ProviderPersonal = "outlook.com"
)

// Scopes are what a sign-in for IMAP asks (oauth.json's IMAP scopes and
// identity scopes; a test keeps the two equal): IMAP and SMTP (one
// resource, so one access token serves both), a refresh token, and an ID
// token with the address. The hand-off names them to Infino.
var Scopes = []string{
	"https://outlook.office.com/IMAP.AccessAsUser.All",
	"https://outlook.office.com/SMTP.Send",
	"offline_access", "openid", "email", "profile",
}

// Config is a Microsoft sign-in as the window asks for it
// (world.MicrosoftSignIn): the policy's registration and the caller's
// callbacks. The sign-in itself is package signin's.
type Config struct {
	// Policy is the policy's "microsoft" section (client id, tenant,
	// authority).
	Policy policy.Microsoft
	// PolicyFile is named in the "not configured" message; "" means
	// policy.FilePath's answer for this process.
	PolicyFile string
	// Store keeps the refresh token.
	Store secrets.Store
	// HTTPClient makes the token requests; nil: the world's.
	HTTPClient *http.Client
	// Opener opens the sign-in page; nil: the system browser.
	Opener oauthloopback.Opener
	// OnURL is called with the sign-in address before the browser opens;
	// OnOpen with the browser's result. Either may be nil.
	OnURL  func(authURL string)
	OnOpen func(err error)
	// Lang is the language of the page shown in the browser after the
	// sign-in: "pl", "en", or "" for both.
	Lang string
	// Timeout bounds the wait for the browser; 0: 5 minutes.
	Timeout time.Duration
	// LoginHint pre-fills the account at Microsoft (re-authentication).
	LoginHint string
	// Now is the clock for token expiry; nil: time.Now.
	Now func() time.Time
}

// Configured reports whether a client id is set.
func (c Config) Configured() bool { return strings.TrimSpace(c.Policy.ClientID) != "" }

// SettingsFor are the settings of a Microsoft mailbox: IMAP
// outlook.office365.com:993 TLS, SMTP smtp.office365.com:587 STARTTLS for
// work accounts or smtp-mail.outlook.com:587 for personal ones, auth oauth2,
// the address as user name.
func SettingsFor(addr mailcfg.Address, personal bool) mailcfg.Settings {
	smtpHost, providerID, providerName := SMTPWorkHost, ProviderWork, "Microsoft 365 (Exchange Online)"
	if personal {
		smtpHost, providerID, providerName = SMTPPersonalHost, ProviderPersonal, "Outlook.com (Hotmail, Live, MSN)"
	}
	if p := mailcfg.Bundled().ByID(providerID); p != nil {
		providerName = p.Name
	}
	user := addr.String()
	return mailcfg.Settings{
		Email:    user,
		Auth:     mailcfg.AuthOAuth2,
		Incoming: mailcfg.Server{Protocol: mailcfg.IMAP, Host: IMAPHost, Port: IMAPPort, Security: mailcfg.SecurityTLS, Username: user},
		Outgoing: mailcfg.Server{Protocol: mailcfg.SMTP, Host: smtpHost, Port: SMTPPort, Security: mailcfg.SecurityStartTLS, Username: user},
		Provider: &mailcfg.ProviderRef{ID: providerID, Name: providerName},
		Source:   mailcfg.SourceMicrosoft,
	}
}
