package discover

import (
	"testing"

	"infino.legal/mailbox/mailcfg"
)

// The guess probes the standard ports, implicit TLS first, and reads the
// protocol back from them.
func TestGuessPorts(t *testing.T) {
	want := map[mailcfg.Protocol][2]int{mailcfg.IMAP: {993, 143}, mailcfg.POP3: {995, 110}, mailcfg.SMTP: {465, 587}}
	for proto, ports := range want {
		tries := guessTries(proto, "kancelaria.example")
		half := len(tries) / 2
		for i, g := range tries {
			sec, port := mailcfg.SecurityTLS, ports[0]
			if i >= half {
				sec, port = mailcfg.SecurityStartTLS, ports[1]
			}
			if g.proto != proto || g.sec != sec || g.port != port {
				t.Errorf("%s try %d: %+v", proto, i, g)
			}
		}
		for _, port := range ports {
			if got, ok := protoForPort(port); !ok || got != proto {
				t.Errorf("protoForPort(%d) = %q, %v", port, got, ok)
			}
		}
	}
	if got, ok := protoForPort(25); !ok || got != mailcfg.SMTP {
		t.Errorf("protoForPort(25) = %q, %v", got, ok)
	}
	for _, port := range []int{0, 80, 443, 2525} {
		if _, ok := protoForPort(port); ok {
			t.Errorf("protoForPort(%d) accepted", port)
		}
	}
	if g := guessTries("", "kancelaria.example"); g[0].proto != mailcfg.IMAP || g[0].port != 993 {
		t.Errorf("unknown protocol: %+v", g[0])
	}
}
