package verify

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/internal/discovertest"
	"infino.legal/mailbox/mailcfg"
)

// A valid, trusted certificate for another name (hosted mail: the firm types
// its own domain, the server presents the hoster's name) is a way forward:
// the failure names that server, and switching to it verifies again and
// passes. No trust is added on the way.
func TestCertificateForAnotherNameSuggestsIt(t *testing.T) {
	pki := pkiOnce()
	for _, proto := range protos {
		for _, sec := range []mailcfg.Security{mailcfg.SecurityTLS, mailcfg.SecurityStartTLS} {
			t.Run(proto+"-"+string(sec), func(t *testing.T) {
				o := fakeOpts{implicit: sec == mailcfg.SecurityTLS, okLogin: true, cert: pki.wrongHst}
				fs := startFake(t, fakeServerFor(proto, o))
				dns := discovertest.NewDNS(t)
				dns.A("mail.other.example", "127.0.0.1")
				opt := Options{RootCAs: pki.pool, StepTimeout: 2 * time.Second, Resolver: dns.Resolver()}
				srv := fakeServerSetting(proto, fs.port(), sec)
				f := wantKind(t, VerifyServer(t.Context(), fakeSide(proto), srv, Password(fakePassword), opt), mailcfg.KindTLSCertificate)
				ci := f.Certificate
				if ci == nil || ci.Reason != mailcfg.CertWrongHost || ci.SuggestedHost != "mail.other.example" {
					t.Fatalf("certificate %+v", ci)
				}
				for _, lang := range []string{"pl", "en"} {
					if !strings.Contains(f.Hint.In(lang), "mail.other.example") {
						t.Errorf("%s: %q / %q", lang, f.Message.In(lang), f.Hint.In(lang))
					}
				}
				if f.Field != string(fakeSide(proto))+".host" {
					t.Errorf("field %q", f.Field)
				}
				// The switch: the same server under the certificate's name.
				srv.Host = ci.SuggestedHost
				if r := VerifyServer(t.Context(), fakeSide(proto), srv, Password(fakePassword), opt); !r.OK {
					t.Fatalf("re-check on %s: %v", srv.Host, r.Failure)
				}
				assertNotInClear(t, fs, fakeUser, fakePassword)
			})
		}
	}
}

// A certificate the system does not trust is not a way forward, whatever
// names it carries: it still goes through pinning.
func TestUntrustedCertificateSuggestsNothing(t *testing.T) {
	pki := pkiOnce()
	f := wantKind(t, check(t, "imap", mailcfg.SecurityTLS, fakeOpts{implicit: true, okLogin: true, cert: pki.selfSign}, Options{}), mailcfg.KindTLSCertificate)
	if f.Certificate.SuggestedHost != "" || f.Certificate.Reason != mailcfg.CertUnknownAuthority {
		t.Errorf("certificate %+v", f.Certificate)
	}
	// Trusted by nobody here: the CA is not in the roots.
	f = wantKind(t, check(t, "imap", mailcfg.SecurityTLS, fakeOpts{implicit: true, okLogin: true, cert: pki.wrongHst},
		Options{RootCAs: x509.NewCertPool()}), mailcfg.KindTLSCertificate)
	if f.Certificate.SuggestedHost != "" {
		t.Errorf("an untrusted certificate suggested %q", f.Certificate.SuggestedHost)
	}
}
