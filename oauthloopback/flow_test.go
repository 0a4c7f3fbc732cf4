package oauthloopback

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/browser"
	"golang.org/x/oauth2"
)

// page is what the fake browser ended up showing.
type page struct {
	status int
	header http.Header
	body   string
	err    error
}

// fakeBrowser navigates like a browser: real HTTP, following redirects from
// the authorization server to the loopback listener.
type fakeBrowser struct {
	client *http.Client
	pages  chan page
}

func newFakeBrowser(as *testAS, follow bool) *fakeBrowser {
	tr := as.srv.Client().Transport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.DisableKeepAlives = true
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return &fakeBrowser{client: c, pages: make(chan page, 16)}
}

func (b *fakeBrowser) get(ctx context.Context, rawURL string) page {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return page{err: err}
	}
	return b.do(req)
}

func (b *fakeBrowser) do(req *http.Request) page {
	resp, err := b.client.Do(req)
	if err != nil {
		return page{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, header: resp.Header, body: string(body), err: err}
}

// open is an Opener that navigates and records the final page. Like a real
// browser, the navigation outlives the opener's context (which ends with the
// session).
func (b *fakeBrowser) open(ctx context.Context, u string) error {
	b.pages <- b.get(context.WithoutCancel(ctx), u)
	return nil
}

// location follows the authorize URL and returns the redirect target (the
// browser must have been created with follow=false).
func (b *fakeBrowser) location(t *testing.T, authURL string) string {
	t.Helper()
	p := b.get(context.Background(), authURL)
	if p.err != nil || p.status != http.StatusFound {
		t.Fatalf("authorize: status %d err %v body %q", p.status, p.err, p.body)
	}
	return p.header.Get("Location")
}

func (b *fakeBrowser) nextPage(t *testing.T) page {
	t.Helper()
	select {
	case p := <-b.pages:
		if p.err != nil {
			t.Fatalf("browser: %v", p.err)
		}
		return p
	case <-time.After(30 * time.Second):
		t.Fatal("browser showed no page")
	}
	return page{}
}

type waitResult struct {
	tok *oauth2.Token
	err error
}

func waitAsync(ctx context.Context, s *Session) <-chan waitResult {
	ch := make(chan waitResult, 1)
	go func() {
		tok, err := s.Wait(ctx)
		ch <- waitResult{tok, err}
	}()
	return ch
}

func result(t *testing.T, ch <-chan waitResult) waitResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("Wait did not return")
	}
	return waitResult{}
}

func start(t *testing.T, ctx context.Context, cfg Config) *Session {
	t.Helper()
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// stillWaiting asserts that no redirect has been accepted yet.
func stillWaiting(t *testing.T, s *Session, ch <-chan waitResult) {
	t.Helper()
	s.mu.Lock()
	accepted := s.accepted != nil
	s.mu.Unlock()
	if accepted {
		t.Fatal("a redirect was accepted")
	}
	select {
	case r := <-ch:
		t.Fatalf("Wait returned early: %v", r.err)
	case <-time.After(20 * time.Millisecond):
	}
}

func assertClosed(t *testing.T, s *Session) {
	t.Helper()
	for _, a := range s.Addrs() {
		c, err := net.DialTimeout("tcp", a.String(), time.Second)
		if err == nil {
			c.Close()
			t.Errorf("listener %s still accepts connections", a)
		}
	}
}

func ipv6Available() bool {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func assertPageHeaders(t *testing.T, p page) {
	t.Helper()
	want := map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"Cache-Control":          "no-store",
		"Referrer-Policy":        "no-referrer",
		"X-Content-Type-Options": "nosniff",
	}
	for k, v := range want {
		if got := p.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	csp := p.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "style-src 'unsafe-inline'") {
		t.Errorf("CSP = %q", csp)
	}
}

func TestHappyPath(t *testing.T) {
	as := newTestAS(t, HostLocalhost, "/")
	b := newFakeBrowser(as, true)
	cfg := as.config()
	cfg.Opener = b.open
	var gotURL string
	cfg.OnURL = func(u string) { gotURL = u }
	opened := make(chan error, 1)
	cfg.OnOpen = func(err error) { opened <- err }

	s := start(t, t.Context(), cfg)
	if gotURL != s.AuthURL {
		t.Errorf("OnURL got %q, AuthURL %q", gotURL, s.AuthURL)
	}
	if !strings.HasPrefix(s.RedirectURL, "http://localhost:") || !strings.HasSuffix(s.RedirectURL, "/") {
		t.Errorf("RedirectURL = %q", s.RedirectURL)
	}
	tok, err := s.Wait(t.Context())
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if !strings.HasPrefix(tok.AccessToken, "at-") || !strings.HasPrefix(tok.RefreshToken, "rt-") || tok.TokenType != "Bearer" {
		t.Errorf("token = %+v", tok)
	}
	if idt, _ := tok.Extra("id_token").(string); !strings.HasPrefix(idt, "eyJ") {
		t.Errorf("id_token = %q", idt)
	}
	if tok.Expiry.IsZero() {
		t.Error("no expiry")
	}
	p := b.nextPage(t)
	if p.status != http.StatusOK || !strings.Contains(p.body, "Zalogowano pomyślnie") || !strings.Contains(p.body, "You are signed in") ||
		!strings.Contains(p.body, "Możesz zamknąć tę kartę") {
		t.Errorf("page %d %q", p.status, p.body)
	}
	assertPageHeaders(t, p)
	if err := <-opened; err != nil {
		t.Errorf("OnOpen: %v", err)
	}
	if n := as.tokenRequests.Load(); n != 1 {
		t.Errorf("token requests = %d", n)
	}
	assertClosed(t, s)
	// Wait is idempotent.
	if tok2, err2 := s.Wait(t.Context()); tok2 != tok || err2 != nil {
		t.Error("second Wait differs")
	}
}

func TestIPv4LiteralAndPath(t *testing.T) {
	as := newTestAS(t, HostIPv4, "/oauth/callback")
	b := newFakeBrowser(as, false)
	cfg := as.config()
	s := start(t, t.Context(), cfg)
	if !strings.HasPrefix(s.RedirectURL, "http://127.0.0.1:") || !strings.HasSuffix(s.RedirectURL, "/oauth/callback") {
		t.Fatalf("RedirectURL = %q", s.RedirectURL)
	}
	ch := waitAsync(t.Context(), s)
	loc := b.location(t, s.AuthURL)
	u, _ := url.Parse(loc)
	// The right query on the wrong path is ignored.
	if p := b.get(t.Context(), "http://"+u.Host+"/?"+u.RawQuery); p.status != http.StatusNotFound {
		t.Errorf("wrong path: %d", p.status)
	}
	stillWaiting(t, s, ch)
	if p := b.get(t.Context(), loc); p.status != http.StatusOK || !strings.Contains(p.body, "You are signed in") {
		t.Errorf("page %d %q", p.status, p.body)
	}
	if r := result(t, ch); r.err != nil {
		t.Fatal(r.err)
	}
}

func TestIPv6Redirect(t *testing.T) {
	if !ipv6Available() {
		t.Skip("::1 unavailable")
	}
	as := newTestAS(t, HostIPv6, "/")
	b := newFakeBrowser(as, true)
	cfg := as.config()
	cfg.Opener = b.open
	s := start(t, t.Context(), cfg)
	if a := s.Addrs()[0].(*net.TCPAddr); !a.IP.Equal(net.IPv6loopback) {
		t.Errorf("primary listener %v", a)
	}
	if _, err := s.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestForgedStateIgnored(t *testing.T) {
	as := newTestAS(t, HostLocalhost, "/")
	b := newFakeBrowser(as, false)
	s := start(t, t.Context(), as.config())
	ch := waitAsync(t.Context(), s)

	loc := b.location(t, s.AuthURL)
	u, _ := url.Parse(loc)
	q := u.Query()
	realState, code := q.Get("state"), q.Get("code")
	base := "http://" + u.Host + "/?"
	// Change the last character to one it is not, so the forgery never
	// equals the real state by chance.
	last := "A"
	if strings.HasSuffix(realState, "A") {
		last = "B"
	}
	forged := []url.Values{
		{"code": {code}, "state": {realState[:len(realState)-1] + last}},
		{"code": {code}, "state": {"x"}},
		{"code": {code}},
		{"code": {code}, "state": {""}},
		{"code": {code}, "state": {realState, "forged"}},
		{"code": {code, "other"}, "state": {realState}},
		{"error": {"access_denied"}, "state": {"forged"}},
		{"error": {"access_denied"}},
		{"state": {realState}},                                             // neither code nor error
		{"code": {code}, "error": {"access_denied"}, "state": {realState}}, // both
	}
	for _, v := range forged {
		p := b.get(t.Context(), base+v.Encode())
		if p.err != nil || p.status != http.StatusBadRequest || !strings.Contains(p.body, "nieprawidłowy lub wygasł") {
			t.Errorf("%v: %d %v", v, p.status, p.err)
		}
		if strings.Contains(p.body, code) || strings.Contains(p.body, realState) {
			t.Errorf("%v: page echoes the request", v)
		}
	}
	stillWaiting(t, s, ch)
	if n := as.tokenRequests.Load(); n != 0 {
		t.Fatalf("token requests = %d", n)
	}
	if p := b.get(t.Context(), loc); p.status != http.StatusOK || !strings.Contains(p.body, "You are signed in") {
		t.Errorf("real redirect: %d %q", p.status, p.body)
	}
	if r := result(t, ch); r.err != nil {
		t.Fatal(r.err)
	}
}

func TestStrayRequestsIgnored(t *testing.T) {
	as := newTestAS(t, HostLocalhost, "/")
	b := newFakeBrowser(as, false)
	s := start(t, t.Context(), as.config())
	ch := waitAsync(t.Context(), s)
	loc := b.location(t, s.AuthURL)
	u, _ := url.Parse(loc)
	origin := "http://" + u.Host

	for _, tc := range []struct {
		method, url, host string
		want              int
	}{
		{"GET", origin + "/favicon.ico", "", http.StatusNotFound},
		{"GET", origin + "/favicon.ico?" + u.RawQuery, "", http.StatusNotFound},
		{"GET", origin + "/robots.txt", "", http.StatusNotFound},
		{"GET", origin + "/other?" + u.RawQuery, "", http.StatusNotFound},
		{"GET", origin + "/", "", http.StatusBadRequest},
		{"GET", origin + "/?foo=bar", "", http.StatusBadRequest},
		{"GET", origin + "/?%zz", "", http.StatusBadRequest},
		{"GET", origin + "/?" + u.RawQuery + ";x=1", "", http.StatusBadRequest},
		{"POST", loc, "", http.StatusMethodNotAllowed},
		{"HEAD", loc, "", http.StatusMethodNotAllowed},
		{"OPTIONS", loc, "", http.StatusMethodNotAllowed},
		{"GET", loc, "evil.example:" + u.Port(), http.StatusMisdirectedRequest}, // DNS rebinding
		{"GET", loc, "localhost:1", http.StatusMisdirectedRequest},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), tc.method, tc.url, nil)
		if tc.host != "" {
			req.Host = tc.host
		}
		p := b.do(req)
		if p.err != nil || p.status != tc.want {
			t.Errorf("%s %s (Host %q): %d %v, want %d", tc.method, tc.url, tc.host, p.status, p.err, tc.want)
		}
		if p.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s: no Cache-Control", tc.method, tc.url)
		}
	}
	stillWaiting(t, s, ch)
	if p := b.get(t.Context(), loc); p.status != http.StatusOK {
		t.Errorf("real redirect: %d", p.status)
	}
	if r := result(t, ch); r.err != nil {
		t.Fatal(r.err)
	}
	if n := as.tokenRequests.Load(); n != 1 {
		t.Errorf("token requests = %d", n)
	}
}

func TestDoubleDelivery(t *testing.T) {
	as := newTestAS(t, HostLocalhost, "/")
	as.tokenDelay = 100 * time.Millisecond // keep the first exchange in flight
	b := newFakeBrowser(as, false)
	s := start(t, t.Context(), as.config())
	ch := waitAsync(t.Context(), s)
	loc := b.location(t, s.AuthURL)
	u, _ := url.Parse(loc)

	// The same redirect through every loopback address at once (a
	// dual-stack browser retrying, a prefetch, a reload).
	targets := []string{loc, "http://127.0.0.1:" + u.Port() + "/?" + u.RawQuery, loc}
	if ipv6Available() {
		targets = append(targets, "http://[::1]:"+u.Port()+"/?"+u.RawQuery)
	}
	var wg sync.WaitGroup
	pages := make([]page, len(targets))
	for i, target := range targets {
		wg.Go(func() { pages[i] = b.get(t.Context(), target) })
	}
	wg.Wait()
	r := result(t, ch)
	if r.err != nil {
		t.Fatal(r.err)
	}
	for i, p := range pages {
		if p.err != nil || p.status != http.StatusOK || !strings.Contains(p.body, "You are signed in") {
			t.Errorf("delivery %d (%s): %d %v %q", i, targets[i], p.status, p.err, p.body)
		}
	}
	if n := as.tokenRequests.Load(); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
	// After the flow the port is closed: a late delivery cannot redeem.
	if p := b.get(t.Context(), loc); p.err == nil {
		t.Errorf("late delivery answered: %d", p.status)
	}
	if n := as.tokenRequests.Load(); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
}

func TestUserDenied(t *testing.T) {
	as := newTestAS(t, HostLocalhost, "/")
	as.denyDescription = `AADSTS65004: User declined to consent. <script>alert("x")</script> & <b>bold</b>`
	b := newFakeBrowser(as, true)
	cfg := as.config()
	cfg.Opener = b.open
	s := start(t, t.Context(), cfg)
	_, err := s.Wait(t.Context())
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v (%T)", err, err)
	}
	if ae.Code != "access_denied" || ae.Description != as.denyDescription {
		t.Errorf("AuthError = %+v", ae)
	}
	p := b.nextPage(t)
	if strings.Contains(p.body, "<script>") || strings.Contains(p.body, "<b>") {
		t.Errorf("page contains unescaped HTML: %q", p.body)
	}
	if !strings.Contains(p.body, "&lt;script&gt;") || !strings.Contains(p.body, "access_denied") ||
		!strings.Contains(p.body, "Sign-in was cancelled or denied") {
		t.Errorf("page = %q", p.body)
	}
	assertPageHeaders(t, p)
	if n := as.tokenRequests.Load(); n != 0 {
		t.Errorf("token requests = %d", n)
	}
	assertClosed(t, s)
}

func TestTokenEndpointError(t *testing.T) {
	as := newTestAS(t, HostLocalhost, "/")
	as.tokenFailure = true
	b := newFakeBrowser(as, true)
	cfg := as.config()
	cfg.Opener = b.open
	s := start(t, t.Context(), cfg)
	_, err := s.Wait(t.Context())
	var te *TokenError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v (%T)", err, err)
	}
	if te.StatusCode != 400 || te.Code != "invalid_grant" || !te.HasErrorCode(70008) ||
		te.TraceID != "0c6e-trace" || te.CorrelationID != "9f1a-corr" || !strings.HasPrefix(te.Description, "AADSTS70008:") {
		t.Errorf("TokenError = %+v", te)
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("does not unwrap to RetrieveError: %v", err)
	}
	secrets := append(as.issuedCodes(), as.seenVerifiers()...)
	if len(secrets) != 2 {
		t.Fatalf("secrets = %d", len(secrets))
	}
	for _, sec := range secrets {
		if strings.Contains(err.Error(), sec) {
			t.Errorf("error string leaks a secret: %v", err)
		}
	}
	p := b.nextPage(t)
	if !strings.Contains(p.body, "Sign-in failed") {
		t.Errorf("page = %q", p.body)
	}
}

func TestTimeout(t *testing.T) {
	as := newTestAS(t, HostLocalhost, "/")
	cfg := as.config()
	cfg.Timeout = 200 * time.Millisecond
	s := start(t, t.Context(), cfg)
	begin := time.Now()
	_, err := s.Wait(t.Context())
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	assertClosed(t, s)
}

func TestTimeoutDoesNotCutExchange(t *testing.T) {
	as := newTestAS(t, HostLocalhost, "/")
	as.tokenDelay = 600 * time.Millisecond
	b := newFakeBrowser(as, true)
	cfg := as.config()
	cfg.Opener = b.open
	cfg.Timeout = 300 * time.Millisecond
	s := start(t, t.Context(), cfg)
	tok, err := s.Wait(t.Context())
	if err != nil {
		t.Fatalf("a redirect that arrived in time must be redeemed: %v", err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("no token came back: %+v", tok)
	}
	if n := as.tokenRequests.Load(); n != 1 {
		t.Fatalf("%d token requests, want exactly 1", n)
	}
}

func TestCancel(t *testing.T) {
	as := newTestAS(t, HostLocalhost, "/")

	t.Run("wait ctx", func(t *testing.T) {
		s := start(t, t.Context(), as.config())
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := s.Wait(ctx)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		assertClosed(t, s)
	})
	t.Run("start ctx", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		s := start(t, ctx, as.config())
		cancel()
		_, err := s.Wait(t.Context())
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		assertClosed(t, s)
	})
	t.Run("start ctx without Wait", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		s := start(t, ctx, as.config())
		cancel()
		deadline := time.Now().Add(5 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", s.Addrs()[0].String(), time.Second)
			if err != nil {
				break
			}
			c.Close()
			if time.Now().After(deadline) {
				t.Fatal("listener still open after cancel")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	t.Run("close", func(t *testing.T) {
		s := start(t, t.Context(), as.config())
		ch := waitAsync(t.Context(), s)
		time.Sleep(20 * time.Millisecond)
		s.Close()
		if r := result(t, ch); !errors.Is(r.err, ErrClosed) {
			t.Fatalf("err = %v", r.err)
		}
		assertClosed(t, s)
		if err := s.OpenBrowser(t.Context()); !errors.Is(err, ErrClosed) {
			t.Errorf("OpenBrowser after Close: %v", err)
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := Start(ctx, as.config()); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestBrowserFailsToOpen(t *testing.T) {
	as := newTestAS(t, HostLocalhost, "/")
	cfg := as.config()
	errNoBrowser := errors.New("exec: \"xdg-open\": executable file not found in $PATH")
	cfg.Opener = func(context.Context, string) error { return errNoBrowser }
	opened := make(chan error, 1)
	cfg.OnOpen = func(err error) { opened <- err }
	s := start(t, t.Context(), cfg)
	ch := waitAsync(t.Context(), s)
	if err := <-opened; !errors.Is(err, errNoBrowser) {
		t.Fatalf("OnOpen got %v", err)
	}
	stillWaiting(t, s, ch)
	// The user copies the URL into a browser by hand.
	b := newFakeBrowser(as, true)
	if p := b.get(t.Context(), s.AuthURL); p.status != http.StatusOK || !strings.Contains(p.body, "You are signed in") {
		t.Errorf("page %d %v", p.status, p.err)
	}
	if r := result(t, ch); r.err != nil || r.tok == nil {
		t.Fatal(r.err)
	}
}

func TestListenerLoopbackOnly(t *testing.T) {
	as := newTestAS(t, HostLocalhost, "/")
	s := start(t, t.Context(), as.config())
	addrs := s.Addrs()
	port := addrs[0].(*net.TCPAddr).Port
	if !strings.HasSuffix(s.RedirectURL, ":"+strconv.Itoa(port)+"/") {
		t.Errorf("RedirectURL %q, port %d", s.RedirectURL, port)
	}
	var has4, has6 bool
	for _, a := range addrs {
		ta := a.(*net.TCPAddr)
		if ta.IP.IsUnspecified() || !ta.IP.IsLoopback() {
			t.Errorf("listening on non-loopback %v", ta)
		}
		if ta.Port != port {
			t.Errorf("%v: port differs from %d", ta, port)
		}
		has4 = has4 || ta.IP.Equal(net.IPv4(127, 0, 0, 1))
		has6 = has6 || ta.IP.Equal(net.IPv6loopback)
	}
	if !has4 {
		t.Errorf("not listening on 127.0.0.1: %v", addrs)
	}
	if ipv6Available() {
		if !has6 {
			t.Errorf("not listening on [::1]: %v", addrs)
		}
	} else {
		t.Log("::1 unavailable; IPv6 assertion skipped")
	}
	// Nothing answers on the same port on a non-loopback address.
	if ifAddrs, err := net.InterfaceAddrs(); err == nil {
		for _, ia := range ifAddrs {
			ipn, ok := ia.(*net.IPNet)
			if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
				continue
			}
			c, err := net.DialTimeout("tcp", net.JoinHostPort(ipn.IP.String(), strconv.Itoa(port)), 200*time.Millisecond)
			if err == nil {
				c.Close()
				t.Errorf("port %d reachable via %v", port, ipn.IP)
			}
		}
	}
}

func TestListenerUpBeforeOpener(t *testing.T) {
	as := newTestAS(t, HostLocalhost, "/")
	cfg := as.config()
	dialed := make(chan error, 1)
	cfg.Opener = func(ctx context.Context, authURL string) error {
		u, err := url.Parse(authURL)
		if err != nil {
			dialed <- err
			return err
		}
		ru, err := url.Parse(u.Query().Get("redirect_uri"))
		if err != nil {
			dialed <- err
			return err
		}
		hosts := []string{"127.0.0.1", "localhost"}
		if ipv6Available() {
			hosts = append(hosts, "[::1]")
		}
		c := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
		for _, h := range hosts {
			resp, err := c.Get("http://" + h + ":" + ru.Port() + "/favicon.ico")
			if err != nil {
				dialed <- err
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				dialed <- errors.New(h + ": " + resp.Status)
				return nil
			}
		}
		dialed <- nil
		return nil
	}
	s := start(t, t.Context(), cfg)
	if err := <-dialed; err != nil {
		t.Fatalf("listener not ready when the opener ran: %v", err)
	}
	s.Close()
	assertClosed(t, s)
}

func TestFixedPortTakenOnIPv6(t *testing.T) {
	if !ipv6Available() {
		t.Skip("::1 unavailable")
	}
	squat, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer squat.Close()
	port := squat.Addr().(*net.TCPAddr).Port
	ls, err := listenLoopback(t.Context(), HostLocalhost, port)
	if err == nil {
		for _, l := range ls {
			l.Close()
		}
		t.Fatalf("listened on %d although [::1]:%d is taken by another process", port, port)
	}
}

func TestConfigValidation(t *testing.T) {
	as := newTestAS(t, HostLocalhost, "/")
	for name, mod := range map[string]func(*Config){
		"redirect url set":  func(c *Config) { c.OAuth2.RedirectURL = "http://localhost/" },
		"no client id":      func(c *Config) { c.OAuth2.ClientID = "" },
		"no token url":      func(c *Config) { c.OAuth2.Endpoint.TokenURL = "" },
		"wildcard host":     func(c *Config) { c.RedirectHost = "0.0.0.0" },
		"lan host":          func(c *Config) { c.RedirectHost = "192.168.1.10" },
		"relative path":     func(c *Config) { c.RedirectPath = "cb" },
		"path with query":   func(c *Config) { c.RedirectPath = "/cb?x=1" },
		"reserved state":    func(c *Config) { c.AuthParams = map[string]string{"state": "x"} },
		"reserved pkce":     func(c *Config) { c.AuthParams = map[string]string{"code_challenge_method": "plain"} },
		"reserved redirect": func(c *Config) { c.AuthParams = map[string]string{"Redirect_URI": "http://evil/"} },
		"bad port":          func(c *Config) { c.Port = 70000 },
	} {
		cfg := as.config()
		mod(&cfg)
		if s, err := Start(t.Context(), cfg); err == nil {
			s.Close()
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestPublicClientAuthStyle(t *testing.T) {
	as := newTestAS(t, HostLocalhost, "/")
	b := newFakeBrowser(as, true)
	cfg := as.config()
	cfg.Opener = b.open
	cfg.OAuth2.Endpoint.AuthStyle = oauth2.AuthStyleInHeader // wrong for a public client
	s := start(t, t.Context(), cfg)
	if _, err := s.Wait(t.Context()); err != nil {
		t.Fatalf("public client must send client_id in the body: %v", err)
	}
}

func TestPages(t *testing.T) {
	as := newTestAS(t, HostLocalhost, "/")
	b := newFakeBrowser(as, true)
	cfg := as.config()
	cfg.Opener = b.open
	cfg.Pages = PagesFor("en")
	s := start(t, t.Context(), cfg)
	if _, err := s.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	p := b.nextPage(t)
	if !strings.Contains(p.body, `<html lang="en">`) || strings.Contains(p.body, "Zalogowano") ||
		!strings.Contains(p.body, "You can close this tab") {
		t.Errorf("page = %q", p.body)
	}
	if len(PagesFor("pl")) != 1 || len(PagesFor("")) != 2 || PagesFor("de")[0].Lang != "pl" {
		t.Error("PagesFor")
	}
}

func TestDefaultOpenerIsQuietAndStrict(t *testing.T) {
	quietBrowser()
	if browser.Stdout != io.Discard || browser.Stderr != io.Discard {
		t.Error("pkg/browser output not discarded")
	}
	for _, u := range []string{"file:///etc/passwd", "C:\\Windows\\system32\\calc.exe", "javascript:alert(1)", "https://"} {
		if err := DefaultOpener(t.Context(), u); err == nil {
			t.Errorf("DefaultOpener accepted %q", u)
		}
	}
}
