package verify

import (
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/mailcfg"
)

// heldGoodbye is a server that signs in anyone and then receives the
// goodbye but does not answer it until release is closed.
func heldGoodbye(proto string, said chan<- string, release <-chan struct{}) func(*fakeConn) {
	return func(f *fakeConn) {
		if !f.upgrade(pkiOnce().good) {
			return
		}
		switch proto {
		case "imap":
			f.send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] ready")
		case "pop3":
			f.send("+OK ready")
		case "smtp":
			f.send("220 ready")
		}
		for {
			l, ok := f.line()
			if !ok {
				return
			}
			tag, rest, _ := strings.Cut(l, " ")
			switch cmd := strings.ToUpper(l); {
			case proto == "imap" && strings.HasPrefix(strings.ToUpper(rest), "AUTHENTICATE"):
				f.send(tag + " OK signed in")
			case proto == "imap" && strings.ToUpper(rest) == "LOGOUT",
				proto != "imap" && cmd == "QUIT":
				said <- strings.ToUpper(l)
				<-release
				switch proto {
				case "imap":
					f.send("* BYE", tag+" OK bye")
				case "pop3":
					f.send("+OK bye")
				case "smtp":
					f.send("221 bye")
				}
				return
			case cmd == "CAPA":
				f.send("+OK", "SASL PLAIN", "USER", ".")
			case strings.HasPrefix(cmd, "AUTH PLAIN"):
				f.send(map[string]string{"pop3": "+OK in", "smtp": "235 2.7.0 ok"}[proto])
			case strings.HasPrefix(cmd, "EHLO"):
				f.send("250-fake", "250 AUTH PLAIN")
			default:
				f.send(map[string]string{"imap": tag + " BAD", "pop3": "-ERR", "smtp": "500 what"}[proto])
			}
		}
	}
}

// The result is known when the sign-in is answered: the goodbye is written
// before the check returns, and its answer is not waited for. The server
// here answers the goodbye only after the check has returned; with limits
// of an hour, a check that waited for it would hang.
func TestGoodbyeIsNotWaitedFor(t *testing.T) {
	for _, proto := range protos {
		t.Run(proto, func(t *testing.T) {
			said := make(chan string, 1)
			release := make(chan struct{})
			fs := startFake(t, heldGoodbye(proto, said, release))
			srv := fakeServerSetting(proto, fs.port(), mailcfg.SecurityTLS)
			r := VerifyServer(t.Context(), fakeSide(proto), srv, Password(fakePassword),
				Options{RootCAs: pkiOnce().pool, StepTimeout: time.Hour, Timeout: time.Hour})
			if !r.OK {
				t.Fatalf("check failed: %v", r.Failure)
			}
			if last := r.Steps[len(r.Steps)-1]; last.Step != StepDone {
				t.Errorf("last step %s, want done", last.Step)
			}
			got := <-said // written before the check returned, read by the server whenever
			if !strings.Contains(got, "QUIT") && !strings.Contains(got, "LOGOUT") {
				t.Errorf("goodbye %q", got)
			}
			close(release)
			goodbyes.Wait()
		})
	}
}
