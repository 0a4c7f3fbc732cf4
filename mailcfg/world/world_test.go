package world_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/internal/connectproxy"
	"infino.legal/mailbox/internal/localca"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/netconf"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/signin"
	"infino.legal/mailbox/mailcfg/verify"
	"infino.legal/mailbox/mailcfg/world"
)

// firm is a TLS server whose certificate a firm CA (localca) issued, for
// infino.test, a name that resolves nowhere: only a proxy reaches it.
type firm struct {
	ca     *localca.CA
	caFile string
	srv    *httptest.Server
}

func newFirm(t *testing.T) firm {
	t.Helper()
	ca, err := localca.New(localca.Subject{CommonName: "Kancelaria Root CA"})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue(localca.Subject{CommonName: "infino.test"}, "infino.test")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok "+r.Host)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "firm-ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return firm{ca: ca, caFile: caFile, srv: srv}
}

func get(t *testing.T, c *http.Client, u string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// worldWith is a world on pol that reads no proxy from this machine.
func worldWith(pol policy.Policy) *world.World {
	return &world.World{Policy: pol, Lang: "en",
		NetOptions: netconf.Options{Getenv: func(string) string { return "" }, NoSystemProxy: true}}
}

// The policy's CA file and proxy reach the firm's server, and every face
// gets the same network from the world: one client, one set of roots.
func TestNetFromThePolicy(t *testing.T) {
	f := newFirm(t)
	px := connectproxy.Start(t, strings.TrimPrefix(f.srv.URL, "https://"))
	pol := policy.Default()
	pol.ProxyURL, pol.ExtraCAFile = px.URL(), f.caFile
	w := worldWith(pol)
	if w.NetWarning() != nil {
		t.Fatalf("warning for a good CA file: %v", w.NetWarning())
	}
	if body, err := get(t, w.Net().HTTP, "https://infino.test/ping"); err != nil || body != "ok infino.test" {
		t.Fatalf("%q %v", body, err)
	}
	if got := px.Asked(); len(got) != 1 || got[0] != "CONNECT infino.test:443" {
		t.Fatalf("proxy asked %v", got)
	}
	n := w.Net()
	if n.RootCAs == nil || w.VerifyOptions().RootCAs != n.RootCAs || w.DiscoverOptions(false).RootCAs != n.RootCAs ||
		w.DiscoverOptions(false).HTTPClient != n.HTTP || w.SignIn().Config().HTTPClient != n.HTTP {
		t.Error("the faces' options do not share the world's network")
	}
	if o := w.DiscoverOptions(true); !o.Offline || o.HTTPClient != nil {
		t.Errorf("offline discovery: %+v", o)
	}
}

// A broken CA file: the request still goes through the proxy IT set (and
// is refused by the system roots, not sent around the proxy); the warning
// names the file in both languages.
func TestBrokenCAFileKeepsTheProxy(t *testing.T) {
	f := newFirm(t)
	px := connectproxy.Start(t, strings.TrimPrefix(f.srv.URL, "https://"))
	broken := filepath.Join(t.TempDir(), "broken.pem")
	os.WriteFile(broken, []byte("not a certificate"), 0o600)
	pol := policy.Default()
	pol.ProxyURL, pol.ExtraCAFile = px.URL(), broken
	w := worldWith(pol)
	m := w.NetWarning()
	if m == nil {
		t.Fatal("no warning")
	}
	for _, lang := range []string{"pl", "en"} {
		if s := m.In(lang); !strings.Contains(s, broken) || !strings.Contains(s, "extraCaFile") {
			t.Errorf("%s: %q", lang, s)
		}
	}
	var unknown x509.UnknownAuthorityError
	if _, err := get(t, w.Net().HTTP, "https://infino.test/ping"); !errors.As(err, &unknown) {
		t.Fatalf("want the firm CA refused by the system roots, got %v", err)
	}
	if got := px.Asked(); len(got) != 1 || got[0] != "CONNECT infino.test:443" {
		t.Fatalf("the request did not go through the proxy: %v", got)
	}
	if w.Net().RootCAs != nil || w.VerifyOptions().RootCAs != nil {
		t.Error("roots from a broken file")
	}
}

// The CA file is read once per world, however many faces ask.
func TestCAFileReadOnce(t *testing.T) {
	f := newFirm(t)
	pol := policy.Default()
	pol.ExtraCAFile = f.caFile
	w := worldWith(pol)
	first := w.Net().RootCAs
	if err := os.Remove(f.caFile); err != nil {
		t.Fatal(err)
	}
	if w.VerifyOptions().RootCAs != first || w.NetWarning() != nil {
		t.Error("the CA file was read again")
	}
}

// Test and demo overrides of the network win over the policy.
func TestNetOverrides(t *testing.T) {
	f := newFirm(t)
	hc := &http.Client{}
	pol := policy.Default()
	pol.ExtraCAFile = filepath.Join(t.TempDir(), "missing.pem")
	w := &world.World{Policy: pol, HTTP: hc, RootCAs: f.ca.Pool}
	if n := w.Net(); n.HTTP != hc || n.RootCAs != f.ca.Pool || n.Warning != nil {
		t.Errorf("%+v", n)
	}
}

func TestSecretFor(t *testing.T) {
	t.Setenv(secrets.LockDirEnv, t.TempDir())
	ctx := context.Background()
	store := secrets.NewMemory()
	w := &world.World{Store: store}
	pw := mailcfg.Settings{Email: "jan@wp.pl", Auth: mailcfg.AuthPassword}
	s, err := w.SecretFor(ctx, pw, verify.Password("tajne"))
	if err != nil || s.Type != "password" || s.Password != "tajne" {
		t.Fatalf("%v %v", s, err)
	}
	if _, err := w.SecretFor(ctx, pw, verify.OAuth2Token{AccessToken: "x"}); err == nil {
		t.Fatal("password settings with a token accepted")
	}
	ms := mailcfg.Settings{Email: "anna@kancelaria.pl", Auth: mailcfg.AuthOAuth2}
	if _, err := w.SecretFor(ctx, ms, nil); infino.KindOf(err) != infino.KindSignIn {
		t.Fatalf("no refresh token: %v", err)
	}
	store.Set(ctx, secrets.MicrosoftRefreshKey(ms.Email), "rt-123")
	w.Policy.Microsoft.ClientID = "cid"
	s, err = w.SecretFor(ctx, ms, nil)
	if err != nil || s.RefreshToken != "rt-123" || s.ClientID != "cid" || s.Tenant != "common" || s.Provider != "microsoft" || len(s.Scopes) == 0 {
		t.Fatalf("%+v %v", s, err)
	}
	if err := s.Check(mailcfg.AuthOAuth2); err != nil {
		t.Fatal(err)
	}
	if _, err := (&world.World{}).SecretFor(ctx, ms, nil); infino.KindOf(err) != infino.KindConfig {
		t.Fatalf("no store: %v", err)
	}
}

// The refresh token handed over is read under the lock a refresh holds:
// while another process redeems it (holding the lock), SecretFor waits for
// the token that process writes back rather than taking the spent one.
func TestSecretForWaitsForARefreshUnderWay(t *testing.T) {
	t.Setenv(secrets.LockDirEnv, t.TempDir())
	store := secrets.NewMemory()
	w := &world.World{Store: store}
	w.Policy.Microsoft.ClientID = "cid"
	ms := mailcfg.Settings{Email: "anna@kancelaria.pl", Auth: mailcfg.AuthOAuth2}
	key := secrets.MicrosoftRefreshKey(ms.Email)
	store.Set(context.Background(), key, "rt-spent")
	unlock, err := secrets.LockKey(context.Background(), key) // the other process, mid-refresh
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if s, err := w.SecretFor(short, ms, nil); err == nil {
		t.Fatalf("read %q while a refresh held the lock", s.RefreshToken)
	}
	store.Set(context.Background(), key, "rt-new")
	unlock()
	s, err := w.SecretFor(context.Background(), ms, nil)
	if err != nil || s.RefreshToken != "rt-new" {
		t.Fatalf("%+v %v", s, err)
	}
}

// OAuthCredential says why there is no credential before any server is
// contacted: not Microsoft, not configured (naming the world's policy
// file), not signed in.
func TestOAuthCredentialRefusals(t *testing.T) {
	ctx := context.Background()
	w := &world.World{Store: secrets.NewMemory(), PolicyFile: "/srv/kancelaria/policy.json"}
	gmail := mailcfg.Settings{Email: "jan@gmail.com", Auth: mailcfg.AuthOAuth2,
		Incoming: mailcfg.Server{Host: "imap.gmail.com"}, Outgoing: mailcfg.Server{Host: "smtp.gmail.com"}}
	var f *mailcfg.Failure
	wp := mailcfg.Settings{Email: "jan@wp.pl", Auth: mailcfg.AuthOAuth2,
		Incoming: mailcfg.Server{Host: "imap.wp.pl"}, Outgoing: mailcfg.Server{Host: "smtp.wp.pl"}}
	if _, err := w.OAuthCredential(ctx, wp); !errors.As(err, &f) || f.Kind != mailcfg.KindAuthFailed {
		t.Errorf("no sign-in provider: %v", err)
	}
	var se *signin.Error
	if _, err := w.OAuthCredential(ctx, gmail); !errors.As(err, &se) || se.Code != signin.CodeNotConfigured || se.Provider != "google" ||
		!strings.Contains(se.Hint.EN, "oauth.google.clientId") || !strings.Contains(se.Hint.EN, "/srv/kancelaria/policy.json") {
		t.Errorf("google not configured: %v", err)
	}
	ms := mailcfg.Settings{Email: "anna@kancelaria.pl", Auth: mailcfg.AuthOAuth2, Source: mailcfg.SourceMicrosoft}
	if _, err := w.OAuthCredential(ctx, ms); !errors.As(err, &se) || se.Code != signin.CodeNotConfigured || se.Provider != "microsoft" ||
		!strings.Contains(se.Text().In("en"), "/srv/kancelaria/policy.json") {
		t.Errorf("not configured: %v", err)
	}
	w.Policy.Microsoft.ClientID = "cid"
	if _, err := w.OAuthCredential(ctx, ms); !errors.As(err, &se) || se.Code != signin.CodeNotSignedIn || se.Provider != "microsoft" {
		t.Errorf("not signed in: %v", err)
	}
}

func TestLangFor(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		pol  string
		env  map[string]string
		want string
	}{
		{"", nil, "en"},
		{"", map[string]string{"LANG": "pl_PL.UTF-8"}, "pl"},
		{"", map[string]string{"LC_ALL": "C", "LANG": "pl_PL.UTF-8"}, "en"},
		{"en", map[string]string{"LANG": "pl_PL.UTF-8"}, "en"},
		{"pl", nil, "pl"},
	} {
		if got := world.LangFor(policy.Policy{Language: tc.pol}, env(tc.env)); got != tc.want {
			t.Errorf("%q %v: %q, want %q", tc.pol, tc.env, got, tc.want)
		}
	}
}
