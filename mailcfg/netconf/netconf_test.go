package netconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-ieproxy"

	"infino.legal/mailbox/internal/connectproxy"
	"infino.legal/mailbox/internal/localca"
	"infino.legal/mailbox/mailcfg/policy"
)

// firmCA is a throwaway CA, like the one a firm's TLS-inspecting proxy or
// intranet Infino uses, and a server certificate it signed for infino.test.
type firmCA struct {
	caDER   []byte
	server  tls.Certificate
	pemPath string
	derPath string
}

func newFirmCA(t *testing.T) firmCA {
	t.Helper()
	ca, err := localca.New(localca.Subject{CommonName: "Kancelaria Test CA"})
	if err != nil {
		t.Fatal(err)
	}
	server, err := ca.Issue(localca.Subject{CommonName: "infino.test"}, "infino.test", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	dir := tempDir(t)
	f := firmCA{caDER: ca.Cert.Raw, server: server,
		pemPath: filepath.Join(dir, "ca.pem"), derPath: filepath.Join(dir, "ca.cer")}
	// A PEM file as firms ship them: a comment, a key block we skip, the CA.
	body := "Kancelaria CA\n" + string(pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{6, 8}})) +
		string(ca.PEM)
	if err := os.WriteFile(f.pemPath, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.derPath, f.caDER, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// infinoServer is an HTTPS server with the firm CA's certificate.
func (f firmCA) infinoServer(t *testing.T) *httptest.Server {
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok "+r.Host)
	}))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{f.server}}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// tempDir is t.TempDir, but a failed clean-up is not a test failure: under
// Wine 8, Go's RemoveAll fails with "Invalid function".
func tempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "netconf-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func pol(t *testing.T, v map[string]any) policy.Policy {
	t.Helper()
	p := policy.Default()
	if err := p.Set("test", v); err != nil {
		t.Fatal(err)
	}
	return p
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func get(t *testing.T, c *http.Client, u string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestExtraCAFile(t *testing.T) {
	f := newFirmCA(t)
	srv := f.infinoServer(t)
	noSys := Options{NoSystemProxy: true, Getenv: env(nil)}

	c := noSys.Load(policy.Default()).HTTP
	var unknown x509.UnknownAuthorityError
	if _, err := get(t, c, srv.URL); !errors.As(err, &unknown) {
		t.Fatalf("without extraCaFile the firm CA must not be trusted, got %v", err)
	}
	for _, path := range []string{f.pemPath, f.derPath} {
		c := noSys.Load(pol(t, map[string]any{"extraCaFile": path})).HTTP
		if body, err := get(t, c, srv.URL); err != nil || !strings.HasPrefix(body, "ok") {
			t.Fatalf("%s: %q %v", path, body, err)
		}
	}
	// The system roots are still there.
	n := Load(pol(t, map[string]any{"extraCaFile": f.pemPath}))
	pool := n.RootCAs
	if n.Warning != nil || pool == nil {
		t.Fatal(n.Warning)
	}
	if sys, _ := x509.SystemCertPool(); sys != nil && !pool.Equal(sys) {
		sys.AddCert(mustParse(t, f.caDER))
		if !pool.Equal(sys) {
			t.Error("RootCAs is not the system pool plus the extra CA")
		}
	}
	if tc := n.TLS; tc.MinVersion != tls.VersionTLS12 || tc.RootCAs != pool {
		t.Fatalf("TLS: %+v", tc)
	}
}

func mustParse(t *testing.T, der []byte) *x509.Certificate {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBadCAFiles(t *testing.T) {
	dir := tempDir(t)
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o600)
		return p
	}
	cases := map[string]string{
		filepath.Join(dir, "missing.pem"): "cannot be read",
		write("empty.pem", ""):            "holds no certificate",
		write("text.pem", "hello"):        "holds no certificate",
		write("broken.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("junk")}))): "PEM block 1 is not a valid certificate",
		write("big.pem", strings.Repeat("x", MaxCAFileSize+1)):                                                  "larger than 1 MiB",
	}
	for path, want := range cases {
		n := Load(pol(t, map[string]any{"extraCaFile": path}))
		ce := n.Warning
		if ce == nil || !strings.Contains(ce.Error(), want) || !strings.Contains(ce.Error(), path) {
			t.Errorf("%s: want %q, got %v", filepath.Base(path), want, ce)
			continue
		}
		for _, lang := range []string{"pl", "en"} {
			if m := ce.Message().In(lang); !strings.Contains(m, path) || !strings.Contains(m, ce.Problem) {
				t.Errorf("%s: the %s message does not name the file and the problem: %q", filepath.Base(path), lang, m)
			}
		}
		if n.HTTP == nil || n.RootCAs != nil || n.TLS == nil {
			t.Errorf("%s: a broken CA file must leave a client on the system roots: %+v", filepath.Base(path), n)
		}
	}
}

func TestHTTPSThroughConnectProxy(t *testing.T) {
	f := newFirmCA(t)
	srv := f.infinoServer(t)
	upstream := strings.TrimPrefix(srv.URL, "https://")
	const target = "https://infino.test/api/ping"

	t.Run("policy proxyUrl", func(t *testing.T) {
		px := connectproxy.Start(t, upstream)
		o := Options{Getenv: env(map[string]string{"HTTPS_PROXY": "http://127.0.0.1:1"}), NoSystemProxy: true}
		c := o.Load(pol(t, map[string]any{"proxyUrl": px.URL(), "extraCaFile": f.pemPath})).HTTP
		body, err := get(t, c, target)
		if err != nil || body != "ok infino.test" {
			t.Fatalf("%q %v", body, err)
		}
		if got := px.Asked(); len(got) != 1 || got[0] != "CONNECT infino.test:443" {
			t.Fatalf("proxy saw %v", got)
		}
	})
	t.Run("HTTPS_PROXY", func(t *testing.T) {
		px := connectproxy.Start(t, upstream)
		o := Options{Getenv: env(map[string]string{"https_proxy": px.URL(), "NO_PROXY": "intranet.local"}), NoSystemProxy: true}
		c := o.Load(pol(t, map[string]any{"extraCaFile": f.pemPath})).HTTP
		if body, err := get(t, c, target); err != nil || body != "ok infino.test" {
			t.Fatalf("%q %v", body, err)
		}
		if got := px.Asked(); len(got) != 1 || got[0] != "CONNECT infino.test:443" {
			t.Fatalf("proxy saw %v", got)
		}
	})
	t.Run("system proxy", func(t *testing.T) {
		px := connectproxy.Start(t, upstream)
		host := strings.TrimPrefix(px.URL(), "http://")
		sys := fromIEConf(ieproxy.ProxyConf{Static: ieproxy.StaticProxyConf{Active: true, Protocols: map[string]string{"": host}}}, nil)
		o := Options{Getenv: env(nil), SystemProxy: sys}
		c := o.Load(pol(t, map[string]any{"extraCaFile": f.pemPath})).HTTP
		if body, err := get(t, c, target); err != nil || body != "ok infino.test" {
			t.Fatalf("%q %v", body, err)
		}
		if got := px.Asked(); len(got) != 1 {
			t.Fatalf("proxy saw %v", got)
		}
	})
}

func TestProxyChoice(t *testing.T) {
	sysProxy, _ := url.Parse("http://system.proxy:8080")
	sys := func(*url.URL) (*url.URL, error) { return sysProxy, nil }
	envAll := map[string]string{"HTTPS_PROXY": "http://env.proxy:3128", "HTTP_PROXY": "http://envhttp.proxy:3128", "NO_PROXY": "skip.example,.intra.example"}
	cases := []struct {
		name   string
		policy map[string]any
		env    map[string]string
		target string
		want   string
	}{
		{"policy wins over env", map[string]any{"proxyUrl": "http://policy.proxy:3128"}, envAll, "https://infino.legal", "http://policy.proxy:3128"},
		{"policy proxy for http too", map[string]any{"proxyUrl": "http://policy.proxy:3128"}, nil, "http://autoconfig.example.pl/mail/config-v1.1.xml", "http://policy.proxy:3128"},
		{"policy socks5", map[string]any{"proxyUrl": "socks5://127.0.0.2:1080"}, nil, "https://infino.legal", "socks5://127.0.0.2:1080"},
		{"NO_PROXY applies to the policy proxy", map[string]any{"proxyUrl": "http://policy.proxy:3128"}, envAll, "https://skip.example/x", "direct"},
		{"direct ignores env and system", map[string]any{"proxyUrl": "direct"}, envAll, "https://infino.legal", "direct"},
		{"env https", nil, envAll, "https://infino.legal", "http://env.proxy:3128"},
		{"env http", nil, envAll, "http://infino.legal", "http://envhttp.proxy:3128"},
		{"env NO_PROXY subdomain", nil, envAll, "https://a.intra.example", "direct"},
		{"env only HTTP_PROXY: https direct", nil, map[string]string{"HTTP_PROXY": "http://envhttp.proxy:3128"}, "https://infino.legal", "direct"},
		{"system when nothing else", nil, nil, "https://infino.legal", "http://system.proxy:8080"},
		{"loopback never proxied (system)", nil, nil, "https://127.0.0.1:8443", "direct"},
		{"loopback never proxied (policy)", map[string]any{"proxyUrl": "http://policy.proxy:3128"}, nil, "http://localhost:9000", "direct"},
	}
	for _, c := range cases {
		o := Options{Getenv: env(c.env), SystemProxy: sys}
		if got := o.Describe(pol(t, c.policy), c.target); got != c.want {
			t.Errorf("%s: %s goes via %q, want %q", c.name, c.target, got, c.want)
		}
	}
	if f := (Options{Getenv: env(nil), NoSystemProxy: true}).ProxyFunc(policy.Default()); f != nil {
		t.Error("no proxy anywhere must give a nil proxy function")
	}
}

// The Windows system proxy as go-ieproxy reports it, with its gaps mended.
func TestFromIEConf(t *testing.T) {
	u := func(s string) *url.URL { v, _ := url.Parse(s); return v }
	via := func(f func(*url.URL) (*url.URL, error), target string) string {
		p, err := f(u(target))
		if err != nil {
			return "error: " + err.Error()
		}
		if p == nil {
			return "direct"
		}
		return p.String()
	}
	if fromIEConf(ieproxy.ProxyConf{}, nil) != nil {
		t.Error("inactive configuration must be nil")
	}
	static := fromIEConf(ieproxy.ProxyConf{Static: ieproxy.StaticProxyConf{Active: true,
		Protocols: map[string]string{"https": "secure.firm.local:8443", "": "proxy.firm.local:3128"},
		NoProxy:   "*.firm.local,<local>,10.0.0.0/8"}}, nil)
	for target, want := range map[string]string{
		"https://infino.legal":      "http://secure.firm.local:8443",
		"http://autoconfig.wp.pl":   "http://proxy.firm.local:3128",
		"https://dms.firm.local/x":  "direct",
		"https://intranet/x":        "direct", // <local>
		"https://10.1.2.3/":         "direct",
		"https://infino.legal:8443": "http://secure.firm.local:8443",
	} {
		if got := via(static, target); got != want {
			t.Errorf("static: %s → %s, want %s", target, got, want)
		}
	}
	pac := fromIEConf(ieproxy.ProxyConf{Automatic: ieproxy.ProxyScriptConf{Active: true, PreConfiguredURL: "http://wpad/wpad.dat"}},
		func(s string) string {
			if strings.Contains(s, ".local") {
				return ""
			}
			return "pacproxy.firm.local:8080"
		})
	if got := via(pac, "https://infino.legal"); got != "http://pacproxy.firm.local:8080" {
		t.Errorf("PAC answer without a scheme: %s", got)
	}
	if got := via(pac, "https://x.firm.local"); got != "direct" {
		t.Errorf("PAC DIRECT: %s", got)
	}
}

func TestRedirectDowngradeRefused(t *testing.T) {
	f := newFirmCA(t)
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "plain") }))
	defer plain.Close()
	// infino.test resolves nowhere: reach the TLS server through a proxy,
	// which then redirects to plain http on a non-loopback name.
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://infino.test/token", http.StatusFound)
	}))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{f.server}}
	s.StartTLS()
	defer s.Close()
	px := connectproxy.Start(t, strings.TrimPrefix(s.URL, "https://"))
	c := Options{Getenv: env(nil), NoSystemProxy: true}.Load(pol(t, map[string]any{"proxyUrl": px.URL(), "extraCaFile": f.pemPath})).HTTP
	if _, err := get(t, c, "https://infino.test/"); err == nil || !strings.Contains(err.Error(), "refusing a redirect") {
		t.Fatalf("https → http redirect followed: %v", err)
	}
}

func TestPACCache(t *testing.T) {
	calls := 0
	now := time.Unix(0, 0)
	f := cachePAC(func(string) string { calls++; return "pac:8080" }, time.Minute, func() time.Time { return now })
	f("https://infino.legal/a")
	f("https://infino.legal/b?x")
	f("https://login.microsoftonline.com/")
	if calls != 2 {
		t.Fatalf("%d evaluations for two hosts", calls)
	}
	now = now.Add(2 * time.Minute)
	f("https://infino.legal/a")
	if calls != 3 {
		t.Fatalf("an expired answer was reused (%d)", calls)
	}
}

// TestBrokenCAFileKeepsTheProxy: a CA file that cannot be used leaves the
// proxy IT set in force (the request still goes through it) and trusts the
// system roots only, so the firm-signed server is refused, not reached
// directly.
func TestBrokenCAFileKeepsTheProxy(t *testing.T) {
	f := newFirmCA(t)
	srv := f.infinoServer(t)
	px := connectproxy.Start(t, strings.TrimPrefix(srv.URL, "https://"))
	missing := filepath.Join(tempDir(t), "missing.pem")
	n := Options{Getenv: env(nil), NoSystemProxy: true}.Load(pol(t, map[string]any{"proxyUrl": px.URL(), "extraCaFile": missing}))
	if n.Warning == nil || n.Warning.Path != missing {
		t.Fatalf("warning %v", n.Warning)
	}
	var unknown x509.UnknownAuthorityError
	if _, err := get(t, n.HTTP, "https://infino.test/api/ping"); !errors.As(err, &unknown) {
		t.Fatalf("want the system roots to refuse the firm CA, got %v", err)
	}
	if got := px.Asked(); len(got) != 1 || got[0] != "CONNECT infino.test:443" {
		t.Fatalf("proxy saw %v", got)
	}
}

// BenchmarkLoad: what building the process's network costs, without and
// with a policy CA file, and what reading only the CA file costs (the
// window does that before its first frame, to warn about a broken file).
func BenchmarkLoad(b *testing.B) {
	dir := b.TempDir()
	ca, err := localca.New(localca.Subject{CommonName: "Kancelaria CA"})
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "ca.pem")
	os.WriteFile(path, ca.PEM, 0o600)
	o := Options{Getenv: env(nil), NoSystemProxy: true}
	b.Run("no CA file", func(b *testing.B) {
		for b.Loop() {
			o.Load(policy.Default())
		}
	})
	withCA := policy.Default()
	withCA.ExtraCAFile = path
	b.Run("CA file", func(b *testing.B) {
		for b.Loop() {
			o.Load(withCA)
		}
	})
	b.Run("CA file only", func(b *testing.B) {
		for b.Loop() {
			ReadPolicyCA(withCA)
		}
	})
}
