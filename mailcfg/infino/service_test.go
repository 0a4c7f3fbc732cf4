package infino_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"infino.legal/mailbox/internal/sandbox"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/infino"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestHappyPath(t *testing.T) {
	e := newEnv(t)
	out := demoSubmit(e)
	wantState(t, out, infino.StateSent)
	if out.Receipt.ID == "" || out.Receipt.Replayed || out.Email != sandbox.DemoEmail {
		t.Fatalf("receipt %+v, email %q", out.Receipt, out.Email)
	}
	if got := e.browsers.Load(); got != 1 {
		t.Errorf("browser opened %d times, want 1 (first sign-in)", got)
	}
	if st := e.sb.Infino.AuthStats(); st.Authorizations != 1 || st.CodeGrants != 1 {
		t.Errorf("auth stats %+v", st)
	}
	mbs := e.sb.Infino.Mailboxes()
	if len(mbs) != 1 || mbs[0].ID != out.Receipt.ID || mbs[0].Password != sandbox.DemoPassword || mbs[0].SecretType != "password" {
		t.Fatalf("mailboxes %+v", mbs)
	}
	req := e.sb.Infino.LastRequest()
	if !strings.HasPrefix(req.Header.Get("Authorization"), "Bearer at-") {
		t.Errorf("Authorization %q", req.Header.Get("Authorization"))
	}
	if k := req.Header.Get("Idempotency-Key"); !uuidRE.MatchString(k) || mbs[0].IdempotencyKey != k {
		t.Errorf("Idempotency-Key %q", k)
	}
	if req.Header.Get("Content-Type") != "application/json" || !strings.HasPrefix(req.Header.Get("User-Agent"), "InfinoMailbox/") {
		t.Errorf("headers %v", req.Header)
	}
	var body map[string]any
	if err := json.Unmarshal(req.Body, &body); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"email", "auth", "incoming", "outgoing", "provider", "source", "secret", "verifiedAt", "client"} {
		if _, ok := body[k]; !ok {
			t.Errorf("body lacks %q: %s", k, req.Body)
		}
	}
	if c := body["client"].(map[string]any); c["name"] != mailcfg.AppName || c["os"] == "" {
		t.Errorf("client %v", c)
	}
	// Nothing left in the outbox, no secret of it in the store; the Infino
	// sign-in is kept (in the store only).
	pending, problems, err := e.svc.Pending(e.ctx())
	if err != nil || len(pending) != 0 || len(problems) != 0 {
		t.Fatalf("pending %v %v %v", pending, problems, err)
	}
	if k := outboxKeys(e.store); len(k) != 0 {
		t.Errorf("outbox secrets left: %v", k)
	}
	if _, err := e.store.Get(e.ctx(), infino.TokenKey(e.sb.InfinoURL)); err != nil {
		t.Errorf("Infino token not kept: %v", err)
	}
	assertNoSecretFiles(t, e.dir, e.secretsOf()...)

	// A second submission reuses the sign-in: no browser.
	s2, _ := e.sb.Settings("ola@" + sandbox.DemoDomain)
	out2 := e.svc.Submit(e.ctx(), s2, infino.PasswordSecret("another-secret"), time.Time{})
	wantState(t, out2, infino.StateSent)
	if e.browsers.Load() != 1 || e.sb.Infino.Count() != 2 {
		t.Errorf("browsers %d, mailboxes %d", e.browsers.Load(), e.sb.Infino.Count())
	}
	if out2.Message().In("pl") == "" || !strings.Contains(out2.Message().In("en"), "ola@") {
		t.Errorf("message %+v", out2.Message())
	}
}

func TestReplaySameKeyReturnsSameID(t *testing.T) {
	e := newEnv(t)
	access, _ := e.sb.Infino.Mint()
	c := &infino.Client{BaseURL: e.sb.InfinoURL, Tokens: &staticTokens{tok: access}, ClientOptions: infino.ClientOptions{HTTP: e.sb.HTTPClient(), Sleep: e.sleep}}
	sub := infino.Submission{Settings: e.sb.DemoSettings(), Secret: infino.PasswordSecret(sandbox.DemoPassword), VerifiedAt: time.Now()}
	key := infino.NewUUID()
	r1, err := c.CreateMailbox(e.ctx(), key, sub)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c.CreateMailbox(e.ctx(), key, sub)
	if err != nil {
		t.Fatal(err)
	}
	if r1.ID != r2.ID || r1.Replayed || !r2.Replayed {
		t.Fatalf("first %+v, replay %+v", r1, r2)
	}
	if n := e.sb.Infino.Count(); n != 1 {
		t.Fatalf("%d mailboxes, want 1", n)
	}
	// The same key with another body is a client bug: refused, not stored.
	sub.Secret = infino.PasswordSecret("different")
	_, err = c.CreateMailbox(e.ctx(), key, sub)
	if infino.KindOf(err) != infino.KindRejected {
		t.Fatalf("reused key with another body: %v", err)
	}
}

func TestBadRequestMapsToFields(t *testing.T) {
	e := newEnv(t)
	e.sb.Infino.Inject(sandbox.Fault{Status: 400, Body: `{"error":"invalid_settings","errors":[` +
		`{"field":"incoming.host","code":"host_unreachable","message":"Infino cannot reach this server."},` +
		`{"field":"outgoing.port","code":"port_blocked","message":"Port blocked."}]}`})
	out := demoSubmit(e)
	wantState(t, out, infino.StateFailed)
	if out.Kind() != infino.KindInvalid {
		t.Fatalf("kind %q", out.Kind())
	}
	f := out.Fields()
	if len(f) != 2 || len(f.For("incoming.host")) != 1 || f.For("incoming.host")[0].Message.In("pl") != "Infino cannot reach this server." ||
		len(f.For("outgoing")) != 1 {
		t.Fatalf("fields %v", f)
	}
	// Finished for good: nothing kept.
	if p, _, _ := e.svc.Pending(e.ctx()); len(p) != 0 || len(outboxKeys(e.store)) != 0 {
		t.Fatalf("kept after 400: %v %v", p, outboxKeys(e.store))
	}

	// The sandbox's own validation (the client bypasses the local check):
	// field names come back as sent, in the language asked for.
	access, _ := e.sb.Infino.Mint()
	c := &infino.Client{BaseURL: e.sb.InfinoURL, Tokens: &staticTokens{tok: access}, ClientOptions: infino.ClientOptions{HTTP: e.sb.HTTPClient(), Lang: "pl"}}
	s := e.sb.DemoSettings()
	s.Incoming.Port = 0
	s.Outgoing.Host = ""
	_, err := c.CreateMailbox(e.ctx(), infino.NewUUID(), infino.Submission{Settings: s, Secret: infino.PasswordSecret("x"), VerifiedAt: time.Now()})
	var ie *infino.Error
	if !errors.As(err, &ie) || ie.Kind != infino.KindInvalid || len(ie.Fields.For("incoming.port")) != 1 || len(ie.Fields.For("outgoing.host")) != 1 {
		t.Fatalf("server-side validation: %v", err)
	}
	if m := ie.Fields.For("incoming.port")[0].Message.PL; !strings.Contains(m, "Port") {
		t.Errorf("Polish message %q", m)
	}
}

func TestLocalValidationBeforeSending(t *testing.T) {
	e := newEnv(t)
	s := e.sb.DemoSettings()
	s.Incoming.Host = ""
	out := e.svc.Submit(e.ctx(), s, infino.PasswordSecret("x"), time.Now())
	wantState(t, out, infino.StateFailed)
	if out.Kind() != infino.KindInvalid || len(out.Fields().For("incoming.host")) != 1 {
		t.Fatalf("%v %v", out.Kind(), out.Fields())
	}
	out = e.svc.Submit(e.ctx(), e.sb.DemoSettings(), infino.Secret{Type: "password"}, time.Now())
	if out.Kind() != infino.KindInvalid || len(out.Fields().For("password")) != 1 {
		t.Fatalf("empty password: %v %v", out.Kind(), out.Fields())
	}
	if n := len(e.sb.Infino.Requests()); n != 0 {
		t.Fatalf("%d requests sent for invalid input", n)
	}
}

func TestUnauthorizedSignsInAgainOnce(t *testing.T) {
	e := newEnv(t)
	wantState(t, demoSubmit(e), infino.StateSent) // signs in
	before := e.sb.Infino.AuthStats()

	// Access token no longer valid: 401 → refresh → retry → 201.
	e.sb.Infino.RevokeAccessTokens()
	s2, _ := e.sb.Settings("b@" + sandbox.DemoDomain)
	out := e.svc.Submit(e.ctx(), s2, infino.PasswordSecret("pw-b-123456"), time.Now())
	wantState(t, out, infino.StateSent)
	st := e.sb.Infino.AuthStats()
	if st.RefreshGrants != before.RefreshGrants+1 || st.Authorizations != before.Authorizations {
		t.Fatalf("after revoke: %+v (before %+v)", st, before)
	}
	reqs := e.sb.Infino.Requests()
	if len(reqs) != 3 || reqs[1].Status != 401 || reqs[2].Status != 201 ||
		reqs[1].Header.Get("Idempotency-Key") != reqs[2].Header.Get("Idempotency-Key") ||
		reqs[1].Header.Get("Authorization") == reqs[2].Header.Get("Authorization") {
		t.Fatalf("requests: %v", statuses(reqs))
	}

	// Every token revoked: the refresh fails, the browser signs in again.
	e.sb.Infino.RevokeAll()
	s3, _ := e.sb.Settings("c@" + sandbox.DemoDomain)
	wantState(t, e.svc.Submit(e.ctx(), s3, infino.PasswordSecret("pw-c-123456"), time.Now()), infino.StateSent)
	if e.browsers.Load() != 2 || e.sb.Infino.AuthStats().Authorizations != 2 {
		t.Fatalf("browser %d, stats %+v", e.browsers.Load(), e.sb.Infino.AuthStats())
	}

	// 401 even after signing in again: only one renewal, then it waits.
	n0 := len(e.sb.Infino.Requests())
	rf := e.sb.Infino.AuthStats().RefreshGrants
	e.sb.Infino.RejectTokens(5)
	s4, _ := e.sb.Settings("d@" + sandbox.DemoDomain)
	out = e.svc.Submit(e.ctx(), s4, infino.PasswordSecret("pw-d-123456"), time.Now())
	wantState(t, out, infino.StateQueued)
	if out.Kind() != infino.KindUnauthorized {
		t.Fatalf("kind %q", out.Kind())
	}
	if n := len(e.sb.Infino.Requests()) - n0; n != 2 {
		t.Fatalf("%d requests after 401s, want 2", n)
	}
	if got := e.sb.Infino.AuthStats().RefreshGrants - rf; got != 1 {
		t.Fatalf("%d renewals, want 1", got)
	}
	if e.sb.Infino.Count() != 3 {
		t.Fatalf("%d mailboxes", e.sb.Infino.Count())
	}
}

func statuses(rs []sandbox.Request) []int {
	out := make([]int, len(rs))
	for i, r := range rs {
		out[i] = r.Status
	}
	return out
}

func TestConflictMailboxExists(t *testing.T) {
	e := newEnv(t)
	e.sb.Infino.AddMailbox(sandbox.DemoEmail)
	out := demoSubmit(e)
	wantState(t, out, infino.StateExists)
	if out.Kind() != infino.KindExists || !strings.Contains(out.Message().In("en"), "already connected") ||
		!strings.Contains(out.Message().In("pl"), "już połączona") {
		t.Fatalf("%v %+v", out.Kind(), out.Message())
	}
	if p, _, _ := e.svc.Pending(e.ctx()); len(p) != 0 || len(outboxKeys(e.store)) != 0 || e.sb.Infino.Count() != 1 {
		t.Fatal("409 must finish the submission")
	}
}

func TestServiceUnavailableRetryAfterThenSuccess(t *testing.T) {
	e := newEnv(t)
	access, _ := e.sb.Infino.Mint()
	e.opts.Tokens = &staticTokens{tok: access}
	e.svc = infino.NewService(e.opts)
	e.sb.Infino.FailNext(2, 503, "2")
	out := demoSubmit(e)
	wantState(t, out, infino.StateSent)
	sl := e.slept()
	if len(sl) != 2 {
		t.Fatalf("slept %v, want two waits", sl)
	}
	for _, d := range sl {
		if d < 2*time.Second || d > 3*time.Second {
			t.Errorf("wait %v does not honour Retry-After: 2", d)
		}
	}
	reqs := e.sb.Infino.Requests()
	if len(reqs) != 3 || e.sb.Infino.Count() != 1 {
		t.Fatalf("requests %v, mailboxes %d", statuses(reqs), e.sb.Infino.Count())
	}
	for _, r := range reqs[1:] {
		if r.Header.Get("Idempotency-Key") != reqs[0].Header.Get("Idempotency-Key") {
			t.Fatal("the Idempotency-Key changed between retries")
		}
	}

	// 429 with an HTTP date, then 500 without Retry-After: exponential
	// backoff (equal jitter: half the step plus a random half; jitter 0 here).
	e.sleeps = nil
	e.sb.Infino.Inject(sandbox.Fault{Status: 429, RetryAfter: time.Now().Add(5 * time.Second).UTC().Format(http.TimeFormat)})
	e.sb.Infino.FailNext(1, 500, "")
	s2, _ := e.sb.Settings("x@" + sandbox.DemoDomain)
	wantState(t, e.svc.Submit(e.ctx(), s2, infino.PasswordSecret("pw-x-123456"), time.Now()), infino.StateSent)
	sl = e.slept()
	if len(sl) != 2 || sl[0] < 3*time.Second || sl[0] > 6*time.Second || sl[1] != time.Second {
		t.Fatalf("waits %v", sl)
	}
}

func TestRetriesExhaustedThenOutbox(t *testing.T) {
	e := newEnv(t)
	access, _ := e.sb.Infino.Mint()
	e.opts.Tokens = &staticTokens{tok: access}
	e.svc = infino.NewService(e.opts)
	e.sb.Infino.FailNext(100, 502, "")
	out := demoSubmit(e)
	wantState(t, out, infino.StateQueued)
	if n := len(e.sb.Infino.Requests()); n != infino.DefaultRetry.Attempts {
		t.Fatalf("%d requests, want %d", n, infino.DefaultRetry.Attempts)
	}
	sl := e.slept()
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second} // jitter 0: half of 1 s, 2 s, 4 s
	if len(sl) != len(want) {
		t.Fatalf("waits %v", sl)
	}
	for i := range want {
		if sl[i] != want[i] {
			t.Fatalf("waits %v, want %v", sl, want)
		}
	}
	// A Retry-After longer than MaxRetryAfter parks at once.
	e.sb.Infino.ClearFaults()
	e.sb.Infino.FailNext(100, 503, "3600")
	s2, _ := e.sb.Settings("y@" + sandbox.DemoDomain)
	n0 := len(e.sb.Infino.Requests())
	out = e.svc.Submit(e.ctx(), s2, infino.PasswordSecret("pw-y-123456"), time.Now())
	wantState(t, out, infino.StateQueued)
	if n := len(e.sb.Infino.Requests()) - n0; n != 1 {
		t.Fatalf("%d requests with Retry-After 3600", n)
	}
	if time.Until(out.NextAttempt) < 59*time.Minute {
		t.Fatalf("next attempt %v is earlier than Infino asked", out.NextAttempt)
	}
}

func TestConnectionRefusedOutboxFlushExactlyOnce(t *testing.T) {
	e := newEnv(t)
	wantState(t, demoSubmit(e), infino.StateSent) // signed in
	n0 := e.sb.Infino.Count()

	e.down.Store(true)
	s2, _ := e.sb.Settings("offline@" + sandbox.DemoDomain)
	out := e.svc.Submit(e.ctx(), s2, infino.PasswordSecret("offline-password-1"), time.Now())
	wantState(t, out, infino.StateQueued)
	if out.Kind() != infino.KindUnavailable || out.EntryID == "" {
		t.Fatalf("kind %q entry %q (%v)", out.Kind(), out.EntryID, out.Err)
	}
	if !strings.Contains(out.Message().In("en"), "outbox") || !strings.Contains(out.Message().In("pl"), "skrzynce nadawczej") {
		t.Errorf("message %+v", out.Message())
	}
	pending, _, err := e.svc.Pending(e.ctx())
	if err != nil || len(pending) != 1 || pending[0].ID != out.EntryID || pending[0].Attempts != 1 ||
		pending[0].LastError == nil || pending[0].LastError.Kind != infino.KindUnavailable || pending[0].Reason().IsZero() {
		t.Fatalf("pending %+v %v", pending, err)
	}
	if keys := outboxKeys(e.store); len(keys) != 1 || keys[0] != infino.SecretKey(out.EntryID) {
		t.Fatalf("outbox secrets %v", keys)
	}
	assertNoSecretFiles(t, e.dir, append(e.secretsOf(), "offline-password-1")...)

	// Still offline: an automatic flush does not try entries that are not
	// due; a forced one tries and keeps it.
	rep := e.svc.Flush(e.ctx(), false)
	if len(rep.Results) != 1 || rep.Results[0].Tried {
		t.Fatalf("not-due flush %+v", rep)
	}
	rep = e.svc.Flush(e.ctx(), true)
	if sent, queued, _ := rep.Counts(); sent != 0 || queued != 1 || !rep.Results[0].Tried {
		t.Fatalf("offline flush %+v", rep)
	}

	// Back online. A new Service (as after a restart) delivers it once.
	e.down.Store(false)
	svc2 := infino.NewService(e.opts)
	rep = svc2.Flush(e.ctx(), true)
	if sent, queued, failed := rep.Counts(); sent != 1 || queued != 0 || failed != 0 {
		t.Fatalf("flush %+v", rep)
	}
	if got := e.sb.Infino.Count() - n0; got != 1 {
		t.Fatalf("%d mailboxes created by the flush, want 1", got)
	}
	mb := e.sb.Infino.Mailboxes()[n0]
	if mb.Password != "offline-password-1" || mb.IdempotencyKey != pending[0].IdempotencyKey {
		t.Fatalf("delivered %+v", mb)
	}
	// Flushing again does nothing.
	rep = svc2.Flush(e.ctx(), true)
	if len(rep.Results) != 0 || e.sb.Infino.Count()-n0 != 1 {
		t.Fatalf("second flush %+v", rep)
	}
	if len(outboxKeys(e.store)) != 0 {
		t.Fatal("outbox secret left after delivery")
	}
	assertNoSecretFiles(t, e.dir, append(e.secretsOf(), "offline-password-1")...)
}

func TestLostResponseRetriedWithSameKey(t *testing.T) {
	e := newEnv(t)
	access, _ := e.sb.Infino.Mint()
	e.opts.Tokens = &staticTokens{tok: access}
	hc := e.sb.HTTPClient()
	hc.Timeout = 500 * time.Millisecond // the held request times out
	e.opts.HTTP = hc
	e.svc = infino.NewService(e.opts)
	committed := e.sb.Infino.HoldNext()
	out := demoSubmit(e)
	<-committed
	wantState(t, out, infino.StateSent)
	if !out.Receipt.Replayed || e.sb.Infino.Count() != 1 {
		t.Fatalf("receipt %+v, %d mailboxes", out.Receipt, e.sb.Infino.Count())
	}
}

func TestUntrustedCertificateRefused(t *testing.T) {
	e := newEnv(t)
	access, _ := e.sb.Infino.Mint()
	e.opts.Tokens = &staticTokens{tok: access}
	e.opts.HTTP = infino.NewHTTPClient() // system roots: the sandbox CA is not among them
	e.svc = infino.NewService(e.opts)
	out := demoSubmit(e)
	wantState(t, out, infino.StateQueued)
	if out.Kind() != infino.KindTLS {
		t.Fatalf("kind %q (%v)", out.Kind(), out.Err)
	}
	if n := len(e.sb.Infino.Requests()); n != 0 {
		t.Fatalf("%d requests reached the server over untrusted TLS", n)
	}
	if len(e.slept()) != 0 {
		t.Fatal("a certificate error must not be retried in a loop")
	}
	// Also for sign-in: the metadata is not fetched over untrusted TLS.
	_, err := infino.Discover(e.ctx(), infino.NewHTTPClient(), e.sb.InfinoURL)
	if infino.KindOf(err) != infino.KindTLS || e.sb.Infino.MetadataRequests() != 0 {
		t.Fatalf("discover: %v", err)
	}
	// And a server with a self-signed certificate of its own.
	var hits atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	c := &infino.Client{BaseURL: srv.URL, Tokens: &staticTokens{tok: "t"}, ClientOptions: infino.ClientOptions{Sleep: e.sleep}}
	_, err = c.CreateMailbox(e.ctx(), infino.NewUUID(), infino.Submission{Settings: e.sb.DemoSettings(), Secret: infino.PasswordSecret("p"), VerifiedAt: time.Now()})
	if infino.KindOf(err) != infino.KindTLS || hits.Load() != 0 {
		t.Fatalf("self-signed: %v, %d hits", err, hits.Load())
	}
}

func TestHTTPOnlyToLoopback(t *testing.T) {
	for u, ok := range map[string]bool{
		"https://kancelaria.infino.legal":  true,
		"https://kancelaria.infino.legal/": true,
		"http://127.0.0.1:8080":            true,
		"http://localhost:8080":            true,
		"http://[::1]:8080":                true,
		"http://kancelaria.infino.legal":   false,
		"http://10.0.0.1":                  false,
		"ftp://infino.legal":               false,
		"https://user:pw@infino.legal":     false,
		"https://infino.legal?x=1":         false,
		"infino.legal":                     false,
	} {
		_, err := infino.CheckBaseURL(u)
		if (err == nil) != ok {
			t.Errorf("CheckBaseURL(%q) = %v, want ok=%v", u, err, ok)
		}
	}
	e := newEnv(t)
	pol := e.opts.Policy
	pol.InfinoURL = ""
	e.opts.Policy = pol
	svc := infino.NewService(e.opts)
	out := svc.Submit(e.ctx(), e.sb.DemoSettings(), infino.PasswordSecret("x"), time.Now())
	if out.State != infino.StateFailed || out.Kind() != infino.KindConfig || !strings.Contains(out.Message().In("en"), "Infino address") {
		t.Fatalf("no URL: %+v", out)
	}
	if err := svc.SetInfinoURL("http://infino.example.com"); err == nil {
		t.Fatal("plain http to a remote host accepted")
	}
	if err := svc.SetInfinoURL(e.sb.InfinoURL + "/"); err != nil {
		t.Fatal(err)
	}
	if u, fromPolicy, err := svc.InfinoURL(); u != e.sb.InfinoURL || fromPolicy || err != nil {
		t.Fatalf("remembered %q %v %v", u, fromPolicy, err)
	}
	data, _ := os.ReadFile(filepath.Join(e.dir, "infino.json"))
	if !strings.Contains(string(data), e.sb.InfinoURL) {
		t.Fatalf("infino.json: %s", data)
	}
	wantState(t, svc.Submit(e.ctx(), e.sb.DemoSettings(), infino.PasswordSecret("x1234567"), time.Now()), infino.StateSent)
	if err := e.svc.SetInfinoURL("https://other.example"); err == nil {
		t.Fatal("a URL set by policy must not be changed")
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	var target, hits atomic.Int32
	dst := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { target.Add(1) }))
	defer dst.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, dst.URL+"/steal", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	c := &infino.Client{BaseURL: srv.URL, Tokens: &staticTokens{tok: "t"}}

	_, err := c.CreateMailbox(context.Background(), infino.NewUUID(), infino.Submission{
		Settings: mailcfg.Settings{Email: "a@b.pl"}, Secret: infino.PasswordSecret("p"), VerifiedAt: time.Now()})
	if infino.KindOf(err) != infino.KindRejected || hits.Load() != 1 || target.Load() != 0 {
		t.Fatalf("%v hits %d target %d", err, hits.Load(), target.Load())
	}
}

func TestConcurrentFlushesDeliverOnce(t *testing.T) {
	e := newEnv(t)
	access, _ := e.sb.Infino.Mint()
	e.opts.Tokens = &staticTokens{tok: access}
	e.svc = infino.NewService(e.opts)
	e.down.Store(true)
	for i := range 3 {
		s, _ := e.sb.Settings(string(rune('a'+i)) + "q@" + sandbox.DemoDomain)
		wantState(t, e.svc.Submit(e.ctx(), s, infino.PasswordSecret("pw-123456"), time.Now()), infino.StateQueued)
	}
	e.down.Store(false)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			infino.NewService(e.opts).Flush(e.ctx(), true)
		}()
	}
	wg.Wait()
	if n := e.sb.Infino.Count(); n != 3 {
		t.Fatalf("%d mailboxes, want 3", n)
	}
	if p, _, _ := e.svc.Pending(e.ctx()); len(p) != 0 {
		t.Fatalf("left: %v", p)
	}
}

func TestSignInWithoutBrowserWaits(t *testing.T) {
	e := newEnv(t)
	e.opts.Browser = nil
	e.svc = infino.NewService(e.opts)
	out := demoSubmit(e)
	wantState(t, out, infino.StateQueued)
	if out.Kind() != infino.KindSignIn || !strings.Contains(out.Message().In("en"), "Sign in") {
		t.Fatalf("%q %+v", out.Kind(), out.Message())
	}
	// After signing in (with a browser), the flush delivers it.
	e.opts.Browser = &infino.Browser{Opener: e.browser}
	svc := infino.NewService(e.opts)
	if err := svc.SignIn(e.ctx()); err != nil {
		t.Fatal(err)
	}
	if ok, err := svc.SignedIn(e.ctx()); !ok || err != nil {
		t.Fatal("not signed in", err)
	}
	if s, _, _ := svc.Flush(e.ctx(), true).Counts(); s != 1 || e.sb.Infino.Count() != 1 {
		t.Fatal("not delivered after sign-in")
	}
}

func TestSignInDenied(t *testing.T) {
	e := newEnv(t)
	e.sb.Infino.DenyNextSignIn(1)
	err := e.svc.SignIn(e.ctx())
	if infino.KindOf(err) != infino.KindSignIn {
		t.Fatalf("%v", err)
	}
	if ok, _ := e.svc.SignedIn(e.ctx()); ok {
		t.Fatal("signed in after a denial")
	}
}

func TestMetadataChecked(t *testing.T) {
	meta := map[string]any{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(meta)
	}))
	defer srv.Close()
	good := func() {
		meta = map[string]any{"issuer": srv.URL, "authorization_endpoint": srv.URL + "/a", "token_endpoint": srv.URL + "/t",
			"response_types_supported": []string{"code"}, "code_challenge_methods_supported": []string{"S256"}}
	}
	good()
	if _, err := infino.Discover(context.Background(), nil, srv.URL); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(){
		"issuer":    func() { meta["issuer"] = "https://evil.example" },
		"no pkce":   func() { delete(meta, "code_challenge_methods_supported") },
		"plain":     func() { meta["code_challenge_methods_supported"] = []string{"plain"} },
		"http auth": func() { meta["authorization_endpoint"] = "http://evil.example/a" },
		"token":     func() { meta["token_endpoint"] = "ftp://x/t" },
	} {
		good()
		mutate()
		if _, err := infino.Discover(context.Background(), nil, srv.URL); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	s := infino.PasswordSecret("hunter2-secret")
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
		if strings.Contains(sprintf(f, s), "hunter2") || strings.Contains(sprintf(f, struct{ S infino.Secret }{s}), "hunter2") {
			t.Errorf("%s shows the password", f)
		}
	}
}

func TestResubmitReusesWaitingEntry(t *testing.T) {
	e := newEnv(t)
	access, _ := e.sb.Infino.Mint()
	e.opts.Tokens = &staticTokens{tok: access}
	e.svc = infino.NewService(e.opts)
	e.down.Store(true)
	first := demoSubmit(e)
	wantState(t, first, infino.StateQueued)
	again := demoSubmit(e) // "Send now" while still offline
	wantState(t, again, infino.StateQueued)
	pending, _, _ := e.svc.Pending(e.ctx())
	if again.EntryID != first.EntryID || len(pending) != 1 || pending[0].Attempts != 2 {
		t.Fatalf("entries %+v (first %s, again %s)", pending, first.EntryID, again.EntryID)
	}
	e.down.Store(false)
	sent := demoSubmit(e)
	wantState(t, sent, infino.StateSent)
	if sent.EntryID != first.EntryID || e.sb.Infino.Count() != 1 || e.sb.Infino.Mailboxes()[0].IdempotencyKey != pending[0].IdempotencyKey {
		t.Fatalf("sent %+v", sent)
	}
	if p, _, _ := e.svc.Pending(e.ctx()); len(p) != 0 || len(outboxKeys(e.store)) != 0 {
		t.Fatal("left in the outbox")
	}

	// Different settings for a waiting address replace the old entry.
	e.down.Store(true)
	s2, _ := e.sb.Settings("zmiana@" + sandbox.DemoDomain)
	o1 := e.svc.Submit(e.ctx(), s2, infino.PasswordSecret("stare-haslo-1"), time.Now())
	o2 := e.svc.Submit(e.ctx(), s2, infino.PasswordSecret("nowe-haslo-22"), time.Now())
	pending, _, _ = e.svc.Pending(e.ctx())
	if o1.EntryID == o2.EntryID || len(pending) != 1 || pending[0].ID != o2.EntryID || len(outboxKeys(e.store)) != 1 {
		t.Fatalf("replace: %+v", pending)
	}
	e.down.Store(false)
	e.svc.Flush(e.ctx(), true)
	mb := e.sb.Infino.Mailboxes()
	if len(mb) != 2 || mb[1].Password != "nowe-haslo-22" {
		t.Fatalf("%+v", mb)
	}
}

func TestAutomaticFlushNeverOpensTheBrowser(t *testing.T) {
	e := newEnv(t)
	e.down.Store(true)
	wantState(t, demoSubmit(e), infino.StateQueued) // not signed in, offline: the sign-in fails first
	e.down.Store(false)
	b := e.browsers.Load()
	later := e.opts
	later.Now = func() time.Time { return time.Now().Add(2 * time.Minute) } // the entry is due
	svc := infino.NewService(later)                                         // a fresh start of the app, with a browser available
	rep := svc.Flush(e.ctx(), false)
	if e.browsers.Load() != b {
		t.Fatal("an automatic flush opened the browser")
	}
	if len(rep.Results) != 1 {
		t.Fatalf("%+v", rep)
	}
	if r := rep.Results[0]; !r.Tried || r.Outcome.State != infino.StateQueued || r.Outcome.Kind() != infino.KindSignIn {
		t.Fatalf("%+v", r.Outcome)
	}
	// "Retry now" may sign in.
	rep = svc.Flush(e.ctx(), true)
	if s, _, _ := rep.Counts(); s != 1 || e.browsers.Load() != b+1 || e.sb.Infino.Count() != 1 {
		t.Fatalf("%+v, browsers %d", rep, e.browsers.Load())
	}
}
