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
	"infino.legal/mailbox/mailcfg"
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
