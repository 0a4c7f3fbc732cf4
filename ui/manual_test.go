package ui

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/verify"
)

func TestAutofillAsYouType(t *testing.T) {
	h := newHarness(t, "pl_PL.UTF-8", nil)
	m := h.toManual("")
	h.typeInto(m.email, "jan.kowalski@wp.pl")
	if got := m.in.host.Text; got != "imap.wp.pl" {
		t.Errorf("incoming host = %q", got)
	}
	if m.in.port.Text != "993" || m.out.host.Text != "smtp.wp.pl" || m.out.port.Text != "465" {
		t.Errorf("servers = %s:%s, %s:%s", m.in.host.Text, m.in.port.Text, m.out.host.Text, m.out.port.Text)
	}
	if m.in.user.Text != "jan.kowalski@wp.pl" || m.out.user.Text != "jan.kowalski@wp.pl" {
		t.Errorf("usernames = %q, %q", m.in.user.Text, m.out.user.Text)
	}
	// The provider's help is there before any failure, and the note says
	// where the settings came from.
	h.mustShow("Programy pocztowe")
	h.mustShow("Wirtualna Polska")
	h.mustShow("wbudowana lista dostawców")
	// Typing on, to another provider, follows it.
	h.typeInto(m.email, "jan.kowalski@gmail.com")
	if m.in.host.Text != "imap.gmail.com" || m.out.host.Text != "smtp.gmail.com" {
		t.Errorf("after the change: %q, %q", m.in.host.Text, m.out.host.Text)
	}
	h.mustShow("hasło aplikacji")
	// POP3 takes the provider's POP3 server.
	m.in.proto.SetSelected("POP3")
	if m.in.host.Text != "pop.gmail.com" || m.in.port.Text != "995" {
		t.Errorf("POP3: %s:%s", m.in.host.Text, m.in.port.Text)
	}
}

func TestAutofillNeverOverwritesHandEdits(t *testing.T) {
	h := newHarness(t, "pl_PL.UTF-8", nil)
	m := h.toManual("jan@gmail.com")
	h.typeInto(m.in.host, "mail.kancelaria.pl")
	h.typeInto(m.out.port, "587")
	h.typeInto(m.email, "jan.kowalski@wp.pl")
	if m.in.host.Text != "mail.kancelaria.pl" {
		t.Errorf("hand-typed incoming host overwritten: %q", m.in.host.Text)
	}
	if m.out.port.Text != "587" {
		t.Errorf("hand-typed outgoing port overwritten: %q", m.out.port.Text)
	}
	if m.out.host.Text != "smtp.wp.pl" || m.in.port.Text != "993" {
		t.Errorf("untouched fields not filled: %q %q", m.out.host.Text, m.in.port.Text)
	}
	// An unknown domain clears what autofill put there, never the user's.
	h.typeInto(m.email, "biuro@kancelaria-nowak.pl")
	if m.in.host.Text != "mail.kancelaria.pl" || m.out.host.Text != "" {
		t.Errorf("unknown domain: %q %q", m.in.host.Text, m.out.host.Text)
	}
	if m.in.user.Text != "biuro@kancelaria-nowak.pl" {
		t.Errorf("username guess = %q", m.in.user.Text)
	}
	h.mustShow(mailcfg.NotFoundMessage.PL)
	h.mustNotShow("Programy pocztowe")
}

func TestAutofillDebouncedOffTheUIGoroutine(t *testing.T) {
	h := newHarness(t, "pl_PL.UTF-8", func(d *Deps) { d.Debounce = 20e6 })
	m := h.toManual("")
	h.typeInto(m.email, "jan@wp.pl")
	if m.in.host.Text != "" {
		t.Fatalf("autofill ran before the pause: %q", m.in.host.Text)
	}
	h.q.until(t, "debounced autofill", func() bool { return m.in.host.Text == "imap.wp.pl" })
}

func TestInvalidPortDisablesContinue(t *testing.T) {
	h := newHarness(t, "pl_PL.UTF-8", nil)
	m := h.toManual("jan@wp.pl")
	h.typeInto(m.password, "sekret")
	if m.next.Disabled() {
		t.Fatalf("Continue disabled for a complete form: %s", h.screenText())
	}
	for _, bad := range []string{"70000", "0", "abc", ""} {
		h.typeInto(m.in.port, bad)
		if !m.next.Disabled() {
			t.Errorf("port %q: Continue enabled", bad)
		}
		if bad != "" && !strings.Contains(m.fields["incoming.port"].msg.Text, "od 1 do 65535") {
			t.Errorf("port %q: message %q", bad, m.fields["incoming.port"].msg.Text)
		}
	}
	h.typeInto(m.in.port, "993")
	if m.next.Disabled() || m.fields["incoming.port"].msg.Visible() {
		t.Errorf("fixed port still refused")
	}
}

func TestAddressMessages(t *testing.T) {
	for _, tc := range []struct {
		locale, in, want string
	}{
		{"pl_PL.UTF-8", "jan.kowalski", "brakuje znaku @"},
		{"en_US.UTF-8", "jan.kowalski", "missing the @ sign"},
		{"pl_PL.UTF-8", "jan@exa_mple.pl", "Domena po @ jest niepoprawna"},
		{"pl_PL.UTF-8", "jan@kancelaria", "musi zawierać kropkę"},
		{"pl_PL.UTF-8", "jan@@wp.pl", "tylko jeden znak @"},
	} {
		h := newHarness(t, tc.locale, nil)
		m := h.toManual("")
		h.typeInto(m.email, tc.in)
		if m.fields["email"].msg.Visible() {
			t.Errorf("%q: message shown while still typing", tc.in)
		}
		h.w.Canvas().FocusNext() // leave the field
		if got := m.fields["email"].msg.Text; !strings.Contains(got, tc.want) || !m.fields["email"].msg.Visible() {
			t.Errorf("%s %q: message %q, want %q", tc.locale, tc.in, got, tc.want)
		}
		if !m.next.Disabled() {
			t.Errorf("%q: Continue enabled", tc.in)
		}
	}
}

func TestIDNAddressIsAccepted(t *testing.T) {
	h := newHarness(t, "pl_PL.UTF-8", nil)
	m := h.toManual("")
	h.typeInto(m.email, "jan@kancelaria-żółć.pl")
	h.typeInto(m.password, "sekret")
	h.typeInto(m.in.host, "mail.kancelaria-żółć.pl")
	h.typeInto(m.out.host, "mail.kancelaria-żółć.pl")
	if m.fields["email"].msg.Visible() || m.next.Disabled() {
		t.Fatalf("IDN address refused: %s", h.screenText())
	}
	s := m.settings().Normalized()
	if s.Email != "jan@xn--kancelaria--0eb4xn3ak0a.pl" || s.Incoming.Host != "mail.xn--kancelaria--0eb4xn3ak0a.pl" {
		t.Errorf("normalized = %q, %q", s.Email, s.Incoming.Host)
	}
}

func TestTLSUncheckedWarnsAndPolicyForbids(t *testing.T) {
	h := newHarness(t, "pl_PL.UTF-8", nil)
	m := h.toManual("jan@wp.pl")
	h.typeInto(m.password, "sekret")
	test.Tap(m.tls)
	if m.tls.Checked {
		t.Fatal("TLS still checked")
	}
	h.mustShow("jawnym tekstem")
	h.mustShow("Zasady kancelarii nie pozwalają")
	if !m.next.Disabled() {
		t.Error("Continue enabled without encryption against the policy")
	}
	if m.insecure.Visible() {
		t.Error("override offered although the policy forbids it")
	}
	if m.in.port.Text != "143" || m.out.port.Text != "587" {
		t.Errorf("ports without TLS: %s, %s", m.in.port.Text, m.out.port.Text)
	}
	test.Tap(m.tls)
	if m.next.Disabled() || m.tlsWarn.box.Visible() || m.in.port.Text != "993" {
		t.Errorf("TLS back on: disabled=%v warn=%v port=%s", m.next.Disabled(), m.tlsWarn.box.Visible(), m.in.port.Text)
	}
}

func TestTLSUncheckedPolicyAllows(t *testing.T) {
	v := &fakeVerifier{fn: func(context.Context, mailcfg.Settings, VerifyOptions) verify.Result { return okResult() }}
	var gotOpt VerifyOptions
	v.fn = func(_ context.Context, _ mailcfg.Settings, o VerifyOptions) verify.Result {
		gotOpt = o
		return okResult()
	}
	h := newHarness(t, "en_GB.UTF-8", func(d *Deps) { d.Policy.AllowInsecure = true; d.Verify = v.verify })
	m := h.toManual("jan@wp.pl")
	h.typeInto(m.password, "secret")
	test.Tap(m.tls)
	h.mustShow("clear text")
	if !m.insecure.Visible() || !m.next.Disabled() {
		t.Fatalf("override not offered or Continue enabled before consent")
	}
	test.Tap(m.insecure)
	if m.next.Disabled() {
		t.Fatalf("Continue disabled after explicit consent: %s", h.screenText())
	}
	test.Tap(m.next)
	h.q.until(t, "verification", func() bool { return v.count() == 1 && !h.wz.verify.job.running() })
	if s := v.calls[0]; s.Incoming.Security != mailcfg.SecurityNone || !gotOpt.AllowInsecure || !gotOpt.InsecureOverride {
		t.Errorf("verifier got %+v / %+v", s.Incoming, gotOpt)
	}
}

func TestEnterMovesOnAndTabFollowsTheLayout(t *testing.T) {
	h := newHarness(t, "pl_PL.UTF-8", nil)
	m := h.toManual("")
	h.w.Canvas().Focus(m.email)
	test.Type(m.email, "jan@wp.pl")
	m.email.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if h.focused() != m.password {
		t.Fatalf("Enter in the address focused %T", h.focused())
	}
	// Tab walks the fields in the order they are laid out.
	want := []*fieldEntry{m.email, m.password, m.in.host, m.in.port, m.in.user, m.out.host, m.out.port, m.out.user}
	var got []*fieldEntry
	h.w.Canvas().Focus(m.email)
	for i := 0; i < 40 && len(got) < len(want); i++ {
		if e, ok := h.focused().(*fieldEntry); ok {
			if len(got) == 0 || got[len(got)-1] != e {
				got = append(got, e)
			}
		}
		h.w.Canvas().FocusNext()
	}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Fatalf("tab order differs at %d", i)
		}
	}
	// Enter in the last field with everything valid starts the check.
	v := &fakeVerifier{fn: func(context.Context, mailcfg.Settings, VerifyOptions) verify.Result { return okResult() }}
	h.wz.deps.Verify = v.verify
	h.typeInto(m.password, "sekret")
	m.out.user.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if h.wz.current != h.wz.verify {
		t.Fatal("Enter in the last field did not start verification")
	}
	h.q.settle()
}

func TestContinueWithProblemsShowsThemAll(t *testing.T) {
	h := newHarness(t, "pl_PL.UTF-8", nil)
	m := h.toManual("")
	m.onNext()
	if h.wz.current != h.wz.manual {
		t.Fatal("left the form with an empty address")
	}
	if h.focused() != m.email {
		t.Errorf("first problem not focused: %T", h.focused())
	}
	h.mustShow("Wpisz adres e-mail.")
	h.mustShow("Wpisz hasło do skrzynki.")
	h.mustShow("Wpisz adres serwera.")
}

func TestStartHighlightsMicrosoft(t *testing.T) {
	h := newHarness(t, "pl_PL.UTF-8", func(d *Deps) { d.Policy.Microsoft.ClientID = "x" })
	s := h.wz.start
	h.typeInto(s.email, "jan@outlook.com")
	if ms := s.button("microsoft"); ms == nil || ms.Importance != widget.HighImportance || s.manual.Importance == widget.HighImportance {
		t.Errorf("Microsoft address: ms=%v manual=%v", ms, s.manual.Importance)
	}
	h.mustShow("To adres Microsoft")
	h.typeInto(s.email, "jan@wp.pl")
	if ms := s.button("microsoft"); ms == nil || ms.Importance == widget.HighImportance || s.manual.Importance != widget.HighImportance {
		t.Errorf("WP address: ms=%v manual=%v", ms, s.manual.Importance)
	}
	// Enter takes the highlighted way, carrying the address.
	s.email.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if h.wz.current != h.wz.manual || h.wz.manual.email.Text != "jan@wp.pl" {
		t.Fatalf("Enter on Start: screen %T, email %q", h.wz.current, h.wz.manual.email.Text)
	}
}

func TestPolicyWithoutManual(t *testing.T) {
	h := newHarness(t, "pl_PL.UTF-8", func(d *Deps) { d.Policy.AllowManual = false })
	if h.wz.start.manual.Visible() {
		t.Error("manual way offered against the policy")
	}
	h.mustShow("tylko przez logowanie u dostawcy poczty")
}
