package ui

import (
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"strings"
	"sync"
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
	"infino.legal/mailbox/mailcfg/signin"
	"infino.legal/mailbox/mailcfg/verify"
	"infino.legal/mailbox/mailcfg/world"
)

// allConfigured is a policy where firm IT registered the app at every
// provider.
func allConfigured(t *testing.T) policy.Policy {
	t.Helper()
	return itPolicy(t, map[string]any{
		"microsoft.clientId":      "11111111-2222-3333-4444-555555555555",
		"oauth.google.clientId":   "123456789012-abc.apps.googleusercontent.com",
		"oauth.yahoo.clientId":    "dj0yJmk9QWJDZEVmR2hJaktsJmQ9WVdrOWNtRnVaRzl0Sm5BOU1BLS0-",
		"oauth.aol.clientId":      "dj0yJmk9QWJDZEVmR2hJaktsJmQ9WVdrOWNtRnVaRzl0Sm5BOU1BLS0-",
		"oauth.fastmail.clientId": "35c941ae",
	})
}

// mxOf answers MX lookups from a table, as DNS would.
func mxOf(table map[string]string) func(context.Context, string) ([]string, error) {
	return func(_ context.Context, domain string) ([]string, error) {
		if h, ok := table[domain]; ok {
			return []string{h}, nil
		}
		return nil, errors.New("no such domain")
	}
}

// signIns records the sign-ins the window starts and answers with fn (nil:
// a browser that never comes back).
type signIns struct {
	mu      sync.Mutex
	reqs    []SignInRequest
	started chan struct{}
	fn      func(ctx context.Context, req SignInRequest, showURL func(string)) (mailcfg.Settings, verify.Credential, error)
}

func newSignIns() *signIns { return &signIns{started: make(chan struct{}, 16)} }

func (s *signIns) signIn(ctx context.Context, req SignInRequest, showURL func(string)) (mailcfg.Settings, verify.Credential, error) {
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()
	s.started <- struct{}{}
	if s.fn != nil {
		return s.fn(ctx, req, showURL)
	}
	<-ctx.Done()
	return mailcfg.Settings{}, nil, ctx.Err()
}

// wait waits for the next sign-in to start (it posts nothing to the UI).
func (s *signIns) wait(t *testing.T, what string) {
	t.Helper()
	select {
	case <-s.started:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no sign-in started", what)
	}
}

func (s *signIns) last() (SignInRequest, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) == 0 {
		return SignInRequest{}, 0
	}
	return s.reqs[len(s.reqs)-1], len(s.reqs)
}

// Start offers the sign-in of the address's provider: by the table for
// the providers' own domains, by MX for firm domains on Microsoft 365 or
// Google Workspace; Enter takes it, with the address as the login hint.
func TestSignInButtonPerProvider(t *testing.T) {
	pol := allConfigured(t)
	mx := mxOf(map[string]string{
		"kancelaria-nowak.pl":    "kancelarianowak-pl.mail.protection.outlook.com",
		"kancelaria-kowalski.pl": "aspmx.l.google.com",
	})
	si := newSignIns()
	h := newHarness(t, "pl_PL.UTF-8", func(d *Deps) {
		d.Policy = pol
		d.Offers = signin.New(signin.Config{Policy: pol, LookupMX: mx})
		d.SignIn = si.signIn
	})
	s := h.wz.start
	for _, tc := range []struct {
		email, id, button, note string
	}{
		{"jan.kowalski@gmail.com", "google", "Zaloguj przez Google", "To adres Google"},
		{"jan.kowalski@outlook.com", "microsoft", "Zaloguj przez Microsoft", "To adres Microsoft"},
		{"jan.kowalski@yahoo.com", "yahoo", "Zaloguj przez Yahoo", "To adres Yahoo"},
		{"jan.kowalski@aol.com", "aol", "Zaloguj przez AOL", "To adres AOL"},
		{"jan.kowalski@fastmail.com", "fastmail", "Zaloguj przez Fastmail", "To adres Fastmail"},
		{"anna@kancelaria-nowak.pl", "microsoft", "Zaloguj przez Microsoft", "Pocztę domeny kancelaria-nowak.pl obsługuje Microsoft"},
		{"anna@kancelaria-kowalski.pl", "google", "Zaloguj przez Google", "Pocztę domeny kancelaria-kowalski.pl obsługuje Google"},
	} {
		h.typeInto(s.email, tc.email)
		h.q.until(t, tc.email+": its provider", func() bool { return s.byAddress && len(s.offered) == 1 })
		b := s.button(tc.id)
		if b == nil || !b.Visible() || b.Importance != widget.HighImportance || b.Text != tc.button {
			t.Errorf("%s: button %+v, offered %+v", tc.email, b, s.offered)
			continue
		}
		if !strings.Contains(s.signNote.Text, tc.note) || !s.signNote.Visible() {
			t.Errorf("%s: note %q", tc.email, s.signNote.Text)
		}
		if s.manual.Importance == widget.HighImportance {
			t.Errorf("%s: the form is highlighted over the sign-in", tc.email)
		}
	}
	// The MX answer of a firm domain on Microsoft 365 also offers its
	// shared mailboxes; Enter signs in with the typed address as the hint.
	h.typeInto(s.email, "anna@kancelaria-nowak.pl")
	h.q.until(t, "Microsoft by MX", func() bool { return s.button("microsoft") != nil && s.byAddress })
	if !s.shared.Visible() {
		t.Error("no shared mailbox choice for Microsoft 365")
	}
	s.email.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	si.wait(t, "the sign-in")
	if req, _ := si.last(); req.Provider != "microsoft" || req.LoginHint != "anna@kancelaria-nowak.pl" || req.Shared != "" {
		t.Errorf("request %+v", req)
	}
	if !s.wait.box.Visible() || !s.wait.consent.Visible() {
		t.Error("no waiting view with the admin-approval question")
	}
	test.Tap(s.wait.cancel)
	h.q.until(t, "cancelled", func() bool { return !s.wait.running() })
	h.mustShow("Logowanie przez Microsoft przerwane.")
	// A domain nobody knows: the configured sign-ins, the form first.
	h.typeInto(s.email, "jan@kancelaria-bez-mx.pl")
	h.q.settle()
	if s.byAddress || s.manual.Importance != widget.HighImportance || s.button("google") == nil || s.shared.Visible() {
		t.Errorf("unknown domain: byAddress %v, manual %v, offered %+v", s.byAddress, s.manual.Importance, s.offered)
	}
}

// A provider without a client id shows no button: where the user expects
// it, the window says what IT must set (the core's text).
func TestSignInNotConfiguredSaysWhatITMustSet(t *testing.T) {
	for _, tc := range []struct {
		locale, email, id, key, button string
	}{
		{"pl_PL.UTF-8", "jan.kowalski@gmail.com", "google", "oauth.google.clientId", "Zaloguj przez Google"},
		{"en_GB.UTF-8", "jan.kowalski@gmail.com", "google", "oauth.google.clientId", "Sign in with Google"},
		{"pl_PL.UTF-8", "jan.kowalski@outlook.com", "microsoft", "microsoft.clientId", "Zaloguj przez Microsoft"},
	} {
		si := newSignIns()
		h := newHarness(t, tc.locale, func(d *Deps) { d.SignIn = si.signIn })
		s := h.wz.start
		h.typeInto(s.email, tc.email)
		if b := s.button(tc.id); b == nil || b.Visible() {
			t.Errorf("%s %s: button %+v", tc.locale, tc.email, b)
		}
		h.mustNotShow(tc.button)
		h.mustShow(tc.key)
		if !s.setup.box.Visible() || !s.setupTitle.Visible() {
			t.Errorf("%s: the IT text is not where the button would be", tc.email)
		}
		// Enter takes the form, not a sign-in that cannot run.
		s.email.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
		if h.wz.current != h.wz.manual {
			t.Errorf("%s: Enter went to %T", tc.email, h.wz.current)
		}
		if _, n := si.last(); n != 0 {
			t.Errorf("%s: a sign-in ran", tc.email)
		}
	}
}

// consentWorld is the real wiring against the fake Microsoft whose tenant
// requires the administrator's approval, with its XOAUTH2 mail servers.
func consentWorld(t *testing.T) (*wiring, *microsofttest.Server, *microsofttest.Mail) {
	t.Helper()
	t.Setenv(secrets.LockDirEnv, t.TempDir())
	srv := microsofttest.NewServer(t)
	srv.SetAccount(microsofttest.Work)
	mail := srv.StartMail(t)
	pol := policy.Default()
	pol.Microsoft = srv.Policy()
	w := newWiring(&world.World{Policy: pol, Store: secrets.NewMemory(), HTTP: srv.HTTPClient(), RootCAs: mail.RootCAs,
		Opener: srv.Browser().Open, ConfigDir: t.TempDir(), Offline: true,
		MicrosoftSettings: func(addr string) (mailcfg.Settings, error) {
			a, err := mailcfg.ParseAddress(addr)
			return mail.Settings(microsoft.SettingsFor(a, false)), err
		}}, "pl")
	return w, srv, mail
}

// Microsoft 365 answers "Need admin approval": the screen explains it,
// copies the core's request to IT with the admin-consent link, and „Sprawdź
// ponownie” signs in again — still refused until IT approves, then on to
// verification, which logs in.
func TestAdminConsentScreen(t *testing.T) {
	w, srv, mail := consentWorld(t)
	srv.RequireAdminConsent(microsofttest.Work.TenantID)
	h := newHarness(t, "pl_PL.UTF-8", useDeps(w.deps()))
	s := h.wz.start
	h.typeInto(s.email, microsofttest.Work.Email)
	test.Tap(s.button("microsoft"))
	h.q.until(t, "the approval screen", func() bool { return h.wz.current == h.wz.consent && h.wz.consent.ce != nil })
	c := h.wz.consent
	h.mustShow("Potrzebna zgoda administratora")
	h.mustShow("Skopiuj prośbę do działu IT")
	h.mustShow("Sprawdź ponownie")
	h.mustShow("Organizacja w Microsoft 365: kancelaria.example")
	test.Tap(c.copyReq)
	if !strings.Contains(h.clip, c.ce.URL) || !strings.Contains(c.ce.URL, "/adminconsent?") ||
		!strings.HasPrefix(c.ce.URL, srv.URL+"/kancelaria.example/") || !strings.Contains(h.clip, "Dzień dobry") {
		t.Fatalf("copied request:\n%s\nlink %s", h.clip, c.ce.URL)
	}
	h.mustShow("Skopiowano.")

	// Check again before IT approved: the same sign-in runs and is refused.
	authorized := srv.Counts().Authorize
	test.Tap(c.check)
	h.q.until(t, "still refused", func() bool { return !c.wait.running() && c.status.box.Visible() })
	if srv.Counts().Authorize == authorized {
		t.Fatal("check again did not sign in again")
	}
	h.mustShow("Microsoft nadal prosi o zgodę administratora.")
	if h.wz.current != c {
		t.Fatalf("left the approval screen for %T", h.wz.current)
	}

	// IT approves (infino-mailbox admin-consent microsoft), then check again.
	res, err := w.w.SignIn().AdminConsent(testCtx(t), signin.AdminConsentRequest{Provider: "microsoft", Tenant: microsofttest.Work.TenantID})
	if err != nil || !res.Granted {
		t.Fatalf("admin consent: %+v %v", res, err)
	}
	test.Tap(c.check)
	h.q.until(t, "verified", func() bool {
		return h.wz.current == h.wz.verify && !h.wz.verify.job.running() && (h.wz.verify.next.Visible() || h.wz.verify.retry.Visible())
	})
	if !h.wz.verify.next.Visible() {
		t.Fatalf("verification failed:\n%s", h.screenText())
	}
	if n := len(mail.Logins()); n != 2 {
		t.Errorf("%d logins", n)
	}
}

// While the browser waits, „Microsoft prosi o zgodę administratora?” stops
// the sign-in (the approval page never comes back) and opens the same
// screen, with the link built for the address's tenant.
func TestConsentQuestionWhileWaiting(t *testing.T) {
	w, srv, _ := consentWorld(t)
	opened := make(chan string, 1)
	w.w.Opener = func(_ context.Context, u string) error { opened <- u; return nil } // a browser stuck on "Need admin approval"
	h := newHarness(t, "en_GB.UTF-8", useDeps(w.deps()))
	s := h.wz.start
	h.typeInto(s.email, microsofttest.Work.Email)
	test.Tap(s.button("microsoft"))
	h.q.until(t, "the sign-in address", func() bool { return s.wait.urlBox.Visible() })
	<-opened
	h.mustShow("Is Microsoft asking for admin approval?")
	test.Tap(s.wait.consent)
	if s.wait.running() || h.wz.current != h.wz.consent {
		t.Fatal("the sign-in still waits")
	}
	c := h.wz.consent
	h.q.until(t, "the request", func() bool { return c.ce != nil && !c.copyReq.Disabled() })
	h.mustShow("Your administrator's approval is needed")
	test.Tap(c.copyReq)
	if !strings.Contains(h.clip, c.ce.URL) || !strings.HasPrefix(c.ce.URL, srv.URL+"/kancelaria.example/v2.0/adminconsent?") ||
		!strings.Contains(h.clip, "Hello") {
		t.Fatalf("copied:\n%s", h.clip)
	}
	// Back returns to Start, where nothing runs.
	test.Tap(c.back)
	if h.wz.current != h.wz.start || s.wait.running() || s.wait.box.Visible() {
		t.Error("Back did not return to an idle Start")
	}
}

// A shared mailbox: „To skrzynka współdzielona” and its address; the user
// signs in as themselves and the shared address is verified with their
// token; without Full Access the failure is the core's permission message.
func TestSharedMailboxPath(t *testing.T) {
	w, _, mail := consentWorld(t)
	const shared = "biuro@kancelaria.example"
	mail.SetFullAccess(shared, microsofttest.Work.PreferredUsername, true)
	deps := w.deps()
	cfg := w.w.SignIn().Config()
	cfg.LookupMX = mxOf(map[string]string{"kancelaria.example": "kancelaria-example.mail.protection.outlook.com"})
	deps.Offers = signin.New(cfg)
	h := newHarness(t, "pl_PL.UTF-8", useDeps(deps))
	s := h.wz.start
	if s.shared.Visible() {
		t.Fatal("shared mailbox offered before the address")
	}
	h.typeInto(s.email, microsofttest.Work.Email)
	h.q.until(t, "Microsoft 365 by MX", func() bool { return s.shared.Visible() })
	test.Tap(s.shared)
	if !s.sharedBox.Visible() {
		t.Fatal("no shared address field")
	}
	// An incomplete shared address is asked again, nothing runs.
	h.typeInto(s.sharedEntry, "biuro")
	test.Tap(s.button("microsoft"))
	if s.wait.running() {
		t.Fatal("signed in for an incomplete shared address")
	}
	h.mustShow("Wpisz pełny adres skrzynki współdzielonej")
	h.typeInto(s.sharedEntry, shared)
	test.Tap(s.button("microsoft"))
	v := func() *verifyScreen { return h.wz.verify }
	done := func() bool {
		return h.wz.current == v() && !v().job.running() && (v().next.Visible() || v().retry.Visible())
	}
	h.q.until(t, "verified", done)
	if !v().next.Visible() {
		t.Fatalf("verification failed:\n%s", h.screenText())
	}
	st := h.wz.settings
	if st.Email != shared || st.Incoming.Username != shared || st.SignedInAs != microsofttest.Work.Email {
		t.Fatalf("settings %+v", st)
	}
	var sawShared bool
	for _, l := range mail.Logins() {
		sawShared = sawShared || l.OK && l.User == shared
	}
	if !sawShared {
		t.Errorf("no XOAUTH2 login as the shared address: %+v", mail.Logins())
	}
	if r := h.wz.report(); !strings.Contains(r, "way in: Microsoft sign-in") || !strings.Contains(r, "signed in as: "+microsofttest.Work.Email) {
		t.Errorf("report:\n%s", r)
	}
	test.Tap(v().next)
	h.mustShow("kontem Microsoft użytkownika " + microsofttest.Work.Email)

	// Full Access taken away: the check says to ask IT, not "wrong password".
	mail.SetFullAccess(shared, microsofttest.Work.PreferredUsername, false)
	h.wz.show(v())
	v().run()
	h.q.until(t, "refused", done)
	h.mustShow("Brak uprawnień do skrzynki współdzielonej")
	h.mustShow("Full Access")
	h.mustNotShow("Błędna nazwa użytkownika lub hasło")
}

// A Microsoft 365 / Outlook.com address in the form: before any
// verification, the form warns that Microsoft will refuse the password and
// offers its sign-in (or says what IT must set); other addresses get no
// warning.
func TestManualWarnsMicrosoftRefusesPasswords(t *testing.T) {
	si := newSignIns()
	mx := mxOf(map[string]string{"kancelaria-nowak.pl": "kancelarianowak-pl.mail.protection.outlook.com"})
	h := newHarness(t, "pl_PL.UTF-8", func(d *Deps) {
		d.Policy.Microsoft.ClientID = "x"
		d.Offers = signin.New(signin.Config{Policy: d.Policy, LookupMX: mx})
		d.SignIn = si.signIn
	})
	m := h.toManual("jan.kowalski@outlook.com")
	h.typeInto(m.password, "haslo")
	m.in.proto.SetSelected("POP3")
	if !m.signInBox.Visible() || !m.signInBtn.Visible() {
		t.Fatal("no warning for an Outlook.com address")
	}
	h.mustShow("nie przyjmuje już hasła w programach pocztowych")
	h.typeInto(m.email, "jan.kowalski@wp.pl")
	if m.signInBox.Visible() {
		t.Error("warning for a WP address")
	}
	// A firm domain on Microsoft 365, found by MX.
	h.typeInto(m.email, "anna@kancelaria-nowak.pl")
	h.q.until(t, "the MX warning", func() bool { return m.signInBox.Visible() })
	test.Tap(m.signInBtn)
	if h.wz.current != h.wz.start || h.wz.start.email.Text != "anna@kancelaria-nowak.pl" {
		t.Fatalf("the sign-in button went to %T with %q", h.wz.current, h.wz.start.email.Text)
	}
	si.wait(t, "the sign-in")
	if req, _ := si.last(); req.Provider != "microsoft" || req.LoginHint != "anna@kancelaria-nowak.pl" || req.Protocol != mailcfg.POP3 {
		t.Errorf("request %+v (POP3 chosen in the form)", req)
	}
	test.Tap(h.wz.start.wait.cancel)
	h.q.until(t, "cancelled", func() bool { return !h.wz.start.wait.running() })

	// Not configured: the warning says what IT must set, without a button.
	h2 := newHarness(t, "pl_PL.UTF-8", nil)
	m2 := h2.toManual("jan.kowalski@outlook.com")
	if !m2.signInBox.Visible() || m2.signInBtn.Visible() {
		t.Fatal("unconfigured: warning or button wrong")
	}
	h2.mustShow("microsoft.clientId")
}

// A verification failure that the provider's sign-in gets past offers it:
// Microsoft's 5.7.30 / 5.7.3 to a password, Gmail's app-password refusal
// when Google sign-in is configured.
func TestVerifyFailureOffersSignIn(t *testing.T) {
	reject := func(code int, msg string, provider string) VerifyFunc {
		return func(_ context.Context, s mailcfg.Settings, _ verify.Credential, _ VerifyOptions) verify.Result {
			err := fmt.Errorf("%w: %w", verify.ErrAuthRejected, &textproto.Error{Code: code, Msg: msg})
			in := verify.Classify(err, string(verify.Incoming), mailcfg.Bundled().ByID(provider))
			out := verify.Classify(err, string(verify.Outgoing), mailcfg.Bundled().ByID(provider))
			return verify.Result{Incoming: verify.SideResult{Failure: in}, Outgoing: verify.SideResult{Failure: out}}
		}
	}
	for _, tc := range []struct {
		name, email, provider string
		code                  int
		msg, id, button       string
	}{
		{"5.7.30", "jan.kowalski@outlook.com", "outlook.com", 550, "5.7.30 Basic authentication is not supported for Client Submission.", "microsoft", "Zaloguj przez Microsoft"},
		{"5.7.3", "jan.kowalski@outlook.com", "outlook.com", 535, "5.7.3 Authentication unsuccessful", "microsoft", "Zaloguj przez Microsoft"},
		{"5.7.9", "jan.kowalski@gmail.com", "gmail.com", 534, "5.7.9 Application-specific password required.", "google", "Zaloguj przez Google"},
	} {
		si := newSignIns()
		h := newHarness(t, "pl_PL.UTF-8", func(d *Deps) {
			d.Policy = allConfigured(t)
			d.SignIn = si.signIn
			d.Verify = reject(tc.code, tc.msg, tc.provider)
		})
		m := h.toManual(tc.email)
		h.typeInto(m.password, "haslo")
		test.Tap(m.next)
		v := h.wz.verify
		h.q.until(t, tc.name+": failure", func() bool { return !v.job.running() && v.retry.Visible() })
		if v.signInBtn == nil || v.signInBtn.Text != tc.button {
			t.Fatalf("%s: sign-in button %+v\n%s", tc.name, v.signInBtn, h.screenText())
		}
		test.Tap(v.signInBtn)
		si.wait(t, tc.name)
		if req, _ := si.last(); req.Provider != tc.id || req.LoginHint != tc.email || h.wz.current != h.wz.start {
			t.Errorf("%s: request %+v on %T", tc.name, req, h.wz.current)
		}
		test.Tap(h.wz.start.wait.cancel)
		h.q.until(t, "cancelled", func() bool { return !h.wz.start.wait.running() })
	}
	// Google not configured: Gmail's refusal says what IT must set instead.
	h := newHarness(t, "pl_PL.UTF-8", func(d *Deps) { d.Verify = reject(534, "5.7.9 Application-specific password required.", "gmail.com") })
	m := h.toManual("jan.kowalski@gmail.com")
	h.typeInto(m.password, "haslo")
	test.Tap(m.next)
	h.q.until(t, "failure", func() bool { return !h.wz.verify.job.running() && h.wz.verify.retry.Visible() })
	if h.wz.verify.signInBtn != nil {
		t.Error("a sign-in button for an unconfigured provider")
	}
	h.mustShow("oauth.google.clientId")
}

// The demo header names every demo account with the way to try it.
func TestDemoHeaderNamesTheSignInAccounts(t *testing.T) {
	h := newHarness(t, "pl_PL.UTF-8", func(d *Deps) {
		d.Demo = &DemoInfo{Email: "jan@demo.test", Password: "pw", MicrosoftEmail: "anna@m365.test",
			GoogleEmail: "jan@gmail-demo.test", ConsentEmail: "ewa@zgoda.test"}
	})
	for _, s := range []string{"jan@demo.test", "anna@m365.test", "jan@gmail-demo.test", "ewa@zgoda.test"} {
		h.mustShow(s)
	}
}

// The demo's sign-ins through the window, on the sandbox: its Google
// address gets "Zaloguj przez Google" and verifies; its consent-needing
// Microsoft 365 address opens the approval screen, whose link IT follows
// (admin-consent), and „Sprawdź ponownie” then verifies.
func TestDemoSignInsInTheWindow(t *testing.T) {
	t.Setenv(secrets.LockDirEnv, t.TempDir())
	wld, sb, err := sandbox.World(context.Background(), sandbox.WorldOptions{Open: nil})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	wld.Opener = sb.Browser().Open
	deps := newWiring(wld, setLang(t, "pl_PL.UTF-8")).deps()
	h := newHarness(t, "pl_PL.UTF-8", useDeps(deps))
	s := h.wz.start
	verified := func() bool {
		v := h.wz.verify
		return h.wz.current == v && !v.job.running() && (v.next.Visible() || v.retry.Visible())
	}

	h.typeInto(s.email, sandbox.DemoGoogleAddress)
	if b := s.button("google"); b == nil || !b.Visible() || b.Importance != widget.HighImportance {
		t.Fatalf("no Google button for the demo address: %+v", s.offered)
	}
	test.Tap(s.button("google"))
	h.q.until(t, "verified after Google", verified)
	if !h.wz.verify.next.Visible() || h.wz.signedInWith != "google" {
		t.Fatalf("%s", h.screenText())
	}
	test.Tap(h.wz.verify.next)
	h.mustShow("kontem Google")
	// The hand-off carries the Google refresh token the sign-in stored.
	d := h.wz.done
	handedOff(t, h, d)
	if d.last.State != infino.StateSent {
		t.Fatalf("hand-off %+v\n%s", d.last, h.screenText())
	}
	if mb := sb.Infino.Mailboxes(); len(mb) != 1 || mb[0].Email != sandbox.DemoGoogleAddress || mb[0].SecretType != infino.SecretOAuth2 {
		t.Errorf("mailboxes %+v", mb)
	}
	// The Google refresh token and the Infino sign-in stay in the keyring.
	if n := keyringOnly(t, h, wld); n < 3 {
		t.Errorf("looked for %d secrets only", n)
	}

	h2 := newHarness(t, "pl_PL.UTF-8", useDeps(deps))
	h2.typeInto(h2.wz.start.email, sandbox.DemoConsentAddress)
	test.Tap(h2.wz.start.button("microsoft"))
	h2.q.until(t, "the approval screen", func() bool { return h2.wz.current == h2.wz.consent && h2.wz.consent.ce != nil })
	c := h2.wz.consent
	test.Tap(c.copyReq)
	if !strings.Contains(h2.clip, c.ce.URL) || c.ce.Tenant != sandbox.ConsentDomain {
		t.Fatalf("request %+v", c.ce)
	}
	if _, err := wld.SignIn().AdminConsent(testCtx(t), signin.AdminConsentRequest{Provider: "microsoft", Tenant: c.ce.Tenant}); err != nil {
		t.Fatal(err)
	}
	test.Tap(c.check)
	h2.q.until(t, "verified after consent", func() bool {
		v := h2.wz.verify
		return h2.wz.current == v && !v.job.running() && (v.next.Visible() || v.retry.Visible())
	})
	if !h2.wz.verify.next.Visible() {
		t.Fatalf("%s", h2.screenText())
	}
}
