package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"infino.legal/mailbox/internal/oidcpeer"
	"infino.legal/mailbox/internal/sandbox"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/world"
)

// opWorld is the hand-off in front of a real, certified OpenID provider
// (testdata/oidcpeer: oidc-provider) as Infino's authorization server: the
// issuer is the Infino URL, the API under it is the sandbox Infino's
// contract handlers, taking only the provider's JWT access tokens (checked
// against its jwks_uri, audience = the resource). Mail verification runs on
// the sandbox's in-process IMAP and SMTP servers.
type opWorld struct {
	t     *testing.T
	op    *oidcpeer.Peer
	sb    *sandbox.Sandbox
	inf   *sandbox.Infino
	dir   string
	store *secrets.Memory
	// clientID is the client the policy names (default the app's).
	clientID string
	check    sandbox.TokenCheck

	mu        sync.Mutex
	requests  []string // "METHOD URL STATUS" of the app's HTTP requests to the provider's origin
	authURLs  []string // authorization URLs the app opened
	callbacks []string // redirects the browser followed to the app's loopback listener
	claims    []oidcpeer.AccessClaims
	// forgeIss, when set, makes the browser rewrite the iss of the
	// authorization response (a mix-up attacker on the way back).
	forgeIss string
}

func newOPWorld(t *testing.T) *opWorld {
	t.Helper()
	op := oidcpeer.Require(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sb, err := sandbox.Start(ctx, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	inf, err := sb.StartInfinoAt(ctx, op.Path, sandbox.AuthProfile{})
	if err != nil {
		t.Fatal(err)
	}
	w := &opWorld{t: t, op: op, sb: sb, inf: inf, dir: t.TempDir(), store: secrets.NewMemory(), clientID: op.ClientID}
	w.check = op.AccessTokenChecker(ctx, func(c oidcpeer.AccessClaims) {
		w.mu.Lock()
		w.claims = append(w.claims, c)
		w.mu.Unlock()
	})
	return w
}

// serveAPI starts the Infino API stand-in behind the provider; until then
// the provider answers 502 there.
func (w *opWorld) serveAPI() { w.op.ServeAPI(w.t, w.inf.API(w.check)) }

// recorder logs the app's requests.
type recorder struct {
	w    *opWorld
	next http.RoundTripper
}

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := r.next.RoundTrip(req)
	line := req.Method + " " + req.URL.Path
	if err != nil {
		line += " error"
	} else {
		line += fmt.Sprintf(" %d", res.StatusCode)
	}
	r.w.mu.Lock()
	r.w.requests = append(r.w.requests, line)
	r.w.mu.Unlock()
	return res, err
}

// open is the headless browser: it loads the authorization URL with a
// cookie jar and follows the provider's redirects (its automatic login and
// consent) down to the app's loopback listener. browser false makes any
// sign-in through the browser a test failure.
func (w *opWorld) opener(browser bool) func(ctx context.Context, u string) error {
	return func(ctx context.Context, u string) error {
		w.mu.Lock()
		w.authURLs = append(w.authURLs, u)
		w.mu.Unlock()
		if !browser {
			w.t.Errorf("the browser was opened: %s", u)
			return fmt.Errorf("no browser here")
		}
		hc := w.op.BrowserClient()
		hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if req.URL.Scheme == "http" && req.URL.Hostname() == "127.0.0.1" {
				w.mu.Lock()
				w.callbacks = append(w.callbacks, req.URL.String())
				forged := w.forgeIss
				w.mu.Unlock()
				if forged != "" {
					q := req.URL.Query()
					q.Set("iss", forged)
					req.URL.RawQuery = q.Encode()
				}
			}
			if len(via) > 20 {
				return fmt.Errorf("too many redirects")
			}
			return nil
		}
		go func() {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err != nil {
				return
			}
			res, err := hc.Do(req)
			if err != nil {
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}()
		return nil
	}
}

func (w *opWorld) run(browser bool, stdin string, args ...string) (int, string, string) {
	w.t.Helper()
	pol := policy.Default()
	if err := pol.Set("test", map[string]any{"infinoUrl": w.op.Issuer, "infino.clientId": w.clientID}); err != nil {
		w.t.Fatal(err)
	}
	hc := w.op.HTTPClient()
	hc.Transport = recorder{w: w, next: hc.Transport}
	wo := &world.World{
		Policy: pol, Lang: "en", ConfigDir: w.dir, Store: w.store, HTTP: hc,
		Opener: w.opener(browser), RootCAs: w.sb.RootCAs, Table: w.sb.Table(),
		Infino: infino.ClientOptions{
			Sleep:  func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
			Jitter: func(time.Duration) time.Duration { return 0 },
		},
	}
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Lang: "en", World: wo,
		Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := Main(ctx, env, args)
	return code, out.String(), errb.String()
}

func (w *opWorld) refreshToken() string {
	v, err := w.store.Get(context.Background(), infino.TokenKey(w.op.Issuer))
	if err != nil {
		return ""
	}
	var st struct {
		RefreshToken string `json:"refreshToken"`
	}
	json.Unmarshal([]byte(v), &st)
	return st.RefreshToken
}

func (w *opWorld) takeRequests() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.requests
	w.requests = nil
	return r
}

// TestHandOffCertifiedOpenIDProvider signs in to Infino behind a real
// OpenID provider and hands a mailbox over, then another without the
// browser: the refresh token it needs comes only with offline_access and
// prompt=consent; the API takes only access tokens for its resource; the
// metadata is only at the OpenID location; every answer carries iss.
func TestHandOffCertifiedOpenIDProvider(t *testing.T) {
	w := newOPWorld(t)
	w.serveAPI()
	op := w.op

	code, out, errOut := w.run(true, "", "signin", "infino")
	if code != ExitOK || !strings.Contains(out, "Signed in to Infino") {
		t.Fatalf("signin infino: exit %d\n%s\n%s", code, out, errOut)
	}
	// Metadata: the RFC 8414 location with the issuer's path after the
	// well-known suffix first (oidc-provider has none), then OpenID's.
	reqs := w.takeRequests()
	want := []string{
		"GET /.well-known/oauth-authorization-server" + op.Path + " 404",
		"GET " + op.Path + "/.well-known/openid-configuration 200",
		"POST " + op.Path + "/token 200",
	}
	if !slices.Equal(reqs, want) {
		t.Errorf("requests of the sign-in:\n%s\nwant\n%s", strings.Join(reqs, "\n"), strings.Join(want, "\n"))
	}
	// The authorization request: offline_access with prompt=consent, the
	// resource, PKCE S256.
	if len(w.authURLs) != 1 {
		t.Fatalf("authorization URLs %q", w.authURLs)
	}
	au, _ := url.Parse(w.authURLs[0])
	q := au.Query()
	if sc := strings.Fields(q.Get("scope")); !slices.Contains(sc, infino.Scope) || !slices.Contains(sc, "offline_access") ||
		q.Get("prompt") != "consent" || q.Get("resource") != op.Resource() ||
		q.Get("code_challenge_method") != "S256" || q.Get("client_id") != op.ClientID {
		t.Errorf("authorization request %s", au.RawQuery)
	}
	// The provider's answer carried iss (RFC 9207), and it was the issuer.
	if len(w.callbacks) != 1 {
		t.Fatalf("callbacks %q", w.callbacks)
	}
	cb, _ := url.Parse(w.callbacks[0])
	if cb.Query().Get("iss") != op.Issuer || cb.Query().Get("code") == "" {
		t.Errorf("authorization response %s", cb.RawQuery)
	}
	rt1 := w.refreshToken()
	if rt1 == "" {
		t.Fatal("no refresh token kept after the sign-in")
	}

	// A submit in a later run: no browser; the stored refresh token is
	// redeemed (for the resource) and rotated; the API sees a JWT for its
	// audience with mailboxes:write; the mailbox arrives once.
	f := newHandOffWorldFile(t, w.sb)
	code, out, errOut = w.run(false, sandbox.DemoPassword+"\n", "submit", "--json", "--password-stdin", f)
	if code != ExitOK {
		t.Fatalf("submit: exit %d\n%s\n%s", code, out, errOut)
	}
	var j submitJSON
	if err := json.Unmarshal([]byte(out), &j); err != nil || j.State != infino.StateSent || j.ID == "" {
		t.Fatalf("submit: %s %v", out, err)
	}
	reqs = w.takeRequests()
	want = []string{
		"GET /.well-known/oauth-authorization-server" + op.Path + " 404",
		"GET " + op.Path + "/.well-known/openid-configuration 200",
		"POST " + op.Path + "/token 200",
		"POST " + op.Path + "/api/v1/mailboxes 201",
	}
	if !slices.Equal(reqs, want) {
		t.Errorf("requests of the submit:\n%s\nwant\n%s", strings.Join(reqs, "\n"), strings.Join(want, "\n"))
	}
	rt2 := w.refreshToken()
	if rt2 == "" || rt2 == rt1 {
		t.Errorf("refresh token not rotated and kept (changed: %v, empty: %v)", rt2 != rt1, rt2 == "")
	}
	if n := w.inf.Count(); n != 1 {
		t.Fatalf("Infino holds %d mailboxes, want 1", n)
	}
	if mb := w.inf.Mailboxes()[0]; mb.Email != sandbox.DemoEmail || mb.Password != sandbox.DemoPassword || mb.ID != j.ID {
		t.Errorf("Infino holds %+v", mb)
	}
	w.mu.Lock()
	claims := slices.Clone(w.claims)
	w.mu.Unlock()
	if len(claims) != 1 {
		t.Fatalf("access tokens the API accepted: %d", len(claims))
	}
	if c := claims[0]; !slices.Equal([]string(c.Audience), []string{op.Resource()}) || c.Issuer != op.Issuer ||
		c.Subject != op.User || !slices.Contains(strings.Fields(c.Scope), infino.Scope) {
		t.Errorf("access token claims %+v", c)
	}
	if code, out, _ := w.run(false, "", "outbox", "list"); code != ExitOK || !strings.Contains(out, "The outbox is empty.") {
		t.Errorf("outbox list: %d %s", code, out)
	}

	// The same mailbox again: Infino answers 409 naming it; nothing is added.
	code, out, errOut = w.run(false, sandbox.DemoPassword+"\n", "submit", "--json", "--password-stdin", f)
	var j2 submitJSON
	if json.Unmarshal([]byte(out), &j2); code != ExitOK || j2.State != infino.StateExists || w.inf.Count() != 1 {
		t.Errorf("second submit of the same mailbox: exit %d, mailboxes %d\n%s\n%s", code, w.inf.Count(), out, errOut)
	}
	// Mailboxes list works with the provider's token too.
	if code, out, errOut := w.run(false, "", "mailboxes", "list", "--json"); code != ExitOK || !strings.Contains(out, sandbox.DemoEmail) {
		t.Errorf("mailboxes list: %d\n%s\n%s", code, out, errOut)
	}
	if w.refreshToken() == rt2 {
		t.Error("the later runs did not rotate the refresh token")
	}
	scanForSecrets(t, w.dir, rt1, rt2, w.refreshToken(), sandbox.DemoPassword)
}

// TestSigninCertifiedOpenIDProviderForgedIss: an authorization response
// whose iss is not the provider's (a mix-up) is refused and nothing kept,
// though the provider would have redeemed the code.
func TestSigninCertifiedOpenIDProviderForgedIss(t *testing.T) {
	w := newOPWorld(t)
	w.forgeIss = "https://attacker.example/realms/infino"
	code, out, errOut := w.run(true, "", "signin", "infino")
	if code == ExitOK || !strings.Contains(errOut, "did not come from the Infino server the app asked (RFC 9207)") ||
		strings.Contains(errOut, "outbox") {
		t.Fatalf("forged iss: exit %d\n%s\n%s", code, out, errOut)
	}
	if w.refreshToken() != "" {
		t.Error("a refresh token was kept")
	}
	for _, r := range w.takeRequests() {
		if strings.Contains(r, "/token") {
			t.Errorf("the code was redeemed: %s", r)
		}
	}
}

// newHandOffWorldFile writes the sandbox's demo settings for submit.
func newHandOffWorldFile(t *testing.T, sb *sandbox.Sandbox) string {
	return (&handOffWorld{t: t}).settingsFile(sb.DemoSettings())
}

// TestSigninCertifiedOpenIDProviderNoRefreshToken: a client the provider
// does not let use refresh tokens signs in (offline_access is dropped, no
// refresh token comes): a clear error, exit non-zero, nothing kept.
func TestSigninCertifiedOpenIDProviderNoRefreshToken(t *testing.T) {
	w := newOPWorld(t)
	w.clientID = w.op.ClientID + "-no-refresh"
	code, out, errOut := w.run(true, "", "signin", "infino")
	if code == ExitOK || !strings.Contains(errOut, "issued the app no refresh token") {
		t.Fatalf("no refresh token: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("no refresh token: %s", errOut)
	if w.refreshToken() != "" || len(w.store.Keys()) != 0 {
		t.Errorf("kept %q", w.store.Keys())
	}
}

// TestSigninCertifiedOpenIDProviderNarrowerGrant: the provider grants the
// API only mailboxes:read: the sign-in says so instead of a later 403.
func TestSigninCertifiedOpenIDProviderNarrowerGrant(t *testing.T) {
	w := newOPWorld(t)
	w.clientID = w.op.ClientID + "-read-only"
	code, out, errOut := w.run(true, "", "signin", "infino")
	if code == ExitOK || !strings.Contains(errOut, "mailboxes:write") {
		t.Fatalf("narrower grant: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("narrower grant: %s", errOut)
	if w.refreshToken() != "" {
		t.Error("a sign-in that cannot add mailboxes was kept")
	}
}

// TestSubmitCertifiedOpenIDProviderAPIDown: signed in at the provider, but
// Infino's API does not answer (the provider's proxy says 502): the
// submission waits in the outbox, and a later flush, without the browser,
// delivers it once.
func TestSubmitCertifiedOpenIDProviderAPIDown(t *testing.T) {
	w := newOPWorld(t)
	if code, out, errOut := w.run(true, "", "signin", "infino"); code != ExitOK {
		t.Fatalf("signin: %d\n%s\n%s", code, out, errOut)
	}
	f := newHandOffWorldFile(t, w.sb)
	code, out, errOut := w.run(false, sandbox.DemoPassword+"\n", "submit", "--json", "--password-stdin", f)
	var j submitJSON
	if json.Unmarshal([]byte(out), &j); j.State != infino.StateQueued {
		t.Fatalf("submit with the API down: exit %d\n%s\n%s", code, out, errOut)
	}
	w.serveAPI()
	if code, out, errOut := w.run(false, "", "outbox", "flush"); code != ExitOK {
		t.Fatalf("flush: %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := w.run(false, "", "outbox", "flush"); code != ExitOK {
		t.Fatalf("second flush: %d\n%s\n%s", code, out, errOut)
	}
	posts := 0
	for _, r := range w.inf.Requests() {
		if r.Method == http.MethodPost && r.Status == http.StatusCreated {
			posts++
		}
	}
	if w.inf.Count() != 1 || posts != 1 {
		t.Errorf("Infino holds %d mailboxes after %d creations, want 1 and 1", w.inf.Count(), posts)
	}
	if code, out, _ := w.run(false, "", "outbox", "list"); code != ExitOK || !strings.Contains(out, "The outbox is empty.") {
		t.Errorf("outbox list: %d %s", code, out)
	}
	scanForSecrets(t, w.dir, append(storedSecrets(t, w.store), w.refreshToken(), sandbox.DemoPassword)...)
}

// TestCertifiedOpenIDProviderLostRotation: oidc-provider has no refresh
// token reuse interval: a rotated refresh token presented again is refused
// and the whole grant revoked. A run that lost the rotated token (killed
// before the keyring kept it) therefore loses the sign-in: the waiting entry
// needs the browser again, and is then delivered once.
func TestCertifiedOpenIDProviderLostRotation(t *testing.T) {
	w := newOPWorld(t)
	w.serveAPI()
	ctx := context.Background()
	key := infino.TokenKey(w.op.Issuer)
	if code, out, errOut := w.run(true, "", "signin", "infino"); code != ExitOK {
		t.Fatalf("signin: %d\n%s\n%s", code, out, errOut)
	}
	old, _ := w.store.Get(ctx, key)
	oldRT := w.refreshToken()
	// Infino is busy: the submission waits, after a refresh that rotated
	// the refresh token.
	w.inf.FailNext(100, http.StatusServiceUnavailable, "")
	f := newHandOffWorldFile(t, w.sb)
	code, out, errOut := w.run(false, sandbox.DemoPassword+"\n", "submit", "--json", "--password-stdin", f)
	var j submitJSON
	if json.Unmarshal([]byte(out), &j); j.State != infino.StateQueued {
		t.Fatalf("submit while Infino is busy: exit %d\n%s\n%s", code, out, errOut)
	}
	w.inf.ClearFaults()
	rotatedRT := w.refreshToken()
	if rotatedRT == oldRT {
		t.Fatal("the refresh token was not rotated")
	}
	// The keyring still holds the token the provider has rotated away.
	w.store.Set(ctx, key, old)
	w.mu.Lock()
	opened := len(w.authURLs)
	w.mu.Unlock()
	if code, out, errOut := w.run(true, "", "outbox", "flush"); code != ExitOK {
		t.Fatalf("flush: %d\n%s\n%s", code, out, errOut)
	}
	w.mu.Lock()
	opened = len(w.authURLs) - opened
	w.mu.Unlock()
	if opened != 1 {
		t.Errorf("the flush opened the browser %d times, want 1 (the refused refresh token ends the sign-in)", opened)
	}
	// The reuse revoked the grant: the rotated token is dead too.
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rotatedRT}, "client_id": {w.op.ClientID}}
	res, err := w.op.HTTPClient().PostForm(w.op.Issuer+"/token", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "invalid_grant") {
		t.Errorf("the rotated refresh token after the reuse: %d %s", res.StatusCode, body)
	}
	posts := 0
	for _, r := range w.inf.Requests() {
		if r.Method == http.MethodPost && r.Status == http.StatusCreated {
			posts++
		}
	}
	if w.inf.Count() != 1 || posts != 1 {
		t.Errorf("Infino holds %d mailboxes after %d creations, want 1 and 1", w.inf.Count(), posts)
	}
	if code, out, _ := w.run(false, "", "outbox", "list"); code != ExitOK || !strings.Contains(out, "The outbox is empty.") {
		t.Errorf("outbox list: %d %s", code, out)
	}
}
