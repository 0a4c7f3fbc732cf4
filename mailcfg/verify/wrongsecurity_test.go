package verify

import (
	"strings"
	"testing"

	"infino.legal/mailbox/mailcfg"
)

// SSL/TLS chosen for a port that greets in plain text (143, 110, 587): the
// message says which security that port expects, in both languages, and
// points at the security field.
func TestTLSOnAStartTLSPortSaysWhatThePortExpects(t *testing.T) {
	for _, proto := range []string{"imap", "pop3", "smtp"} {
		t.Run(proto, func(t *testing.T) {
			f := wantKind(t, check(t, proto, mailcfg.SecurityTLS, fakeOpts{}, Options{}), mailcfg.KindTLSUnavailable)
			if side := string(fakeSide(proto)); f.Field != side+".security" {
				t.Errorf("field %q", f.Field)
			}
			for lang, want := range map[string][]string{"pl": {"oczekuje STARTTLS", "nie SSL/TLS"}, "en": {"expects STARTTLS", "not SSL/TLS"}} {
				for _, w := range want {
					if m := f.Message.In(lang); !strings.Contains(m, w) {
						t.Errorf("%s message %q does not say %q", lang, m, w)
					}
				}
			}
		})
	}
}
