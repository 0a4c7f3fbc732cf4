package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"infino.legal/mailbox/internal/mailpeers"
	"infino.legal/mailbox/mailcfg"
)

// Integration tests against the real Dovecot and Postfix that
// testdata/mailpeers/up.sh starts. mailpeers.Require skips them on a
// developer machine without the peers and fails them in CI.

func peersSettings(p *mailpeers.Peers, host string, in mailcfg.Protocol, inSec mailcfg.Security, outSec mailcfg.Security) mailcfg.Settings {
	inPort := map[mailcfg.Protocol]map[mailcfg.Security]int{
		mailcfg.IMAP: {mailcfg.SecurityTLS: p.IMAPSPort, mailcfg.SecurityStartTLS: p.IMAPStartTLSPort},
		mailcfg.POP3: {mailcfg.SecurityTLS: p.POP3SPort, mailcfg.SecurityStartTLS: p.POP3StartTLSPort},
	}[in][inSec]
	outPort := map[mailcfg.Security]int{mailcfg.SecurityTLS: p.SubmissionsPort, mailcfg.SecurityStartTLS: p.SubmissionPort}[outSec]
	return mailcfg.Settings{
		Email:    p.User,
		Auth:     mailcfg.AuthPassword,
		Incoming: mailcfg.Server{Protocol: in, Host: host, Port: inPort, Security: inSec, Username: p.User},
		Outgoing: mailcfg.Server{Protocol: mailcfg.SMTP, Host: host, Port: outPort, Security: outSec, Username: p.User},
	}
}

// recorder collects progress events from both sides.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) add(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) steps(side Side) []Step {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Step
	for _, e := range r.events {
		if e.Side == side {
			out = append(out, e.Step)
		}
	}
	return out
}

func describe(r Result) string {
	side := func(s SideResult) string {
		if s.OK {
			return "ok"
		}
		if s.Failure == nil {
			return "failed without a failure"
		}
		return s.Failure.Error()
	}
	return fmt.Sprintf("incoming: %s; outgoing: %s", side(r.Incoming), side(r.Outgoing))
}

// assertNoSecret fails when secret appears in anything Verify returned: the
// failures' errors and JSON in both languages, details, events.
func assertNoSecret(t *testing.T, r Result, secrets ...string) {
	t.Helper()
	var texts []string
	for _, s := range []SideResult{r.Incoming, r.Outgoing} {
		texts = append(texts, fmt.Sprintf("%+v %#v", s, s))
		for _, e := range s.Steps {
			texts = append(texts, fmt.Sprintf("%+v", e))
		}
		if f := s.Failure; f != nil {
			texts = append(texts, f.Error(), f.Detail, fmt.Sprint(f))
			for _, lang := range []string{"pl", "en"} {
				b, _ := json.Marshal(f.JSON(lang))
				texts = append(texts, string(b))
			}
			b, _ := json.Marshal(f)
			texts = append(texts, string(b))
		}
		texts = append(texts, s.Capabilities...)
	}
	for _, txt := range texts {
		for _, secret := range secrets {
			if secret != "" && strings.Contains(txt, secret) {
				t.Fatalf("secret %q leaked into output: %s", secret, txt)
			}
		}
	}
}

func TestPeersRightPassword(t *testing.T) {
	p := mailpeers.Require(t)
	testRightPassword(t, p, p.StrictHost)
}

// testRightPassword verifies every incoming protocol over implicit TLS and
// STARTTLS (outgoing over the same) against host with the right password:
// the result is OK, each side took the steps in their order, both sides
// report capabilities and the password appears nowhere in the result.
func testRightPassword(t *testing.T, p *mailpeers.Peers, host string) {
	for _, in := range []mailcfg.Protocol{mailcfg.IMAP, mailcfg.POP3} {
		for _, sec := range []mailcfg.Security{mailcfg.SecurityTLS, mailcfg.SecurityStartTLS} {
			t.Run(fmt.Sprintf("%s-%s", in, sec), func(t *testing.T) {
				s := peersSettings(p, host, in, sec, sec)
				rec := &recorder{}
				r := Verify(t.Context(), s, Password(p.Password), Options{RootCAs: p.CAPool, Progress: rec.add})
				if !r.OK {
					t.Fatalf("not ok (%s, %s): %s", p.IMAPServer, p.SMTPServer, describe(r))
				}
				want := []Step{StepResolve, StepConnect, StepTLS, StepGreeting, StepLogin, StepDone}
				if sec == mailcfg.SecurityStartTLS {
					want = []Step{StepResolve, StepConnect, StepGreeting, StepTLS, StepLogin, StepDone}
				}
				for _, side := range []Side{Incoming, Outgoing} {
					if got := rec.steps(side); fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("%s steps %v, want %v", side, got, want)
					}
				}
				if len(r.Incoming.Capabilities) == 0 || len(r.Outgoing.Capabilities) == 0 {
					t.Errorf("capabilities missing: %v / %v", r.Incoming.Capabilities, r.Outgoing.Capabilities)
				}
				assertNoSecret(t, r, p.Password)
			})
		}
	}
}

func TestPeersWrongPassword(t *testing.T) {
	p := mailpeers.Require(t)
	const wrong = "wrong-Pa55word-xyzzy"
	for _, in := range []mailcfg.Protocol{mailcfg.IMAP, mailcfg.POP3} {
		for _, sec := range []mailcfg.Security{mailcfg.SecurityTLS, mailcfg.SecurityStartTLS} {
			t.Run(fmt.Sprintf("%s-%s", in, sec), func(t *testing.T) {
				s := peersSettings(p, p.StrictHost, in, sec, sec)
				r := Verify(t.Context(), s, Password(wrong), Options{RootCAs: p.CAPool})
				if r.OK {
					t.Fatal("wrong password accepted")
				}
				for name, side := range map[string]SideResult{"incoming": r.Incoming, "outgoing": r.Outgoing} {
					if side.OK || side.Failure == nil || side.Failure.Kind != mailcfg.KindAuthFailed {
						t.Errorf("%s: want auth_failed, got %s", name, describe(r))
					}
					if side.Failure != nil && side.Failure.Field != "password" {
						t.Errorf("%s: field %q", name, side.Failure.Field)
					}
				}
				assertNoSecret(t, r, wrong)
			})
		}
	}
}

func TestPeersSelfSignedWithoutPin(t *testing.T) {
	p := mailpeers.Require(t)
	wantFP := mailcfg.FormatFingerprint(mustFP(t, p.CertSHA256))
	for _, in := range []mailcfg.Protocol{mailcfg.IMAP, mailcfg.POP3} {
		for _, sec := range []mailcfg.Security{mailcfg.SecurityTLS, mailcfg.SecurityStartTLS} {
			t.Run(fmt.Sprintf("%s-%s", in, sec), func(t *testing.T) {
				s := peersSettings(p, p.StrictHost, in, sec, sec)
				// No RootCAs: the system roots do not know the peers' CA.
				r := Verify(t.Context(), s, Password(p.Password), Options{})
				for name, side := range map[string]SideResult{"incoming": r.Incoming, "outgoing": r.Outgoing} {
					f := side.Failure
					if f == nil || f.Kind != mailcfg.KindTLSCertificate {
						t.Fatalf("%s: want tls_certificate, got %s", name, describe(r))
					}
					c := f.Certificate
					if c == nil || c.SHA256 != wantFP || c.Reason != mailcfg.CertUnknownAuthority {
						t.Fatalf("%s: certificate %+v, want fingerprint %s", name, c, wantFP)
					}
					if c.Subject == "" || c.Issuer == "" || c.NotAfter.IsZero() || len(c.Names) == 0 {
						t.Errorf("%s: certificate incomplete: %+v", name, c)
					}
				}
				assertNoSecret(t, r, p.Password)
			})
		}
	}
}

func TestPeersPinned(t *testing.T) {
	p := mailpeers.Require(t)
	for _, in := range []mailcfg.Protocol{mailcfg.IMAP, mailcfg.POP3} {
		t.Run(string(in), func(t *testing.T) {
			s := peersSettings(p, p.StrictHost, in, mailcfg.SecurityStartTLS, mailcfg.SecurityTLS)
			s.Incoming.CertSHA256 = p.CertSHA256
			// The pin is written with colons, the way people copy it.
			s.Outgoing.CertSHA256 = mailcfg.FormatFingerprint(mustFP(t, p.CertSHA256))
			r := Verify(t.Context(), s, Password(p.Password), Options{})
			if !r.OK {
				t.Fatalf("pinned: %s", describe(r))
			}
		})
	}
	t.Run("wrong pin", func(t *testing.T) {
		s := peersSettings(p, p.StrictHost, mailcfg.IMAP, mailcfg.SecurityTLS, mailcfg.SecurityTLS)
		bad := strings.Repeat("ab", 32)
		s.Incoming.CertSHA256, s.Outgoing.CertSHA256 = bad, bad
		// Even the right CA does not help: a pin means exactly that leaf.
		r := Verify(t.Context(), s, Password(p.Password), Options{RootCAs: p.CAPool})
		for _, side := range []SideResult{r.Incoming, r.Outgoing} {
			if side.Failure == nil || side.Failure.Kind != mailcfg.KindTLSCertificate ||
				side.Failure.Certificate.Reason != mailcfg.CertPinMismatch {
				t.Fatalf("want pin_mismatch: %s", describe(r))
			}
		}
	})
}

func TestPeersXOAUTH2(t *testing.T) {
	p := mailpeers.Require(t)
	for _, sec := range []mailcfg.Security{mailcfg.SecurityTLS, mailcfg.SecurityStartTLS} {
		for _, in := range []mailcfg.Protocol{mailcfg.IMAP, mailcfg.POP3} {
			t.Run(fmt.Sprintf("%s-%s", in, sec), func(t *testing.T) {
				s := peersSettings(p, p.StrictHost, in, sec, sec)
				s.Auth = mailcfg.AuthOAuth2
				r := Verify(t.Context(), s, OAuth2Token{AccessToken: p.OAuthToken}, Options{RootCAs: p.CAPool})
				if !r.OK {
					t.Fatalf("token: %s", describe(r))
				}
				assertNoSecret(t, r, p.OAuthToken)
				const bad = "not-a-valid-token-123"
				calls := 0
				var mu sync.Mutex
				fn := TokenFunc(func(context.Context) (string, error) {
					mu.Lock()
					calls++
					mu.Unlock()
					return bad, nil
				})
				r = Verify(t.Context(), s, fn, Options{RootCAs: p.CAPool})
				for _, side := range []SideResult{r.Incoming, r.Outgoing} {
					if side.Failure == nil || side.Failure.Kind != mailcfg.KindAuthFailed {
						t.Fatalf("bad token: %s", describe(r))
					}
				}
				if calls != 1 {
					t.Errorf("TokenFunc called %d times, want once", calls)
				}
				assertNoSecret(t, r, bad)
			})
		}
	}
}

// On 127.0.0.1 Dovecot allows plaintext sign-in; with security "none" and the
// override the check works there, and without the override it refuses before
// dialling.
func TestPeersInsecure(t *testing.T) {
	p := mailpeers.Require(t)
	s := peersSettings(p, p.Host, mailcfg.IMAP, mailcfg.SecurityStartTLS, mailcfg.SecurityStartTLS)
	s.Incoming.Security = mailcfg.SecurityNone
	r := Verify(t.Context(), s, Password(p.Password), Options{RootCAs: p.CAPool})
	if f := r.Incoming.Failure; f == nil || f.Kind != mailcfg.KindInsecureRefused || f.Field != "incoming.security" {
		t.Fatalf("want insecure_refused: %s", describe(r))
	}
	if !r.Outgoing.OK {
		t.Errorf("outgoing: %s", describe(r))
	}
	r = Verify(t.Context(), s, Password(p.Password), Options{RootCAs: p.CAPool, AllowInsecure: true, InsecureOverride: true})
	if !r.Incoming.OK {
		t.Fatalf("insecure with override: %s", describe(r))
	}
	// On the strict host Dovecot says LOGINDISABLED before TLS and offers
	// no mechanism: nothing is sent.
	s.Incoming.Host = p.StrictHost
	r = Verify(t.Context(), s, Password(p.Password), Options{RootCAs: p.CAPool, AllowInsecure: true, InsecureOverride: true})
	if f := r.Incoming.Failure; f == nil || f.Kind != mailcfg.KindProtocol {
		t.Fatalf("strict host, plain: %s", describe(r))
	}
}

func mustFP(t *testing.T, s string) []byte {
	t.Helper()
	b, err := mailcfg.ParseFingerprint(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
