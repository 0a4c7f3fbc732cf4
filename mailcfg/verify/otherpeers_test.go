package verify

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/internal/mailpeers"
	"infino.legal/mailbox/mailcfg"
)

// Integration tests against Cyrus IMAP/POP3 and Exim, the servers
// testdata/otherpeers/up.sh starts: the same checks as against Dovecot and
// Postfix, with other wordings and capabilities. mailpeers.RequireOther skips
// them on a developer machine without the servers and fails them in CI.

func TestOtherPeersRightPassword(t *testing.T) {
	p := mailpeers.RequireOther(t)
	testRightPassword(t, p, p.Host)
}

// Cyrus answers "NO Login failed: authentication failure" (no response
// code) and "-ERR [AUTH] Invalid login"; Exim "535 Incorrect authentication
// data" (no enhanced code). Each is a refused password, not a port or TLS
// problem.
func TestOtherPeersWrongPassword(t *testing.T) {
	p := mailpeers.RequireOther(t)
	const wrong = "wrong-Pa55word-xyzzy"
	for _, in := range []mailcfg.Protocol{mailcfg.IMAP, mailcfg.POP3} {
		for _, sec := range []mailcfg.Security{mailcfg.SecurityTLS, mailcfg.SecurityStartTLS} {
			t.Run(fmt.Sprintf("%s-%s", in, sec), func(t *testing.T) {
				s := peersSettings(p, p.Host, in, sec, sec)
				r := Verify(t.Context(), s, Password(wrong), Options{RootCAs: p.CAPool})
				if r.OK {
					t.Fatal("wrong password accepted")
				}
				wantDetail := map[mailcfg.Protocol]string{mailcfg.IMAP: "IMAP NO", mailcfg.POP3: "POP3 "}[in]
				for _, c := range []struct {
					name, detail string
					side         SideResult
				}{{"incoming", wantDetail, r.Incoming}, {"outgoing", "SMTP 535", r.Outgoing}} {
					f := c.side.Failure
					if c.side.OK || f == nil || f.Kind != mailcfg.KindAuthFailed {
						t.Errorf("%s: want auth_failed, got %s", c.name, describe(r))
						continue
					}
					if f.Field != "password" || !strings.HasPrefix(f.Detail, c.detail) {
						t.Errorf("%s: field %q detail %q, want password and %q…", c.name, f.Field, f.Detail, c.detail)
					}
				}
				assertNoSecret(t, r, wrong)
			})
		}
	}
}

// The security of one port with the port of the other mode. Implicit TLS
// against a STARTTLS port meets a plain greeting at once; STARTTLS against an
// implicit-TLS port meets silence (both sides wait), which is a timeout unless
// the check probes the port. Exim answers a probe that offers only HTTP by
// ALPN with alert 120 (no_application_protocol): an alert received is TLS
// spoken too.
func TestOtherPeersWrongSecurity(t *testing.T) {
	p := mailpeers.RequireOther(t)
	// Whether this build probes a silent port with a TLS handshake.
	_, probes := reflect.TypeOf(Options{}).FieldByName("ProbeAfter")
	other := map[mailcfg.Security]mailcfg.Security{
		mailcfg.SecurityTLS: mailcfg.SecurityStartTLS, mailcfg.SecurityStartTLS: mailcfg.SecurityTLS}
	for _, in := range []mailcfg.Protocol{mailcfg.IMAP, mailcfg.POP3} {
		for _, portOf := range []mailcfg.Security{mailcfg.SecurityTLS, mailcfg.SecurityStartTLS} {
			chosen := other[portOf]
			t.Run(fmt.Sprintf("%s-%s-on-%s-port", in, chosen, portOf), func(t *testing.T) {
				t.Parallel()
				s := peersSettings(p, p.Host, in, portOf, portOf)
				s.Incoming.Security, s.Outgoing.Security = chosen, chosen
				start := time.Now()
				r := Verify(t.Context(), s, Password(p.Password), Options{RootCAs: p.CAPool, StepTimeout: 3 * time.Second})
				for _, c := range []struct {
					name string
					side SideResult
				}{{"incoming", r.Incoming}, {"outgoing", r.Outgoing}} {
					f := c.side.Failure
					if f == nil {
						t.Errorf("%s: accepted", c.name)
						continue
					}
					if chosen == mailcfg.SecurityStartTLS && !probes {
						// Without the probe the silent implicit-TLS port is
						// a timeout on the greeting.
						if f.Kind != mailcfg.KindTimeout {
							t.Errorf("%s: want timeout (no probe in this build), got %s", c.name, describe(r))
						}
						continue
					}
					if f.Kind != mailcfg.KindTLSUnavailable || f.Field != c.name+".security" {
						t.Errorf("%s: want tls_unavailable on %s.security, got %s (field %q)",
							c.name, c.name, describe(r), f.Field)
					}
				}
				t.Logf("%s", time.Since(start).Round(time.Millisecond))
				assertNoSecret(t, r, p.Password)
			})
		}
	}
}

func TestOtherPeersCertificate(t *testing.T) {
	p := mailpeers.RequireOther(t)
	wantFP := mailcfg.FormatFingerprint(mustFP(t, p.CertSHA256))
	for _, in := range []mailcfg.Protocol{mailcfg.IMAP, mailcfg.POP3} {
		for _, sec := range []mailcfg.Security{mailcfg.SecurityTLS, mailcfg.SecurityStartTLS} {
			t.Run(fmt.Sprintf("%s-%s", in, sec), func(t *testing.T) {
				s := peersSettings(p, p.Host, in, sec, sec)
				// No RootCAs: the system roots do not know the private CA,
				// and the refusal shows the leaf's fingerprint.
				r := Verify(t.Context(), s, Password(p.Password), Options{})
				for name, side := range map[string]SideResult{"incoming": r.Incoming, "outgoing": r.Outgoing} {
					f := side.Failure
					if f == nil || f.Kind != mailcfg.KindTLSCertificate || f.Certificate == nil ||
						f.Certificate.SHA256 != wantFP || f.Certificate.Reason != mailcfg.CertUnknownAuthority {
						t.Fatalf("%s: want tls_certificate with %s, got %s", name, wantFP, describe(r))
					}
				}
				// Pinned (once bare hex, once with colons, as people copy it):
				// trusted without the CA.
				s.Incoming.CertSHA256 = p.CertSHA256
				s.Outgoing.CertSHA256 = wantFP
				if r := Verify(t.Context(), s, Password(p.Password), Options{}); !r.OK {
					t.Fatalf("pinned: %s", describe(r))
				}
				// A wrong pin is refused even with the right CA.
				bad := strings.Repeat("ab", 32)
				s.Incoming.CertSHA256, s.Outgoing.CertSHA256 = bad, bad
				r = Verify(t.Context(), s, Password(p.Password), Options{RootCAs: p.CAPool})
				for _, side := range []SideResult{r.Incoming, r.Outgoing} {
					if side.Failure == nil || side.Failure.Kind != mailcfg.KindTLSCertificate ||
						side.Failure.Certificate.Reason != mailcfg.CertPinMismatch {
						t.Fatalf("wrong pin: %s", describe(r))
					}
				}
				assertNoSecret(t, r, p.Password)
			})
		}
	}
}
