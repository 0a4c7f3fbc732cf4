package discover

import (
	"net"
	"net/url"
	"strings"
	"testing"

	"infino.legal/mailbox/mailcfg"
)

// FuzzAutodiscoverTarget feeds arbitrary redirect URLs to the check every
// Autodiscover target passes: what it lets through is https, to a
// normalised public host name (never an address literal or a local name),
// without userinfo, and the host consent is asked about is the host the
// request goes to.
func FuzzAutodiscoverTarget(f *testing.F) {
	for _, seed := range []string{
		"https://autodiscover.kancelaria.pl/autodiscover/autodiscover.xml",
		"https://MAIL.Kancelaria.PL.:8443/autodiscover/autodiscover.xml",
		"https://kancelaria.pl@evil.example.net/x",
		"https://evil.example.net:secret@mail.kancelaria.pl/x#frag",
		"https://autodiscover.k\u0430ncelaria.pl/x",
		"https://127.0.0.1/x", "https://[::1]:443/x", "https://localhost/x", "https://10.1.2.3/x",
		"http://mail.kancelaria.pl/x", "https:opaque", "https:///x", "https://a..b/x", "https://%6bancelaria.pl/x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		got, err := adTarget(u)
		if err != nil {
			return
		}
		host := got.Hostname()
		if got.Scheme != "https" || got.User != nil || got.Fragment != "" {
			t.Fatalf("%q: let through %q", raw, got)
		}
		if a, ok := mailcfg.NormalizeHost(host); !ok || a != host || net.ParseIP(host) != nil || !publicHost(host) ||
			strings.HasSuffix(host, ".") || host != strings.ToLower(host) {
			t.Fatalf("%q: host %q not normalised or not public", raw, host)
		}
		again, err := url.Parse(got.String())
		if err != nil || again.Hostname() != host {
			t.Fatalf("%q: %q does not parse back to %q", raw, got, host)
		}
		if h, ok := adHost(host); !ok || h != host {
			t.Fatalf("%q: consent would be asked about %q, not %q", raw, h, host)
		}
	})
}
