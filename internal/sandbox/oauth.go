package sandbox

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// authServer is the part the sandbox Infino and "Microsoft" authorization
// servers share: loopback redirect URIs only (RFC 8252), PKCE S256 required
// (RFC 7636), single-use codes, rotating refresh tokens.
type authServer struct {
	name     string // shown on the approve page
	clientID string
	now      func() time.Time
	// page: answer the authorization request with a visible page that
	// continues by itself (demo) instead of a bare redirect (tests).
	page bool

	mu       sync.Mutex
	codes    map[string]*grant
	access   map[string]*grant
	refresh  map[string]*grant
	denyNext int
	stats    AuthStats
	// accessTTL is the lifetime of access tokens.
	accessTTL time.Duration
	// iss, when it returns non-empty, is sent as the "iss" parameter of
	// every redirect back to the client (RFC 9207).
	iss func() string
	// grantScopes, when set, decides which of the requested scopes are
	// granted (a real server may grant fewer than asked).
	grantScopes func(q url.Values, requested []string) []string
	// reuseGrace keeps a rotated refresh token usable for this long (a
	// "reuse interval"): a client killed after the server rotated the
	// token but before it stored the new one can still refresh.
	reuseGrace time.Duration
	rotated    map[string]rotation
}

// rotation is a refresh token replaced by a newer one.
type rotation struct {
	g  *grant
	at time.Time
}

// AuthStats counts what an authorization server was asked.
type AuthStats struct {
	Authorizations int // authorization requests answered with a code
	CodeGrants     int // codes redeemed
	RefreshGrants  int // refresh tokens redeemed
	Failures       int // token requests refused
}

// grant is one authorization: first a code, then tokens.
type grant struct {
	clientID    string
	redirectURI string
	challenge   string
	scopes      []string
	resource    string // RFC 8707 resource indicator of the authorization request
	user        string
	nonce       string
	expires     time.Time
	used        bool
}

func newAuthServer(name, clientID string, now func() time.Time, page bool) *authServer {
	return &authServer{name: name, clientID: clientID, now: now, page: page,
		codes: map[string]*grant{}, access: map[string]*grant{}, refresh: map[string]*grant{},
		rotated: map[string]rotation{}, accessTTL: time.Hour}
}

var challengeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

func randomToken(prefix string) string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// loopbackRedirect accepts http://127.0.0.1:<port>/…, http://localhost:… and
// http://[::1]:… (RFC 8252 §7.3: any port).
func loopbackRedirect(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Fragment != "" || u.User != nil {
		return false
	}
	switch u.Hostname() {
	case "127.0.0.1", "localhost", "::1":
		return u.Port() != ""
	}
	return false
}

// authorize handles the authorization request. user picks the account from
// the request (login_hint); scopeOK checks the requested scopes.
func (a *authServer) authorize(w http.ResponseWriter, r *http.Request, user func(q url.Values) string, scopeOK func([]string) bool) {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	if q.Get("client_id") != a.clientID || !loopbackRedirect(redirect) {
		// Never redirect to an unverified URI (RFC 6749 §4.1.2.1).
		http.Error(w, "unknown client_id or redirect_uri not a loopback address", http.StatusBadRequest)
		return
	}
	back := func(params url.Values) {
		params.Set("state", q.Get("state"))
		if a.iss != nil {
			if iss := a.iss(); iss != "" {
				params.Set("iss", iss)
			}
		}
		u, _ := url.Parse(redirect)
		qq := u.Query()
		for k, v := range params {
			qq[k] = v
		}
		u.RawQuery = qq.Encode()
		a.continueTo(w, r, u.String())
	}
	fail := func(code, desc string) { back(url.Values{"error": {code}, "error_description": {desc}}) }
	scopes := strings.Fields(q.Get("scope"))
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "only the authorization code flow")
		return
	case q.Get("code_challenge_method") != "S256" || !challengeRE.MatchString(q.Get("code_challenge")):
		fail("invalid_request", "PKCE with S256 is required")
		return
	case q.Get("state") == "":
		fail("invalid_request", "state is required")
		return
	case !scopeOK(scopes):
		fail("invalid_scope", "unknown or missing scope")
		return
	}
	a.mu.Lock()
	deny := a.denyNext > 0
	if deny {
		a.denyNext--
	}
	a.mu.Unlock()
	if deny {
		fail("access_denied", "the user declined")
		return
	}
	if a.grantScopes != nil {
		scopes = a.grantScopes(q, scopes)
	}
	code := randomToken("code-")
	a.mu.Lock()
	a.codes[code] = &grant{clientID: a.clientID, redirectURI: redirect, challenge: q.Get("code_challenge"),
		scopes: scopes, resource: q.Get("resource"), user: user(q), nonce: q.Get("nonce"), expires: a.now().Add(5 * time.Minute)}
	a.stats.Authorizations++
	a.mu.Unlock()
	back(url.Values{"code": {code}})
}

var approvePage = template.Must(template.New("approve").Parse(`<!doctype html>
<html lang="pl"><head><meta charset="utf-8"><meta http-equiv="refresh" content="1;url={{.URL}}">
<title>{{.Name}} (sandbox)</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;line-height:1.5}</style></head>
<body><h1>{{.Name}} — sandbox</h1>
<p>Tryb demonstracyjny: logowanie zatwierdzone automatycznie. Za chwilę wrócisz do aplikacji.</p>
<p>Demo mode: sign-in approved automatically. You will be taken back to the app in a moment.</p>
<p><a href="{{.URL}}">Dalej / Continue</a></p></body></html>`))

// continueTo sends the browser back to the app: a bare 302 in tests, a
// visible page that continues by itself in the demo.
func (a *authServer) continueTo(w http.ResponseWriter, r *http.Request, to string) {
	if !a.page {
		http.Redirect(w, r, to, http.StatusFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = approvePage.Execute(w, struct{ Name, URL string }{a.name, to})
}

// tokenResponse is a successful token answer (RFC 6749 §5.1) plus extras.
type tokenResponse map[string]any

// token handles the token endpoint. issue builds the success answer for a
// grant (access and refresh tokens are already minted).
func (a *authServer) token(w http.ResponseWriter, r *http.Request, issue func(g *grant, access, refresh string) tokenResponse) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		a.tokenError(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	f := r.PostForm
	if f.Get("client_id") != a.clientID {
		a.tokenError(w, http.StatusUnauthorized, "invalid_client", "unknown client_id (it must be in the body)")
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var g *grant
	switch f.Get("grant_type") {
	case "authorization_code":
		code := f.Get("code")
		g = a.codes[code]
		switch {
		case g == nil || g.used || a.now().After(g.expires):
			if g != nil && g.used {
				a.revokeUserLocked(g) // a replayed code: assume theft (RFC 6749 §4.1.2)
			}
			a.tokenErrorLocked(w, "invalid_grant", "unknown, used or expired code")
			return
		case f.Get("redirect_uri") != g.redirectURI:
			a.tokenErrorLocked(w, "invalid_grant", "redirect_uri differs from the authorization request")
			return
		case !pkceOK(f.Get("code_verifier"), g.challenge):
			a.tokenErrorLocked(w, "invalid_grant", "PKCE verification failed")
			return
		case f.Get("resource") != "" && f.Get("resource") != g.resource:
			a.tokenErrorLocked(w, "invalid_target", "resource differs from the authorization request (RFC 8707)")
			return
		}
		g.used = true
		a.stats.CodeGrants++
	case "refresh_token":
		rt := f.Get("refresh_token")
		g = a.refresh[rt]
		if r, ok := a.rotated[rt]; g == nil && ok && a.now().Sub(r.at) < a.reuseGrace {
			g = r.g
		}
		if g == nil {
			a.tokenErrorLocked(w, "invalid_grant", "unknown or revoked refresh token")
			return
		}
		if res := f.Get("resource"); res != "" && g.resource != "" && res != g.resource {
			a.tokenErrorLocked(w, "invalid_target", "resource differs from the grant (RFC 8707)")
			return
		}
		delete(a.refresh, rt) // rotation: every refresh token works once (within reuseGrace, again)
		if a.reuseGrace > 0 {
			if _, again := a.rotated[rt]; !again {
				a.rotated[rt] = rotation{g: g, at: a.now()}
			}
		}
		a.stats.RefreshGrants++
	default:
		a.tokenErrorLocked(w, "unsupported_grant_type", "authorization_code or refresh_token")
		return
	}
	access, refresh := randomToken("at-"), randomToken("rt-")
	ng := *g
	ng.expires = a.now().Add(a.accessTTL)
	a.access[access] = &ng
	a.refresh[refresh] = &ng
	resp := issue(&ng, access, refresh)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(resp)
}

func pkceOK(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

func (a *authServer) tokenErrorLocked(w http.ResponseWriter, code, desc string) {
	a.stats.Failures++
	writeTokenError(w, http.StatusBadRequest, code, desc)
}

func (a *authServer) tokenError(w http.ResponseWriter, status int, code, desc string) {
	a.mu.Lock()
	a.stats.Failures++
	a.mu.Unlock()
	writeTokenError(w, status, code, desc)
}

func writeTokenError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (a *authServer) revokeUserLocked(g *grant) {
	for k, v := range a.access {
		if v.user == g.user {
			delete(a.access, k)
		}
	}
	for k, v := range a.refresh {
		if v.user == g.user {
			delete(a.refresh, k)
		}
	}
	for k, v := range a.rotated {
		if v.g.user == g.user {
			delete(a.rotated, k)
		}
	}
}

// check returns the grant of a valid access token.
func (a *authServer) check(token string) (*grant, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	g := a.access[token]
	if g == nil || a.now().After(g.expires) {
		return nil, false
	}
	return g, true
}

// mint issues an access and a refresh token directly (tests that skip the
// browser).
func (a *authServer) mint(user string, scopes []string) (access, refresh string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	g := &grant{clientID: a.clientID, scopes: scopes, user: user, expires: a.now().Add(a.accessTTL)}
	access, refresh = randomToken("at-"), randomToken("rt-")
	a.access[access] = g
	a.refresh[refresh] = g
	return access, refresh
}

// revokeAccess invalidates every access token (refresh tokens still work).
func (a *authServer) revokeAccess() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.access = map[string]*grant{}
}

// revokeAll invalidates every token: the next use needs a new sign-in.
func (a *authServer) revokeAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.access = map[string]*grant{}
	a.refresh = map[string]*grant{}
	a.rotated = map[string]rotation{}
}

func (a *authServer) snapshot() AuthStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats
}

func (a *authServer) denyNextAuthorization(n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.denyNext = n
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func hasScope(scopes []string, want string) bool {
	for _, s := range scopes {
		if s == want {
			return true
		}
	}
	return false
}

func errorf(format string, a ...any) error { return fmt.Errorf("sandbox: "+format, a...) }
