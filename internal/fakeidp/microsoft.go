package fakeidp

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ConsumerTenantID is the Microsoft tenant of personal accounts
// (Outlook.com): its tid in ID tokens.
const ConsumerTenantID = "9188040d-6c67-4c5b-b112-36a304b66dad"

// MicrosoftScopes is what a mail app must request from Microsoft, in order;
// MicrosoftPOPScopes the same for a mailbox read over POP3.
const (
	MicrosoftScopes    = "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access openid email profile"
	MicrosoftPOPScopes = "https://outlook.office.com/POP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access openid email profile"
)

// MicrosoftProfile is the Microsoft identity platform (Entra ID) v2.0
// endpoints at {authority}/{tenant}/oauth2/v2.0/…, for the public client
// clientID; tenants accepts the tenant path segment ("common",
// "organizations", "consumers", a tenant id or domain).
//
// Like Entra it takes only http://localhost:PORT/ as a redirect URI,
// requires prompt=select_account and the exact mail scopes, never sends iss
// in the redirect, answers with AADSTS error codes, issues opaque ~1.5 KB
// refresh tokens and ID tokens whose iss carries the account's tid.
func MicrosoftProfile(clientID string, tenants func(string) bool) Profile {
	return Profile{
		Name:          "Microsoft",
		ClientID:      clientID,
		AuthorizePath: "/{tenant}/oauth2/v2.0/authorize",
		TokenPath:     "/{tenant}/oauth2/v2.0/token",
		JWKSPath:      "/{tenant}/discovery/v2.0/keys",
		ConfigPath:    "/{tenant}/v2.0/.well-known/openid-configuration",
		Tenants:       tenants,
		Issuer: func(authority string, a Account) string {
			tid := a.TenantID
			if tid == "" {
				tid = "{tenantid}"
			}
			return authority + "/" + tid + "/v2.0"
		},
		Scopes:           MicrosoftScopes,
		AltScopes:        []string{MicrosoftPOPScopes},
		RefreshScopes:    true,
		AdminConsentPath: "/{tenant}/v2.0/adminconsent",
		ConsentError: ErrorResponse{Error: "invalid_client",
			Description: "AADSTS90094: The grant requires admin permission. Need admin approval."},
		GrantedScope:  "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send",
		RedirectOK:    entraRedirect,
		Require:       map[string]string{"prompt": "select_account"},
		MinState:      32,
		SessionState:  true,
		OfflineAccess: true,
		Claims: func(a Account) map[string]any {
			sum := sha256.Sum256([]byte(strings.ToLower(a.PreferredUsername)))
			h := hex.EncodeToString(sum[:])
			return map[string]any{"tid": a.TenantID, "ver": "2.0",
				"oid": h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]}
		},
		ErrCode:     ErrorResponse{"invalid_grant", "AADSTS54005: OAuth2 Authorization code was already redeemed.", []int{54005}},
		ErrVerifier: ErrorResponse{"invalid_grant", "AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request.", []int{501481}},
		ErrRefresh:  ErrorResponse{"invalid_grant", "AADSTS70008: The provided authorization code or refresh token has expired due to inactivity.", []int{70008}},
		ErrTenant:   ErrorResponse{"invalid_request", "AADSTS90002: Tenant not found.", []int{90002}},
		RefreshToken: func() string {
			return "1.AXkA" + strings.Repeat(rand.Text(), 60)[:1500]
		},
		ErrorExtras: func() map[string]any {
			return map[string]any{"timestamp": time.Now().UTC().Format("2006-01-02 15:04:05Z"),
				"trace_id": "00000000-0000-0000-0000-00000000a001", "correlation_id": "00000000-0000-0000-0000-00000000c001"}
		},
	}
}

// entraRedirect: Entra matches the registered http://localhost with any
// port, path "/" (the sign-in's redirect), or as it is (the admin-consent
// link a user sends to IT, which nothing on the administrator's machine
// receives).
func entraRedirect(raw string) bool {
	if raw == "http://localhost" {
		return true
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Hostname() != "localhost" || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	p, err := strconv.Atoi(u.Port())
	return err == nil && p > 0 && p < 65536 && raw == "http://localhost:"+u.Port()+"/"
}
