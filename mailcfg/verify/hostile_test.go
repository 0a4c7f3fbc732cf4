package verify

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/mailcfg"
)

const (
	fakeUser     = "jan.kowalski@kancelaria.example"
	fakePassword = "Sekretne-Haslo-123!"
)

func fakeSide(proto string) Side {
	if proto == "smtp" {
		return Outgoing
	}
	return Incoming
}

func fakeServerSetting(proto string, port int, sec mailcfg.Security) mailcfg.Server {
	return mailcfg.Server{Protocol: mailcfg.Protocol(proto), Host: "127.0.0.1", Port: port, Security: sec, Username: fakeUser}
}

// check runs one side against a fake and returns the result after asserting
// that the password never crossed in clear and never shows in the output.
func check(t *testing.T, proto string, sec mailcfg.Security, o fakeOpts, opt Options) SideResult {
	t.Helper()
	fs := startFake(t, fakeServerFor(proto, o))
	if opt.RootCAs == nil {
		opt.RootCAs = pkiOnce().pool
	}
	if opt.StepTimeout == 0 {
		opt.StepTimeout = 2 * time.Second
	}
	r := VerifyServer(t.Context(), fakeSide(proto), fakeServerSetting(proto, fs.port(), sec), Password(fakePassword), opt)
	assertNotInClear(t, fs, fakeUser, fakePassword)
	assertNoSecret(t, Result{Incoming: r}, fakePassword)
	return r
}

func wantKind(t *testing.T, r SideResult, kind mailcfg.Kind) *mailcfg.Failure {
	t.Helper()
	if r.OK || r.Failure == nil {
		t.Fatalf("want %s, got ok=%v failure=%v", kind, r.OK, r.Failure)
	}
	if r.Failure.Kind != kind {
		t.Fatalf("want %s, got %s", kind, r.Failure.Error())
	}
	if r.Failure.Message.PL == "" || r.Failure.Message.EN == "" || r.Failure.Hint.EN == "" {
		t.Errorf("failure without message or hint: %+v", r.Failure)
	}
	return r.Failure
}

var protos = []string{"imap", "pop3", "smtp"}

func TestFakeBaseline(t *testing.T) {
	for _, proto := range protos {
		for _, sec := range []mailcfg.Security{mailcfg.SecurityTLS, mailcfg.SecurityStartTLS} {
			t.Run(proto+"-"+string(sec), func(t *testing.T) {
				r := check(t, proto, sec, fakeOpts{implicit: sec == mailcfg.SecurityTLS, okLogin: true}, Options{})
				if !r.OK {
					t.Fatalf("right password: %v", r.Failure)
				}
				f := wantKind(t, check(t, proto, sec, fakeOpts{implicit: sec == mailcfg.SecurityTLS}, Options{}), mailcfg.KindAuthFailed)
				if f.Field != "password" {
					t.Errorf("field %q", f.Field)
				}
			})
		}
	}
}

func TestFakeStartTLSNotAdvertised(t *testing.T) {
	for _, proto := range protos {
		t.Run(proto, func(t *testing.T) {
			f := wantKind(t, check(t, proto, mailcfg.SecurityStartTLS, fakeOpts{noStartTLS: true, okLogin: true}, Options{}), mailcfg.KindTLSUnavailable)
			if f.Field != string(fakeSide(proto))+".security" {
				t.Errorf("field %q", f.Field)
			}
		})
	}
}

func TestFakeStartTLSRefused(t *testing.T) {
	refusal := map[string]string{
		"imap": "BAD [PRIVACYREQUIRED] TLS not available",
		"pop3": "-ERR [SYS/TEMP] TLS not available",
		"smtp": "454 4.7.0 TLS not available due to temporary reason",
	}
	for _, proto := range protos {
		t.Run(proto, func(t *testing.T) {
			wantKind(t, check(t, proto, mailcfg.SecurityStartTLS, fakeOpts{refuseTLS: refusal[proto], okLogin: true}, Options{}), mailcfg.KindTLSUnavailable)
		})
	}
}

// Plaintext the server sends between its STARTTLS OK and the handshake must
// never be taken as if it came through TLS.
func TestFakeStartTLSInjection(t *testing.T) {
	inject := map[string]string{"imap": "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected", "pop3": "+OK injected"}
	for _, proto := range []string{"imap", "pop3"} {
		t.Run(proto, func(t *testing.T) {
			// Usually the injected line arrives with the OK and is refused
			// as such (protocol); if it arrives later it breaks the
			// handshake (tls_unavailable). Never is it read as TLS data.
			r := check(t, proto, mailcfg.SecurityStartTLS, fakeOpts{inject: inject[proto], okLogin: true}, Options{})
			if r.OK || r.Failure.Kind != mailcfg.KindProtocol && r.Failure.Kind != mailcfg.KindTLSUnavailable {
				t.Fatalf("injection: ok=%v %v", r.OK, r.Failure)
			}
		})
	}
	// go-mail starts TLS on the raw socket with a fresh reader: what it had
	// buffered after "220" is dropped, never read as if it came through TLS
	// (and if it was not buffered, it breaks the handshake). Either way the
	// password stays out of the clear, which check asserts.
	t.Run("smtp", func(t *testing.T) {
		check(t, "smtp", mailcfg.SecurityStartTLS, fakeOpts{inject: "250 injected", okLogin: true}, Options{})
	})
}

func TestFakeGreetingNeverComes(t *testing.T) {
	for _, proto := range protos {
		for _, sec := range []mailcfg.Security{mailcfg.SecurityTLS, mailcfg.SecurityStartTLS} {
			t.Run(proto+"-"+string(sec), func(t *testing.T) {
				// The step limit also covers the TLS handshake before the
				// greeting; leave it room on a loaded machine, and wait for
				// the six silent servers side by side.
				t.Parallel()
				o := fakeOpts{implicit: sec == mailcfg.SecurityTLS, silent: true}
				f := wantKind(t, check(t, proto, sec, o, Options{StepTimeout: 3 * time.Second}), mailcfg.KindTimeout)
				if !strings.Contains(f.Detail, "greeting") {
					t.Errorf("detail %q does not name the greeting", f.Detail)
				}
			})
		}
	}
}

// A 10 MB line without an end: the check fails as a protocol error, and
// memory stays bounded (a client that buffered the line would allocate at
// least its 10 MB).
func TestFakeHugeLine(t *testing.T) {
	for _, proto := range protos {
		for _, sec := range []mailcfg.Security{mailcfg.SecurityTLS, mailcfg.SecurityStartTLS} {
			t.Run(proto+"-"+string(sec), func(t *testing.T) {
				o := fakeOpts{implicit: sec == mailcfg.SecurityTLS, flood: 10 << 20}
				fs := startFake(t, fakeServerFor(proto, o))
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				r := VerifyServer(t.Context(), fakeSide(proto), fakeServerSetting(proto, fs.port(), sec), Password(fakePassword),
					Options{RootCAs: pkiOnce().pool})
				runtime.ReadMemStats(&after)
				wantKind(t, r, mailcfg.KindProtocol)
				if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
					t.Errorf("allocated %d MB for a 10 MB line", grew>>20)
				}
				assertNotInClear(t, fs, fakeUser, fakePassword)
			})
		}
	}
}

func TestFakeGarbage(t *testing.T) {
	for _, proto := range protos {
		for _, sec := range []mailcfg.Security{mailcfg.SecurityTLS, mailcfg.SecurityStartTLS} {
			t.Run(proto+"-"+string(sec), func(t *testing.T) {
				o := fakeOpts{implicit: sec == mailcfg.SecurityTLS, garbage: true}
				wantKind(t, check(t, proto, sec, o, Options{}), mailcfg.KindProtocol)
			})
		}
	}
	// A plain-text server on an implicit-TLS port: TLS is not spoken there.
	t.Run("plain greeting on a TLS port", func(t *testing.T) {
		f := wantKind(t, check(t, "imap", mailcfg.SecurityTLS, fakeOpts{}, Options{}), mailcfg.KindTLSUnavailable)
		if f.Field != "incoming.security" {
			t.Errorf("field %q", f.Field)
		}
	})
}

func TestFakeCertificates(t *testing.T) {
	pki := pkiOnce()
	cases := []struct {
		name   string
		o      fakeOpts
		reason string
	}{
		{name: "expired", o: fakeOpts{cert: pki.expired}, reason: mailcfg.CertExpired},
		{name: "wrong host", o: fakeOpts{cert: pki.wrongHst}, reason: mailcfg.CertWrongHost},
		{name: "self-signed", o: fakeOpts{cert: pki.selfSign}, reason: mailcfg.CertUnknownAuthority},
	}
	for _, c := range cases {
		for _, proto := range protos {
			for _, sec := range []mailcfg.Security{mailcfg.SecurityTLS, mailcfg.SecurityStartTLS} {
				t.Run(c.name+"-"+proto+"-"+string(sec), func(t *testing.T) {
					o := c.o
					o.implicit, o.okLogin = sec == mailcfg.SecurityTLS, true
					f := wantKind(t, check(t, proto, sec, o, Options{}), mailcfg.KindTLSCertificate)
					ci := f.Certificate
					if ci == nil || ci.Reason != c.reason {
						t.Fatalf("certificate %+v, want reason %s", ci, c.reason)
					}
					leaf := must(x509ParseLeaf(o.cert.Certificate[0]))
					if want := fingerprint(leaf); ci.SHA256 != want {
						t.Errorf("fingerprint %s, want %s", ci.SHA256, want)
					}
					if c.reason == mailcfg.CertWrongHost && (len(ci.Names) != 1 || ci.Names[0] != "mail.other.example") {
						t.Errorf("names %v", ci.Names)
					}
				})
			}
		}
	}
	// The clock counts: with Now a year back the expired leaf is fine.
	t.Run("expired, but Now in its validity", func(t *testing.T) {
		r := check(t, "imap", mailcfg.SecurityTLS, fakeOpts{implicit: true, cert: pki.expired, okLogin: true},
			Options{Now: func() time.Time { return time.Now().Add(-380 * 24 * time.Hour) }})
		if !r.OK {
			t.Fatal(r.Failure)
		}
	})
	t.Run("not yet valid", func(t *testing.T) {
		f := wantKind(t, check(t, "imap", mailcfg.SecurityTLS, fakeOpts{implicit: true, okLogin: true},
			Options{Now: func() time.Time { return time.Now().Add(-30 * 24 * time.Hour) }}), mailcfg.KindTLSCertificate)
		if f.Certificate.Reason != mailcfg.CertNotYetValid {
			t.Errorf("reason %s", f.Certificate.Reason)
		}
	})
	t.Run("pinned self-signed", func(t *testing.T) {
		fs := startFake(t, imapFake(fakeOpts{implicit: true, cert: pki.selfSign, okLogin: true}))
		srv := fakeServerSetting("imap", fs.port(), mailcfg.SecurityTLS)
		srv.CertSHA256 = fingerprint(must(x509ParseLeaf(pki.selfSign.Certificate[0])))
		r := VerifyServer(t.Context(), Incoming, srv, Password(fakePassword), Options{})
		if !r.OK {
			t.Fatal(r.Failure)
		}
	})
}

func TestFakeClosesMidLogin(t *testing.T) {
	for _, proto := range protos {
		for _, sec := range []mailcfg.Security{mailcfg.SecurityTLS, mailcfg.SecurityStartTLS} {
			t.Run(proto+"-"+string(sec), func(t *testing.T) {
				o := fakeOpts{implicit: sec == mailcfg.SecurityTLS, closeLogin: true}
				wantKind(t, check(t, proto, sec, o, Options{}), mailcfg.KindProtocol)
			})
		}
	}
}

func TestFakeGreetingRefused(t *testing.T) {
	greet := map[string]string{"imap": "* BYE too many connections", "pop3": "-ERR [IN-USE] busy", "smtp": "554 5.3.2 no service"}
	for _, proto := range protos {
		t.Run(proto, func(t *testing.T) {
			wantKind(t, check(t, proto, mailcfg.SecurityTLS, fakeOpts{implicit: true, greeting: greet[proto]}, Options{}), mailcfg.KindConnect)
		})
	}
}

func TestFakeIMAPMechanisms(t *testing.T) {
	t.Run("LOGINDISABLED without AUTH=PLAIN", func(t *testing.T) {
		o := fakeOpts{implicit: true, caps: "IMAP4rev1 LOGINDISABLED AUTH=GSSAPI", okLogin: true}
		wantKind(t, check(t, "imap", mailcfg.SecurityTLS, o, Options{}), mailcfg.KindProtocol)
	})
	t.Run("LOGINDISABLED with AUTH=PLAIN, no SASL-IR", func(t *testing.T) {
		o := fakeOpts{implicit: true, caps: "IMAP4rev1 LOGINDISABLED AUTH=PLAIN", okLogin: true}
		if r := check(t, "imap", mailcfg.SecurityTLS, o, Options{}); !r.OK {
			t.Fatal(r.Failure)
		}
	})
	t.Run("LOGIN only", func(t *testing.T) {
		o := fakeOpts{implicit: true, caps: "IMAP4rev1", okLogin: true}
		if r := check(t, "imap", mailcfg.SecurityTLS, o, Options{}); !r.OK {
			t.Fatal(r.Failure)
		}
	})
	t.Run("no XOAUTH2 for a token", func(t *testing.T) {
		fs := startFake(t, imapFake(fakeOpts{implicit: true, okLogin: true}))
		r := VerifyServer(t.Context(), Incoming, fakeServerSetting("imap", fs.port(), mailcfg.SecurityTLS),
			OAuth2Token{AccessToken: "tok-123"}, Options{RootCAs: pkiOnce().pool})
		wantKind(t, r, mailcfg.KindProtocol)
	})
}

// Provider hints: the narrow Gmail app-password match, Microsoft's
// 5.7.139, and a provider's help text on auth_failed.
func TestFakeProviderHints(t *testing.T) {
	table := mailcfg.Bundled()
	gmail, ms, wp := table.ByID("gmail.com"), table.ByID("microsoft365"), table.ByID("wp.pl")
	run := func(t *testing.T, proto string, o fakeOpts, s mailcfg.Settings, port int) Result {
		fs := startFake(t, fakeServerFor(proto, o))
		srv := fakeServerSetting(proto, fs.port(), mailcfg.SecurityTLS)
		if proto == "smtp" {
			s.Outgoing = srv
			s.Incoming = fakeServerSetting("imap", port, mailcfg.SecurityTLS)
		} else {
			s.Incoming = srv
			s.Outgoing = fakeServerSetting("smtp", port, mailcfg.SecurityTLS)
		}
		r := Verify(t.Context(), s, Password(fakePassword), Options{RootCAs: pkiOnce().pool})
		assertNotInClear(t, fs, fakeUser, fakePassword)
		return r
	}
	closed := closedPort(t)
	t.Run("gmail imap", func(t *testing.T) {
		o := fakeOpts{implicit: true, authReply: "NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)"}
		r := run(t, "imap", o, mailcfg.Settings{Email: "jan@gmail.com"}, closed)
		f := wantKind(t, r.Incoming, mailcfg.KindAppPasswordRequired)
		if f.Hint != gmail.Help {
			t.Errorf("hint %q", f.Hint.EN)
		}
	})
	t.Run("gmail smtp", func(t *testing.T) {
		o := fakeOpts{implicit: true, authReply: "534-5.7.9 Application-specific password required. Learn more at\r\n534 5.7.9 https://support.google.com/mail/?p=InvalidSecondFactor"}
		r := run(t, "smtp", o, mailcfg.Settings{Email: "jan@gmail.com"}, closed)
		wantKind(t, r.Outgoing, mailcfg.KindAppPasswordRequired)
	})
	t.Run("gmail pop3", func(t *testing.T) {
		o := fakeOpts{implicit: true, authReply: "-ERR [AUTH] Application-specific password required: https://support.google.com/accounts/answer/185833"}
		r := run(t, "pop3", o, mailcfg.Settings{Email: "jan@gmail.com"}, closed)
		wantKind(t, r.Incoming, mailcfg.KindAppPasswordRequired)
	})
	t.Run("microsoft 5.7.139", func(t *testing.T) {
		o := fakeOpts{implicit: true, authReply: "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."}
		r := run(t, "smtp", o, mailcfg.Settings{Email: "jan@kancelaria.example", Provider: &mailcfg.ProviderRef{ID: "microsoft365"}}, closed)
		f := wantKind(t, r.Outgoing, mailcfg.KindAuthDisabled)
		// The switch itself, more exact than Microsoft 365's general help.
		if !strings.Contains(f.Hint.EN, "Set-CASMailbox") || f.Hint == ms.Help {
			t.Errorf("hint %q", f.Hint.EN)
		}
	})
	t.Run("wp auth_failed", func(t *testing.T) {
		r := run(t, "imap", fakeOpts{implicit: true}, mailcfg.Settings{Email: "jan@wp.pl"}, closed)
		f := wantKind(t, r.Incoming, mailcfg.KindAuthFailed)
		if f.Hint != wp.Help {
			t.Errorf("hint %q", f.Hint.EN)
		}
		if c := r.Outgoing.Failure; c == nil || c.Kind != mailcfg.KindConnect || c.Field != "outgoing.port" {
			t.Errorf("closed port: %v", c)
		}
	})
}

func TestCancelAndTimeouts(t *testing.T) {
	fs := startFake(t, imapFake(fakeOpts{silent: true}))
	srv := fakeServerSetting("imap", fs.port(), mailcfg.SecurityStartTLS)
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		go func() { time.Sleep(100 * time.Millisecond); cancel() }()
		r := VerifyServer(ctx, Incoming, srv, Password(fakePassword), Options{})
		wantKind(t, r, mailcfg.KindCancelled)
	})
	t.Run("overall timeout", func(t *testing.T) {
		r := VerifyServer(t.Context(), Incoming, srv, Password(fakePassword), Options{Timeout: 200 * time.Millisecond})
		wantKind(t, r, mailcfg.KindTimeout)
	})
	t.Run("connect timeout", func(t *testing.T) {
		r := VerifyServer(t.Context(), Incoming, srv, Password(fakePassword), Options{
			ConnectTimeout: 100 * time.Millisecond,
			Dialer: dialFunc(func(ctx context.Context, _, _ string) (net.Conn, error) {
				<-ctx.Done()
				return nil, ctx.Err()
			}),
		})
		f := wantKind(t, r, mailcfg.KindTimeout)
		if r.Steps[len(r.Steps)-1].Step != StepConnect {
			t.Errorf("failed at %v, want connect", r.Steps)
		}
		_ = f
	})
	t.Run("dns", func(t *testing.T) {
		srv := srv
		srv.Host = "mail.does-not-exist.example"
		res := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("no DNS in this test")
		}}
		f := wantKind(t, VerifyServer(t.Context(), Incoming, srv, Password(fakePassword), Options{Resolver: res}), mailcfg.KindDNS)
		if f.Field != "incoming.host" {
			t.Errorf("field %q", f.Field)
		}
	})
	t.Run("insecure refused", func(t *testing.T) {
		srv := srv
		srv.Security = mailcfg.SecurityNone
		r := VerifyServer(t.Context(), Incoming, srv, Password(fakePassword), Options{AllowInsecure: true})
		wantKind(t, r, mailcfg.KindInsecureRefused)
		if len(fs.wire()) != 0 {
			// the silent fake has had connections from the other subtests;
			// what matters is that nothing carried the password
			assertNotInClear(t, fs, fakeUser, fakePassword)
		}
	})
}

type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

func (f dialFunc) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return f(ctx, network, addr)
}

func closedPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return p
}

// A line break in the password would smuggle a command into POP3's PASS
// line; nothing is dialled.
func TestControlCharactersRefused(t *testing.T) {
	fs := startFake(t, pop3Fake(fakeOpts{implicit: true, okLogin: true}))
	srv := fakeServerSetting("pop3", fs.port(), mailcfg.SecurityTLS)
	r := VerifyServer(t.Context(), Incoming, srv, Password("x\r\nDELE 1"), Options{RootCAs: pkiOnce().pool})
	if f := wantKind(t, r, mailcfg.KindProtocol); f.Field != "password" {
		t.Errorf("field %q", f.Field)
	}
	srv.Username = "jan\r\nDELE 1"
	r = VerifyServer(t.Context(), Incoming, srv, Password(fakePassword), Options{RootCAs: pkiOnce().pool})
	if f := wantKind(t, r, mailcfg.KindProtocol); f.Field != "incoming.username" {
		t.Errorf("field %q", f.Field)
	}
	if len(fs.wire()) != 0 {
		t.Errorf("dialled anyway: %d bytes", len(fs.wire()))
	}
}

// Security "none" with the policy and the user's consent: the sign-in works
// in plain text (and only then).
func TestFakeInsecureWithConsent(t *testing.T) {
	for _, proto := range protos {
		t.Run(proto, func(t *testing.T) {
			fs := startFake(t, fakeServerFor(proto, fakeOpts{okLogin: true, noStartTLS: true}))
			srv := fakeServerSetting(proto, fs.port(), mailcfg.SecurityNone)
			r := VerifyServer(t.Context(), fakeSide(proto), srv, Password(fakePassword), Options{AllowInsecure: true, InsecureOverride: true})
			if !r.OK {
				t.Fatal(r.Failure)
			}
			r = VerifyServer(t.Context(), fakeSide(proto), srv, Password(fakePassword), Options{InsecureOverride: true})
			wantKind(t, r, mailcfg.KindInsecureRefused)
		})
	}
}
