package sandbox_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/internal/sandbox"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/signin"
	"infino.legal/mailbox/mailcfg/verify"
)

func start(t *testing.T, opts sandbox.Options) *sandbox.Sandbox {
	t.Helper()
	sb, err := sandbox.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return sb
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestDemoAccountVerifies(t *testing.T) {
	sb := start(t, sandbox.Options{})
	opts := verify.Options{RootCAs: sb.RootCAs, Table: sb.Table()}
	s := sb.DemoSettings()
	if s.Provider == nil || s.Provider.ID != sandbox.ProviderID || s.Auth != mailcfg.AuthPassword || s.Incoming.Security != mailcfg.SecurityTLS {
		t.Fatalf("demo settings %+v", s)
	}
	if err := s.Validate(mailcfg.ValidateOptions{}); err != nil {
		t.Fatal(err)
	}
	if r := verify.Verify(ctx(t), s, verify.Password(sandbox.DemoPassword), opts); !r.OK {
		t.Fatalf("implicit TLS: %+v %+v", r.Incoming.Failure, r.Outgoing.Failure)
	}
	// STARTTLS on the other ports.
	st := s
	st.Incoming.Port, st.Incoming.Security = port(sb.IMAPStartTLSAddr), mailcfg.SecurityStartTLS
	st.Outgoing.Port, st.Outgoing.Security = port(sb.SMTPStartTLSAddr), mailcfg.SecurityStartTLS
	if r := verify.Verify(ctx(t), st, verify.Password(sandbox.DemoPassword), opts); !r.OK {
		t.Fatalf("STARTTLS: %+v %+v", r.Incoming.Failure, r.Outgoing.Failure)
	}
	r := verify.Verify(ctx(t), s, verify.Password("wrong"), opts)
	if r.OK || r.Incoming.Failure.Kind != mailcfg.KindAuthFailed || r.Outgoing.Failure.Kind != mailcfg.KindAuthFailed {
		t.Fatalf("wrong password: %+v", r)
	}
	// Without the sandbox CA the certificate is refused before any login.
	n := len(sb.Mail.Logins())
	r = verify.Verify(ctx(t), s, verify.Password(sandbox.DemoPassword), verify.Options{Table: sb.Table()})
	if r.OK || r.Incoming.Failure.Kind != mailcfg.KindTLSCertificate || len(sb.Mail.Logins()) != n {
		t.Fatalf("untrusted CA: %+v", r.Incoming.Failure)
	}
	for _, l := range sb.Mail.Logins() {
		if !l.TLS {
			t.Errorf("login without TLS: %+v", l)
		}
	}
}

func port(addr string) int {
	i := strings.LastIndex(addr, ":")
	p := 0
	for _, c := range addr[i+1:] {
		p = p*10 + int(c-'0')
	}
	return p
}

func TestMicrosoftSignInAndXOAUTH2(t *testing.T) {
	sb := start(t, sandbox.Options{})
	store := secrets.NewMemory()
	pol := sb.Policy()
	t.Setenv(secrets.LockDirEnv, t.TempDir())
	svc := signin.New(signin.Config{Policy: pol, Store: store, HTTPClient: sb.HTTPClient(), Opener: sb.Browser().Open})
	acc, err := svc.SignIn(ctx(t), signin.Request{Provider: "microsoft"})
	if err != nil {
		t.Fatal(err)
	}
	if acc.Address != sandbox.MicrosoftEmail || acc.TenantID != sandbox.DemoTenantID {
		t.Fatalf("account %v", acc)
	}
	if _, err := store.Get(ctx(t), secrets.MicrosoftRefreshKey(acc.Address)); err != nil {
		t.Fatalf("refresh token not stored: %v", err)
	}
	s, err := sb.MicrosoftSettings(acc.Address)
	if err != nil || s.Auth != mailcfg.AuthOAuth2 {
		t.Fatalf("%+v %v", s, err)
	}
	tokens := acc.Tokens()
	r := verify.Verify(ctx(t), s, verify.TokenFunc(tokens.AccessToken), verify.Options{RootCAs: sb.RootCAs, Table: sb.Table()})
	if !r.OK {
		t.Fatalf("XOAUTH2: %+v %+v", r.Incoming.Failure, r.Outgoing.Failure)
	}
	var xo int
	for _, l := range sb.Mail.Logins() {
		if l.Mechanism == "XOAUTH2" && l.OK && l.User == sandbox.MicrosoftEmail {
			xo++
		}
	}
	if xo != 2 {
		t.Fatalf("XOAUTH2 logins %+v", sb.Mail.Logins())
	}
	// A revoked token is refused.
	sb.Microsoft.RevokeAccessTokens()
	r = verify.Verify(ctx(t), s, verify.OAuth2Token{AccessToken: "at-forged"}, verify.Options{RootCAs: sb.RootCAs, Table: sb.Table()})
	if r.OK || r.Incoming.Failure.Kind != mailcfg.KindAuthFailed {
		t.Fatalf("forged token: %+v", r.Incoming.Failure)
	}
	// A login_hint picks the account.
	acc2, err := signin.New(signin.Config{Policy: pol, HTTPClient: sb.HTTPClient(), Opener: sb.Browser().Open}).
		SignIn(ctx(t), signin.Request{Provider: "microsoft", LoginHint: "Piotr@" + sandbox.MicrosoftDomain})
	if err != nil || acc2.Address != "Piotr@"+sandbox.MicrosoftDomain {
		t.Fatalf("%v %v", acc2, err)
	}
	if st := sb.Microsoft.AuthStats(); st.CodeGrants != 2 || st.Authorizations != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestInfinoAPIRefusals(t *testing.T) {
	sb := start(t, sandbox.Options{})
	hc := sb.HTTPClient()
	do := func(method, path, token, key, body string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest(method, sb.InfinoURL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp, m
	}
	resp, meta := do("GET", "/.well-known/oauth-authorization-server", "", "", "")
	if resp.StatusCode != 200 || meta["issuer"] != sb.InfinoURL || meta["code_challenge_methods_supported"].([]any)[0] != "S256" {
		t.Fatalf("metadata %v", meta)
	}
	resp, m := do("POST", "/api/v1/mailboxes", "", "", "{}")
	if resp.StatusCode != 401 || m["error"] != "invalid_token" || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("no token: %d %v", resp.StatusCode, m)
	}
	weak, _ := sb.Infino.MintScopes("profile")
	if resp, m = do("POST", "/api/v1/mailboxes", weak, "", "{}"); resp.StatusCode != 403 || m["error"] != "insufficient_scope" {
		t.Fatalf("scope: %d %v", resp.StatusCode, m)
	}
	tok, _ := sb.Infino.Mint()
	if resp, m = do("POST", "/api/v1/mailboxes", tok, "", "{}"); resp.StatusCode != 400 || m["error"] != "idempotency_key_required" {
		t.Fatalf("key: %d %v", resp.StatusCode, m)
	}
	if resp, m = do("POST", "/api/v1/mailboxes", tok, "4f1c0f3e-2b7a-4c1e-9d2f-8a6b5c4d3e2f", `{"email":"x@y.pl","bogus":1}`); resp.StatusCode != 400 {
		t.Fatalf("unknown field: %d %v", resp.StatusCode, m)
	}
	if sb.Infino.Count() != 0 {
		t.Fatal("a refused request created a mailbox")
	}
	// The plain-http twin serves sign-in pages only.
	plain := &http.Client{}
	r2, err := plain.Post(sb.BrowserURL+"/api/v1/mailboxes", "application/json", strings.NewReader("{}"))
	if err != nil || r2.StatusCode != http.StatusForbidden {
		t.Fatalf("API over http: %v %v", r2, err)
	}
	r2.Body.Close()
	r2, err = plain.Get(sb.BrowserURL + "/oauth/authorize?client_id=nope")
	if err != nil || r2.StatusCode != http.StatusBadRequest {
		t.Fatalf("authorize over http: %v %v", r2, err)
	}
	r2.Body.Close()
	if got := sb.ForBrowser(sb.InfinoURL + "/ms/common/oauth2/v2.0/authorize?x=1"); got != sb.BrowserURL+"/ms/common/oauth2/v2.0/authorize?x=1" {
		t.Fatalf("ForBrowser %q", got)
	}
}

func TestDemoApprovePage(t *testing.T) {
	sb := start(t, sandbox.Options{Demo: true})
	u := sb.BrowserURL + "/oauth/authorize?response_type=code&client_id=infino-mailbox&redirect_uri=" +
		"http%3A%2F%2F127.0.0.1%3A5555%2F&scope=mailboxes%3Awrite&state=abc&code_challenge_method=S256&code_challenge=" +
		strings.Repeat("a", 43)
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `http-equiv="refresh"`) ||
		!strings.Contains(string(body), "http://127.0.0.1:5555/?code=") || !strings.Contains(string(body), "sandbox") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestTableAndPolicy(t *testing.T) {
	sb := start(t, sandbox.Options{})
	p := sb.Policy()
	if p.InfinoURL != sb.InfinoURL || p.Microsoft.ClientID != sandbox.MicrosoftClientID || !strings.HasPrefix(p.Microsoft.Authority, "https://127.0.0.1:") {
		t.Fatalf("policy %+v", p)
	}
	if prov := sb.Table().ByDomain(sandbox.MicrosoftDomain); prov == nil || prov.OAuth != "microsoft" {
		t.Fatal("m365 demo provider")
	}
	s, err := sb.Settings(sandbox.MicrosoftEmail)
	if err != nil || s.Auth != mailcfg.AuthOAuth2 {
		t.Fatalf("%+v %v", s, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(sb.PolicyJSON(), &doc); err != nil || doc["infinoUrl"] != sb.InfinoURL {
		t.Fatalf("%s", sb.PolicyJSON())
	}
	d, err := sb.ConfigDir()
	if err != nil {
		t.Fatal(err)
	}
	sb.Close()
	if _, err := http.Get(sb.BrowserURL); err == nil {
		t.Error("still serving after Close")
	}
	if _, err := os.Stat(d); !os.IsNotExist(err) {
		t.Errorf("config dir %s not removed by Close", d)
	}
}

// demoBrowser is a browser for the demo's visible pages: it follows the
// meta refresh of the approve page.
func demoBrowser(t *testing.T, opened *[]string) func(context.Context, string) error {
	refresh := regexp.MustCompile(`content="1;url=([^"]+)"`)
	return func(ctx context.Context, u string) error {
		*opened = append(*opened, u)
		go func() {
			resp, err := http.Get(u) // plain http: no CA needed, as for a real browser
			if err != nil {
				t.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			m := refresh.FindSubmatch(body)
			if m == nil {
				t.Errorf("no approve page: %s", body)
				return
			}
			if r2, err := http.Get(html.UnescapeString(string(m[1]))); err == nil {
				io.Copy(io.Discard, r2.Body)
				r2.Body.Close()
			}
		}()
		return nil
	}
}

// The demo end to end, as the window does it: autofill from the merged
// table, verification, sign-in to the sandbox Infino through the browser
// (on the http twin), hand-off; and Microsoft the same way.
func TestDemoWiringEndToEnd(t *testing.T) {
	sb := start(t, sandbox.Options{Demo: true})
	var opened []string
	w, err := sb.World(demoBrowser(t, &opened))
	if err != nil {
		t.Fatal(err)
	}
	s, err := w.Table.Autofill(sandbox.DemoEmail, mailcfg.IMAP)
	if err != nil {
		t.Fatal(err)
	}
	if w.Table.ByDomain("wp.pl") == nil {
		t.Fatal("bundled providers missing from the demo table")
	}
	r := verify.Verify(ctx(t), s, verify.Password(sandbox.DemoPassword), w.VerifyOptions())
	if !r.OK {
		t.Fatalf("%+v %+v", r.Incoming.Failure, r.Outgoing.Failure)
	}
	svc, err := w.Service(nil)
	if err != nil {
		t.Fatal(err)
	}
	out := svc.Submit(ctx(t), s, infino.PasswordSecret(sandbox.DemoPassword), time.Now())
	if out.State != infino.StateSent || sb.Infino.Count() != 1 {
		t.Fatalf("%+v", out)
	}
	if len(opened) != 1 || !strings.HasPrefix(opened[0], sb.BrowserURL+"/oauth/authorize?") {
		t.Fatalf("browser opened %v", opened)
	}

	ms, cred, err := w.ProviderSignIn(ctx(t), signin.Request{Provider: "microsoft"})
	if err != nil {
		t.Fatal(err)
	}
	r = verify.Verify(ctx(t), ms, cred, w.VerifyOptions())
	if !r.OK {
		t.Fatalf("%+v %+v", r.Incoming.Failure, r.Outgoing.Failure)
	}
	sec, err := w.SecretFor(ctx(t), ms, cred)
	if err != nil {
		t.Fatal(err)
	}
	if out := svc.Submit(ctx(t), ms, sec, time.Now()); out.State != infino.StateSent || sb.Infino.Count() != 2 {
		t.Fatalf("%+v", out)
	}
	if len(opened) != 2 || !strings.HasPrefix(opened[1], sb.BrowserURL+"/ms/common/oauth2/v2.0/authorize?") {
		t.Fatalf("browser opened %v", opened)
	}
}
