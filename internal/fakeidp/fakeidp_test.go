package fakeidp_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"infino.legal/mailbox/internal/fakeidp"
)

const (
	verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	redirect = "http://localhost:50123/"
)

var challenge = func() string {
	s := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(s[:])
}()

var anna = fakeidp.Account{PreferredUsername: "anna@kancelaria.example", Email: "anna@kancelaria.example", Name: "Anna", TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47"}

type world struct {
	t          *testing.T
	idp        *fakeidp.Server
	srv        *httptest.Server
	violations []string
}

func start(t *testing.T, edit func(*fakeidp.Profile)) *world {
	w := &world{t: t}
	mux := http.NewServeMux()
	w.srv = httptest.NewTLSServer(mux)
	t.Cleanup(w.srv.Close)
	p := fakeidp.MicrosoftProfile("client-1", func(tenant string) bool { return tenant == "common" })
	if edit != nil {
		edit(&p)
	}
	var err error
	w.idp, err = fakeidp.New(p, w.srv.URL, fakeidp.Options{Account: anna, Violation: func(m string) { w.violations = append(w.violations, m) }})
	if err != nil {
		t.Fatal(err)
	}
	w.idp.Mount(mux, "")
	return w
}

func (w *world) authorizeURL(change func(url.Values)) string {
	q := url.Values{"client_id": {"client-1"}, "response_type": {"code"}, "redirect_uri": {redirect},
		"scope": {fakeidp.MicrosoftScopes}, "prompt": {"select_account"}, "state": {strings.Repeat("s", 32)},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "nonce": {"n-1"}}
	if change != nil {
		change(q)
	}
	return w.srv.URL + "/common/oauth2/v2.0/authorize?" + q.Encode()
}

// authorize returns the redirect's query (the browser stops at the app).
func (w *world) authorize(change func(url.Values)) url.Values {
	w.t.Helper()
	c := w.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.Get(w.authorizeURL(change))
	if err != nil {
		w.t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), redirect) {
		w.t.Fatalf("authorize: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	return loc.Query()
}

func (w *world) token(form url.Values) (int, map[string]any) {
	w.t.Helper()
	res, err := w.srv.Client().PostForm(w.srv.URL+"/common/oauth2/v2.0/token", form)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

func redeem(code string) url.Values {
	return url.Values{"client_id": {"client-1"}, "grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {redirect}, "code_verifier": {verifier}}
}

func TestCodeFlowIDTokenVerifiesWithJWKS(t *testing.T) {
	w := start(t, nil)
	q := w.authorize(nil)
	if q.Get("iss") != "" || q.Get("state") != strings.Repeat("s", 32) {
		t.Fatalf("redirect %v", q)
	}
	st, tok := w.token(redeem(q.Get("code")))
	if st != 200 || tok["access_token"] == nil || tok["refresh_token"] == nil {
		t.Fatalf("token: %d %v", st, tok)
	}
	if a, ok := w.idp.ValidAccessToken(tok["access_token"].(string)); !ok || a != anna {
		t.Fatalf("access token not valid for anna: %v %v", a, ok)
	}

	// The configuration names the JWKS; its key verifies the ID token.
	res, err := w.srv.Client().Get(w.srv.URL + "/common/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		JWKS string `json:"jwks_uri"`
	}
	json.NewDecoder(res.Body).Decode(&cfg)
	res.Body.Close()
	res, err = w.srv.Client().Get(cfg.JWKS)
	if err != nil {
		t.Fatal(err)
	}
	var set struct{ Keys []struct{ Kid, N, E string } }
	json.NewDecoder(res.Body).Decode(&set)
	res.Body.Close()
	if len(set.Keys) != 1 {
		t.Fatalf("jwks %+v", set)
	}
	n, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].N)
	e, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].E)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	parts := strings.Split(tok["id_token"].(string), ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("ID token signature: %v", err)
	}
	var claims map[string]any
	body, _ := base64.RawURLEncoding.DecodeString(parts[1])
	json.Unmarshal(body, &claims)
	if claims["iss"] != w.srv.URL+"/"+anna.TenantID+"/v2.0" || claims["tid"] != anna.TenantID || claims["nonce"] != "n-1" || claims["aud"] != "client-1" {
		t.Fatalf("claims %v", claims)
	}
	if len(w.violations) != 0 {
		t.Fatalf("violations %v", w.violations)
	}
}

func TestCodesAreSingleUseAndRefreshTokensRotate(t *testing.T) {
	w := start(t, nil)
	code := w.authorize(nil).Get("code")
	_, tok := w.token(redeem(code))
	rt := tok["refresh_token"].(string)
	refresh := url.Values{"client_id": {"client-1"}, "grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {fakeidp.MicrosoftScopes}}
	st, tok2 := w.token(refresh)
	if st != 200 || tok2["refresh_token"] == rt || w.idp.ValidRefreshToken(rt) {
		t.Fatalf("refresh did not rotate: %d %v", st, tok2)
	}
	if st, m := w.token(refresh); st != 400 || !strings.HasPrefix(m["error_description"].(string), "AADSTS70008") {
		t.Fatalf("spent refresh token: %d %v", st, m)
	}
	// A replayed code fails and revokes what the first redemption gave.
	if st, m := w.token(redeem(code)); st != 400 || !strings.HasPrefix(m["error_description"].(string), "AADSTS54005") {
		t.Fatalf("replayed code: %d %v", st, m)
	}
	if w.idp.ValidRefreshToken(tok2["refresh_token"].(string)) {
		t.Fatal("a replayed code left the tokens valid")
	}
}

func TestPKCEAndInjectedErrors(t *testing.T) {
	w := start(t, nil)
	f := redeem(w.authorize(nil).Get("code"))
	f.Set("code_verifier", strings.Repeat("x", 43))
	if st, m := w.token(f); st != 400 || !strings.HasPrefix(m["error_description"].(string), "AADSTS501481") {
		t.Fatalf("wrong verifier: %d %v", st, m)
	}
	w.idp.SetAuthorizeError(&fakeidp.ErrorResponse{Error: "access_denied", Description: "AADSTS65004: declined"})
	if q := w.authorize(nil); q.Get("error") != "access_denied" || q.Get("code") != "" {
		t.Fatalf("authorize error: %v", q)
	}
	w.idp.SetAuthorizeError(nil)
	w.idp.SetTokenError(&fakeidp.ErrorResponse{Error: "invalid_grant", Description: "AADSTS50076: MFA", Codes: []int{50076}})
	if st, m := w.token(redeem(w.authorize(nil).Get("code"))); st != 400 || m["error_codes"] == nil {
		t.Fatalf("token error: %d %v", st, m)
	}
	if len(w.violations) != 0 {
		t.Fatalf("violations %v", w.violations)
	}
}

func TestViolationsAreReported(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(url.Values)
	}{
		{"plain PKCE", func(q url.Values) { q.Set("code_challenge_method", "plain") }},
		{"short state", func(q url.Values) { q.Set("state", "abc") }},
		{"scopes out of order", func(q url.Values) { q.Set("scope", "openid "+fakeidp.MicrosoftScopes) }},
		{"no prompt", func(q url.Values) { q.Del("prompt") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := start(t, nil)
			if q := w.authorize(c.change); q.Get("error") == "" || q.Get("code") != "" {
				t.Fatalf("accepted: %v", q)
			}
			if len(w.violations) != 1 {
				t.Fatalf("violations %v", w.violations)
			}
		})
	}
	// An unregistered redirect URI is never redirected to.
	w := start(t, nil)
	res, err := w.srv.Client().Get(w.authorizeURL(func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:50123/") }))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || len(w.violations) != 1 {
		t.Fatalf("bad redirect_uri: %d %v", res.StatusCode, w.violations)
	}
}

func TestIssInRedirect(t *testing.T) {
	w := start(t, func(p *fakeidp.Profile) { p.IssInRedirect = true })
	if q := w.authorize(nil); q.Get("iss") != w.srv.URL+"/{tenantid}/v2.0" {
		t.Fatalf("iss %q", q.Get("iss"))
	}
}

// ReuseGrace: a rotated refresh token still works within the interval (a
// client killed before it stored the new one); after it, presenting it is a
// reuse that revokes the grant. GrantScopes and RefreshOK decide per
// request; the resource of the authorization binds the grant (RFC 8707).
func TestReuseGraceGrantScopesAndResource(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	refreshOK := true
	w := &world{t: t}
	mux := http.NewServeMux()
	w.srv = httptest.NewTLSServer(mux)
	t.Cleanup(w.srv.Close)
	p := fakeidp.MicrosoftProfile("client-1", func(tenant string) bool { return tenant == "common" })
	p.ReuseGrace = time.Minute
	p.RefreshOK = func([]string) bool { return refreshOK }
	p.GrantScopes = func(q url.Values, sc []string) []string {
		if q.Get("resource") != "https://api.example" {
			return sc[:1]
		}
		return sc
	}
	var err error
	w.idp, err = fakeidp.New(p, w.srv.URL, fakeidp.Options{Account: anna, Now: func() time.Time { return time.Unix(0, now.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	w.idp.Mount(mux, "")
	code := w.authorize(func(q url.Values) { q.Set("resource", "https://api.example") }).Get("code")
	_, tok := w.token(redeem(code))
	last := strings.Fields(fakeidp.MicrosoftScopes)[len(strings.Fields(fakeidp.MicrosoftScopes))-1]
	if !w.idp.HasScope(tok["access_token"].(string), last) {
		t.Fatalf("with the resource, %s not granted", last)
	}
	rt := tok["refresh_token"].(string)
	refresh := url.Values{"client_id": {"client-1"}, "grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {fakeidp.MicrosoftScopes}}
	if st, _ := w.token(refresh); st != 200 {
		t.Fatal("first refresh", st)
	}
	if st, m := w.token(refresh); st != 200 {
		t.Fatalf("the rotated token within the interval: %d %v", st, m)
	}
	other := url.Values{"client_id": {"client-1"}, "grant_type": {"refresh_token"}, "refresh_token": {rt},
		"scope": {fakeidp.MicrosoftScopes}, "resource": {"https://other.example"}}
	if st, m := w.token(other); st != 400 || m["error"] != "invalid_target" {
		t.Fatalf("another resource: %d %v", st, m)
	}
	now.Add(int64(2 * time.Minute))
	if st, _ := w.token(refresh); st != 400 || w.idp.Stats().RefreshReused != 1 {
		t.Fatalf("after the interval: %d, %+v", st, w.idp.Stats())
	}
	// Without the resource, fewer scopes; RefreshOK false: no refresh token.
	refreshOK = false
	code = w.authorize(nil).Get("code")
	_, tok = w.token(redeem(code))
	if w.idp.HasScope(tok["access_token"].(string), last) || tok["refresh_token"] != nil {
		t.Fatalf("%v", tok)
	}
}
