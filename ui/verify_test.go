package ui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/verify"
	"infino.legal/mailbox/ui/form"
)

// filled goes to a complete form for jan@wp.pl with password "sekret-123".
func filled(t *testing.T, locale string, v *fakeVerifier, mod func(*Deps)) (*harness, *manualScreen) {
	h := newHarness(t, locale, func(d *Deps) {
		if v != nil {
			d.Verify = v.verify
		}
		if mod != nil {
			mod(d)
		}
	})
	m := h.toManual("jan.kowalski@wp.pl")
	h.typeInto(m.password, "sekret-123")
	if m.next.Disabled() {
		t.Fatalf("form not complete: %s", h.screenText())
	}
	return h, m
}

func TestVerifySuccessShowsTicksThenDone(t *testing.T) {
	v := &fakeVerifier{fn: func(_ context.Context, _ mailcfg.Settings, o VerifyOptions) verify.Result {
		for _, st := range []verify.Step{verify.StepResolve, verify.StepConnect, verify.StepTLS, verify.StepGreeting, verify.StepLogin} {
			o.Progress(verify.Event{Side: verify.Incoming, Step: st})
			o.Progress(verify.Event{Side: verify.Outgoing, Step: st})
		}
		o.Progress(verify.Event{Side: verify.Incoming, Step: verify.StepDone, Elapsed: 400 * time.Millisecond})
		o.Progress(verify.Event{Side: verify.Outgoing, Step: verify.StepDone, Elapsed: 500 * time.Millisecond})
		return okResult()
	}}
	h, m := filled(t, "pl_PL.UTF-8", v, nil)
	test.Tap(m.next)
	vs := h.wz.verify
	if h.wz.current != vs || !vs.cancel.Visible() {
		t.Fatal("verification screen without Cancel")
	}
	h.mustShow("Poczta przychodząca (IMAP)")
	h.mustShow("imap.wp.pl:993 · szyfrowane (TLS)")
	h.q.until(t, "result", func() bool { return vs.next.Visible() })
	if vs.in.state != rowOK || vs.out.state != rowOK {
		t.Errorf("rows %v %v", vs.in.state, vs.out.state)
	}
	h.mustShow("Połączono i zalogowano (0,4 s)")
	h.mustShow("Wszystko działa")
	if vs.cancel.Visible() || h.focused() != vs.next {
		t.Errorf("after success: cancel visible=%v, focus %T", vs.cancel.Visible(), h.focused())
	}
	s := v.calls[0]
	if s.Email != "jan.kowalski@wp.pl" || s.Incoming.Host != "imap.wp.pl" || s.Outgoing.Port != 465 || s.Auth != mailcfg.AuthPassword {
		t.Errorf("verified %+v", s)
	}
	if p, ok := v.creds[0].(verify.Password); !ok || p != "sekret-123" {
		t.Errorf("credential %#v", v.creds[0])
	}
	test.Tap(vs.next)
	if h.wz.current != h.wz.done {
		t.Fatal("Continue did not open Done")
	}
	h.mustShow("Skrzynka działa")
	h.mustShow("IMAP · imap.wp.pl:993 · szyfrowane (TLS)")
	h.mustShow("Wirtualna Polska")
	h.mustNotShow("Infino Legal…") // no hand-off yet: summary only
	h.mustNotShow("sekret-123")
}

// Every failure kind renders its own headline and the classified message,
// and (with a field) focuses that field back on the form.
func TestVerifyFailureKinds(t *testing.T) {
	fields := map[mailcfg.Kind]string{
		mailcfg.KindDNS: "incoming.host", mailcfg.KindConnect: "incoming.port", mailcfg.KindTimeout: "outgoing.host",
		mailcfg.KindTLSCertificate: "incoming.certSha256", mailcfg.KindTLSUnavailable: "outgoing.security",
		mailcfg.KindAuthFailed: "password", mailcfg.KindAppPasswordRequired: "password", mailcfg.KindAuthDisabled: "",
		mailcfg.KindProtocol: "outgoing.port",
	}
	for _, locale := range []string{"pl_PL.UTF-8", "en_US.UTF-8"} {
		for _, k := range mailcfg.Kinds {
			if k == mailcfg.KindCancelled {
				continue
			}
			f := &mailcfg.Failure{Kind: k, Field: fields[k],
				Message: mailcfg.Text{PL: "Wiadomość PL " + string(k), EN: "Message EN " + string(k)},
				Detail:  "S: a001 NO [AUTHENTICATIONFAILED] secret reply"}
			if p := mailcfg.Bundled().ByDomain("wp.pl"); k == mailcfg.KindAuthFailed || k == mailcfg.KindAuthDisabled || k == mailcfg.KindAppPasswordRequired {
				f.Hint = mailcfg.NewFailure(k, "incoming", p).Hint // as verification attaches it
			}
			if k == mailcfg.KindTLSCertificate {
				f.Certificate = &mailcfg.CertInfo{SHA256: strings.Repeat("ab", 32), Subject: "CN=mail.example.pl", Issuer: "CN=Firm CA"}
			}
			v := &fakeVerifier{fn: func(_ context.Context, _ mailcfg.Settings, o VerifyOptions) verify.Result {
				o.Progress(verify.Event{Side: verify.Incoming, Step: verify.StepLogin, Failure: f})
				return verify.Result{Incoming: verify.SideResult{Failure: f}, Outgoing: verify.SideResult{OK: true}}
			}}
			h, m := filled(t, locale, v, nil)
			test.Tap(m.next)
			vs := h.wz.verify
			h.q.until(t, "failure", func() bool { return vs.retry.Visible() })
			pl := locale[:2] == "pl"
			msg := map[bool]string{true: "Wiadomość PL ", false: "Message EN "}[pl] + string(k)
			h.mustShow(tr("kind." + string(k)))
			h.mustShow(msg)
			h.mustNotShow("AUTHENTICATIONFAILED")
			if vs.in.state != rowFailed || vs.out.state != rowOK {
				t.Errorf("%s: rows %v %v", k, vs.in.state, vs.out.state)
			}
			if k == mailcfg.KindAuthFailed || k == mailcfg.KindAuthDisabled || k == mailcfg.KindAppPasswordRequired {
				// The provider's help, attached by verification, shows.
				h.mustShow("Programy pocztowe")
			}
			if k == mailcfg.KindTLSCertificate {
				h.mustShow("ab:ab:ab")
				h.mustShow(tr("verify.cert.trust"))
			}
			if fields[k] == "" {
				// Nothing to point at: still a way back to the form.
				test.Tap(vs.fix)
				if h.wz.current != h.wz.manual {
					t.Errorf("%s: fix did not go back", k)
				}
				continue
			}
			if !vs.fix.Visible() || h.focused() != vs.fix {
				t.Fatalf("%s: fix button visible=%v focused=%T", k, vs.fix.Visible(), h.focused())
			}
			test.Tap(vs.fix)
			fld := m.fields[form.Field(fields[k])]
			if h.wz.current != m || h.focused() != fld.input.(fyne.Focusable) {
				t.Errorf("%s: field %s not focused (focus %T)", k, fields[k], h.focused())
			}
			if !fld.msg.Visible() || fld.msg.Text != msg {
				t.Errorf("%s: message under the field = %q", k, fld.msg.Text)
			}
			if m.next.Disabled() {
				t.Errorf("%s: a server's complaint must not block trying again", k)
			}
		}
	}
}

func TestVerifyHintAndBothSides(t *testing.T) {
	f := &mailcfg.Failure{Kind: mailcfg.KindAuthFailed, Field: "password",
		Message: mailcfg.Text{PL: "Serwer odrzucił hasło.", EN: "The server rejected the password."},
		Hint:    mailcfg.Text{PL: "Włącz dostęp IMAP w ustawieniach.", EN: "Enable IMAP access in the settings."}}
	v := &fakeVerifier{fn: func(context.Context, mailcfg.Settings, VerifyOptions) verify.Result {
		return verify.Result{Incoming: verify.SideResult{Failure: f}, Outgoing: verify.SideResult{Failure: f}}
	}}
	h, m := filled(t, "pl_PL.UTF-8", v, nil)
	test.Tap(m.next)
	h.q.until(t, "failure", func() bool { return h.wz.verify.fix.Visible() })
	h.mustShow("Oba serwery: Błędna nazwa użytkownika lub hasło")
	h.mustShow("Włącz dostęp IMAP w ustawieniach.")
	if n := strings.Count(h.screenText(), "Serwer odrzucił hasło."); n != 1 {
		t.Errorf("the same failure told %d times", n)
	}
}

func TestCancelStopsTheVerifier(t *testing.T) {
	stopped := make(chan error, 1)
	v := &fakeVerifier{fn: func(ctx context.Context, _ mailcfg.Settings, o VerifyOptions) verify.Result {
		o.Progress(verify.Event{Side: verify.Incoming, Step: verify.StepResolve})
		<-ctx.Done() // a server that never answers
		stopped <- ctx.Err()
		c := &mailcfg.Failure{Kind: mailcfg.KindCancelled}
		return verify.Result{Incoming: verify.SideResult{Failure: c}, Outgoing: verify.SideResult{Failure: c}}
	}}
	h, m := filled(t, "pl_PL.UTF-8", v, nil)
	test.Tap(m.next)
	vs := h.wz.verify
	h.q.until(t, "progress", func() bool { return strings.Contains(vs.in.step.Text, "Łączę") })
	test.Tap(vs.cancel)
	select {
	case err := <-stopped:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("verifier context: %v", err)
		}
	case <-time.After(20 * time.Second): // only a hang ends up here
		t.Fatal("Cancel did not reach the verifier")
	}
	h.q.settle()
	if vs.in.state != rowCancelled || vs.cancel.Visible() || !vs.retry.Visible() {
		t.Errorf("after cancel: row %v cancel %v retry %v", vs.in.state, vs.cancel.Visible(), vs.retry.Visible())
	}
	h.mustShow("Sprawdzanie przerwane")
	if !h.wz.record.Cancelled {
		t.Error("report does not know it was cancelled")
	}
}

func TestGoingBackKeepsEverything(t *testing.T) {
	f := &mailcfg.Failure{Kind: mailcfg.KindAuthFailed, Field: "password", Message: mailcfg.Text{PL: "Złe hasło.", EN: "Wrong password."}}
	v := &fakeVerifier{fn: func(context.Context, mailcfg.Settings, VerifyOptions) verify.Result {
		return verify.Result{Incoming: verify.SideResult{Failure: f}, Outgoing: verify.SideResult{OK: true}}
	}}
	h, m := filled(t, "pl_PL.UTF-8", v, nil)
	h.typeInto(m.in.host, "imap.kancelaria.pl")
	m.in.proto.SetSelected("POP3")
	m.advanced.Open(0)
	m.out.sec.SetSelected(tr("manual.security.starttls"))
	snapshot := func() []string {
		return []string{m.email.Text, m.password.Text, m.in.host.Text, m.in.port.Text, m.in.user.Text,
			m.out.host.Text, m.out.port.Text, m.out.user.Text, m.in.proto.Selected, m.out.sec.Selected}
	}
	before := snapshot()
	test.Tap(m.next)
	h.q.until(t, "failure", func() bool { return h.wz.verify.retry.Visible() })
	test.Tap(h.wz.verify.back)
	if h.wz.current != m {
		t.Fatal("Back did not return to the form")
	}
	test.Tap(m.back)
	if h.wz.start.email.Text != "jan.kowalski@wp.pl" {
		t.Errorf("Start lost the address: %q", h.wz.start.email.Text)
	}
	test.Tap(h.wz.start.manual)
	h.w.Resize(WindowSize.SubtractWidthHeight(300, 200))
	after := snapshot()
	for i := range before {
		if before[i] != after[i] {
			t.Errorf("field %d: %q became %q", i, before[i], after[i])
		}
	}
	if m.out.port.Text != "465" && m.out.port.Text != "587" {
		t.Errorf("outgoing port %q", m.out.port.Text)
	}
}

func TestCertificatePinningNeedsSecondConfirmation(t *testing.T) {
	sha := "3a5f0c9e1b7d24681357acef02468ace13579bdf02468ace13579bdf0246f00d"
	cert := &mailcfg.CertInfo{SHA256: sha, Subject: "CN=mail.kancelaria-nowak.pl", Issuer: "CN=Kancelaria Nowak CA",
		NotBefore: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2028, 1, 5, 0, 0, 0, 0, time.UTC)}
	v := &fakeVerifier{}
	v.fn = func(_ context.Context, s mailcfg.Settings, _ VerifyOptions) verify.Result {
		if s.Incoming.CertSHA256 == sha && s.Outgoing.CertSHA256 == sha {
			return okResult()
		}
		f := &mailcfg.Failure{Kind: mailcfg.KindTLSCertificate, Field: "incoming.certSha256", Certificate: cert,
			Message: mailcfg.Text{PL: "Nieznany wystawca.", EN: "Unknown issuer."}}
		return verify.Result{Incoming: verify.SideResult{Failure: f}, Outgoing: verify.SideResult{Failure: f}}
	}
	h, m := filled(t, "pl_PL.UTF-8", v, nil)
	test.Tap(m.next)
	vs := h.wz.verify
	h.q.until(t, "certificate failure", func() bool { return vs.retry.Visible() })
	h.mustShow("Zaufaj temu certyfikatowi…")
	h.mustShow("3a:5f:0c:9e")
	h.mustShow("CN=Kancelaria Nowak CA")
	test.Tap(vs.trust)
	if vs.trustDlg == nil || v.count() != 1 {
		t.Fatalf("first tap must only ask (dialog %v, calls %d)", vs.trustDlg != nil, v.count())
	}
	h.mustShow("Zaufać temu certyfikatowi?")
	vs.trustDlg.Dismiss()
	h.q.settle()
	if v.count() != 1 || m.in.pin.Text != "" {
		t.Fatalf("dismissing pinned anyway")
	}
	test.Tap(vs.trust)
	vs.trustDlg.Confirm()
	h.q.until(t, "second verification", func() bool { return v.count() == 2 && vs.next.Visible() })
	s := v.calls[1]
	if s.Incoming.CertSHA256 != sha || s.Outgoing.CertSHA256 != sha {
		t.Errorf("pins sent: %q %q", s.Incoming.CertSHA256, s.Outgoing.CertSHA256)
	}
	if m.in.pin.Text != sha || m.out.pin.Text != sha {
		t.Errorf("pins not kept in the form: %q %q", m.in.pin.Text, m.out.pin.Text)
	}
	h.mustShow("zaufany certyfikat")
}

func TestDiagnosticReportHasNoSecrets(t *testing.T) {
	f := &mailcfg.Failure{Kind: mailcfg.KindAuthFailed, Field: "password",
		Message: mailcfg.Text{PL: "Złe hasło.", EN: "Wrong password."},
		Detail:  `imap NO [AUTHENTICATIONFAILED] sekret-123`}
	v := &fakeVerifier{fn: func(_ context.Context, _ mailcfg.Settings, o VerifyOptions) verify.Result {
		o.Progress(verify.Event{Side: verify.Incoming, Step: verify.StepConnect, Elapsed: 30 * time.Millisecond})
		o.Progress(verify.Event{Side: verify.Incoming, Step: verify.StepLogin, Elapsed: 250 * time.Millisecond, Failure: f})
		o.Progress(verify.Event{Side: verify.Outgoing, Step: verify.StepDone, Elapsed: 300 * time.Millisecond})
		return verify.Result{Incoming: verify.SideResult{Failure: f, Elapsed: 250 * time.Millisecond}, Outgoing: verify.SideResult{OK: true, Elapsed: 300 * time.Millisecond}, Elapsed: 300 * time.Millisecond}
	}}
	h, m := filled(t, "pl_PL.UTF-8", v, func(d *Deps) { d.OS = "testOS 1.0" })
	test.Tap(m.next)
	h.q.until(t, "failure", func() bool { return h.wz.verify.fix.Visible() })
	test.Tap(h.wz.verify.report)
	r := h.clip
	for _, want := range []string{"Infino Mailbox", mailcfg.Version, "testOS 1.0", "jan.kowalski@wp.pl", "imap.wp.pl:993",
		"smtp.wp.pl:465", "auth_failed", "Wrong password.", "250 ms", "login", "field: password", "language: pl", "detail: imap NO [AUTHENTICATIONFAILED] [redacted]"} {
		if !strings.Contains(r, want) {
			t.Errorf("report lacks %q:\n%s", want, r)
		}
	}
	for _, bad := range []string{"sekret-123"} {
		if strings.Contains(r, bad) {
			t.Errorf("report contains %q:\n%s", bad, r)
		}
	}
	h.mustShow("Skopiowano do schowka")
}

func TestReportScrubsTypedSecrets(t *testing.T) {
	rec := &runRecord{Settings: mailcfg.Settings{Email: "a@b.pl", Incoming: mailcfg.Server{Username: "hunter22"}}}
	r := buildReport(reportInfo{Version: "1", OS: "x", Lang: "en", Now: time.Unix(0, 0)}, rec, "hunter22", "ab")
	if strings.Contains(r, "hunter22") || !strings.Contains(r, "[redacted]") {
		t.Errorf("password typed as the user name leaked:\n%s", r)
	}
	if r2 := buildReport(reportInfo{}, nil); !strings.Contains(r2, "verification: not run") {
		t.Errorf("empty report:\n%s", r2)
	}
}

func TestVerifyUnavailableWithoutVerifier(t *testing.T) {
	h, m := filled(t, "en_US.UTF-8", nil, nil)
	test.Tap(m.next)
	h.mustShow("not available in this version")
	if h.wz.verify.next.Visible() {
		t.Error("Continue offered without verification")
	}
}

func TestClosingTheWindowStopsTheCheck(t *testing.T) {
	stopped := make(chan struct{})
	v := &fakeVerifier{fn: func(ctx context.Context, _ mailcfg.Settings, _ VerifyOptions) verify.Result {
		<-ctx.Done()
		close(stopped)
		return verify.Result{}
	}}
	h, m := filled(t, "pl_PL.UTF-8", v, nil)
	test.Tap(m.next)
	h.wz.Shutdown()
	select {
	case <-stopped:
	case <-time.After(20 * time.Second): // only a hang ends up here
		t.Fatal("verification still running after the window closed")
	}
}
