// Package googletest is the Google instance of the strict identity fake
// (internal/fakeidp) for tests of "Sign in with Google": an HTTPS
// authorization server on loopback (its own test certificate, reachable
// only through Server.HTTPClient) that keeps Google's issuer identifier
// https://accounts.google.com, serves OpenID discovery and JWKS, sends iss
// in the redirect, wants the desktop client's secret, and signs ID tokens
// with email and email_verified. StartMail adds Gmail's IMAP and SMTP that
// accept only XOAUTH2 with tokens it issued. Every request a correct client
// never sends fails the test.
package googletest

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/internal/fakeidp"
	"infino.legal/mailbox/internal/fakemail"
	"infino.legal/mailbox/mailcfg"
)

// The registration the app is given.
const (
	ClientID     = "123456789012-sandbox0demo1client2id3.apps.googleusercontent.com"
	ClientSecret = "GOCSPX-sandbox-not-confidential"
)

var (
	// Gmail is a consumer account.
	Gmail = fakeidp.Account{PreferredUsername: "jan.kowalski@gmail.com", Email: "jan.kowalski@gmail.com", Name: "Jan Kowalski"}
	// Workspace is an account of a firm's Google Workspace domain.
	Workspace = fakeidp.Account{PreferredUsername: "anna@kancelaria-gw.example", Email: "anna@kancelaria-gw.example", Name: "Anna Nowak"}
)

// Server is the fake Google.
type Server struct {
	*fakeidp.Server
	// URL is the authority the policy names (oauth.google.authority).
	URL string
	TLS *httptest.Server
}

// NewServer starts the fake, signing in Gmail; it stops when the test ends.
func NewServer(t testing.TB) *Server {
	mux := http.NewServeMux()
	ts := httptest.NewTLSServer(mux)
	t.Cleanup(ts.Close)
	idp, err := fakeidp.New(fakeidp.GoogleProfile(ClientID, ClientSecret), ts.URL,
		fakeidp.Options{Account: Gmail, Violation: func(msg string) { t.Errorf("googletest rejected a request: %s", msg) }})
	if err != nil {
		t.Fatal(err)
	}
	idp.Mount(mux, "")
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("googletest: unexpected request %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	return &Server{Server: idp, URL: ts.URL, TLS: ts}
}

// Policy is the flat policy that points the app at the fake.
func (s *Server) Policy() map[string]any {
	return map[string]any{"oauth.google.clientId": ClientID, "oauth.google.clientSecret": ClientSecret, "oauth.google.authority": s.URL}
}

// HTTPClient trusts the fake's certificate (and nothing else's).
func (s *Server) HTTPClient() *http.Client {
	c := s.TLS.Client()
	c.Timeout = 20 * time.Second
	return c
}

// Browser is a fake browser that trusts the fake's certificate.
func (s *Server) Browser() fakeidp.Browser { return fakeidp.Browser{HTTP: s.HTTPClient()} }

// Mail is Gmail's IMAP (implicit TLS) and SMTP submission (implicit TLS)
// on 127.0.0.1, accepting only XOAUTH2 with a live access token of the
// fake that carries https://mail.google.com/, for the address it was
// issued to.
type Mail struct {
	*fakemail.Server
	Host               string
	IMAPPort, SMTPPort int
	RootCAs            *x509.CertPool
}

// StartMail starts the mail servers; they stop when the test ends.
func (s *Server) StartMail(t testing.TB) *Mail {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(s.TLS.Certificate())
	m := &Mail{Host: "127.0.0.1", RootCAs: roots}
	m.Server = fakemail.New(fakemail.Options{
		TLS: &tls.Config{Certificates: s.TLS.TLS.Certificates, MinVersion: tls.VersionTLS12}, Domain: "smtp.gmail.example", OAuthOnly: true,
		CheckToken: func(_, user, token string) bool {
			a, ok := s.ValidAccessToken(token)
			return ok && s.HasScope(token, "https://mail.google.com/") && strings.EqualFold(a.Email, user)
		}})
	var ls []net.Listener
	for range 2 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
	}
	m.IMAPPort, m.SMTPPort = ls[0].Addr().(*net.TCPAddr).Port, ls[1].Addr().(*net.TCPAddr).Port
	m.ServeIMAP(ls[0], nil)
	m.ServeSMTP(ls[1], nil)
	t.Cleanup(m.Close)
	return m
}

// Settings points Gmail settings (as the sign-in filled them) at these
// servers.
func (m *Mail) Settings(s mailcfg.Settings) mailcfg.Settings {
	s.Incoming.Host, s.Incoming.Port = m.Host, m.IMAPPort
	s.Outgoing.Host, s.Outgoing.Port = m.Host, m.SMTPPort
	return s
}

// XOAUTH2Logins are the successful XOAUTH2 logins by protocol.
func (m *Mail) XOAUTH2Logins() []string {
	var out []string
	for _, l := range m.Logins() {
		if l.OK && l.Mechanism == fakemail.XOAUTH2 && !slices.Contains(out, l.Protocol) {
			out = append(out, l.Protocol)
		}
	}
	return out
}
