package ui

import (
	"context"
	"testing"

	"fyne.io/fyne/v2/test"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/discover"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/verify"
)

// A valid, trusted certificate for another name: the Verify screen offers
// "Use server X"; one tap switches the host, keeps it in the form and
// verifies again, which passes.
func TestUseTheServerTheCertificateNames(t *testing.T) {
	const other = "server123456.nazwa.pl"
	v := &fakeVerifier{}
	v.fn = func(_ context.Context, s mailcfg.Settings, _ VerifyOptions) verify.Result {
		if s.Incoming.Host == other {
			return okResult()
		}
		f := &mailcfg.Failure{Kind: mailcfg.KindTLSCertificate, Field: "incoming.host",
			Certificate: &mailcfg.CertInfo{SHA256: "ab", Names: []string{other}, Reason: mailcfg.CertWrongHost, SuggestedHost: other},
			Message:     mailcfg.Text{PL: "Certyfikat dla innej nazwy.", EN: "Certificate for another name."}}
		return verify.Result{Incoming: verify.SideResult{Failure: f}, Outgoing: verify.SideResult{OK: true}}
	}
	h, m := filled(t, "pl_PL.UTF-8", v, nil)
	test.Tap(m.next)
	vs := h.wz.verify
	h.q.until(t, "certificate failure", func() bool { return vs.useHost.Visible() })
	h.mustShow("Użyj serwera " + other)
	if vs.trust.Visible() || vs.trustSHA != "" {
		t.Error("pinning offered next to the server the trusted certificate names")
	}
	test.Tap(vs.useHost)
	h.q.until(t, "second verification", func() bool { return v.count() == 2 && vs.next.Visible() })
	if s := v.calls[1]; s.Incoming.Host != other || s.Outgoing.Host != "smtp.wp.pl" || s.Incoming.CertSHA256 != "" {
		t.Errorf("re-check with %+v", s)
	}
	if m.in.host.Text != other {
		t.Errorf("the form keeps %q", m.in.host.Text)
	}
}

// The firm's servers preset by IT and locked fill the form read-only, even
// over what the user typed; another domain's form stays editable.
func TestFirmPresetLocksTheForm(t *testing.T) {
	pol := policy.Default()
	if err := pol.Set("gpo", map[string]any{
		"firmProvider.domains":  []any{"kancelaria-nowak.pl"},
		"firmProvider.incoming": []any{"imaps://poczta.kancelaria-nowak.pl"},
		"firmProvider.outgoing": []any{"submission://poczta.kancelaria-nowak.pl"},
		"lockServerSettings":    true,
	}); err != nil {
		t.Fatal(err)
	}
	fp, err := pol.FirmProvider()
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, "en_US.UTF-8", func(d *Deps) { d.Policy = pol; d.Table = mailcfg.Bundled().WithPreset(fp) })
	m := h.toManual("")
	h.typeInto(m.in.host, "imap.somewhere-else.pl")
	h.typeInto(m.email, "jan@kancelaria-nowak.pl")
	h.q.until(t, "preset filled", func() bool { return m.in.host.Text == "poczta.kancelaria-nowak.pl" })
	if !m.in.host.Disabled() || !m.out.port.Disabled() || !m.in.sec.Disabled() || m.out.port.Text != "587" {
		t.Errorf("preset not locked: host %v port %v %q", m.in.host.Disabled(), m.out.port.Disabled(), m.out.port.Text)
	}
	h.mustShow("servers preset by your IT department")
	h.typeInto(m.email, "jan@wp.pl")
	h.q.until(t, "bundled filled", func() bool { return m.out.host.Text == "smtp.wp.pl" })
	if m.out.host.Disabled() {
		t.Error("another domain's servers stay locked")
	}
}

// Exchange Autodiscover's redirect question and its Exchange-only note come
// through the discovery stream: the window asks, and shows the note.
func TestAutodiscoverQuestionAndNoteInTheForm(t *testing.T) {
	stream := func(ctx context.Context, email string, proto mailcfg.Protocol, _ string) <-chan discover.Result {
		ch := make(chan discover.Result, 4)
		go func() {
			defer close(ch)
			q, answer := discover.NewRedirectQuestion("kancelaria-nowak.pl", "autodiscover.hosting.example")
			ch <- discover.Result{Question: q}
			select {
			case yes := <-answer:
				if !yes {
					ch <- discover.Result{Note: discover.NoteExchangeOnly}
					return
				}
			case <-ctx.Done():
				return
			}
			ch <- discover.Result{Settings: mailcfg.Settings{Email: email, Auth: mailcfg.AuthPassword, Source: mailcfg.SourceAutodiscover,
				Incoming: mailcfg.Server{Protocol: mailcfg.IMAP, Host: "mail.hosting.example", Port: 993, Security: mailcfg.SecurityTLS, Username: email},
				Outgoing: mailcfg.Server{Protocol: mailcfg.SMTP, Host: "mail.hosting.example", Port: 587, Security: mailcfg.SecurityStartTLS, Username: email}}}
		}()
		return ch
	}
	for _, yes := range []bool{true, false} {
		h := newHarness(t, "pl_PL.UTF-8", func(d *Deps) { d.Discover = stream })
		m := h.toManual("biuro@kancelaria-nowak.pl")
		h.q.until(t, "question", func() bool { return m.redirectDlg != nil })
		h.mustShow("autodiscover.hosting.example")
		if yes {
			m.redirectDlg.Confirm()
			h.q.until(t, "settings", func() bool { return m.in.host.Text == "mail.hosting.example" })
			h.mustShow("Autodiscover serwera Exchange")
		} else {
			m.redirectDlg.Dismiss()
			h.q.until(t, "note", func() bool { return m.discNote == discover.NoteExchangeOnly && !m.discovery.running() })
			h.mustShow("Poproś dział IT o włączenie IMAP")
			if m.in.host.Text != "" {
				t.Errorf("host %q after a refusal", m.in.host.Text)
			}
		}
	}
}

// An Exchange that answers only signed-in requests: once the user has typed
// the password, discovery asks again with it and fills the form.
func TestAutodiscoverAgainWithThePassword(t *testing.T) {
	var got []string
	stream := func(ctx context.Context, email string, proto mailcfg.Protocol, password string) <-chan discover.Result {
		got = append(got, password)
		ch := make(chan discover.Result, 2)
		if password == "" {
			ch <- discover.Result{Note: discover.NoteAutodiscoverPassword}
		} else {
			ch <- discover.Result{Settings: mailcfg.Settings{Email: email, Auth: mailcfg.AuthPassword, Source: mailcfg.SourceAutodiscover,
				Incoming: mailcfg.Server{Protocol: mailcfg.IMAP, Host: "ex01.kancelaria-nowak.pl", Port: 993, Security: mailcfg.SecurityTLS, Username: `NOWAK\jan`},
				Outgoing: mailcfg.Server{Protocol: mailcfg.SMTP, Host: "ex01.kancelaria-nowak.pl", Port: 587, Security: mailcfg.SecurityStartTLS, Username: `NOWAK\jan`}}}
		}
		close(ch)
		return ch
	}
	h := newHarness(t, "en_US.UTF-8", func(d *Deps) { d.Discover = stream })
	m := h.toManual("jan@kancelaria-nowak.pl")
	h.q.until(t, "note", func() bool { return m.discNote == discover.NoteAutodiscoverPassword && !m.discovery.running() })
	h.mustShow("Enter your password and we will try again")
	h.typeInto(m.password, "sekret-123")
	h.w.Canvas().Focus(m.in.host)
	h.q.until(t, "signed-in discovery", func() bool { return m.in.host.Text == "ex01.kancelaria-nowak.pl" })
	if len(got) != 2 || got[0] != "" || got[1] != "sekret-123" || m.in.user.Text != `NOWAK\jan` {
		t.Errorf("passwords given to discovery %q, user %q", got, m.in.user.Text)
	}
}

// The firm's servers preset by IT and locked are not switched by a
// certificate for another name: the Verify screen explains the certificate
// but offers no "Use server X", and the form keeps IT's host.
func TestLockedFirmServersOfferNoOtherHost(t *testing.T) {
	pol := policy.Default()
	if err := pol.Set("gpo", map[string]any{
		"firmProvider.domains":  []any{"kancelaria-nowak.pl"},
		"firmProvider.incoming": []any{"imaps://poczta.kancelaria-nowak.pl"},
		"firmProvider.outgoing": []any{"submissions://poczta.kancelaria-nowak.pl"},
		"lockServerSettings":    true,
	}); err != nil {
		t.Fatal(err)
	}
	fp, err := pol.FirmProvider()
	if err != nil {
		t.Fatal(err)
	}
	const other = "server123456.nazwa.pl"
	v := &fakeVerifier{fn: func(context.Context, mailcfg.Settings, VerifyOptions) verify.Result {
		f := &mailcfg.Failure{Kind: mailcfg.KindTLSCertificate, Field: "incoming.host",
			Certificate: &mailcfg.CertInfo{SHA256: "ab", Names: []string{other}, Reason: mailcfg.CertWrongHost, SuggestedHost: other},
			Message:     mailcfg.Text{PL: "Certyfikat dla innej nazwy.", EN: "Certificate for another name."}}
		return verify.Result{Incoming: verify.SideResult{Failure: f}, Outgoing: verify.SideResult{OK: true}}
	}}
	h := newHarness(t, "en_US.UTF-8", func(d *Deps) {
		d.Policy = pol
		d.Table = mailcfg.Bundled().WithPreset(fp)
		d.Verify = v.verify
	})
	m := h.toManual("jan@kancelaria-nowak.pl")
	h.q.until(t, "preset filled", func() bool { return m.in.host.Text == "poczta.kancelaria-nowak.pl" && m.in.host.Disabled() })
	h.typeInto(m.password, "sekret-123")
	test.Tap(m.next)
	vs := h.wz.verify
	h.q.until(t, "certificate failure", func() bool { return v.count() == 1 && vs.retry.Visible() })
	h.q.settle()
	if vs.useHost.Visible() || vs.otherHost != "" {
		t.Errorf("locked servers offered %q", vs.otherHost)
	}
	vs.onUseHost() // even if reached, it changes nothing
	h.q.settle()
	if h.wz.settings.Incoming.Host != "poczta.kancelaria-nowak.pl" || m.in.host.Text != "poczta.kancelaria-nowak.pl" {
		t.Errorf("host switched to %q / %q", h.wz.settings.Incoming.Host, m.in.host.Text)
	}
}
