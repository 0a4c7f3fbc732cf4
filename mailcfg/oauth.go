package mailcfg

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// OAuthProvider is how one mail provider's OAuth 2.0 / OpenID Connect
// sign-in works, as data (oauth.json): where its authorization server is,
// which scopes each mail protocol needs, what the redirect looks like, and
// where the mailbox address comes from. The client id (and, for Google's
// desktop clients, the non-confidential client secret) are not here: they
// come from the policy (oauth.<id>.clientId, …), and a provider without one
// is not offered.
//
// Endpoint strings may hold placeholders: {authority} (the policy's
// oauth.<id>.authority or Authority), {tenant} (the tenant the request
// names) and, in Issuer only, {tenantid} (the tenant id of the account, as
// in Microsoft's multi-tenant issuer).
type OAuthProvider struct {
	ID   string `json:"id"`
	Name Text   `json:"name"`
	// Authority is the base URL of the authorization server; a policy may
	// replace it (a staging or test identity provider).
	Authority string `json:"authority"`
	// Tenant is set for providers whose endpoints name a tenant.
	Tenant *OAuthTenant `json:"tenant,omitempty"`
	// Discovery is the OpenID Connect discovery document ("" for providers
	// without OpenID Connect).
	Discovery string `json:"discovery,omitempty"`
	// Issuer is the authorization server's issuer identifier (RFC 8414,
	// RFC 9207, the iss of ID tokens).
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorizationEndpoint"`
	TokenEndpoint         string `json:"tokenEndpoint"`
	JWKSURI               string `json:"jwksUri,omitempty"`
	// AdminConsentEndpoint is Microsoft's v2.0 adminconsent endpoint.
	AdminConsentEndpoint string `json:"adminConsentEndpoint,omitempty"`
	// Scopes per incoming protocol ("imap", "pop3") and for SMTP alone;
	// the incoming protocol's list covers sending too.
	Scopes map[Protocol][]string `json:"scopes"`
	// IdentityScopes are added to every request (offline_access, openid…).
	IdentityScopes []string `json:"identityScopes"`
	// RedirectHost is the loopback redirect host the provider accepts:
	// "127.0.0.1" where it may, "localhost" for Microsoft.
	RedirectHost string `json:"redirectHost"`
	// PKCE is the code challenge method; only "S256".
	PKCE string `json:"pkce"`
	// IssInRedirect: the provider sends iss in the authorization response
	// (RFC 9207), so one that is missing is refused.
	IssInRedirect bool `json:"issInRedirect"`
	// AuthParams are added to the authorization request.
	AuthParams map[string]string `json:"authParams"`
	// LoginHint: the address is sent as login_hint.
	LoginHint bool `json:"loginHint"`
	// ClientSecret: the provider's desktop clients have a (non-confidential)
	// client secret the policy may set.
	ClientSecret bool `json:"clientSecret"`
	// IDToken says where the mailbox address comes from; nil: the provider
	// issues no ID token and the address is the login hint.
	IDToken *OAuthIDToken `json:"idToken,omitempty"`
	// SharedMailbox: a signed-in user may connect a mailbox shared with
	// them (Microsoft 365 Full Access), with their own token.
	SharedMailbox bool `json:"sharedMailbox"`
	// Registration is what IT does at the provider before setting the
	// client id, as the end of "Your IT department must …".
	Registration Text     `json:"registration"`
	Sources      []string `json:"sources"`
}

// OAuthTenant describes a provider whose endpoints carry a tenant.
type OAuthTenant struct {
	// Default is the tenant when the policy names none ("common").
	Default string `json:"default"`
	// Hook names the code that knows the provider's tenant rules
	// (issuer per tenant, consumer tenant, admin consent): "microsoft".
	Hook string `json:"hook"`
}

// OAuthIDToken says how the mailbox address follows from the ID token.
type OAuthIDToken struct {
	// AddressClaims are tried in order; the first that is an address wins.
	AddressClaims []string `json:"addressClaims"`
	// EmailVerified: the token must say email_verified true.
	EmailVerified bool `json:"emailVerified"`
}

// ScopesFor is the scope list of a sign-in for an incoming protocol (IMAP
// when empty): the protocol's scopes, then the identity scopes.
func (p *OAuthProvider) ScopesFor(proto Protocol) []string {
	if proto == "" {
		proto = IMAP
	}
	var out []string
	for _, s := range append(append([]string{}, p.Scopes[proto]...), p.IdentityScopes...) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// OAuthTable is the validated list of OAuth providers.
type OAuthTable struct {
	Version   int              `json:"version"`
	Providers []*OAuthProvider `json:"providers"`

	byID map[string]*OAuthProvider
}

// ByID finds a provider by id ("microsoft", "google"), or nil.
func (t *OAuthTable) ByID(id string) *OAuthProvider {
	if t == nil {
		return nil
	}
	return t.byID[id]
}

//go:embed oauth.json
var bundledOAuth []byte

var bundledOAuthTable = sync.OnceValues(func() (*OAuthTable, error) { return ParseOAuthTable(bundledOAuth) })

// BundledOAuth returns the OAuth provider table shipped inside the binary
// (checked by the tests, so an error here is a broken build).
func BundledOAuth() *OAuthTable {
	t, err := bundledOAuthTable()
	if err != nil {
		panic("mailcfg: bundled oauth table: " + err.Error())
	}
	return t
}

var oauthIDChars = func(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}

// ParseOAuthTable reads and validates an OAuth provider table strictly
// (unknown fields, missing endpoints, non-https URLs, unknown protocols and
// hooks are errors), reporting every problem.
func ParseOAuthTable(data []byte) (*OAuthTable, error) {
	var t OAuthTable
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("oauth table: %w", err)
	}
	if dec.More() {
		return nil, errors.New("oauth table: data after the table")
	}
	t.byID = map[string]*OAuthProvider{}
	var errs []error
	bad := func(p *OAuthProvider, f string, a ...any) {
		errs = append(errs, fmt.Errorf("oauth provider %q: "+f, append([]any{p.ID}, a...)...))
	}
	if t.Version != 1 {
		errs = append(errs, fmt.Errorf("oauth table: version %d", t.Version))
	}
	for _, p := range t.Providers {
		if p == nil {
			errs = append(errs, errors.New("oauth table: null provider"))
			continue
		}
		if !oauthIDChars(p.ID) {
			bad(p, "id must be lower-case letters, digits and '-'")
		}
		if t.byID[p.ID] != nil {
			bad(p, "duplicate id")
		}
		t.byID[p.ID] = p
		if p.Name.PL == "" || p.Name.EN == "" {
			bad(p, "name needs Polish and English")
		}
		tenant := p.Tenant != nil
		if tenant && (p.Tenant.Hook != "microsoft" || p.Tenant.Default == "") {
			bad(p, "tenant needs a default and a known hook (microsoft)")
		}
		checkURL := func(field, s string, need bool) {
			if s == "" {
				if need {
					bad(p, "%s is required", field)
				}
				return
			}
			if !tenant && (strings.Contains(s, "{tenant}") || strings.Contains(s, "{tenantid}")) {
				bad(p, "%s names a tenant but the provider has none", field)
			}
			if strings.Contains(s, "{tenantid}") && field != "issuer" {
				bad(p, "%s: {tenantid} belongs in the issuer only", field)
			}
			x := strings.NewReplacer("{authority}", p.Authority, "{tenant}", "t", "{tenantid}", "t").Replace(s)
			u, err := url.Parse(x)
			if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.ContainsAny(x, "{}") {
				bad(p, "%s %q is not an https URL", field, s)
			}
		}
		checkURL("authority", p.Authority, true)
		if strings.Contains(p.Authority, "{") || strings.HasSuffix(p.Authority, "/") {
			bad(p, "authority must be a plain base URL without a trailing slash")
		}
		checkURL("discovery", p.Discovery, false)
		checkURL("issuer", p.Issuer, true)
		checkURL("authorizationEndpoint", p.AuthorizationEndpoint, true)
		checkURL("tokenEndpoint", p.TokenEndpoint, true)
		checkURL("jwksUri", p.JWKSURI, p.IDToken != nil)
		checkURL("adminConsentEndpoint", p.AdminConsentEndpoint, false)
		if p.AdminConsentEndpoint != "" && !tenant {
			bad(p, "adminConsentEndpoint needs a tenant")
		}
		if p.AdminConsentEndpoint != "" && !strings.HasPrefix(p.AdminConsentEndpoint, "{authority}") {
			bad(p, "adminConsentEndpoint must be relative to {authority}")
		}
		for _, proto := range []Protocol{IMAP, POP3, SMTP} {
			if len(p.Scopes[proto]) == 0 {
				bad(p, "no scopes for %s", proto)
			}
		}
		for proto, list := range p.Scopes {
			if proto != IMAP && proto != POP3 && proto != SMTP {
				bad(p, "scopes for unknown protocol %q", proto)
			}
			for _, s := range list {
				if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
					bad(p, "scope %q", s)
				}
			}
		}
		for _, s := range p.IdentityScopes {
			if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
				bad(p, "identity scope %q", s)
			}
		}
		if p.IDToken != nil && !slices.Contains(p.IdentityScopes, "openid") {
			bad(p, "an ID token needs the openid scope")
		}
		if p.IDToken != nil && len(p.IDToken.AddressClaims) == 0 {
			bad(p, "idToken needs addressClaims")
		}
		if p.IDToken == nil && !p.LoginHint {
			bad(p, "without an ID token the address must come from the login hint")
		}
		switch p.RedirectHost {
		case "127.0.0.1", "localhost", "[::1]":
		default:
			bad(p, "redirectHost %q is not a loopback host", p.RedirectHost)
		}
		if p.PKCE != "S256" {
			bad(p, "pkce must be S256")
		}
		for k, v := range p.AuthParams {
			switch k {
			case "response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
				"code_challenge_method", "code_verifier", "client_secret", "login_hint", "nonce":
				bad(p, "authParams may not set %s", k)
			}
			if v == "" {
				bad(p, "authParams %s is empty", k)
			}
		}
		if p.Registration.PL == "" || p.Registration.EN == "" {
			bad(p, "registration needs Polish and English")
		}
		if len(p.Sources) == 0 {
			bad(p, "no source recorded")
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &t, nil
}

// CheckOAuthRefs reports provider table entries whose oauth field names a
// provider the OAuth table does not have.
func CheckOAuthRefs(providers *Table, oauth *OAuthTable) error {
	var errs []error
	for _, p := range providers.Providers {
		if p.OAuth != "" && oauth.ByID(p.OAuth) == nil {
			errs = append(errs, fmt.Errorf("provider %q: oauth %q is not in the oauth table", p.ID, p.OAuth))
		}
	}
	return errors.Join(errs...)
}
