package mailcfg

import (
	"slices"
	"strings"
	"testing"
)

// The bundled OAuth table is valid, every provider table entry that names
// a sign-in names one it has, and the five providers are there with the
// facts that matter: Google's issuer and iss in the redirect, Microsoft's
// localhost redirect and tenant hook, scopes per protocol.
func TestBundledOAuth(t *testing.T) {
	o := BundledOAuth()
	if err := CheckOAuthRefs(Bundled(), o); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"microsoft", "google", "yahoo", "aol", "fastmail"} {
		if o.ByID(id) == nil {
			t.Errorf("%s missing", id)
		}
	}
	g := o.ByID("google")
	if g.Issuer != "https://accounts.google.com" || !g.IssInRedirect || g.RedirectHost != "127.0.0.1" || !g.ClientSecret ||
		!g.IDToken.EmailVerified || g.AuthParams["access_type"] != "offline" {
		t.Errorf("google %+v", g)
	}
	if s := g.ScopesFor(POP3); !slices.Equal(s, []string{"https://mail.google.com/", "openid", "email"}) {
		t.Errorf("google pop3 scopes %v", s)
	}
	m := o.ByID("microsoft")
	if m.RedirectHost != "localhost" || m.IssInRedirect || m.Tenant == nil || m.Tenant.Hook != "microsoft" || m.AdminConsentEndpoint == "" ||
		!m.SharedMailbox || m.AuthParams["prompt"] != "select_account" {
		t.Errorf("microsoft %+v", m)
	}
	if s := strings.Join(m.ScopesFor(IMAP), " "); s != "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access openid email profile" {
		t.Errorf("microsoft imap scopes %q", s)
	}
	if s := m.ScopesFor(POP3); s[0] != "https://outlook.office.com/POP.AccessAsUser.All" {
		t.Errorf("microsoft pop3 scopes %v", s)
	}
	if f := o.ByID("fastmail"); f.IDToken != nil || !f.LoginHint || !f.IssInRedirect {
		t.Errorf("fastmail %+v", f)
	}
	for _, id := range []string{"gmail.com", "google-workspace", "microsoft365", "outlook.com", "yahoo.com", "aol.com", "fastmail.com"} {
		if Bundled().ByID(id).OAuth == "" {
			t.Errorf("%s offers no sign-in", id)
		}
	}
}

// A table that breaks a rule is refused, naming the problem.
func TestParseOAuthTableRefuses(t *testing.T) {
	good := `{"id": "x", "name": {"pl": "X", "en": "X"}, "authority": "https://x.example", "issuer": "https://x.example",
		"authorizationEndpoint": "{authority}/auth", "tokenEndpoint": "{authority}/token",
		"scopes": {"imap": ["m"], "pop3": ["m"], "smtp": ["m"]}, "identityScopes": [], "redirectHost": "127.0.0.1",
		"pkce": "S256", "authParams": {}, "loginHint": true, "registration": {"pl": "r", "en": "r"}, "sources": ["s"]}`
	if _, err := ParseOAuthTable([]byte(`{"version": 1, "providers": [` + good + `]}`)); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ from, to, want string }{
		"http endpoint":   {`"{authority}/token"`, `"http://x.example/token"`, "not an https URL"},
		"plain pkce":      {`"S256"`, `"plain"`, "pkce"},
		"not loopback":    {`"127.0.0.1"`, `"0.0.0.0"`, "loopback"},
		"reserved param":  {`"authParams": {}`, `"authParams": {"state": "x"}`, "may not set state"},
		"no smtp scope":   {`"smtp": ["m"]`, `"smtp": []`, "no scopes for smtp"},
		"unknown field":   {`"sources"`, `"colour": 1, "sources"`, "unknown field"},
		"tenant, no hook": {`"{authority}/auth"`, `"{authority}/{tenant}/auth"`, "names a tenant"},
		"no hint, no id":  {`"loginHint": true`, `"loginHint": false`, "login hint"},
	} {
		bad := strings.Replace(good, c.from, c.to, 1)
		_, err := ParseOAuthTable([]byte(`{"version": 1, "providers": [` + bad + `]}`))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParseOAuthTable([]byte(`{"version": 1, "providers": [` + good + `,` + good + `]}`)); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Errorf("duplicate: %v", err)
	}
	tab := Bundled()
	o, _ := ParseOAuthTable([]byte(`{"version": 1, "providers": [` + good + `]}`))
	if err := CheckOAuthRefs(tab, o); err == nil || !strings.Contains(err.Error(), `"google"`) {
		t.Errorf("refs: %v", err)
	}
}
