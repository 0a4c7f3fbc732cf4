// Package microsofttest is the Microsoft instance of the strict identity
// platform fake (internal/fakeidp) for tests of "Sign in with Microsoft":
// an HTTPS authorization server (its own test CA, reachable only through
// Server.HTTPClient) with the v2.0 authorize and token endpoints under the
// tenant Server.Tenant, ID tokens for a chosen account, refresh tokens that
// rotate on every use, AADSTS error injection, and the fake browser. Every
// request a correct client never sends fails the test. StartMail adds
// Exchange Online's IMAP and SMTP (internal/fakemail).
package microsofttest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"infino.legal/mailbox/internal/fakeidp"
	"infino.legal/mailbox/mailcfg/policy"
)

// ConsumerTenantID is the tenant of personal accounts.
const ConsumerTenantID = fakeidp.ConsumerTenantID

// Account is who signs in at the fake sign-in page.
type Account = fakeidp.Account

var (
	// Work is a Microsoft 365 work account.
	Work = Account{
		PreferredUsername: "anna.nowak@kancelaria.example",
		Email:             "anna.nowak@kancelaria.example",
		Name:              "Anna Nowak",
		TenantID:          "72f988bf-86f1-41af-91ab-2d7cd011db47",
	}
	// Personal is an Outlook.com account.
	Personal = Account{
		PreferredUsername: "jan.kowalski@outlook.com",
		Email:             "jan.kowalski@outlook.com",
		Name:              "Jan Kowalski",
		TenantID:          ConsumerTenantID,
	}
)

// ErrorResponse is an error the fake answers with, e.g.
// {Error: "invalid_grant", Description: "AADSTS70008: …", Codes: []int{70008}}.
type ErrorResponse = fakeidp.ErrorResponse

// Scopes is what the app must request, in order.
const Scopes = fakeidp.MicrosoftScopes

// Server is the fake; the embedded fakeidp.Server has its setters
// (SetAccount, SetAuthorizeError, SetTokenError, SetClaims, SetMint,
// SetAccessTokenTTL) and checks (ValidAccessToken, ValidRefreshToken).
type Server struct {
	*fakeidp.Server
	// URL is the authority: "https://127.0.0.1:PORT".
	URL      string
	ClientID string
	TLS      *httptest.Server

	mu     sync.Mutex
	tenant string
}

// Counters count requests by kind.
type Counters struct {
	Authorize, CodeRedeemed, Refreshed, RefreshRejected int
}

// NewServer starts the fake, signing in Work; it stops when the test ends.
func NewServer(t testing.TB) *Server {
	s := &Server{ClientID: "3f1c2a9e-6b7d-4e0f-9a18-5c2d7e4b1a60", tenant: "common"}
	mux := http.NewServeMux()
	s.TLS = httptest.NewTLSServer(mux)
	s.URL = s.TLS.URL
	t.Cleanup(s.TLS.Close)
	idp, err := fakeidp.New(fakeidp.MicrosoftProfile(s.ClientID, func(tenant string) bool { return tenant == s.Tenant() }), s.URL,
		fakeidp.Options{Account: Work, Violation: func(msg string) { t.Errorf("microsofttest rejected a request: %s", msg) }})
	if err != nil {
		t.Fatal(err)
	}
	s.Server = idp
	idp.Mount(mux, "")
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("microsofttest: unexpected request %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	return s
}

// Tenant is the tenant path segment the app must use (default "common").
func (s *Server) Tenant() string { s.mu.Lock(); defer s.mu.Unlock(); return s.tenant }

// SetTenant changes the tenant the app must use.
func (s *Server) SetTenant(t string) { s.mu.Lock(); s.tenant = t; s.mu.Unlock() }

// Policy is the policy section that points the app at the fake.
func (s *Server) Policy() policy.Microsoft {
	return policy.Microsoft{ClientID: s.ClientID, Tenant: s.Tenant(), Authority: s.URL}
}

// HTTPClient trusts the fake's certificate (and nothing else's).
func (s *Server) HTTPClient() *http.Client {
	c := s.TLS.Client()
	c.Timeout = 20 * time.Second
	return c
}

// Browser is a fake browser that trusts the fake's certificate; its Open
// method is an opener that signs in as the chosen account.
func (s *Server) Browser() fakeidp.Browser { return fakeidp.Browser{HTTP: s.HTTPClient()} }

// Counts returns the request counters.
func (s *Server) Counts() Counters {
	st := s.Stats()
	return Counters{Authorize: st.AuthorizeRequests, CodeRedeemed: st.CodeGrants, Refreshed: st.RefreshGrants, RefreshRejected: st.RefreshRejected}
}
