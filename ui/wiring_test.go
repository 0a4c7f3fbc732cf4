package ui

import (
	"context"
	"html"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"infino.legal/mailbox/internal/microsofttest"
	"infino.legal/mailbox/internal/sandbox"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/microsoft"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/world"
)

// The tests below run the window on the real wiring (wiring.go) over a world: the real
// microsoft, verify and infino packages, against microsofttest and the
// sandbox, all in this process.

// useDeps puts real dependencies under the harness's queue, language and
// clipboard, with autofill at once.
func useDeps(real Deps) func(*Deps) {
	return func(d *Deps) {
		do, lang, clip := d.Do, d.Lang, d.Clipboard
		*d = real
		d.Do, d.Lang, d.Clipboard, d.Debounce = do, lang, clip, 0
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestRealMicrosoftSignIn: "Zaloguj przez Microsoft" through the real
// microsoft package against the fake Microsoft (its fake browser follows the
// sign-in page), the real verifier against its XOAUTH2 mail servers; the
// credential the window keeps logs in, and infino.SecretFor finds the
// refresh token the sign-in stored.
func TestRealMicrosoftSignIn(t *testing.T) {
	srv := microsofttest.NewServer(t)
	srv.SetAccount(microsofttest.Work)
	mail := srv.StartMail(t)
	pol := policy.Default()
	pol.Microsoft = srv.Policy()
	store := secrets.NewMemory()
	w := newWiring(&world.World{Policy: pol, Store: store, HTTP: srv.HTTPClient(), RootCAs: mail.RootCAs,
		Opener: srv.Browser().Open, ConfigDir: t.TempDir(),
		MicrosoftSettings: func(addr string) (mailcfg.Settings, error) {
			a, err := mailcfg.ParseAddress(addr)
			return mail.Settings(microsoft.SettingsFor(a, false)), err
		}}, "pl")
	h := newHarness(t, "pl_PL.UTF-8", useDeps(w.deps()))
	h.typeInto(h.wz.start.email, microsofttest.Work.Email)
	test.Tap(h.wz.start.button("microsoft"))
	h.q.until(t, "verification after sign-in", func() bool {
		return h.wz.current == h.wz.verify && !h.wz.verify.job.running() && (h.wz.verify.next.Visible() || h.wz.verify.retry.Visible())
	})
	if !h.wz.verify.next.Visible() {
		t.Fatalf("verification failed:\n%s\n%s", h.screenText(), h.wz.report())
	}
	h.mustShow("Połączono i zalogowano")
	if !h.wz.viaSignIn || h.wz.settings.Auth != mailcfg.AuthOAuth2 || h.wz.settings.Email != microsofttest.Work.Email {
		t.Fatalf("settings %+v", h.wz.settings)
	}
	n := 0
	for _, l := range mail.Logins() {
		if !l.OK || l.Mechanism != "XOAUTH2" || l.User != microsofttest.Work.Email {
			t.Errorf("login %+v", l)
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d logins, want IMAP and SMTP", n)
	}
	// The same credential serves the hand-off: the secret is the stored
	// (current) refresh token with the policy's registration.
	sec, err := w.w.SecretFor(testCtx(t), h.wz.settings, h.wz.cred)
	if err != nil {
		t.Fatal(err)
	}
	if sec.Type != infino.SecretOAuth2 || !srv.ValidRefreshToken(sec.RefreshToken) || sec.ClientID != pol.Microsoft.ClientID {
		t.Errorf("secret %v, valid %v", sec, srv.ValidRefreshToken(sec.RefreshToken))
	}
}

// TestRealMicrosoftSignInCancel: Cancel on Start closes the real session.
func TestRealMicrosoftSignInCancel(t *testing.T) {
	srv := microsofttest.NewServer(t)
	pol := policy.Default()
	pol.Microsoft = srv.Policy()
	opened := make(chan string, 1)
	w := newWiring(&world.World{Policy: pol, Store: secrets.NewMemory(), HTTP: srv.HTTPClient(), ConfigDir: t.TempDir(),
		Opener: func(_ context.Context, u string) error { opened <- u; return nil }}, "pl") // a browser nobody uses
	h := newHarness(t, "pl_PL.UTF-8", useDeps(w.deps()))
	s := h.wz.start
	test.Tap(s.button("microsoft"))
	h.q.until(t, "sign-in address", func() bool { return s.wait.urlBox.Visible() })
	if u := <-opened; !strings.HasPrefix(u, srv.URL) || s.wait.urlLbl.Text != u {
		t.Errorf("opened %q, shown %q", u, s.wait.urlLbl.Text)
	}
	test.Tap(s.wait.cancel)
	h.q.until(t, "cancelled", func() bool { return !s.wait.box.Visible() })
	h.mustShow("Logowanie przez Microsoft przerwane.")
}

// sandboxWiring is the real wiring against a sandbox started for the test
// (no approve pages: a browser that follows redirects signs in), with one
// request per hand-off attempt and no waiting between attempts.
func sandboxWiring(t *testing.T) (*wiring, *sandbox.Sandbox) {
	t.Helper()
	sb, err := sandbox.Start(context.Background(), sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	table, err := sb.TableWith(nil)
	if err != nil {
		t.Fatal(err)
	}
	w := newWiring(&world.World{Policy: sb.Policy(), Store: secrets.NewMemory(), ConfigDir: t.TempDir(), Table: table,
		HTTP: sb.HTTPClient(), RootCAs: sb.RootCAs, Offline: true, Opener: sb.Browser().Open,
		Retry: infino.Retry{Attempts: 1}, Sleep: func(context.Context, time.Duration) error { return nil }}, "pl")
	return w, sb
}

// toDone fills the form for the demo account, verifies against the sandbox
// and continues to Done.
func toDone(t *testing.T, h *harness) *doneScreen {
	t.Helper()
	m := h.toManual(sandbox.DemoEmail)
	if m.in.host.Text != "127.0.0.1" {
		t.Fatalf("no autofill for the demo domain: %q", m.in.host.Text)
	}
	h.typeInto(m.password, sandbox.DemoPassword)
	test.Tap(m.next)
	vs := h.wz.verify
	h.q.until(t, "verification", func() bool { return !vs.job.running() && (vs.next.Visible() || vs.retry.Visible()) })
	if !vs.next.Visible() {
		t.Fatalf("verification failed:\n%s\n%s", h.screenText(), h.wz.report())
	}
	test.Tap(vs.next)
	return h.wz.done
}

// handedOff waits until the Done screen has a hand-off result.
func handedOff(t *testing.T, h *harness, d *doneScreen) {
	t.Helper()
	h.q.until(t, "hand-off result", func() bool { return !d.send.running() && d.last.State != "" && !d.activity.Visible() })
}

func TestHandOffThroughTheRealServiceIsSent(t *testing.T) {
	w, sb := sandboxWiring(t)
	h := newHarness(t, "pl_PL.UTF-8", useDeps(w.deps()))
	d := toDone(t, h)
	handedOff(t, h, d)
	h.mustShow("Ustawienia przekazano do Infino Legal.")
	h.mustShow("adres ustawiony przez dział IT") // the sandbox policy sets infinoUrl
	if d.retry.Visible() || d.urlBox.Visible() {
		t.Error("retry or address field shown after success")
	}
	mb := sb.Infino.Mailboxes()
	if len(mb) != 1 || mb[0].Email != sandbox.DemoEmail || mb[0].Password != sandbox.DemoPassword || mb[0].VerifiedAt.IsZero() {
		t.Fatalf("mailboxes %+v", mb)
	}
	if entries, _ := w.Pending(testCtx(t)); len(entries) != 0 {
		t.Errorf("outbox keeps %d entries after success", len(entries))
	}
	// The same mailbox again: already connected.
	h2 := newHarness(t, "pl_PL.UTF-8", useDeps(w.deps()))
	d2 := toDone(t, h2)
	handedOff(t, h2, d2)
	h2.mustShow("była już podłączona")
}

// TestHandOffQueuedThenRetryNow: Infino refuses for now (503), the Done
// screen says the settings wait in the outbox and why; "Spróbuj teraz"
// delivers them. A second window (a later run) finds what still waits.
func TestHandOffQueuedThenRetryNow(t *testing.T) {
	w, sb := sandboxWiring(t)
	sb.Infino.Inject(sandbox.Fault{Status: 503, Count: 2})
	h := newHarness(t, "pl_PL.UTF-8", useDeps(w.deps()))
	d := toDone(t, h)
	handedOff(t, h, d)
	if d.last.State != infino.StateQueued || d.last.EntryID == "" {
		t.Fatalf("result %+v\n%s", d.last, h.screenText())
	}
	h.mustShow("Jeszcze nie przekazano ustawień do Infino Legal.")
	h.mustShow(d.wz.text(infino.KindUnavailable.Message()))
	if !d.retry.Visible() || d.retry.Text != "Spróbuj teraz" {
		t.Fatalf("retry button %q visible %v", d.retry.Text, d.retry.Visible())
	}
	test.Tap(d.retry)
	handedOff(t, h, d)
	if d.last.State != infino.StateQueued {
		t.Fatalf("second 503: %+v", d.last)
	}
	test.Tap(d.retry)
	handedOff(t, h, d)
	if d.last.State != infino.StateSent || sb.Infino.Count() != 1 {
		t.Fatalf("after Retry now: %+v, %d mailboxes\n%s", d.last, sb.Infino.Count(), h.screenText())
	}
	h.mustShow("Ustawienia przekazano do Infino Legal.")
	h.mustNotShow("Spróbuj teraz")
}

// TestEarlierRunsWaiting: a submission left in the outbox by an earlier run
// (Infino down then) is named on Start with its reason after the start-up
// flush (not due yet: nothing sent, no browser), and on Done; "Spróbuj
// teraz" on Start sends it.
func TestEarlierRunsWaiting(t *testing.T) {
	w, sb := sandboxWiring(t)
	sb.Infino.Inject(sandbox.Fault{Status: 503, Count: 1})
	h := newHarness(t, "pl_PL.UTF-8", useDeps(w.deps()))
	handedOff(t, h, toDone(t, h))
	h.wz.Shutdown()

	// A later run on the same outbox and keyring.
	o := w.w
	w2 := newWiring(&world.World{Policy: o.Policy, Store: o.Store, ConfigDir: o.ConfigDir, Table: o.Table, HTTP: o.HTTP,
		RootCAs: o.RootCAs, Offline: true, Opener: o.Opener, Retry: o.Retry, Sleep: o.Sleep}, "pl")
	h2 := newHarness(t, "pl_PL.UTF-8", useDeps(w2.deps()))
	s := h2.wz.start
	h2.q.until(t, "the outbox note", func() bool { return s.pendingBox.Visible() })
	h2.mustShow("Z wcześniejszych uruchomień czekają na przekazanie do Infino Legal (1):")
	h2.mustShow("jan@kancelaria-demo.test — " + h2.wz.text(infino.KindUnavailable.Message()))
	if n := len(sb.Infino.Requests()); n != 1 {
		t.Errorf("the start-up flush sent an entry that is not due: %d requests", n)
	}
	test.Tap(s.pendingRetry)
	h2.q.until(t, "sent from Start", func() bool { return !s.pendingBox.Visible() })
	if sb.Infino.Count() != 1 {
		t.Fatalf("%d mailboxes", sb.Infino.Count())
	}
}

// TestDoneListsOtherWaitingEntries: what else waits shows on Done too, and
// "Spróbuj teraz" there sends it.
func TestDoneListsOtherWaitingEntries(t *testing.T) {
	w, sb := sandboxWiring(t)
	svc, err := w.service()
	if err != nil {
		t.Fatal(err)
	}
	sb.Mail.AddUser("ola@"+sandbox.DemoDomain, "haslo-oli")
	other, _ := sb.Settings("ola@" + sandbox.DemoDomain)
	sb.Infino.Inject(sandbox.Fault{Status: 503, Count: 1})
	if out := svc.Submit(testCtx(t), other, infino.PasswordSecret("haslo-oli"), time.Now()); out.State != infino.StateQueued {
		t.Fatalf("setup: %+v", out)
	}
	h := newHarness(t, "en_GB.UTF-8", useDeps(w.deps()))
	d := toDone(t, h)
	handedOff(t, h, d)
	h.q.until(t, "the other entry", func() bool { return d.others.box.Visible() })
	h.mustShow("The settings were sent to Infino Legal.")
	h.mustShow("Also waiting in the outbox (1):")
	h.mustShow("ola@kancelaria-demo.test — ")
	if !d.retry.Visible() || d.retry.Text != "Retry now" {
		t.Fatalf("no Retry now for the others: %q %v", d.retry.Text, d.retry.Visible())
	}
	test.Tap(d.retry)
	h.q.until(t, "others sent", func() bool { return !d.send.running() && !d.others.box.Visible() })
	if sb.Infino.Count() != 2 || d.last.State != infino.StateSent {
		t.Fatalf("%d mailboxes, %+v", sb.Infino.Count(), d.last)
	}
}

// TestInfinoAddressField: without infinoUrl in the policy the Done screen
// asks for the address (https only), remembers it and then hands over.
func TestInfinoAddressField(t *testing.T) {
	w, sb := sandboxWiring(t)
	w.w.Policy = policy.Default()
	w.w.Policy.Infino = sb.Policy().Infino
	h := newHarness(t, "pl_PL.UTF-8", useDeps(w.deps()))
	d := toDone(t, h)
	h.q.settle()
	if !d.urlBox.Visible() || d.send.running() || len(sb.Infino.Requests()) != 0 {
		t.Fatalf("no address field, or sent without an address:\n%s", h.screenText())
	}
	h.mustShow("Wpisz adres Infino Legal swojej kancelarii")
	if h.focused() != d.urlEntry {
		t.Error("address field not focused")
	}
	for in, want := range map[string]string{
		"":                          "Wpisz adres Infino Legal.",
		"http://kancelaria.example": "Adres musi zaczynać się od https://",
		"kancelaria.infino.legal":   "Adres musi zaczynać się od https://",
		"https://a/b?c=d":           "To nie jest poprawny adres Infino Legal",
	} {
		h.typeInto(d.urlEntry, in)
		test.Tap(d.urlSave)
		if !d.urlMsg.Visible() || !strings.Contains(d.urlMsg.Text, want) {
			t.Errorf("%q: message %q", in, d.urlMsg.Text)
		}
	}
	if u, _, _ := w.InfinoURL(context.Background()); u != "" {
		t.Fatalf("a bad address was remembered: %q", u)
	}
	h.typeInto(d.urlEntry, sb.InfinoURL)
	d.urlEntry.TypedKey(&fyneKeyReturn)
	handedOff(t, h, d)
	if d.last.State != infino.StateSent || sb.Infino.Count() != 1 {
		t.Fatalf("%+v\n%s", d.last, h.screenText())
	}
	if u, fromPolicy, err := w.InfinoURL(context.Background()); u != sb.InfinoURL || fromPolicy || err != nil {
		t.Errorf("remembered %q %v %v", u, fromPolicy, err)
	}
	// A later window starts with the remembered address and sends at once.
	h2 := newHarness(t, "en_GB.UTF-8", useDeps(w.deps()))
	sb.Infino.AddMailbox("x@example.com")
	d2 := toDone(t, h2)
	handedOff(t, h2, d2)
	if d2.urlEntry.Text != sb.InfinoURL {
		t.Errorf("field shows %q", d2.urlEntry.Text)
	}
	h2.mustShow("Infino Legal address")
}

// TestHandOffFieldErrors: a 400 names fields; Done lists them in words and
// "Popraw w formularzu" opens the form at the first one with the message.
func TestHandOffFieldErrors(t *testing.T) {
	w, sb := sandboxWiring(t)
	sb.Infino.Inject(sandbox.Fault{Status: 400, Body: `{"error":"invalid_settings","errors":[` +
		`{"field":"incoming.host","code":"host_unreachable","message":"Infino nie łączy się z tym serwerem."},` +
		`{"field":"secret.password","code":"weak","message":"Hasło jest za krótkie."}]}`})
	h := newHarness(t, "pl_PL.UTF-8", useDeps(w.deps()))
	d := toDone(t, h)
	handedOff(t, h, d)
	if d.last.State != infino.StateFailed || len(d.last.Fields) != 2 {
		t.Fatalf("%+v", d.last)
	}
	h.mustShow("Infino Legal nie przyjęło tych ustawień:")
	h.mustShow("• Poczta przychodząca · " + tr("manual.host") + ": Infino nie łączy się z tym serwerem.")
	h.mustShow("• " + tr("manual.password") + ": Hasło jest za krótkie.")
	if !d.fix.Visible() || !d.retry.Visible() {
		t.Fatal("no way to correct or retry")
	}
	test.Tap(d.fix)
	m := h.wz.manual
	if h.wz.current != m || h.focused() != m.in.host {
		t.Fatalf("not at the refused field: %T %v", h.wz.current, h.focused())
	}
	h.mustShow("Infino nie łączy się z tym serwerem.")
}

// demoBrowser is a person's browser on the demo's visible approve pages:
// it follows their meta refresh (plain http, as a real browser would).
func demoBrowser(t *testing.T) func(context.Context, string) error {
	refresh := regexp.MustCompile(`content="1;url=([^"]+)"`)
	return func(ctx context.Context, u string) error {
		go func() {
			get := func(u string) []byte {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return nil
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return b
			}
			if m := refresh.FindSubmatch(get(u)); m != nil {
				get(html.UnescapeString(string(m[1])))
			} else {
				t.Errorf("no approve page at %s", u)
			}
		}()
		return nil
	}
}

// TestDemoMode: --demo's wiring, in process: the header marks the demo and
// gives the accounts; the demo address autofills, verifies against the
// sandbox mail servers and is handed to the sandbox Infino through its sign-in
// page; Microsoft sign-in goes through the sandbox Microsoft and is handed
// over too; closing the window closes the sandbox.
func TestDemoMode(t *testing.T) {
	if ok, _ := parseArgs([]string{"--demo"}); !ok {
		t.Fatal("--demo not parsed")
	}
	wld, sb, err := sandbox.World(context.Background(), sandbox.WorldOptions{Options: sandbox.Options{Demo: true}, Open: demoBrowser(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	deps := newWiring(wld, setLang(t, "pl_PL.UTF-8")).deps()
	deps.Close = func() { sb.Close() }
	h := newHarness(t, "pl_PL.UTF-8", useDeps(deps))
	h.mustShow("Tryb demonstracyjny")
	h.mustShow(sandbox.DemoEmail)
	h.mustShow(sandbox.DemoPassword)
	h.mustShow(sandbox.MicrosoftEmail)
	h.mustShow(sandbox.DemoGoogleAddress)
	h.mustShow(sandbox.DemoConsentAddress)
	d := toDone(t, h)
	handedOff(t, h, d)
	h.mustShow("(serwer demonstracyjny w aplikacji)")
	if d.last.State != infino.StateSent || sb.Infino.Count() != 1 {
		t.Fatalf("%+v\n%s", d.last, h.screenText())
	}

	// Microsoft, in a second window of the same process.
	h2 := newHarness(t, "pl_PL.UTF-8", useDeps(deps))
	h2.typeInto(h2.wz.start.email, sandbox.MicrosoftEmail)
	if b := h2.wz.start.button("microsoft"); b == nil || b.Importance != widgetHigh {
		t.Error("the Microsoft demo domain is not recommended Microsoft sign-in")
	}
	test.Tap(h2.wz.start.button("microsoft"))
	vs := func() *verifyScreen { return h2.wz.verify }
	h2.q.until(t, "verified after Microsoft", func() bool {
		return h2.wz.current == vs() && !vs().job.running() && (vs().next.Visible() || vs().retry.Visible())
	})
	if !vs().next.Visible() || h2.wz.settings.Incoming.Host != "127.0.0.1" {
		t.Fatalf("%+v\n%s", h2.wz.settings, h2.screenText())
	}
	test.Tap(vs().next)
	d2 := h2.wz.done
	handedOff(t, h2, d2)
	if d2.last.State != infino.StateSent || sb.Infino.Count() != 2 {
		t.Fatalf("%+v", d2.last)
	}
	if mb := sb.Infino.Mailboxes()[1]; mb.SecretType != infino.SecretOAuth2 || mb.Email != sandbox.MicrosoftEmail {
		t.Errorf("mailbox %+v", mb)
	}
	h2.wz.Shutdown()
	select {
	case <-sb.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("closing the window did not close the sandbox")
	}
}

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		demo bool
		bad  bool
	}{{nil, false, false}, {[]string{"--demo"}, true, false}, {[]string{"-demo"}, true, false},
		{[]string{"--demo=false"}, false, false}, {[]string{"--bogus"}, false, true}, {[]string{"--demo", "x"}, false, true}} {
		demo, err := parseArgs(tc.args)
		if demo != tc.demo || (err != nil) != tc.bad {
			t.Errorf("%v: demo %v err %v", tc.args, demo, err)
		}
	}
}

var fyneKeyReturn = fyne.KeyEvent{Name: fyne.KeyReturn}

const widgetHigh = widget.HighImportance
