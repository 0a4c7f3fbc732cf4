package fakeidp

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Account is who signs in at the fake's sign-in page.
type Account struct {
	PreferredUsername string
	Email             string // "" leaves the claim out
	Name              string
	// TenantID is the account's directory (Microsoft's tid); profiles
	// without tenants ignore it.
	TenantID string
}

// ErrorResponse is an OAuth error answer (RFC 6749 §5.2), e.g.
// {Error: "invalid_grant", Description: "AADSTS70008: …", Codes: []int{70008}}.
type ErrorResponse struct {
	Error       string
	Description string
	Codes       []int // Microsoft's error_codes; nil leaves them out
}

// Profile is what differs between providers.
type Profile struct {
	// Name is shown on the approve page.
	Name string
	// ClientID is the registered public client.
	ClientID string
	// Endpoint paths below the authority. A "{tenant}" segment is
	// accepted when Tenants says so. JWKSPath and ConfigPath may be empty.
	AuthorizePath, TokenPath, JWKSPath, ConfigPath string
	// Tenants accepts the tenant path segment; nil accepts any.
	Tenants func(tenant string) bool
	// Issuer is the iss of an account's ID tokens (and, for the zero
	// Account, of the OpenID configuration).
	Issuer func(authority string, a Account) string
	// Scopes, if set, is the exact scope parameter a client must send
	// (authorize and refresh requests). Otherwise ScopesOK decides (nil:
	// any non-empty list).
	Scopes   string
	ScopesOK func(scopes []string) bool
	// GrantedScope is the scope in token answers; "" echoes the request.
	GrantedScope string
	// RedirectOK accepts a redirect URI; nil accepts http loopback URIs
	// with a port (RFC 8252 §7.3).
	RedirectOK func(uri string) bool
	// Require lists further authorize parameters with their only value
	// (e.g. prompt=select_account).
	Require map[string]string
	// MinState is the shortest state accepted (default 1).
	MinState int
	// IssInRedirect adds iss to the authorization response (RFC 9207).
	IssInRedirect bool
	// SessionState adds Microsoft's session_state to it.
	SessionState bool
	// AccountFromHint, if set, signs in whoever login_hint names when it
	// returns true (the demo's "any address works").
	AccountFromHint func(hint string) (Account, bool)
	// Claims adds provider claims (tid, oid, ver…) to an ID token.
	Claims func(a Account) map[string]any
	// Errors: a used, unknown or expired code; a PKCE mismatch; an unknown
	// or spent refresh token; a tenant that does not exist. Zero values
	// mean plain invalid_grant / invalid_request answers.
	ErrCode, ErrVerifier, ErrRefresh, ErrTenant ErrorResponse
	// RefreshToken makes an opaque refresh token; nil: "rt-" + random.
	RefreshToken func() string
	// ErrorExtras are fields added to every JSON error (Microsoft's
	// timestamp, trace_id…).
	ErrorExtras func() map[string]any
	// OfflineAccess gives refresh tokens only to grants with the
	// offline_access scope, as OpenID providers do; otherwise every token
	// answer has one.
	OfflineAccess bool
	// RefreshOK, if set, decides instead of OfflineAccess whether a grant
	// with these scopes gets a refresh token (asked on every answer, so a
	// test may change its mind).
	RefreshOK func(scopes []string) bool
	// GrantScopes, if set, decides which of the requested scopes a sign-in
	// grants (q is the authorization request): a real server may grant
	// fewer, e.g. without a resource indicator (RFC 8707).
	GrantScopes func(q url.Values, requested []string) []string
	// IssParam, if set, decides instead of IssInRedirect which iss the
	// authorization response carries ("" none): a test's mix-up.
	IssParam func() string
	// ReuseGrace keeps a rotated refresh token usable for this long (a
	// "reuse interval"): a client killed after the rotation but before it
	// stored the new token can still refresh.
	ReuseGrace time.Duration
	// AltScopes are further exact scope parameters accepted besides Scopes
	// (the same mail access over another protocol: POP3 instead of IMAP).
	// With Scopes set, a refresh that names scopes must name exactly the
	// grant's; RefreshScopes makes naming them required (Microsoft).
	AltScopes     []string
	RefreshScopes bool
	// ClientSecret, if set, must come in the token request body (Google's
	// desktop clients); otherwise a client_secret is refused.
	ClientSecret string
	// AdminConsentPath serves Microsoft's v2.0 adminconsent endpoint
	// ("" none); see RequireAdminConsent.
	AdminConsentPath string
	// ConsentError is the authorization answer for an account whose
	// tenant needs admin consent first; zero: consent_required.
	ConsentError ErrorResponse
}

// Options are how a Server is run.
type Options struct {
	// Page answers a good authorization request with a visible page that
	// continues by itself (a person's browser in the demo) instead of a
	// bare 302.
	Page bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Violation, if set, is told of every request a correct client never
	// sends (tests make it t.Errorf). The request is refused either way.
	Violation func(msg string)
	// Account signs in unless SetAccount changes it.
	Account Account
}

// Stats count what the server was asked.
type Stats struct {
	AuthorizeRequests int // authorization requests received
	Authorizations    int // codes issued
	CodeGrants        int // codes redeemed
	RefreshGrants     int // refresh tokens redeemed
	RefreshRejected   int // refresh requests refused
	// RefreshReused counts spent (rotated) refresh tokens presented again:
	// each revokes the whole grant, as strict servers do.
	RefreshReused int
	Failures      int // token requests refused
	AdminConsents int // adminconsent approvals given
}

type grant struct {
	redirectURI, challenge, nonce string
	resource                      string // RFC 8707, from the authorization request
	scopes                        []string
	account                       Account
	expires                       time.Time
	used                          bool
}

// Server is one authorization server. Mount it on a mux.
type Server struct {
	p         Profile
	o         Options
	authority string
	key       *rsa.PrivateKey
	kid       string

	mu           sync.Mutex
	account      Account
	authorizeErr *ErrorResponse
	tokenErr     *ErrorResponse
	claims       func(map[string]any)
	signer       func(map[string]any) string
	extraJWKs    []map[string]string
	jwksTo       string
	ttl          time.Duration
	mint         func(Account) string
	denyNext     int
	codes        map[string]*grant
	access       map[string]*grant
	refresh      map[string]*grant
	rotated      map[string]rotation
	spent        map[string]*grant
	needConsent  map[string]bool // tenant ids whose administrator has not approved yet
	stats        Stats
}

// rotation is a refresh token replaced by a newer one (kept for
// Profile.ReuseGrace).
type rotation struct {
	g  *grant
	at time.Time
}

var (
	keyOnce sync.Once
	rsaKey  *rsa.PrivateKey
	rsaErr  error
)

// signingKey is made once per process: RSA key generation is slow, and a
// fake's ID tokens need no secrecy.
func signingKey() (*rsa.PrivateKey, error) {
	keyOnce.Do(func() { rsaKey, rsaErr = rsa.GenerateKey(rand.Reader, 2048) })
	return rsaKey, rsaErr
}

// New makes a server for profile p at authority (its base URL, e.g.
// "https://127.0.0.1:1234/ms"); Mount serves it.
func New(p Profile, authority string, o Options) (*Server, error) {
	key, err := signingKey()
	if err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if p.MinState < 1 {
		p.MinState = 1
	}
	sum := sha256.Sum256(key.PublicKey.N.Bytes())
	return &Server{p: p, o: o, authority: authority, key: key, kid: base64.RawURLEncoding.EncodeToString(sum[:8]),
		account: o.Account, ttl: time.Hour,
		codes: map[string]*grant{}, access: map[string]*grant{}, refresh: map[string]*grant{},
		rotated: map[string]rotation{}, spent: map[string]*grant{}, needConsent: map[string]bool{}}, nil
}

// Mount adds the endpoints to mux under prefix (the authority's path).
func (s *Server) Mount(mux *http.ServeMux, prefix string) {
	mux.HandleFunc("GET "+prefix+s.p.AuthorizePath, s.authorize)
	mux.HandleFunc(prefix+s.p.TokenPath, s.token)
	if s.p.JWKSPath != "" {
		mux.HandleFunc("GET "+prefix+s.p.JWKSPath, s.jwks)
	}
	if s.p.ConfigPath != "" {
		mux.HandleFunc("GET "+prefix+s.p.ConfigPath, s.config)
	}
	if s.p.AdminConsentPath != "" {
		mux.HandleFunc("GET "+prefix+s.p.AdminConsentPath, s.adminConsent)
	}
}

// RequireAdminConsent makes sign-ins of accounts in tenant (a tenant id)
// fail with ConsentError (Microsoft's "Need admin approval", AADSTS90094)
// until an administrator approves the app at the adminconsent endpoint.
func (s *Server) RequireAdminConsent(tenant string) {
	s.mu.Lock()
	s.needConsent[strings.ToLower(tenant)] = true
	s.mu.Unlock()
}

// ConsentGiven reports whether tenant needs no (more) admin consent.
func (s *Server) ConsentGiven(tenant string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.needConsent[strings.ToLower(tenant)]
}

// Authority is the base URL of the endpoints.
func (s *Server) Authority() string { return s.authority }

// ClientID is the registered client id.
func (s *Server) ClientID() string { return s.p.ClientID }

// PublicKey verifies the ID tokens.
func (s *Server) PublicKey() *rsa.PublicKey { return &s.key.PublicKey }

// SetAccount chooses who signs in next.
func (s *Server) SetAccount(a Account) { s.mu.Lock(); s.account = a; s.mu.Unlock() }

// SetAuthorizeError makes the sign-in page redirect with an error (nil: none).
func (s *Server) SetAuthorizeError(e *ErrorResponse) { s.mu.Lock(); s.authorizeErr = e; s.mu.Unlock() }

// SetTokenError makes the token endpoint fail (nil: none).
func (s *Server) SetTokenError(e *ErrorResponse) { s.mu.Lock(); s.tokenErr = e; s.mu.Unlock() }

// SetClaims edits ID token claims before they are signed (nil: none).
func (s *Server) SetClaims(f func(map[string]any)) { s.mu.Lock(); s.claims = f; s.mu.Unlock() }

// SetIDTokenSigner replaces how ID tokens are signed (hostile tests: alg
// none, HS256, a key of its own published with AddJWK); nil: RS256 with
// the published key.
func (s *Server) SetIDTokenSigner(f func(claims map[string]any) string) {
	s.mu.Lock()
	s.signer = f
	s.mu.Unlock()
}

// AddJWK publishes one more key in the JWKS.
func (s *Server) AddJWK(k map[string]string) {
	s.mu.Lock()
	s.extraJWKs = append(s.extraJWKs, k)
	s.mu.Unlock()
}

// SetJWKSRedirect makes the JWKS endpoint answer with a redirect to to
// (hostile tests: keys from another server); "" serves the keys.
func (s *Server) SetJWKSRedirect(to string) { s.mu.Lock(); s.jwksTo = to; s.mu.Unlock() }

// SetAccessTokenTTL sets the lifetime (expires_in) of new access tokens.
func (s *Server) SetAccessTokenTTL(d time.Duration) { s.mu.Lock(); s.ttl = d; s.mu.Unlock() }

// SetMint chooses how access tokens are made (nil: random), e.g. to
// register them with a real mail server.
func (s *Server) SetMint(f func(Account) string) { s.mu.Lock(); s.mint = f; s.mu.Unlock() }

// DenyNextSignIn makes the next n authorization requests end with
// access_denied.
func (s *Server) DenyNextSignIn(n int) { s.mu.Lock(); s.denyNext = n; s.mu.Unlock() }

// Stats returns the counters.
func (s *Server) Stats() Stats { s.mu.Lock(); defer s.mu.Unlock(); return s.stats }

// ValidAccessToken reports whether tok is a live access token, and whose.
func (s *Server) ValidAccessToken(tok string) (Account, bool) {
	g, ok := s.check(tok)
	if !ok {
		return Account{}, false
	}
	return g.account, true
}

// ValidRefreshToken reports whether rt is the current refresh token of a
// sign-in (rotated ones are not).
func (s *Server) ValidRefreshToken(rt string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refresh[rt] != nil
}

// CheckToken returns the account of a live access token that carries a
// scope ending in scopeSuffix (e.g. "IMAP.AccessAsUser.All").
func (s *Server) CheckToken(tok, scopeSuffix string) (Account, bool) {
	g, ok := s.check(tok)
	if !ok {
		return Account{}, false
	}
	for _, sc := range g.scopes {
		if strings.HasSuffix(sc, scopeSuffix) {
			return g.account, true
		}
	}
	return Account{}, false
}

// HasScope reports whether tok is a live access token with scope.
func (s *Server) HasScope(tok, scope string) bool {
	g, ok := s.check(tok)
	return ok && slices.Contains(g.scopes, scope)
}

func (s *Server) check(tok string) (*grant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.access[tok]
	if g == nil || s.o.Now().After(g.expires) {
		return nil, false
	}
	return g, true
}

// Mint issues an access and a refresh token for a without the browser.
func (s *Server) Mint(a Account, scopes []string) (access, refresh string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueLocked(&grant{scopes: scopes, account: a})
}

// RevokeAccessTokens makes every access token invalid (refresh tokens
// still work).
func (s *Server) RevokeAccessTokens() { s.mu.Lock(); s.access = map[string]*grant{}; s.mu.Unlock() }

// RevokeAll makes every token invalid: the next use needs a new sign-in.
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.access, s.refresh, s.rotated = map[string]*grant{}, map[string]*grant{}, map[string]rotation{}
}

func (s *Server) violation(format string, a ...any) string {
	msg := fmt.Sprintf(format, a...)
	if s.o.Violation != nil {
		s.o.Violation(s.p.Name + ": " + msg)
	}
	return msg
}

func (s *Server) tenantOK(r *http.Request) bool {
	t := r.PathValue("tenant")
	return t == "" && !strings.Contains(s.p.AuthorizePath, "{tenant}") || s.p.Tenants == nil || s.p.Tenants(t)
}

func one(v url.Values, k string) string {
	if len(v[k]) != 1 {
		return ""
	}
	return v[k][0]
}

var challengeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// LoopbackRedirect accepts http://127.0.0.1:<port>/…, http://localhost:…
// and http://[::1]:… (RFC 8252 §7.3: any port).
func LoopbackRedirect(raw string) bool {
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

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.AuthorizeRequests++
	s.mu.Unlock()
	if !s.tenantOK(r) {
		s.writeError(w, http.StatusBadRequest, s.tenantError())
		return
	}
	q := r.URL.Query()
	redirect := one(q, "redirect_uri")
	redirectOK := s.p.RedirectOK
	if redirectOK == nil {
		redirectOK = LoopbackRedirect
	}
	if one(q, "client_id") != s.p.ClientID || !redirectOK(redirect) {
		// Never redirect to an unverified URI (RFC 6749 §4.1.2.1).
		msg := s.violation("authorize: unknown client_id %q or redirect_uri %q", one(q, "client_id"), redirect)
		http.Error(w, msg, http.StatusBadRequest)
		return
	}
	back := func(params url.Values) {
		params.Set("state", one(q, "state"))
		switch {
		case s.p.IssParam != nil:
			if iss := s.p.IssParam(); iss != "" {
				params.Set("iss", iss)
			}
		case s.p.IssInRedirect:
			params.Set("iss", s.issuer(Account{}))
		}
		u, _ := url.Parse(redirect)
		qq := u.Query()
		for k, v := range params {
			qq[k] = v
		}
		u.RawQuery = qq.Encode()
		s.continueTo(w, r, u.String())
	}
	fail := func(code, desc string) { back(url.Values{"error": {code}, "error_description": {desc}}) }
	for k, v := range q {
		if len(v) != 1 {
			fail("invalid_request", s.violation("authorize: repeated %s", k))
			return
		}
	}
	want := map[string]string{"response_type": "code", "code_challenge_method": "S256"}
	for k, v := range s.p.Require {
		want[k] = v
	}
	for k, v := range want {
		if got := one(q, k); got != v {
			fail("invalid_request", s.violation("authorize: %s=%q, want %q", k, got, v))
			return
		}
	}
	scopes := strings.Fields(one(q, "scope"))
	if s.p.Scopes != "" && one(q, "scope") != s.p.Scopes && !slices.Contains(s.p.AltScopes, one(q, "scope")) {
		fail("invalid_scope", s.violation("authorize: scope=%q, want %q", one(q, "scope"), s.p.Scopes))
		return
	}
	switch {
	case len(one(q, "state")) < s.p.MinState:
		fail("invalid_request", s.violation("authorize: state shorter than %d", s.p.MinState))
		return
	case !challengeRE.MatchString(one(q, "code_challenge")):
		fail("invalid_request", s.violation("authorize: code_challenge is not a S256 challenge"))
		return
	case s.p.Scopes == "" && (len(scopes) == 0 || s.p.ScopesOK != nil && !s.p.ScopesOK(scopes)):
		fail("invalid_scope", s.violation("authorize: scope %q", one(q, "scope")))
		return
	}
	s.mu.Lock()
	account, authErr, deny := s.account, s.authorizeErr, s.denyNext > 0
	if deny {
		s.denyNext--
	}
	s.mu.Unlock()
	if s.p.AccountFromHint != nil {
		if a, ok := s.p.AccountFromHint(one(q, "login_hint")); ok {
			account = a
		}
	}
	switch {
	case authErr != nil:
		fail(authErr.Error, authErr.Description)
		return
	case deny:
		fail("access_denied", "the user declined")
		return
	}
	s.mu.Lock()
	needConsent := s.needConsent[strings.ToLower(account.TenantID)]
	s.mu.Unlock()
	if needConsent {
		e := orDefault(s.p.ConsentError, "consent_required", "the administrator must approve the app for tenant "+account.TenantID)
		fail(e.Error, e.Description)
		return
	}
	if s.p.GrantScopes != nil {
		scopes = s.p.GrantScopes(q, scopes)
	}
	code := randomToken("code-")
	s.mu.Lock()
	s.codes[code] = &grant{redirectURI: redirect, challenge: one(q, "code_challenge"), nonce: one(q, "nonce"),
		resource: one(q, "resource"), scopes: scopes, account: account, expires: s.o.Now().Add(5 * time.Minute)}
	s.stats.Authorizations++
	s.mu.Unlock()
	resp := url.Values{"code": {code}}
	if s.p.SessionState {
		resp.Set("session_state", rand.Text())
	}
	back(resp)
}

var approvePage = template.Must(template.New("approve").Parse(`<!doctype html>
<html lang="pl"><head><meta charset="utf-8"><meta http-equiv="refresh" content="1;url={{.URL}}">
<title>{{.Name}} (sandbox)</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;line-height:1.5}</style></head>
<body><h1>{{.Name}} — sandbox</h1>
<p>Tryb demonstracyjny: logowanie zatwierdzone automatycznie. Za chwilę wrócisz do aplikacji.</p>
<p>Demo mode: sign-in approved automatically. You will be taken back to the app in a moment.</p>
<p><a href="{{.URL}}">Dalej / Continue</a></p></body></html>`))

// continueTo sends the browser back to the app: a bare 302, or with
// Options.Page a visible page that continues by itself.
func (s *Server) continueTo(w http.ResponseWriter, r *http.Request, to string) {
	if !s.o.Page {
		http.Redirect(w, r, to, http.StatusFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = approvePage.Execute(w, struct{ Name, URL string }{s.p.Name, to})
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if !s.tenantOK(r) {
		s.fail(w, http.StatusBadRequest, s.tenantError())
		return
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		s.reject(w, http.StatusBadRequest, "token: %s %s", r.Method, r.Header.Get("Content-Type"))
		return
	}
	if r.Header.Get("Authorization") != "" {
		s.reject(w, http.StatusBadRequest, "token: Authorization header from a public client")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.reject(w, http.StatusBadRequest, "token: %v", err)
		return
	}
	f := r.PostForm
	for k, v := range f {
		if len(v) != 1 {
			s.reject(w, http.StatusBadRequest, "token: repeated %s", k)
			return
		}
	}
	if one(f, "client_id") != s.p.ClientID {
		s.reject(w, http.StatusUnauthorized, "token: client_id %q (it must be in the body)", one(f, "client_id"))
		return
	}
	if s.p.ClientSecret != "" {
		if subtle.ConstantTimeCompare([]byte(one(f, "client_secret")), []byte(s.p.ClientSecret)) != 1 {
			s.reject(w, http.StatusUnauthorized, "token: wrong or missing client_secret")
			return
		}
	} else if _, ok := f["client_secret"]; ok {
		s.reject(w, http.StatusBadRequest, "token: client_secret from a public client")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var g *grant
	switch one(f, "grant_type") {
	case "authorization_code":
		g = s.codes[one(f, "code")]
		switch {
		case g == nil || g.used || s.o.Now().After(g.expires):
			if g != nil && g.used {
				s.revokeLocked(g.account) // a replayed code: assume theft (RFC 6749 §4.1.2)
			}
			s.failLocked(w, orDefault(s.p.ErrCode, "invalid_grant", "unknown, used or expired code"))
			return
		case one(f, "redirect_uri") != g.redirectURI:
			g.used = true
			s.failLocked(w, ErrorResponse{Error: "invalid_grant",
				Description: s.violation("token: redirect_uri %q differs from %q", one(f, "redirect_uri"), g.redirectURI)})
			return
		case !pkceOK(one(f, "code_verifier"), g.challenge):
			g.used = true
			s.failLocked(w, orDefault(s.p.ErrVerifier, "invalid_grant", "PKCE verification failed"))
			return
		case one(f, "resource") != "" && one(f, "resource") != g.resource:
			g.used = true
			s.failLocked(w, ErrorResponse{Error: "invalid_target", Description: "resource differs from the authorization request (RFC 8707)"})
			return
		}
		g.used = true
		if s.tokenErr != nil {
			s.failLocked(w, *s.tokenErr)
			return
		}
		s.stats.CodeGrants++
	case "refresh_token":
		rt := one(f, "refresh_token")
		r, inGrace := s.rotated[rt]
		inGrace = inGrace && s.o.Now().Sub(r.at) < s.p.ReuseGrace
		if old := s.spent[rt]; old != nil && !inGrace {
			// A refresh token used twice: one copy leaked, or two clients
			// raced with a stale one. Either way the grant is revoked.
			s.stats.RefreshReused++
			s.stats.RefreshRejected++
			s.revokeLocked(old.account)
			s.failLocked(w, orDefault(s.p.ErrRefresh, "invalid_grant", "refresh token reused: grant revoked"))
			return
		}
		if g0 := s.refresh[rt]; g0 != nil && s.p.Scopes != "" && (s.p.RefreshScopes || one(f, "scope") != "") && one(f, "scope") != strings.Join(g0.scopes, " ") {
			s.stats.RefreshRejected++
			s.failLocked(w, ErrorResponse{Error: "invalid_scope", Description: s.violation("token: refresh scope %q", one(f, "scope"))})
			return
		}
		g = s.refresh[rt]
		if g == nil && inGrace {
			g = r.g // within the reuse interval a rotated token still works
		}
		if g != nil && one(f, "resource") != "" && g.resource != "" && one(f, "resource") != g.resource {
			s.stats.RefreshRejected++
			s.failLocked(w, ErrorResponse{Error: "invalid_target", Description: "resource differs from the grant (RFC 8707)"})
			return
		}
		if g == nil || s.tokenErr != nil {
			s.stats.RefreshRejected++
			if s.tokenErr != nil {
				s.failLocked(w, *s.tokenErr)
			} else {
				s.failLocked(w, orDefault(s.p.ErrRefresh, "invalid_grant", "unknown or revoked refresh token"))
			}
			return
		}
		delete(s.refresh, rt) // rotation: every refresh token works once (again within ReuseGrace)
		s.spent[rt] = g
		if _, again := s.rotated[rt]; s.p.ReuseGrace > 0 && !again {
			s.rotated[rt] = rotation{g: g, at: s.o.Now()}
		}
		s.stats.RefreshGrants++
	default:
		s.failLocked(w, ErrorResponse{Error: "unsupported_grant_type",
			Description: s.violation("token: grant_type %q", one(f, "grant_type"))})
		return
	}
	ng := &grant{scopes: g.scopes, account: g.account, nonce: g.nonce, resource: g.resource}
	access, refresh := s.issueLocked(ng)
	ttl := int(s.ttl / time.Second)
	scope := s.p.GrantedScope
	if scope == "" {
		scope = strings.Join(g.scopes, " ")
	}
	resp := map[string]any{"token_type": "Bearer", "scope": scope, "expires_in": ttl, "access_token": access}
	if s.p.SessionState {
		resp["ext_expires_in"] = ttl
	}
	refreshOK := !s.p.OfflineAccess || slices.Contains(g.scopes, "offline_access")
	if s.p.RefreshOK != nil {
		refreshOK = s.p.RefreshOK(g.scopes)
	}
	if !refreshOK {
		delete(s.refresh, refresh)
	} else {
		resp["refresh_token"] = refresh
	}
	if slices.Contains(g.scopes, "openid") {
		resp["id_token"] = s.idTokenLocked(ng)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(resp)
}

// issueLocked mints and records an access and a refresh token for g.
func (s *Server) issueLocked(g *grant) (access, refresh string) {
	g.expires = s.o.Now().Add(s.ttl)
	access = randomToken("at-")
	if s.mint != nil {
		access = s.mint(g.account)
	}
	refresh = randomToken("rt-")
	if s.p.RefreshToken != nil {
		refresh = s.p.RefreshToken()
	}
	s.access[access] = g
	s.refresh[refresh] = g
	return access, refresh
}

func (s *Server) issuer(a Account) string {
	if s.p.Issuer == nil {
		return s.authority
	}
	return s.p.Issuer(s.authority, a)
}

func (s *Server) idTokenLocked(g *grant) string {
	a := g.account
	now := s.o.Now()
	sub := sha256.Sum256([]byte(strings.ToLower(a.PreferredUsername)))
	claims := map[string]any{
		"aud": s.p.ClientID, "iss": s.issuer(a),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"sub": base64.RawURLEncoding.EncodeToString(sub[:16]), "name": a.Name, "preferred_username": a.PreferredUsername,
	}
	if a.Email != "" {
		claims["email"] = a.Email
	}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	if s.p.Claims != nil {
		for k, v := range s.p.Claims(a) {
			claims[k] = v
		}
	}
	if s.claims != nil {
		s.claims(claims)
	}
	if s.signer != nil {
		return s.signer(claims)
	}
	return s.sign(claims)
}

// sign makes an RS256 JWT with the published key.
func (s *Server) sign(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256", "kid": s.kid})
	c, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	pub := s.key.PublicKey
	keys := []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": s.kid,
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}
	s.mu.Lock()
	keys = append(keys, s.extraJWKs...)
	to := s.jwksTo
	s.mu.Unlock()
	if to != "" {
		http.Redirect(w, r, to, http.StatusFound)
		return
	}
	writeJSON(w, map[string]any{"keys": keys})
}

func (s *Server) config(w http.ResponseWriter, r *http.Request) {
	base := s.authority
	path := func(p string) string { return base + strings.ReplaceAll(p, "{tenant}", r.PathValue("tenant")) }
	scopes := []string{"openid", "profile", "email", "offline_access"}
	writeJSON(w, map[string]any{
		"issuer":                                         s.issuer(Account{}),
		"authorization_endpoint":                         path(s.p.AuthorizePath),
		"token_endpoint":                                 path(s.p.TokenPath),
		"jwks_uri":                                       path(s.p.JWKSPath),
		"response_types_supported":                       []string{"code"},
		"subject_types_supported":                        []string{"pairwise"},
		"id_token_signing_alg_values_supported":          []string{"RS256"},
		"code_challenge_methods_supported":               []string{"S256"},
		"scopes_supported":                               scopes,
		"authorization_response_iss_parameter_supported": s.p.IssInRedirect,
	})
}

func pkceOK(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

// adminConsent is Microsoft's v2.0 adminconsent endpoint: the signed-in
// administrator approves the app for their tenant, and the browser goes
// back with admin_consent=True&tenant=…&scope=…&state=…. It checks the
// client id, the redirect URI, that the scopes cover the mail scopes, and
// the state.
func (s *Server) adminConsent(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect := one(q, "redirect_uri")
	redirectOK := s.p.RedirectOK
	if redirectOK == nil {
		redirectOK = LoopbackRedirect
	}
	if one(q, "client_id") != s.p.ClientID || !redirectOK(redirect) {
		msg := s.violation("adminconsent: unknown client_id %q or redirect_uri %q", one(q, "client_id"), redirect)
		http.Error(w, msg, http.StatusBadRequest)
		return
	}
	u, _ := url.Parse(redirect)
	back := func(v url.Values) {
		v.Set("state", one(q, "state"))
		u.RawQuery = v.Encode()
		s.continueTo(w, r, u.String())
	}
	scopes := strings.Fields(one(q, "scope"))
	for _, want := range strings.Fields(s.p.Scopes) {
		if !slices.Contains(scopes, want) {
			back(url.Values{"error": {"invalid_request"}, "error_description": {s.violation("adminconsent: scope %q lacks %s", one(q, "scope"), want)}})
			return
		}
	}
	if one(q, "state") == "" {
		back(url.Values{"error": {"invalid_request"}, "error_description": {s.violation("adminconsent: no state")}})
		return
	}
	s.mu.Lock()
	tenant := strings.ToLower(s.account.TenantID) // the administrator's own directory
	switch t := strings.ToLower(r.PathValue("tenant")); {
	case regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(t):
		tenant = t
	case strings.Contains(t, ".") && s.p.AccountFromHint != nil:
		// A verified domain names its tenant.
		if a, ok := s.p.AccountFromHint("admin@" + t); ok && a.TenantID != "" {
			tenant = strings.ToLower(a.TenantID)
		}
	}
	delete(s.needConsent, tenant)
	s.stats.AdminConsents++
	s.mu.Unlock()
	back(url.Values{"admin_consent": {"True"}, "tenant": {tenant}, "scope": {strings.Join(scopes, " ")}})
}

func (s *Server) revokeLocked(a Account) {
	for k, v := range s.access {
		if v.account == a {
			delete(s.access, k)
		}
	}
	for k, v := range s.refresh {
		if v.account == a {
			delete(s.refresh, k)
		}
	}
	for k, v := range s.rotated {
		if v.g.account == a {
			delete(s.rotated, k)
		}
	}
}

func (s *Server) tenantError() ErrorResponse {
	return orDefault(s.p.ErrTenant, "invalid_request", "tenant not found")
}

func orDefault(e ErrorResponse, code, desc string) ErrorResponse {
	if e.Error == "" {
		return ErrorResponse{Error: code, Description: desc}
	}
	return e
}

// reject answers a request a correct client never sends.
func (s *Server) reject(w http.ResponseWriter, status int, format string, a ...any) {
	code := "invalid_request"
	if status == http.StatusUnauthorized {
		code = "invalid_client"
	}
	s.fail(w, status, ErrorResponse{Error: code, Description: s.violation(format, a...)})
}

func (s *Server) fail(w http.ResponseWriter, status int, e ErrorResponse) {
	s.mu.Lock()
	s.stats.Failures++
	s.mu.Unlock()
	s.writeError(w, status, e)
}

func (s *Server) failLocked(w http.ResponseWriter, e ErrorResponse) {
	s.stats.Failures++
	s.writeError(w, http.StatusBadRequest, e)
}

func (s *Server) writeError(w http.ResponseWriter, status int, e ErrorResponse) {
	body := map[string]any{"error": e.Error, "error_description": e.Description}
	if e.Codes != nil {
		body["error_codes"] = e.Codes
	}
	if s.p.ErrorExtras != nil {
		for k, v := range s.p.ErrorExtras() {
			body[k] = v
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func randomToken(prefix string) string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}
