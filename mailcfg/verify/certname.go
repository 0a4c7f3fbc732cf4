package verify

import (
	"crypto/x509"
	"net"
	"strings"
	"time"

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
