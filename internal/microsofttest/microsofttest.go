// Package microsofttest is a strict stand-in for the Microsoft identity
// platform, for tests of "Sign in with Microsoft": an HTTPS authorization
// server (its own test CA, reachable only through Server.HTTPClient) with the
// v2.0 authorize and token endpoints, ID tokens for a chosen account, refresh
// tokens that rotate on every use (the old one stops working, so a client that
// does not persist the new one fails), AADSTS error injection, and a fake
// browser that follows the sign-in page to the app's loopback redirect.
package microsofttest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"infino.legal/mailbox/internal/fakeidp"
	"infino.legal/mailbox/mailcfg/policy"
)

// ConsumerTenantID is the tenant of personal accounts.
const ConsumerTenantID = "9188040d-6c67-4c5b-b112-36a304b66dad"

// Account is who signs in at the fake sign-in page.
type Account struct {
	PreferredUsername string
	Email             string // "" leaves the claim out
	Name              string
	TenantID          string
}

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
type ErrorResponse struct {
	Error       string
	Description string
	Codes       []int
}

// Scopes is what the app must request, in order.
const Scopes = "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access openid email profile"

// Server is the fake. Set its exported fields before the flow starts (or
// under its lock through the setters).
type Server struct {
	// URL is the authority: "https://127.0.0.1:PORT".
	URL      string
	ClientID string
	Tenant   string // the tenant path segment the app must use; default "common"
	TLS      *httptest.Server

	t testing.TB

	mu sync.Mutex
	// Account signs in at the authorize endpoint.
	account Account
	// authorizeError makes the next sign-in page redirect with an error.
	authorizeError *ErrorResponse
	// tokenError makes token requests fail (code and refresh grants).
	tokenError *ErrorResponse
	// claims, if set, edits the ID token claims before they are encoded.
	claims func(map[string]any)
	// accessTokenTTL is expires_in; default one hour.
	accessTokenTTL time.Duration
	// accessTokenFor, if set, mints access tokens (to register them with
	// a real server); default: random.
	mint func(Account) string

	grants   map[string]*grant
	refresh  map[string]Account // valid refresh tokens
	access   map[string]Account // issued access tokens
	counters Counters
}

// Counters count requests by kind.
type Counters struct {
	Authorize, CodeRedeemed, Refreshed, RefreshRejected int
}

type grant struct {
	redirectURI, challenge string
	account                Account
	used                   bool
}

// NewServer starts the fake; it stops when the test ends.
func NewServer(t testing.TB) *Server {
	s := &Server{
		ClientID: "3f1c2a9e-6b7d-4e0f-9a18-5c2d7e4b1a60",
		Tenant:   "common",
		t:        t,
		account:  Work,
		grants:   map[string]*grant{},
		refresh:  map[string]Account{},
		access:   map[string]Account{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", s.route)
	s.TLS = httptest.NewTLSServer(mux)
	s.URL = s.TLS.URL
	t.Cleanup(s.TLS.Close)
	return s
}

// Policy is the policy section that points the app at the fake.
func (s *Server) Policy() policy.Microsoft {
	return policy.Microsoft{ClientID: s.ClientID, Tenant: s.Tenant, Authority: s.URL}
}

// HTTPClient trusts the fake's certificate (and nothing else's).
func (s *Server) HTTPClient() *http.Client {
	c := s.TLS.Client()
	c.Timeout = 20 * time.Second
	return c
}

// SetAccount chooses who signs in next.
func (s *Server) SetAccount(a Account) { s.mu.Lock(); s.account = a; s.mu.Unlock() }

// SetAuthorizeError makes the sign-in page redirect with an error (nil: none).
func (s *Server) SetAuthorizeError(e *ErrorResponse) {
	s.mu.Lock()
	s.authorizeError = e
	s.mu.Unlock()
}

// SetTokenError makes the token endpoint fail (nil: none).
func (s *Server) SetTokenError(e *ErrorResponse) { s.mu.Lock(); s.tokenError = e; s.mu.Unlock() }

// SetClaims edits ID token claims (nil: none).
func (s *Server) SetClaims(f func(map[string]any)) { s.mu.Lock(); s.claims = f; s.mu.Unlock() }

// SetAccessTokenTTL sets expires_in of new access tokens.
func (s *Server) SetAccessTokenTTL(d time.Duration) { s.mu.Lock(); s.accessTokenTTL = d; s.mu.Unlock() }

// SetMint chooses how access tokens are made (nil: random).
func (s *Server) SetMint(f func(Account) string) { s.mu.Lock(); s.mint = f; s.mu.Unlock() }

// Counts returns the request counters.
func (s *Server) Counts() Counters { s.mu.Lock(); defer s.mu.Unlock(); return s.counters }

// ValidAccessToken reports whether the fake issued tok, and to whom.
func (s *Server) ValidAccessToken(tok string) (Account, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.access[tok]
	return a, ok
}

// ValidRefreshToken reports whether rt is the current refresh token of a
// sign-in (rotated ones are not).
func (s *Server) ValidRefreshToken(rt string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.refresh[rt]
	return ok
}

// Browser is a fake browser that trusts the fake's certificate; its Open
// method is an opener that signs in as the chosen account.
func (s *Server) Browser() fakeidp.Browser { return fakeidp.Browser{HTTP: s.HTTPClient()} }

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	prefix := "/" + s.Tenant + "/oauth2/v2.0/"
	switch r.URL.Path {
	case prefix + "authorize":
		s.authorize(w, r)
	case prefix + "token":
		s.token(w, r)
	default:
		s.t.Errorf("microsofttest: unexpected request %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	}
}

func (s *Server) reject(w http.ResponseWriter, format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	s.t.Errorf("microsofttest rejected a request: %s", msg)
	writeError(w, http.StatusBadRequest, &ErrorResponse{Error: "invalid_request", Description: "AADSTS900144: " + msg, Codes: []int{900144}})
}

func writeError(w http.ResponseWriter, status int, e *ErrorResponse) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"error": e.Error, "error_description": e.Description, "error_codes": e.Codes,
		"timestamp": time.Now().UTC().Format("2006-01-02 15:04:05Z"), "trace_id": "00000000-0000-0000-0000-00000000a001",
		"correlation_id": "00000000-0000-0000-0000-00000000c001",
	})
}

func one(v url.Values, k string) string {
	if len(v[k]) != 1 {
		return ""
	}
	return v[k][0]
}

// validRedirect: Entra matches http://localhost with any port, path "/".
func validRedirect(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Hostname() != "localhost" || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	p, err := strconv.Atoi(u.Port())
	return err == nil && p > 0 && p < 65536 && raw == "http://localhost:"+u.Port()+"/"
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.counters.Authorize++
	account, authErr := s.account, s.authorizeError
	s.mu.Unlock()
	q := r.URL.Query()
	for k, v := range q {
		if len(v) != 1 {
			s.reject(w, "authorize: repeated %s", k)
			return
		}
	}
	want := map[string]string{
		"client_id": s.ClientID, "response_type": "code", "scope": Scopes,
		"prompt": "select_account", "code_challenge_method": "S256",
	}
	for k, v := range want {
		if got := one(q, k); got != v {
			s.reject(w, "authorize: %s=%q, want %q", k, got, v)
			return
		}
	}
	redirect := one(q, "redirect_uri")
	if !validRedirect(redirect) {
		s.reject(w, "authorize: redirect_uri %q is not http://localhost:PORT/", redirect)
		return
	}
	state, challenge := one(q, "state"), one(q, "code_challenge")
	if len(state) < 32 || len(challenge) != 43 {
		s.reject(w, "authorize: state or code_challenge missing")
		return
	}
	resp := url.Values{"state": {state}}
	if authErr != nil {
		resp.Set("error", authErr.Error)
		resp.Set("error_description", authErr.Description)
	} else {
		code := "M." + rand.Text() + rand.Text()
		s.mu.Lock()
		s.grants[code] = &grant{redirectURI: redirect, challenge: challenge, account: account}
		s.mu.Unlock()
		resp.Set("code", code)
		resp.Set("session_state", rand.Text())
	}
	http.Redirect(w, r, redirect+"?"+resp.Encode(), http.StatusFound)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		s.reject(w, "token: %s %s", r.Method, r.Header.Get("Content-Type"))
		return
	}
	if r.Header.Get("Authorization") != "" {
		// AADSTS900144 in real life: public clients send client_id in the body.
		s.reject(w, "token: Authorization header from a public client")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.reject(w, "token: %v", err)
		return
	}
	f := r.PostForm
	if one(f, "client_id") != s.ClientID {
		s.reject(w, "token: client_id %q", one(f, "client_id"))
		return
	}
	if _, ok := f["client_secret"]; ok {
		s.reject(w, "token: client_secret from a public client")
		return
	}
	s.mu.Lock()
	tokErr := s.tokenError
	s.mu.Unlock()
	switch one(f, "grant_type") {
	case "authorization_code":
		s.mu.Lock()
		g := s.grants[one(f, "code")]
		valid := g != nil && !g.used
		if g != nil {
			g.used = true
		}
		s.mu.Unlock()
		if !valid {
			writeError(w, http.StatusBadRequest, &ErrorResponse{"invalid_grant", "AADSTS54005: OAuth2 Authorization code was already redeemed.", []int{54005}})
			return
		}
		if one(f, "redirect_uri") != g.redirectURI {
			s.reject(w, "token: redirect_uri %q differs from %q", one(f, "redirect_uri"), g.redirectURI)
			return
		}
		sum := sha256.Sum256([]byte(one(f, "code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			writeError(w, http.StatusBadRequest, &ErrorResponse{"invalid_grant", "AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request.", []int{501481}})
			return
		}
		if tokErr != nil {
			writeError(w, http.StatusBadRequest, tokErr)
			return
		}
		s.mu.Lock()
		s.counters.CodeRedeemed++
		s.mu.Unlock()
		s.issue(w, g.account)
	case "refresh_token":
		if one(f, "scope") != Scopes {
			s.reject(w, "token: refresh scope %q", one(f, "scope"))
			return
		}
		rt := one(f, "refresh_token")
		s.mu.Lock()
		a, ok := s.refresh[rt]
		if ok && tokErr == nil {
			delete(s.refresh, rt) // rotation: the old token is spent
			s.counters.Refreshed++
		} else {
			s.counters.RefreshRejected++
		}
		s.mu.Unlock()
		if tokErr != nil {
			writeError(w, http.StatusBadRequest, tokErr)
			return
		}
		if !ok {
			writeError(w, http.StatusBadRequest, &ErrorResponse{"invalid_grant", "AADSTS70008: The provided authorization code or refresh token has expired due to inactivity.", []int{70008}})
			return
		}
		s.issue(w, a)
	default:
		s.reject(w, "token: grant_type %q", one(f, "grant_type"))
	}
}

// issue answers a token request with new access, refresh and ID tokens.
func (s *Server) issue(w http.ResponseWriter, a Account) {
	s.mu.Lock()
	ttl := s.accessTokenTTL
	if ttl == 0 {
		ttl = time.Hour
	}
	at := "eyJ0eXAiOiJKV1QiLCJub25jZSI6I." + rand.Text() + rand.Text()
	if s.mint != nil {
		at = s.mint(a)
	}
	// Entra refresh tokens are opaque and about 1.5 KB.
	rt := "1.AXkA" + strings.Repeat(rand.Text(), 60)[:1500]
	s.access[at] = a
	s.refresh[rt] = a
	edit := s.claims
	s.mu.Unlock()

	now := time.Now()
	claims := map[string]any{
		"aud": s.ClientID, "iss": s.URL + "/" + a.TenantID + "/v2.0",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"name": a.Name, "oid": "00000000-0000-0000-66f3-3332eca7ea81",
		"preferred_username": a.PreferredUsername, "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
		"tid": a.TenantID, "ver": "2.0",
	}
	if a.Email != "" {
		claims["email"] = a.Email
	}
	if edit != nil {
		edit(claims)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]any{
		"token_type": "Bearer", "scope": "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send",
		"expires_in": int(ttl / time.Second), "ext_expires_in": int(ttl / time.Second),
		"access_token": at, "refresh_token": rt, "id_token": IDToken(claims),
	})
}

// IDToken encodes claims as a JWS (RS256 header, placeholder signature: the
// app does not check it).
func IDToken(claims map[string]any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"typ": "JWT", "alg": "RS256", "kid": "test"}) + "." + enc(claims) + "." +
		base64.RawURLEncoding.EncodeToString([]byte("not-a-signature"))
}
