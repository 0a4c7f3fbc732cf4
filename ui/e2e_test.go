package ui

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"infino.legal/mailbox/internal/mailpeers"
	"infino.legal/mailbox/mailcfg/verify"
)

// e2eForm fills the form for the peers the way a user would.
func e2eForm(t *testing.T, h *harness, p *mailpeers.Peers, password string) *manualScreen {
	m := h.toManual(p.User)
	h.typeInto(m.password, password)
	h.typeInto(m.in.host, mailpeers.ServerName)
	h.typeInto(m.in.port, strconv.Itoa(p.IMAPSPort))
	h.typeInto(m.out.host, mailpeers.ServerName)
	h.typeInto(m.out.port, strconv.Itoa(p.SubmissionsPort))
	if m.next.Disabled() {
		t.Fatalf("form incomplete: %s", h.screenText())
	}
	return m
}

// TestEndToEndAgainstDovecotAndPostfix drives the window with the real
// verifier against the real servers: success to Done, a wrong password back
// to the password field, and an untrusted certificate pinned after the second
// confirmation.
func TestEndToEndAgainstDovecotAndPostfix(t *testing.T) {
	if testing.Short() {
		t.Skip("talks to the mail peers")
	}
	p := mailpeers.Require(t)
	wait := func(h *harness, what string) {
		t.Helper()
		vs := h.wz.verify
		h.q.until(t, what, func() bool { return !vs.job.running() && (vs.next.Visible() || vs.retry.Visible()) })
	}

	t.Run("right password", func(t *testing.T) {
		h := newHarness(t, "pl_PL.UTF-8", func(d *Deps) {
			d.Verify = VerifyWith(verify.Options{RootCAs: p.CAPool, Timeout: 20 * time.Second})
		})
		m := e2eForm(t, h, p, p.Password)
		test.Tap(m.next)
		wait(h, "verification")
		if !h.wz.verify.next.Visible() {
			t.Fatalf("verification failed:\n%s\n%s", h.screenText(), h.wz.report())
		}
		h.mustShow("Połączono i zalogowano")
		// Every step was shown live and recorded.
		steps := map[verify.Step]bool{}
		for _, e := range h.wz.record.Events {
			steps[e.Step] = true
		}
		for _, s := range []verify.Step{verify.StepResolve, verify.StepConnect, verify.StepTLS, verify.StepGreeting, verify.StepLogin, verify.StepDone} {
			if !steps[s] {
				t.Errorf("no %s event", s)
			}
		}
		test.Tap(h.wz.verify.next)
		h.mustShow("Skrzynka działa")
		h.mustShow("localhost:" + strconv.Itoa(p.IMAPSPort))
	})

	t.Run("wrong password", func(t *testing.T) {
		h := newHarness(t, "pl_PL.UTF-8", func(d *Deps) {
			d.Verify = VerifyWith(verify.Options{RootCAs: p.CAPool, Timeout: 20 * time.Second})
		})
		m := e2eForm(t, h, p, "not-the-password")
		test.Tap(m.next)
		wait(h, "verification")
		h.mustShow("Oba serwery: Błędna nazwa użytkownika lub hasło")
		test.Tap(h.wz.verify.report)
		r := h.wz.report()
		if strings.Contains(r, "not-the-password") || !strings.Contains(r, "auth_failed") {
			t.Errorf("report:\n%s", r)
		}
		test.Tap(h.wz.verify.fix)
		if h.focused() != m.password || !m.fields["password"].msg.Visible() {
			t.Fatalf("password not focused with the server's message")
		}
	})

	t.Run("untrusted certificate pinned", func(t *testing.T) {
		h := newHarness(t, "en_GB.UTF-8", func(d *Deps) {
			// The system roots: the peers' private CA is unknown, as a
			// firm's own certificate would be.
			d.Verify = VerifyWith(verify.Options{Timeout: 20 * time.Second})
		})
		m := e2eForm(t, h, p, p.Password)
		m.advanced.Open(0)
		m.out.sec.SetSelected(tr("manual.security.starttls"))
		h.typeInto(m.out.port, strconv.Itoa(p.SubmissionPort))
		test.Tap(m.next)
		wait(h, "verification")
		vs := h.wz.verify
		if vs.trustSHA == "" || !sameFingerprint(vs.trustSHA, p.CertSHA256) {
			t.Fatalf("certificate %q, want %s:\n%s", vs.trustSHA, p.CertSHA256, h.screenText())
		}
		h.mustShow("Unknown server certificate")
		test.Tap(vs.trust)
		vs.trustDlg.Confirm()
		wait(h, "pinned verification")
		if !vs.next.Visible() {
			t.Fatalf("pinned verification failed:\n%s\n%s", h.screenText(), h.wz.report())
		}
		if !sameFingerprint(m.in.pin.Text, p.CertSHA256) || !sameFingerprint(m.out.pin.Text, p.CertSHA256) {
			t.Errorf("pins in the form: %q %q", m.in.pin.Text, m.out.pin.Text)
		}
	})
}

// silentServer accepts connections and never says a word, like a firewall
// that swallows packets after the handshake. closed receives each connection
// the client hung up.
func silentServer(t *testing.T) (port int, closed <-chan struct{}) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan struct{}, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 64)
				for {
					if _, err := c.Read(buf); err != nil {
						c.Close()
						ch <- struct{}{}
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, ch
}

// A server that never answers: the real verifier times out and the window
// says so; and Cancel, pressed while it waits, really closes the connections.
func TestSilentServerWithTheRealVerifier(t *testing.T) {
	port, closed := silentServer(t)
	form := func(h *harness) *manualScreen {
		m := h.toManual("jan@kancelaria-nowak.pl")
		h.typeInto(m.password, "sekret")
		for _, e := range []*fieldEntry{m.in.host, m.out.host} {
			h.typeInto(e, "127.0.0.1")
		}
		h.typeInto(m.in.port, strconv.Itoa(port))
		h.typeInto(m.out.port, strconv.Itoa(port))
		return m
	}

	t.Run("timeout", func(t *testing.T) {
		h := newHarness(t, "pl_PL.UTF-8", func(d *Deps) {
			d.Verify = VerifyWith(verify.Options{StepTimeout: 300 * time.Millisecond, Timeout: 5 * time.Second})
		})
		m := form(h)
		test.Tap(m.next)
		vs := h.wz.verify
		h.q.until(t, "timeout", func() bool { return !vs.job.running() && vs.retry.Visible() })
		h.mustShow("Oba serwery: " + tr("kind.timeout"))
	})

	t.Run("cancel closes the connections", func(t *testing.T) {
		h := newHarness(t, "pl_PL.UTF-8", func(d *Deps) {
			d.Verify = VerifyWith(verify.Options{StepTimeout: time.Minute, Timeout: time.Minute})
		})
		m := form(h)
		for len(closed) > 0 {
			<-closed
		}
		test.Tap(m.next)
		vs := h.wz.verify
		// Both sides are connected and waiting for a greeting.
		h.q.until(t, "connected", func() bool {
			return strings.Contains(vs.in.step.Text, "Szyfruję") && strings.Contains(vs.out.step.Text, "Szyfruję")
		})
		start := time.Now()
		test.Tap(vs.cancel)
		for i := 0; i < 2; i++ {
			select {
			case <-closed:
			// The verifier's own limits are a minute: a connection closed
			// well before that was closed by the Cancel.
			case <-time.After(20 * time.Second):
				t.Fatalf("connection %d still open 20 s after Cancel", i+1)
			}
		}
		t.Logf("both connections closed %v after Cancel", time.Since(start).Round(time.Millisecond))
		h.mustShow("Sprawdzanie przerwane")
	})
}
