package verify

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/internal/discovertest"
	"infino.legal/mailbox/internal/localca"
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
				// other.example is a hoster the table knows by its MX.
				opt := Options{RootCAs: pki.pool, StepTimeout: 2 * time.Second, Resolver: dns.Resolver(),
					Table: hosterTable(t, "*.other.example")}
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

// hosterTable is a table with one hoster known by the MX pattern.
func hosterTable(t *testing.T, mxPattern string) *mailcfg.Table {
	t.Helper()
	p := *mailcfg.Bundled().ByID("wp.pl")
	p.ID, p.Domains, p.MX = "hoster-test", []string{"hoster-test.example"}, []string{mxPattern}
	tab, err := mailcfg.NewTable(1, []*mailcfg.Provider{&p})
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// A trusted certificate for a host that has nothing to do with the mailbox
// (someone on the network path with a certificate of their own) is refused
// as usual, but never offered as the server to use: the user would hand the
// password to a stranger with one click.
func TestCertificateForAStrangerSuggestsNothing(t *testing.T) {
	pki := pkiOnce()
	f := wantKind(t, check(t, "imap", mailcfg.SecurityTLS, fakeOpts{implicit: true, okLogin: true, cert: pki.wrongHst},
		Options{Table: hosterTable(t, "*.hoster-elsewhere.example")}), mailcfg.KindTLSCertificate)
	if f.Certificate.Reason != mailcfg.CertWrongHost || f.Certificate.SuggestedHost != "" {
		t.Errorf("certificate %+v", f.Certificate)
	}
	for _, lang := range []string{"pl", "en"} {
		if strings.Contains(f.Hint.In(lang)+f.Message.In(lang), "mail.other.example") {
			t.Errorf("%s: the stranger's host is offered: %q", lang, f.Hint.In(lang))
		}
	}
}

func TestPlausibleHost(t *testing.T) {
	tab := hosterTable(t, "*.nazwa-test.example")
	for _, tc := range []struct {
		suggested, typed, domain string
		want                     bool
	}{
		{"server1.nazwa-test.example", "mail.kancelaria.pl", "kancelaria.pl", true}, // the hoster, by MX pattern
		{"mx.kancelaria.pl", "mail.kancelaria.pl", "", true},                        // same site as the typed host
		{"poczta.kancelaria.pl", "10.0.0.5", "kancelaria.pl", true},                 // same site as the address
		{"imap.wp.pl", "mail.kancelaria.pl", "kancelaria.pl", true},                 // a server the table names
		{"evil.example", "mail.kancelaria.pl", "kancelaria.pl", false},
		{"kancelaria.pl.evil.example", "mail.kancelaria.pl", "kancelaria.pl", false},
		{"x.co.uk", "mail.other.co.uk", "other.co.uk", false}, // public suffixes are not a site
		{"com.pl", "mail.kancelaria.com.pl", "kancelaria.com.pl", false},
		{"MAIL.Kancelaria.PL.", "mail.kancelaria.pl", "", true},
		{"", "mail.kancelaria.pl", "kancelaria.pl", false},
	} {
		if got := plausibleHost(tc.suggested, tc.typed, tc.domain, tab); got != tc.want {
			t.Errorf("plausibleHost(%q, %q, %q) = %v, want %v", tc.suggested, tc.typed, tc.domain, got, tc.want)
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

// What a trusted certificate for another name may suggest: only a concrete
// host name it carries (no wildcard, no address, no single label, not the
// host typed), and nothing at all once the chain fails on anything but the
// name (expired, not yet valid, another CA).
func TestTrustedOtherNameRules(t *testing.T) {
	ca, err := localca.New(localca.Subject{CommonName: "Test CA"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := localca.New(localca.Subject{CommonName: "Other CA"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	leaf := func(ca *localca.CA, s localca.Subject, names ...string) *x509.Certificate {
		t.Helper()
		c, err := ca.Issue(s, names...)
		if err != nil {
			t.Fatal(err)
		}
		l, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	const host = "mail.kancelaria.pl"
	for _, c := range []struct {
		name string
		cert *x509.Certificate
		want string
	}{
		{"first concrete name", leaf(ca, localca.Subject{}, "*.nazwa.pl", "192.0.2.7", "server123456.nazwa.pl", "s2.nazwa.pl"), "server123456.nazwa.pl"},
		{"only a wildcard and an address", leaf(ca, localca.Subject{}, "*.nazwa.pl", "192.0.2.7"), ""},
		{"a single label", leaf(ca, localca.Subject{}, "mailserver"), ""},
		{"the typed host is not suggested back", leaf(ca, localca.Subject{}, "MAIL.kancelaria.pl", "*.kancelaria.pl"), ""},
		{"expired", leaf(ca, localca.Subject{NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)}, "server123456.nazwa.pl"), ""},
		{"not yet valid", leaf(ca, localca.Subject{NotBefore: now.Add(24 * time.Hour), NotAfter: now.Add(48 * time.Hour)}, "server123456.nazwa.pl"), ""},
		{"another CA", leaf(other, localca.Subject{}, "server123456.nazwa.pl"), ""},
	} {
		if got := trustedOtherName(c.cert, x509.NewCertPool(), ca.Pool, host, now); got != c.want {
			t.Errorf("%s: suggested %q, want %q", c.name, got, c.want)
		}
	}
	// Nothing without a leaf.
	if got := trustedOtherName(nil, nil, ca.Pool, host, now); got != "" {
		t.Errorf("no leaf: %q", got)
	}
}
