package oauthloopback

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// testAS is a strict authorization server (TLS, so that only the injected
// HTTP client can reach its token endpoint).
type testAS struct {
	t   *testing.T
	srv *httptest.Server

	clientID     string
	redirectHost string // registered redirect: http://<host>:<any port><path>
	redirectPath string
	scopes       []string
	wantParams   map[string]string // extra authorize params that must be present

	// behaviour switches, set before the flow starts
	denyDescription string        // redirect with error=access_denied
	tokenFailure    bool          // token endpoint answers an AADSTS error
	tokenDelay      time.Duration // token endpoint sleeps first

	authorizeRequests atomic.Int32
	tokenRequests     atomic.Int32

	mu        sync.Mutex
	grants    map[string]*grant
	codes     []string   // issued codes
	verifiers []string   // verifiers received
	lastToken url.Values // the last token request's form
}

type grant struct {
	clientID, redirectURI, challenge string
	used                             bool
}

var (
	b64url43      = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	verifierChars = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)
)

func newTestAS(t *testing.T, redirectHost, redirectPath string) *testAS {
	t.Helper()
	as := &testAS{
		t:            t,
		clientID:     "11111111-2222-3333-4444-555555555555",
		redirectHost: redirectHost,
		redirectPath: redirectPath,
		scopes:       []string{"openid", "offline_access", "https://mail.example/IMAP"},
		wantParams:   map[string]string{"prompt": "select_account", "login_hint": "anna@kancelaria.example"},
		grants:       map[string]*grant{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", as.authorize)
	mux.HandleFunc("/token", as.token)
	as.srv = httptest.NewTLSServer(mux)
	t.Cleanup(as.srv.Close)
	return as
}

// config returns a flow configuration for this server; the opener is unset.
func (as *testAS) config() Config {
	return Config{
		OAuth2: oauth2.Config{
			ClientID: as.clientID,
			Endpoint: oauth2.Endpoint{AuthURL: as.srv.URL + "/authorize", TokenURL: as.srv.URL + "/token"},
			Scopes:   as.scopes,
		},
		RedirectHost: as.redirectHost,
		RedirectPath: as.redirectPath,
		AuthParams:   as.wantParams,
		HTTPClient:   as.srv.Client(),
		Timeout:      30 * time.Second,
		Opener:       func(context.Context, string) error { return nil },
	}
}

func (as *testAS) fail(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	as.t.Errorf("test AS rejected request: %s", msg)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"error": "invalid_request", "error_description": msg})
}

func single(v url.Values, k string) (string, bool) {
	if len(v[k]) != 1 {
		return "", false
	}
	return v[k][0], true
}

// validRedirect checks the redirect URI like a provider with an exact
// registration that ignores only the port.
func (as *testAS) validRedirect(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return false
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil || port <= 0 || port > 65535 {
		return false
	}
	return raw == "http://"+as.redirectHost+":"+strconv.Itoa(port)+as.redirectPath
}

func (as *testAS) authorize(w http.ResponseWriter, r *http.Request) {
	as.authorizeRequests.Add(1)
	if r.Method != http.MethodGet {
		as.fail(w, "authorize: method %s", r.Method)
		return
	}
	q := r.URL.Query()
	for k, v := range q {
		if len(v) != 1 {
			as.fail(w, "authorize: repeated parameter %s", k)
			return
		}
	}
	if v, _ := single(q, "client_id"); v != as.clientID {
		as.fail(w, "authorize: client_id %q", v)
		return
	}
	redirectURI, _ := single(q, "redirect_uri")
	if !as.validRedirect(redirectURI) {
		as.fail(w, "authorize: redirect_uri %q not registered", redirectURI)
		return
	}
	if v, _ := single(q, "response_type"); v != "code" {
		as.fail(w, "authorize: response_type %q", v)
		return
	}
	if v, _ := single(q, "code_challenge_method"); v != "S256" {
		as.fail(w, "authorize: code_challenge_method %q", v)
		return
	}
	challenge, _ := single(q, "code_challenge")
	if !b64url43.MatchString(challenge) {
		as.fail(w, "authorize: code_challenge %q", challenge)
		return
	}
	if v, _ := single(q, "scope"); v != strings.Join(as.scopes, " ") {
		as.fail(w, "authorize: scope %q", v)
		return
	}
	for k, want := range as.wantParams {
		if v, _ := single(q, k); v != want {
			as.fail(w, "authorize: %s=%q, want %q", k, v, want)
			return
		}
	}
	state, _ := single(q, "state")
	if !b64url43.MatchString(state) { // 32 random bytes, base64url
		as.fail(w, "authorize: state %q", state)
		return
	}
	resp := url.Values{"state": {state}}
	if as.denyDescription != "" {
		resp.Set("error", "access_denied")
		resp.Set("error_description", as.denyDescription)
	} else {
		code := "code-" + rand.Text()
		as.mu.Lock()
		as.grants[code] = &grant{clientID: as.clientID, redirectURI: redirectURI, challenge: challenge}
		as.codes = append(as.codes, code)
		as.mu.Unlock()
		resp.Set("code", code)
	}
	http.Redirect(w, r, redirectURI+"?"+resp.Encode(), http.StatusFound)
}

func (as *testAS) token(w http.ResponseWriter, r *http.Request) {
	as.tokenRequests.Add(1)
	if as.tokenDelay > 0 {
		time.Sleep(as.tokenDelay)
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		as.fail(w, "token: %s %s", r.Method, r.Header.Get("Content-Type"))
		return
	}
	if r.Header.Get("Authorization") != "" {
		as.fail(w, "token: public client sent an Authorization header")
		return
	}
	if err := r.ParseForm(); err != nil {
		as.fail(w, "token: %v", err)
		return
	}
	f := r.PostForm
	for k, v := range f {
		if len(v) != 1 {
			as.fail(w, "token: repeated parameter %s", k)
			return
		}
	}
	if _, ok := f["client_secret"]; ok {
		as.fail(w, "token: public client sent client_secret")
		return
	}
	if f.Get("grant_type") != "authorization_code" {
		as.fail(w, "token: grant_type %q", f.Get("grant_type"))
		return
	}
	if f.Get("client_id") != as.clientID {
		as.fail(w, "token: client_id %q", f.Get("client_id"))
		return
	}
	verifier := f.Get("code_verifier")
	as.mu.Lock()
	as.lastToken = f
	as.verifiers = append(as.verifiers, verifier)
	g := as.grants[f.Get("code")]
	reused := g != nil && g.used
	if g != nil {
		g.used = true
	}
	as.mu.Unlock()
	switch {
	case g == nil:
		as.fail(w, "token: unknown code")
		return
	case reused:
		as.fail(w, "token: code redeemed twice")
		return
	case g.clientID != f.Get("client_id"):
		as.fail(w, "token: code issued to another client")
		return
	case f.Get("redirect_uri") != g.redirectURI:
		as.fail(w, "token: redirect_uri %q differs from authorize %q", f.Get("redirect_uri"), g.redirectURI)
		return
	case !verifierChars.MatchString(verifier):
		as.fail(w, "token: malformed code_verifier")
		return
	}
	sum := sha256.Sum256([]byte(verifier))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		as.fail(w, "token: PKCE verification failed")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if as.tokenFailure {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_grant","error_description":"AADSTS70008: The provided authorization code or refresh token has expired due to inactivity.\r\nTrace ID: 0c6e","error_codes":[70008],"timestamp":"2026-01-01 10:00:00Z","trace_id":"0c6e-trace","correlation_id":"9f1a-corr"}`)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{
		"access_token":  "at-" + rand.Text(),
		"token_type":    "Bearer",
		"expires_in":    3600,
		"scope":         strings.Join(as.scopes, " "),
		"refresh_token": "rt-" + rand.Text(),
		"id_token":      "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbm5hIn0.",
	})
}

func (as *testAS) issuedCodes() []string {
	as.mu.Lock()
	defer as.mu.Unlock()
	return append([]string(nil), as.codes...)
}

func (as *testAS) seenVerifiers() []string {
	as.mu.Lock()
	defer as.mu.Unlock()
	return append([]string(nil), as.verifiers...)
}
