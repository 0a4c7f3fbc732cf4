package ui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/discover"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/verify"
)

func TestMicrosoftNeedsClientID(t *testing.T) {
	called := false
	signIn := func(context.Context, SignInRequest, func(string)) (mailcfg.Settings, verify.Credential, error) {
		called = true
		return mailcfg.Settings{}, nil, nil
	}
	for _, tc := range []struct {
		name   string
		signIn SignInFunc
	}{{"not built in", nil}, {"no client id", signIn}} {
		h := newHarness(t, "pl_PL.UTF-8", func(d *Deps) { d.SignIn = tc.signIn })
		test.Tap(h.wz.start.button("microsoft"))
		h.mustShow("microsoft.clientId")
		if called || h.wz.current != h.wz.start {
			t.Errorf("%s: sign-in ran", tc.name)
		}
	}
}

func TestMicrosoftSignInSeam(t *testing.T) {
	tok := verify.OAuth2Token{Username: "jan@outlook.com", AccessToken: "eyJ-secret-token"}
	got := make(chan string, 1)
	proceed := make(chan struct{})
	signIn := func(ctx context.Context, req SignInRequest, showURL func(string)) (mailcfg.Settings, verify.Credential, error) {
		hint := req.LoginHint
		got <- hint
		showURL("https://login.microsoftonline.com/common/oauth2/v2.0/authorize?client_id=x")
		<-proceed
		s, _ := mailcfg.Autofill(hint, mailcfg.IMAP)
		s.Source = mailcfg.SourceMicrosoft
		return s, tok, nil
	}
	v := &fakeVerifier{fn: func(context.Context, mailcfg.Settings, VerifyOptions) verify.Result { return okResult() }}
	h := newHarness(t, "pl_PL.UTF-8", func(d *Deps) {
		d.SignIn = signIn
		d.Verify = v.verify
		d.Policy.Microsoft.ClientID = "00000000-0000-0000-0000-000000000000"
	})
	h.typeInto(h.wz.start.email, "jan@outlook.com")
	test.Tap(h.wz.start.button("microsoft"))
	h.mustShow("Dokończ logowanie w przeglądarce")
	if hint := <-got; hint != "jan@outlook.com" {
		t.Errorf("login hint %q", hint)
	}
	h.q.until(t, "sign-in address", func() bool { return h.wz.start.wait.urlBox.Visible() })
	h.mustShow("https://login.microsoftonline.com/common")
	test.Tap(h.wz.start.wait.copyURL)
	if !strings.HasPrefix(h.clip, "https://login.microsoftonline.com/") {
		t.Errorf("copied %q", h.clip)
	}
	close(proceed)
	h.q.until(t, "verification after sign-in", func() bool { return v.count() == 1 && h.wz.verify.next.Visible() })
	if c, ok := v.creds[0].(verify.OAuth2Token); !ok || c != tok {
		t.Errorf("credential %#v", v.creds[0])
	}
	test.Tap(h.wz.verify.next)
	h.mustShow("kontem Microsoft")
	test.Tap(h.wz.verify.report)
	if r := h.wz.report(); strings.Contains(r, "eyJ-secret-token") {
		t.Errorf("token in the report:\n%s", r)
	}
	// Back from a Microsoft check goes to Start, not the form.
	h.wz.show(h.wz.verify)
	test.Tap(h.wz.verify.back)
	if h.wz.current != h.wz.start {
		t.Error("Back after Microsoft sign-in did not return to Start")
	}
}

func TestMicrosoftSignInCancelAndFailure(t *testing.T) {
	block := make(chan struct{})
	sawCancel := make(chan bool, 1)
	fail := false
	signIn := func(ctx context.Context, _ SignInRequest, _ func(string)) (mailcfg.Settings, verify.Credential, error) {
		if fail {
			return mailcfg.Settings{}, nil, errors.New("invalid_grant")
		}
		select {
		case <-ctx.Done():
			sawCancel <- true
			return mailcfg.Settings{}, nil, ctx.Err()
		case <-block:
			return mailcfg.Settings{}, nil, nil
		}
	}
	h := newHarness(t, "pl_PL.UTF-8", func(d *Deps) { d.SignIn = signIn; d.Policy.Microsoft.ClientID = "x" })
	s := h.wz.start
	test.Tap(s.button("microsoft"))
	if !s.wait.box.Visible() || !s.manual.Disabled() {
		t.Fatal("no waiting state")
	}
	test.Tap(s.wait.cancel)
	if !<-sawCancel {
		t.Fatal("sign-in not cancelled")
	}
	h.q.until(t, "cancel shown", func() bool { return !s.wait.box.Visible() })
	h.mustShow("Logowanie przez Microsoft przerwane.")
	fail = true
	test.Tap(s.button("microsoft"))
	h.q.until(t, "failure shown", func() bool { return !s.wait.box.Visible() })
	h.mustShow("nie powiodło się")
	h.mustNotShow("invalid_grant")
	close(block)
}

func TestHandOffSeam(t *testing.T) {
	sent := make(chan mailcfg.Settings, 4)
	answers := []HandOffResult{
		{State: infino.StateFailed, Message: mailcfg.Text{PL: "Infino odrzuciło dane.", EN: "Infino refused."}},
		{State: infino.StateQueued, Message: mailcfg.Text{PL: "Spróbujemy ponownie za 5 minut.", EN: "Retry in 5 minutes."}},
		{State: infino.StateSent, Message: mailcfg.Text{PL: "Skrzynka jan.kowalski@wp.pl jest podłączona do konta Infino.", EN: "Connected."}},
	}
	var gotCred verify.Credential
	var gotAt time.Time
	handOff := func(_ context.Context, s mailcfg.Settings, cred verify.Credential, at time.Time, _ func(string)) HandOffResult {
		sent <- s
		gotCred, gotAt = cred, at
		r := answers[0]
		answers = answers[1:]
		return r
	}
	v := &fakeVerifier{fn: func(context.Context, mailcfg.Settings, VerifyOptions) verify.Result { return okResult() }}
	h, m := filled(t, "pl_PL.UTF-8", v, func(d *Deps) { d.HandOff = handOff })
	test.Tap(m.next)
	h.q.until(t, "verified", func() bool { return h.wz.verify.next.Visible() })
	test.Tap(h.wz.verify.next)
	d := h.wz.done
	h.q.until(t, "hand-off failure", func() bool { return d.retry.Visible() })
	h.mustShow("Nie udało się przekazać ustawień")
	h.mustShow("Infino odrzuciło dane.")
	if p, ok := gotCred.(verify.Password); !ok || p != "sekret-123" || gotAt.IsZero() {
		t.Errorf("hand-off got %#v at %v", gotCred, gotAt)
	}
	test.Tap(d.retry)
	h.q.until(t, "queued", func() bool { return d.retry.Visible() && d.retry.Text == tr("done.handoff.sendNow") })
	h.mustShow("spróbuje ponownie przy następnym uruchomieniu")
	test.Tap(d.retry)
	h.q.until(t, "sent", func() bool { return !d.activity.Visible() && !d.retry.Visible() })
	h.mustShow("Ustawienia przekazano do Infino Legal.")
	h.mustShow("jest podłączona do konta Infino")
	if s := <-sent; s.Incoming.Host != "imap.wp.pl" {
		t.Errorf("handed off %+v", s)
	}
	// Showing Done again does not send twice.
	h.wz.show(h.wz.done)
	h.q.settle()
	if len(sent) != 2 {
		t.Errorf("sent %d times after the first", len(sent))
	}
}

func TestDiscoverySeamAndLowTrust(t *testing.T) {
	found := func(ctx context.Context, email string, proto mailcfg.Protocol, _ string) <-chan discover.Result {
		ch := make(chan discover.Result, 1)
		s := mailcfg.Settings{Email: email, Auth: mailcfg.AuthPassword, Source: mailcfg.SourceGuess, LowTrust: true,
			Incoming: mailcfg.Server{Protocol: proto, Host: "mail.kancelaria-nowak.pl", Port: 993, Security: mailcfg.SecurityTLS, Username: email},
			Outgoing: mailcfg.Server{Protocol: mailcfg.SMTP, Host: "mail.kancelaria-nowak.pl", Port: 465, Security: mailcfg.SecurityTLS, Username: email}}
		ch <- discover.Result{Settings: s}
		close(ch)
		return ch
	}
	h := newHarness(t, "pl_PL.UTF-8", func(d *Deps) { d.Discover = found })
	m := h.toManual("biuro@kancelaria-nowak.pl")
	h.typeInto(m.password, "sekret")
	h.q.until(t, "discovered settings", func() bool { return m.in.host.Text == "mail.kancelaria-nowak.pl" })
	h.mustShow("odgadnięte — sprawdź je")
	h.mustShow("nie da się w pełni zweryfikować")
	if !m.next.Disabled() || !m.lowOK.Visible() {
		t.Fatal("low-trust settings usable without confirmation")
	}
	test.Tap(m.lowOK)
	if m.next.Disabled() {
		t.Fatalf("confirmed settings still refused: %s", h.screenText())
	}
	if s := m.settings(); !s.LowTrust || s.Source != mailcfg.SourceGuess {
		t.Errorf("settings %+v", s)
	}
}
