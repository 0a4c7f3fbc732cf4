package discover_test

import (
	"strings"
	"testing"

	"infino.legal/mailbox/mailcfg"
)

// A hoster with a server per customer: discovery names the server after
// the MX host, not mail.<domain>.
func TestMXNamesTheCustomersServer(t *testing.T) {
	w := newWorld(t)
	w.dns.MX(domain, 10, "s12.cyber-folks.pl")
	r := discoverOK(t, w.opts(), email)
	if r.Settings.Source != mailcfg.SourceMX || r.Provider == nil || r.Provider.ID != "cyberfolks.pl" {
		t.Fatalf("got %+v from %v", r.Settings, r.Provider)
	}
	wantServer(t, "incoming", r.Settings.Incoming, "s12.cyber-folks.pl", 993, mailcfg.SecurityTLS)
	wantServer(t, "outgoing", r.Settings.Outgoing, "s12.cyber-folks.pl", 465, mailcfg.SecurityTLS)
}

// A firm domain whose MX is under a hoster's domain that ISPDB knows
// (Hetzner's your-server.de) is answered from the offline table, without
// asking ISPDB over the network.
func TestMXDomainFromTheOfflineISPDB(t *testing.T) {
	w := newWorld(t)
	w.dns.MX(domain, 10, "mx1.your-server.de")
	r := discoverOK(t, w.opts(), email)
	if r.Settings.Source != mailcfg.SourceMX || r.Provider == nil || r.Provider.ID != "ispdb:hetzner.de" {
		t.Fatalf("got %+v from %v\n%s", r.Settings, r.Provider, tried(r))
	}
	wantServer(t, "incoming", r.Settings.Incoming, "mail.your-server.de", 993, mailcfg.SecurityTLS)
	for _, u := range w.web.Requests() {
		if strings.HasPrefix(u, "https://autoconfig.thunderbird.net/v1.1/your-server.de") {
			t.Errorf("ISPDB asked over the network: %s", u)
		}
	}
}
