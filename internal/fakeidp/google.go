package fakeidp

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// GoogleIssuer is Google's issuer identifier. The fake keeps it while it
// listens on loopback, as a staging identity provider would: the app is
// told the real endpoints through the policy's authority (discovery there).
const GoogleIssuer = "https://accounts.google.com"

// GoogleScopes is what a mail app must request from Google.
const GoogleScopes = "https://mail.google.com/ openid email"

// GoogleProfile is Google's OAuth 2.0 for desktop apps, strictly: loopback
// redirect to 127.0.0.1 with a port, PKCE S256, access_type=offline, the
// exact mail scopes, the (non-confidential) client secret in the token
// request, iss in the authorization response (RFC 9207, announced in the
// discovery document), and signed ID tokens with email, email_verified and,
// for Workspace domains, hd.
func GoogleProfile(clientID, clientSecret string) Profile {
	return Profile{
		Name:          "Google",
		ClientID:      clientID,
		ClientSecret:  clientSecret,
		AuthorizePath: "/o/oauth2/v2/auth",
		TokenPath:     "/token",
		JWKSPath:      "/oauth2/v3/certs",
		ConfigPath:    "/.well-known/openid-configuration",
		Issuer:        func(string, Account) string { return GoogleIssuer },
		Scopes:        GoogleScopes,
		RedirectOK:    googleRedirect,
		Require:       map[string]string{"access_type": "offline"},
		MinState:      16,
		IssInRedirect: true,
		Claims: func(a Account) map[string]any {
			c := map[string]any{"email_verified": true, "azp": clientID}
			if i := strings.LastIndex(a.Email, "@"); i > 0 && !slices.Contains([]string{"gmail.com", "googlemail.com"}, a.Email[i+1:]) {
				d := a.Email[i+1:]
				c["hd"] = d
			}
			return c
		},
		ErrCode:     ErrorResponse{Error: "invalid_grant", Description: "Malformed auth code."},
		ErrVerifier: ErrorResponse{Error: "invalid_grant", Description: "Invalid code verifier."},
		ErrRefresh:  ErrorResponse{Error: "invalid_grant", Description: "Token has been expired or revoked."},
	}
}

// googleRedirect: a desktop client's loopback redirect, http://127.0.0.1
// with a port, any path.
func googleRedirect(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return false
	}
	p, err := strconv.Atoi(u.Port())
	return err == nil && p > 0 && p < 65536
}
