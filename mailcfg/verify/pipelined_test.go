package verify

import (
	"strings"
	"sync"
	"testing"
	"time"

	"infino.legal/mailbox/mailcfg"
)

// starttlsIMAP is an IMAP server on a STARTTLS port whose capabilities
// after TLS are afterCaps and which answers AUTHENTICATE with authReply
// ("+ " asks for the response apart). It records the commands it read
// after TLS.
func starttlsIMAP(afterCaps, authReply string, seen *[]string, mu *sync.Mutex) func(*fakeConn) {
	return func(f *fakeConn) {
		f.send("* OK [CAPABILITY IMAP4rev1 SASL-IR STARTTLS LOGINDISABLED] ready")
		for {
			l, ok := f.line()
			if !ok {
				return
			}
			tag, rest, _ := strings.Cut(l, " ")
			cmd, _, _ := strings.Cut(strings.ToUpper(rest), " ")
			if f.tls {
				mu.Lock()
				*seen = append(*seen, cmd)
				mu.Unlock()
			}
			switch {
			case cmd == "STARTTLS" && !f.tls:
				f.send(tag + " OK go")
				if !f.upgrade(pkiOnce().good) {
					return
				}
			case cmd == "CAPABILITY":
				f.send("* CAPABILITY "+afterCaps, tag+" OK done")
			case cmd == "AUTHENTICATE":
				if authReply == "+ " {
					f.send("+ ")
					if l, _ := f.line(); l != "*" {
						f.send(tag + " NO expected a cancel")
						continue
					}
					f.send(tag + " BAD cancelled")
					continue
				}
				f.send(tag + " " + authReply)
			case cmd == "LOGIN":
				f.send(tag + " OK [CAPABILITY IMAP4rev1] in")
			case cmd == "LOGOUT":
				f.send("* BYE", tag+" OK bye")
				return
			default:
				f.send(tag + " BAD what")
			}
		}
	}
}

// After STARTTLS, CAPABILITY and AUTHENTICATE PLAIN go out together; a
// server that does not take PLAIN this way still gets the sign-in it
// offers, and a refusal by a server that offers PLAIN is a wrong password.
func TestIMAPPipelinedLoginAfterStartTLS(t *testing.T) {
	cases := []struct {
		name, afterCaps, authReply string
		wantOK                     bool
		wantSeen                   string // commands after TLS, in order
	}{
		{"plain accepted", "IMAP4rev1 SASL-IR AUTH=PLAIN", "OK in", true, "CAPABILITY AUTHENTICATE LOGOUT"},
		{"plain refused", "IMAP4rev1 SASL-IR AUTH=PLAIN", "NO [AUTHENTICATIONFAILED] no", false, "CAPABILITY AUTHENTICATE"},
		{"no plain: login instead", "IMAP4rev1 SASL-IR", "BAD no such mechanism", true, "CAPABILITY AUTHENTICATE LOGIN LOGOUT"},
		{"continuation cancelled, then login", "IMAP4rev1 SASL-IR", "+ ", true, "CAPABILITY AUTHENTICATE LOGIN LOGOUT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []string
			fs := startFake(t, starttlsIMAP(c.afterCaps, c.authReply, &seen, &mu))
			r := VerifyServer(t.Context(), Incoming, fakeServerSetting("imap", fs.port(), mailcfg.SecurityStartTLS),
				Password(fakePassword), Options{RootCAs: pkiOnce().pool, StepTimeout: time.Minute})
			goodbyes.Wait()
			if r.OK != c.wantOK {
				t.Fatalf("ok=%v, want %v: %v", r.OK, c.wantOK, r.Failure)
			}
			if !c.wantOK && r.Failure.Kind != mailcfg.KindAuthFailed {
				t.Errorf("failure %v, want auth_failed", r.Failure)
			}
			if c.wantOK && len(r.Capabilities) == 0 {
				t.Error("no capabilities reported")
			}
			fs.wg.Wait()
			mu.Lock()
			got := strings.Join(seen, " ")
			mu.Unlock()
			if got != c.wantSeen {
				t.Errorf("commands after TLS %q, want %q", got, c.wantSeen)
			}
			assertNotInClear(t, fs, fakeUser, fakePassword)
		})
	}
}

// starttlsPOP3 is a POP3 server on a STARTTLS port announcing PIPELINING,
// whose CAPA after TLS is afterCaps and which answers AUTH with authReply.
func starttlsPOP3(afterCaps []string, authReply string, seen *[]string, mu *sync.Mutex) func(*fakeConn) {
	return func(f *fakeConn) {
		f.send("+OK ready")
		for {
			l, ok := f.line()
			if !ok {
				return
			}
			cmd, _, _ := strings.Cut(strings.ToUpper(l), " ")
			if f.tls {
				mu.Lock()
				*seen = append(*seen, cmd)
				mu.Unlock()
			}
			switch {
			case cmd == "CAPA" && !f.tls:
				f.send("+OK", "PIPELINING", "STLS", ".")
			case cmd == "STLS" && !f.tls:
				f.send("+OK go")
				if !f.upgrade(pkiOnce().good) {
					return
				}
			case cmd == "CAPA":
				f.send(append(append([]string{"+OK"}, afterCaps...), ".")...)
			case cmd == "AUTH":
				if authReply == "+ " {
					f.send("+ ")
					if l, _ := f.line(); l != "*" {
						f.send("-ERR expected a cancel")
						continue
					}
					f.send("-ERR cancelled")
					continue
				}
				f.send(authReply)
			case cmd == "USER":
				f.send("+OK")
			case cmd == "PASS":
				f.send("+OK in")
			case cmd == "QUIT":
				f.send("+OK bye")
				return
			default:
				f.send("-ERR what")
			}
		}
	}
}

func TestPOP3PipelinedLoginAfterSTLS(t *testing.T) {
	cases := []struct {
		name      string
		afterCaps []string
		authReply string
		wantOK    bool
		wantSeen  string
	}{
		{"plain accepted", []string{"SASL PLAIN", "USER"}, "+OK in", true, "CAPA AUTH QUIT"},
		{"plain refused", []string{"SASL PLAIN", "USER"}, "-ERR [AUTH] no", false, "CAPA AUTH"},
		{"no plain: user/pass instead", []string{"USER"}, "-ERR no such mechanism", true, "CAPA AUTH USER PASS QUIT"},
		{"continuation cancelled, then user/pass", []string{"USER"}, "+ ", true, "CAPA AUTH USER PASS QUIT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []string
			fs := startFake(t, starttlsPOP3(c.afterCaps, c.authReply, &seen, &mu))
			r := VerifyServer(t.Context(), Incoming, fakeServerSetting("pop3", fs.port(), mailcfg.SecurityStartTLS),
				Password(fakePassword), Options{RootCAs: pkiOnce().pool, StepTimeout: time.Minute})
			goodbyes.Wait()
			if r.OK != c.wantOK {
				t.Fatalf("ok=%v, want %v: %v", r.OK, c.wantOK, r.Failure)
			}
			if !c.wantOK && r.Failure.Kind != mailcfg.KindAuthFailed {
				t.Errorf("failure %v, want auth_failed", r.Failure)
			}
			fs.wg.Wait()
			mu.Lock()
			got := strings.Join(seen, " ")
			mu.Unlock()
			if got != c.wantSeen {
				t.Errorf("commands after TLS %q, want %q", got, c.wantSeen)
			}
			assertNotInClear(t, fs, fakeUser, fakePassword)
		})
	}
}
