package ui

import (
	"bufio"
	"crypto/x509"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"infino.legal/mailbox/mailcfg/verify"
)

// peers is what testdata/mailpeers/up.sh writes to its env file. (The Go
// helper internal/mailpeers is internal to mailcfg, so the window's
// test reads the same file itself, with the same rule: skip on a developer
// machine without the peers, fail under CI.)
type peers struct {
	host                    string
	imaps, imapStartTLS     int
	smtps, submission       int
	pop3s                   int
	user, password, certSHA string
	roots                   *x509.CertPool
}

func requirePeers(t *testing.T) *peers {
	t.Helper()
	path := os.Getenv("INFINO_MAILPEERS_ENV")
	if path == "" {
		path = "/tmp/infino-mailpeers/env"
	}
	unavailable := func(why string) {
		if os.Getenv("CI") != "" {
			t.Fatalf("MAIL PEERS REQUIRED IN CI, NOT RUNNING: %s; run bash testdata/mailpeers/up.sh before go test", why)
		}
		t.Skipf("%s; run bash testdata/mailpeers/up.sh", why)
	}
	f, err := os.Open(path)
	if err != nil {
		unavailable(err.Error())
	}
	defer f.Close()
	kv := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export ")
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			kv[k] = strings.Trim(v, `"'`)
		}
	}
	num := func(k string) int {
		n, err := strconv.Atoi(kv[k])
		if err != nil {
			t.Fatalf("mail peers env %s: %s=%q", path, k, kv[k])
		}
		return n
	}
	p := &peers{host: "localhost", imaps: num("MAILPEERS_IMAPS_PORT"), imapStartTLS: num("MAILPEERS_IMAP_STARTTLS_PORT"),
		smtps: num("MAILPEERS_SUBMISSIONS_PORT"), submission: num("MAILPEERS_SUBMISSION_PORT"), pop3s: num("MAILPEERS_POP3S_PORT"),
		user: kv["MAILPEERS_USER"], password: kv["MAILPEERS_PASSWORD"], certSHA: kv["MAILPEERS_CERT_SHA256"]}
	ca, err := os.ReadFile(kv["MAILPEERS_CA"])
	if err != nil {
		t.Fatalf("mail peers CA: %v", err)
	}
	p.roots = x509.NewCertPool()
	if !p.roots.AppendCertsFromPEM(ca) {
		t.Fatal("mail peers CA: no certificate")
	}
	c, err := net.DialTimeout("tcp", net.JoinHostPort(kv["MAILPEERS_HOST"], strconv.Itoa(p.imaps)), 2*time.Second)
	if err != nil {
		unavailable("mail peers do not answer: " + err.Error())
	}
	c.Close()
	return p
}

// e2eForm fills the form for the peers the way a user would.
func e2eForm(t *testing.T, h *harness, p *peers, password string) *manualScreen {
	m := h.toManual(p.user)
	h.typeInto(m.password, password)
	h.typeInto(m.in.host, p.host)
	h.typeInto(m.in.port, strconv.Itoa(p.imaps))
	h.typeInto(m.out.host, p.host)
	h.typeInto(m.out.port, strconv.Itoa(p.smtps))
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
	p := requirePeers(t)
	wait := func(h *harness, what string) {
		t.Helper()
		vs := h.wz.verify
		h.q.until(t, what, func() bool { return !vs.job.running() && (vs.next.Visible() || vs.retry.Visible()) })
	}

	t.Run("right password", func(t *testing.T) {
		h := newHarness(t, "pl_PL.UTF-8", func(d *Deps) {
			d.Verify = VerifyWith(verify.Options{RootCAs: p.roots, Timeout: 20 * time.Second})
		})
		m := e2eForm(t, h, p, p.password)
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
		h.mustShow("localhost:" + strconv.Itoa(p.imaps))
	})

	t.Run("wrong password", func(t *testing.T) {
		h := newHarness(t, "pl_PL.UTF-8", func(d *Deps) {
			d.Verify = VerifyWith(verify.Options{RootCAs: p.roots, Timeout: 20 * time.Second})
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
		m := e2eForm(t, h, p, p.password)
		m.advanced.Open(0)
		m.out.sec.SetSelected(tr("manual.security.starttls"))
		h.typeInto(m.out.port, strconv.Itoa(p.submission))
		test.Tap(m.next)
		wait(h, "verification")
		vs := h.wz.verify
		if vs.trustSHA == "" || !sameFingerprint(vs.trustSHA, p.certSHA) {
			t.Fatalf("certificate %q, want %s:\n%s", vs.trustSHA, p.certSHA, h.screenText())
		}
		h.mustShow("Unknown server certificate")
		test.Tap(vs.trust)
		vs.trustDlg.Confirm()
		wait(h, "pinned verification")
		if !vs.next.Visible() {
			t.Fatalf("pinned verification failed:\n%s\n%s", h.screenText(), h.wz.report())
		}
		if !sameFingerprint(m.in.pin.Text, p.certSHA) || !sameFingerprint(m.out.pin.Text, p.certSHA) {
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
			case <-time.After(2 * time.Second):
				t.Fatalf("connection %d still open 2 s after Cancel", i+1)
			}
		}
		t.Logf("both connections closed %v after Cancel", time.Since(start).Round(time.Millisecond))
		h.mustShow("Sprawdzanie przerwane")
	})
}
