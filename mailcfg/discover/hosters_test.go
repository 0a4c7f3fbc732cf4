package discover_test

import (
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
