package verify

import (
	"crypto/x509"
	"net"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"infino.legal/mailbox/mailcfg"
)

// trustedOtherName is the server name to suggest when a certificate failed
// only because it names another host: the chain is valid and trusted at now
// without the name check. It is the first of the leaf's DNS names that is
// a concrete host (not a wildcard, not an IP address, not host itself);
// "" when there is none or the chain is not trusted. Hosted mail typically
// answers for the firm's domain (mail.kancelaria.pl) with the hoster's
// certificate (server123456.nazwa.pl, s12.cyber-folks.pl).
func trustedOtherName(leaf *x509.Certificate, inter *x509.CertPool, roots *x509.CertPool, host string, now time.Time) string {
	if leaf == nil {
		return ""
	}
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}); err != nil {
		return ""
	}
	for _, name := range leaf.DNSNames {
		if strings.Contains(name, "*") || net.ParseIP(name) != nil {
			continue
		}
		h, ok := mailcfg.NormalizeHost(name)
		if !ok || strings.EqualFold(h, host) || !strings.Contains(h, ".") {
			continue
		}
		if leaf.VerifyHostname(h) == nil {
			return h
		}
	}
	return ""
}

// plausibleHost reports whether a server name taken from a certificate
// belongs with the mailbox, so that offering it cannot send the user to a
// stranger: it shares its registrable domain with the host the user typed or
// with the address's domain, or a provider of the table names it as a
// server or by an MX pattern (a hoster's per-customer servers,
// server123456.nazwa.pl). Anyone on the network path who holds a trusted
// certificate for a host of their own would otherwise get "Use server
// their-host" offered, and the password with it.
func plausibleHost(suggested, typed, mailDomain string, t *mailcfg.Table) bool {
	site := func(h string) string {
		h = strings.TrimSuffix(strings.ToLower(h), ".")
		if s, err := publicsuffix.EffectiveTLDPlusOne(h); err == nil {
			return s
		}
		return ""
	}
	want := site(suggested)
	if want == "" {
		return false
	}
	for _, h := range []string{typed, mailDomain} {
		if h != "" && site(h) == want {
			return true
		}
	}
	if t == nil {
		return false
	}
	return t.ByServerHost(suggested) != nil || t.ByMX(suggested) != nil
}
