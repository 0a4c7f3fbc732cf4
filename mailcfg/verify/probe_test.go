package verify

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/mailcfg"
)

// Wrong settings are recognised by what the server does, not by waiting for
// the step timeout: the timeouts here are long, so a check that fell back to
// waiting would fail as a timeout, not pass slowly.

// STARTTLS chosen for a port that wants TLS from the first byte: both ends
// wait; the probe finds TLS and the failure names the security the port
// expects. Nothing carried the password.
func TestWrongModeStartTLSOnImplicitPort(t *testing.T) {
	for _, proto := range protos {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			r := check(t, proto, mailcfg.SecurityStartTLS, fakeOpts{implicit: true, okLogin: true}, Options{StepTimeout: time.Minute})
			f := wantKind(t, r, mailcfg.KindTLSUnavailable)
			if f.Detail != "the port expects SSL/TLS" || !strings.Contains(f.Message.EN, "expects SSL/TLS") ||
				!strings.Contains(f.Message.PL, "SSL/TLS") {
				t.Errorf("failure %+v does not say the port expects SSL/TLS", f)
			}
			if f.Field != string(fakeSide(proto))+".security" {
				t.Errorf("field %q", f.Field)
			}
			if last := r.Steps[len(r.Steps)-1]; last.Step != StepGreeting {
				t.Errorf("failed at %s, want greeting", last.Step)
			}
		})
	}
}

// Implicit TLS chosen for a STARTTLS port: the plain greeting breaks the
// handshake at once, and the failure says the port expects STARTTLS.
func TestWrongModeImplicitOnStartTLSPort(t *testing.T) {
	for _, proto := range protos {
		t.Run(proto, func(t *testing.T) {
			r := check(t, proto, mailcfg.SecurityTLS, fakeOpts{okLogin: true}, Options{StepTimeout: time.Minute})
			f := wantKind(t, r, mailcfg.KindTLSUnavailable)
			if f.Detail != "the port expects STARTTLS" || !strings.Contains(f.Message.EN, "expects STARTTLS") {
				t.Errorf("failure %+v does not say the port expects STARTTLS", f)
			}
		})
	}
}

// A mail server of another protocol on the port is named, in either mode.
func TestOtherMailProtocolNamed(t *testing.T) {
	cases := []struct{ settings, server, want string }{
		{"imap", "smtp", "SMTP"}, {"pop3", "imap", "IMAP"}, {"smtp", "pop3", "POP3"}, {"smtp", "imap", "IMAP"},
	}
	for _, c := range cases {
		for _, sec := range []mailcfg.Security{mailcfg.SecurityTLS, mailcfg.SecurityStartTLS} {
			t.Run(c.settings+"-on-"+c.server+"-"+string(sec), func(t *testing.T) {
				fs := startFake(t, fakeServerFor(c.server, fakeOpts{implicit: sec == mailcfg.SecurityTLS, okLogin: true}))
				r := VerifyServer(t.Context(), fakeSide(c.settings), fakeServerSetting(c.settings, fs.port(), sec),
					Password(fakePassword), Options{RootCAs: pkiOnce().pool, StepTimeout: time.Minute})
				if sec == mailcfg.SecurityTLS && c.settings == "smtp" {
					// go-mail needs the bare TLS connection, so its first
					// bytes are not recorded: a protocol failure is enough.
					wantKind(t, r, mailcfg.KindProtocol)
					return
				}
				f := wantKind(t, r, mailcfg.KindProtocol)
				want := "speaks " + c.want + ", not " + strings.ToUpper(c.settings)
				if !strings.Contains(f.Message.EN, want) || !strings.Contains(f.Message.PL, c.want) || strings.Contains(f.Message.EN, "%[") {
					t.Errorf("message %q does not say %q", f.Message.EN, want)
				}
			})
		}
	}
}

// A web server on the port: plain HTTP (silent until asked, then a 400 to
// a ClientHello) and HTTPS (found by ALPN) are named as web servers.
func TestWebServerOnThePort(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("a page")) })
	plain := httptest.NewServer(h)
	defer plain.Close()
	secure := httptest.NewTLSServer(h)
	defer secure.Close()
	port := func(s *httptest.Server) int {
		u, _ := url.Parse(s.URL)
		p, _ := strconv.Atoi(u.Port())
		return p
	}
	roots := secure.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	cases := []struct {
		name string
		srv  *httptest.Server
		sec  mailcfg.Security
	}{
		{"http-starttls", plain, mailcfg.SecurityStartTLS},
		{"http-tls", plain, mailcfg.SecurityTLS},
		{"https-tls", secure, mailcfg.SecurityTLS},
	}
	for _, c := range cases {
		for _, proto := range protos {
			t.Run(c.name+"-"+proto, func(t *testing.T) {
				r := VerifyServer(t.Context(), fakeSide(proto), fakeServerSetting(proto, port(c.srv), c.sec),
					Password(fakePassword), Options{RootCAs: roots, StepTimeout: time.Minute})
				f := wantKind(t, r, mailcfg.KindProtocol)
				if !strings.Contains(f.Message.EN, "web server") || !strings.Contains(f.Detail, "HTTP") {
					t.Errorf("failure %+v does not name a web server", f)
				}
			})
		}
	}
}

// A mail server that is merely slow to greet is not mistaken for a wrong
// setting: the probe meets a plain greeting and the check waits on.
func TestSlowGreetingIsNotAMistake(t *testing.T) {
	for _, proto := range protos {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			slow := fakeServerFor(proto, fakeOpts{okLogin: true})
			fs := startFake(t, func(f *fakeConn) {
				time.Sleep(300 * time.Millisecond)
				slow(f)
			})
			r := VerifyServer(t.Context(), fakeSide(proto), fakeServerSetting(proto, fs.port(), mailcfg.SecurityStartTLS),
				Password(fakePassword), Options{RootCAs: pkiOnce().pool, ProbeAfter: 10 * time.Millisecond, StepTimeout: time.Minute})
			if !r.OK {
				t.Fatalf("a slow greeting failed the check: %v", r.Failure)
			}
			assertNotInClear(t, fs, fakeUser, fakePassword)
		})
	}
}

// ProbeAfter < 0 turns the probe off: the wrong mode is then a timeout.
func TestProbeOff(t *testing.T) {
	r := check(t, "imap", mailcfg.SecurityStartTLS, fakeOpts{implicit: true}, Options{ProbeAfter: -1, StepTimeout: 300 * time.Millisecond})
	wantKind(t, r, mailcfg.KindTimeout)
}

func TestGreetingProtocol(t *testing.T) {
	cases := map[string]string{
		"* OK [CAPABILITY IMAP4rev1] ready": "IMAP", "* PREAUTH hi": "IMAP", "* bye": "IMAP",
		"+OK POP3 ready": "POP3", "-ERR busy": "POP3",
		"220 mail.example ESMTP": "SMTP", "220-mail.example": "SMTP", "554 no": "SMTP", "421\r\n": "SMTP",
		"HTTP/1.1 400 Bad Request": "HTTP", "SSH-2.0-OpenSSH_9.6": "SSH",
		"": "", "*": "", "22": "", "999 x": "", "\x16\x03\x01\x00": "", "GET / HTTP/1.1": "",
	}
	for in, want := range cases {
		if got := greetingProtocol([]byte(in)); got != want {
			t.Errorf("greetingProtocol(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzGreetingProtocol: any bytes give one of the known names, and a name
// only for bytes that start the way that protocol's greetings start.
func FuzzGreetingProtocol(f *testing.F) {
	for _, s := range []string{"* OK hi", "+OK", "-ERR", "220 x", "HTTP/1.0 200", "SSH-2.0", "\x16\x03\x03", "5555"} {
		f.Add([]byte(s))
	}
	prefixes := map[string][]string{
		"IMAP": {"* "}, "POP3": {"+OK", "-ERR"}, "HTTP": {"HTTP/"}, "SSH": {"SSH-"},
		"SMTP": {"2", "3", "4", "5"},
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := greetingProtocol(b)
		if got == "" {
			return
		}
		ps, ok := prefixes[got]
		if !ok {
			t.Fatalf("unknown name %q", got)
		}
		for _, p := range ps {
			if len(b) >= len(p) && strings.EqualFold(string(b[:len(p)]), p) {
				return
			}
		}
		t.Fatalf("%q named %s", b, got)
	})
}

// A server that accepts STARTTLS and then answers the ClientHello in plain
// text is broken, not a port for the other mode: its greeting, read long
// before, must not make the failure say "expects STARTTLS".
func TestPlainAfterAcceptedStartTLS(t *testing.T) {
	fs := startFake(t, func(f *fakeConn) {
		f.send("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready")
		l, ok := f.line()
		if !ok {
			return
		}
		tag, _, _ := strings.Cut(l, " ")
		f.send(tag + " OK begin TLS")
		if _, err := f.br.ReadByte(); err != nil { // the ClientHello
			return
		}
		f.send("* BYE not TLS after all")
	})
	r := VerifyServer(t.Context(), Incoming, fakeServerSetting("imap", fs.port(), mailcfg.SecurityStartTLS),
		Password(fakePassword), Options{RootCAs: pkiOnce().pool, StepTimeout: time.Minute})
	f := wantKind(t, r, mailcfg.KindTLSUnavailable)
	if strings.Contains(f.Detail, "expects") {
		t.Errorf("a broken STARTTLS was taken for the other mode: %+v", f)
	}
	assertNotInClear(t, fs, fakeUser, fakePassword)
}

// A TLS port whose server has ALPN of its own (Exim's "smtp") refuses the
// probe's offer of HTTP with an alert; that still shows the port speaks
// TLS, and the STARTTLS setting is named as the mistake.
func TestProbeTakesAnAlertForTLS(t *testing.T) {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{pkiOnce().good},
		NextProtos:   []string{"smtp"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.(*tls.Conn).Handshake() // the probe's HTTP-only offer ends here with alert 120
				_, _ = io.Copy(io.Discard, c)
			}()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	r := VerifyServer(t.Context(), Outgoing, fakeServerSetting("smtp", port, mailcfg.SecurityStartTLS),
		Password(fakePassword), Options{RootCAs: pkiOnce().pool, StepTimeout: time.Minute})
	f := wantKind(t, r, mailcfg.KindTLSUnavailable)
	if f.Detail != "the port expects SSL/TLS" {
		t.Errorf("failure %+v does not say the port expects SSL/TLS", f)
	}
}
