// Package oidcpeer finds the real OpenID provider (panva's oidc-provider, an
// OpenID Certified implementation) that testdata/oidcpeer/up.sh starts on
// loopback, set up as Infino's authorization server would be, for tests of
// the Infino hand-off against a standards-following server.
//
// up.sh writes a KEY=VALUE env file (default /tmp/infino-oidcpeer/env, or
// the path in $INFINO_OIDCPEER_ENV). Require reads it and checks that the
// provider answers. When it is missing, a test is skipped on a developer
// machine and fails under CI (CI non-empty): there these tests must run.
//
// The provider's issuer is also the Infino URL and the resource indicator
// of Infino's API (docs/infino-api.md): requests under <issuer>/api/ are
// passed on, over plain http on 127.0.0.1, to APIPort, where a test serves
// its Infino API stand-in (ServeAPI).
package oidcpeer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"infino.legal/mailbox/internal/kvfile"
)

// DefaultEnvFile is where up.sh writes the env file unless OIDCPEER_RUN moves it.
const DefaultEnvFile = "/tmp/infino-oidcpeer/env"

// EnvVar overrides DefaultEnvFile.
const EnvVar = "INFINO_OIDCPEER_ENV"

// Peer describes the running provider.
type Peer struct {
	// Issuer is https://127.0.0.1:PORT/realms/infino: the issuer, the
	// Infino URL and the resource (RFC 8707) of the API.
	Issuer   string
	Host     string
	Port     int
	Path     string
	APIPort  int    // where the provider passes <issuer>/api/ on to (http, 127.0.0.1)
	ClientID string // the public client the app is (infino-mailbox)
	User     string // the account that signs in and consents automatically
	CAFile   string
	CAPool   *x509.CertPool
	Log      string // the provider's request log
}

// EnvFile is the env file Require reads.
func EnvFile() string {
	if p := os.Getenv(EnvVar); p != "" {
		return p
	}
	return DefaultEnvFile
}

// Require returns the running provider. If the env file is missing or the
// provider does not answer, it skips the test, or fails it when the CI
// variable is set. A malformed env file always fails the test.
func Require(t testing.TB) *Peer {
	t.Helper()
	path := EnvFile()
	if _, err := os.Stat(path); err != nil {
		unavailable(t, fmt.Sprintf("OpenID provider env file %s: %v", path, err))
	}
	p, err := Load(path)
	if err != nil {
		t.Fatalf("oidcpeer: %v", err)
	}
	c, err := net.DialTimeout("tcp", net.JoinHostPort(p.Host, strconv.Itoa(p.Port)), 2*time.Second)
	if err != nil {
		unavailable(t, fmt.Sprintf("the OpenID provider listed in %s does not answer: %v", path, err))
	}
	_ = c.Close()
	return p
}

func unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("OPENID PROVIDER REQUIRED IN CI, NOT RUNNING: %s. "+
			"The CI script must run `bash testdata/oidcpeer/up.sh` (make peers-up) before `go test`; "+
			"these tests must never be skipped in CI.", why)
	}
	t.Skipf("%s; run bash testdata/oidcpeer/up.sh", why)
}

// Load parses an env file written by up.sh.
func Load(path string) (*Peer, error) {
	kv, err := kvfile.Read(path)
	if err != nil {
		return nil, err
	}
	var errs []error
	str := func(k string) string {
		v := kv[k]
		if v == "" {
			errs = append(errs, fmt.Errorf("%s missing", k))
		}
		return v
	}
	port := func(k string) int {
		v := str(k)
		n, err := strconv.Atoi(v)
		if v != "" && (err != nil || n < 1 || n > 65535) {
			errs = append(errs, fmt.Errorf("%s=%q is not a port", k, v))
		}
		return n
	}
	p := &Peer{
		Issuer:   strings.TrimRight(str("OIDCPEER_ISSUER"), "/"),
		Host:     str("OIDCPEER_HOST"),
		Port:     port("OIDCPEER_PORT"),
		Path:     str("OIDCPEER_PATH"),
		APIPort:  port("OIDCPEER_API_PORT"),
		ClientID: str("OIDCPEER_CLIENT_ID"),
		User:     str("OIDCPEER_USER"),
		CAFile:   str("OIDCPEER_CA"),
		Log:      kv["OIDCPEER_LOG"],
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", path, errors.Join(errs...))
	}
	pem, err := os.ReadFile(p.CAFile)
	if err != nil {
		return nil, fmt.Errorf("%s: OIDCPEER_CA: %w", path, err)
	}
	p.CAPool = x509.NewCertPool()
	if !p.CAPool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: OIDCPEER_CA %s holds no PEM certificate", path, p.CAFile)
	}
	return p, nil
}

// Resource is the resource indicator of Infino's API (RFC 8707): the
// Infino URL, which is the issuer.
func (p *Peer) Resource() string { return p.Issuer }

// TLSConfig trusts only the provider's CA.
func (p *Peer) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: p.CAPool, MinVersion: tls.VersionTLS12}
}

// HTTPClient is a client that trusts the provider's CA and follows no
// cookies.
func (p *Peer) HTTPClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: p.TLSConfig(), DisableKeepAlives: true}}
}

// BrowserClient is a headless browser's client: it trusts the provider's
// CA, keeps cookies (the provider's interaction and session cookies) and
// follows redirects, down to the app's loopback listener.
func (p *Peer) BrowserClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	hc := p.HTTPClient()
	hc.Jar = jar
	return hc
}

// AccessClaims are the claims of an access token (RFC 9068) the API
// stand-in checks.
type AccessClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience audience `json:"aud"`
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope"`
}

type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = []string{one}
		return nil
	}
	var many []string
	err := json.Unmarshal(b, &many)
	*a = many
	return err
}

// AccessTokenChecker verifies access tokens as Infino's API would: a JWT
// signed with a key of the provider's jwks_uri, from the issuer, for the
// audience Resource, unexpired, issued to ClientID. seen, when non-nil,
// gets the claims of every token accepted.
func (p *Peer) AccessTokenChecker(ctx context.Context, seen func(AccessClaims)) func(ctx context.Context, token string) ([]string, error) {
	keys := oidc.NewRemoteKeySet(oidc.ClientContext(ctx, p.HTTPClient()), p.Issuer+"/jwks")
	v := oidc.NewVerifier(p.Issuer, keys, &oidc.Config{ClientID: p.Resource(), SupportedSigningAlgs: []string{oidc.RS256}})
	return func(ctx context.Context, token string) ([]string, error) {
		t, err := v.Verify(ctx, token)
		if err != nil {
			return nil, err
		}
		var c AccessClaims
		if err := t.Claims(&c); err != nil {
			return nil, err
		}
		if c.ClientID != p.ClientID {
			return nil, fmt.Errorf("access token issued to %q, not %q", c.ClientID, p.ClientID)
		}
		if seen != nil {
			seen(c)
		}
		return strings.Fields(c.Scope), nil
	}
}

// ServeAPI serves h as the Infino API stand-in on 127.0.0.1:APIPort, where
// the provider passes <issuer>/api/ on to, until the test ends. One test at
// a time can: the port is fixed by up.sh.
func (p *Peer) ServeAPI(t testing.TB, h http.Handler) {
	t.Helper()
	ln, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(p.APIPort)))
	if err != nil {
		t.Fatalf("oidcpeer: the API stand-in's port (another test using the provider?): %v", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}
