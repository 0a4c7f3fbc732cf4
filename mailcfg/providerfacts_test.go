package mailcfg

import (
	"strings"
	"testing"
)

// Onet since 31 March 2026: no POP3 at all, IMAP only in paid packages; a
// refused sign-in says so in both languages.
func TestOnetFacts(t *testing.T) {
	tb := Bundled()
	onet := tb.ByID("onet.pl")
	if onet.Offers(POP3) {
		t.Error("Onet still offers POP3")
	}
	s, err := tb.Autofill("jan@op.pl", POP3)
	if err != nil || s.Incoming.Protocol != IMAP || s.Incoming.Host != "imap.poczta.onet.pl" {
		t.Errorf("POP3 asked for at Onet: %+v %v", s.Incoming, err)
	}
	f := NewFailure(KindAuthFailed, "incoming", tb.ProviderFor(s))
	for lang, want := range map[string][]string{
		"pl": {"31 marca 2026", "płatnych pakietach", "POP3 wyłączono"},
		"en": {"31 March 2026", "paid packages", "POP3 was switched off"},
	} {
		for _, w := range want {
			if !strings.Contains(f.Hint.In(lang), w) {
				t.Errorf("%s hint %q lacks %q", lang, f.Hint.In(lang), w)
			}
		}
	}
}

// A correct-looking password refused by a hoster with 2FA for mail
// programs explains the step that authorises this computer's IP.
func TestHosterRefusalExplains2FA(t *testing.T) {
	tb := Bundled()
	for id, want := range map[string]map[string][]string{
		"nazwa.pl":      {"pl": {"2FA", "Cloud Mail", "adresów IP"}, "en": {"2FA", "Cloud Mail", "IP addresses"}},
		"cyberfolks.pl": {"pl": {"2FA", "24 godzin", "webmaila"}, "en": {"2FA", "24 hours", "webmail"}},
		"ovh.net":       {"pl": {"proN.mail.ovh.net", "exN.mail.ovh.net", "587"}, "en": {"proN.mail.ovh.net", "exN.mail.ovh.net", "587"}},
	} {
		f := NewFailure(KindAuthFailed, "incoming", tb.ByID(id))
		for lang, words := range want {
			for _, w := range words {
				if !strings.Contains(f.Hint.In(lang), w) {
					t.Errorf("%s %s hint %q lacks %q", id, lang, f.Hint.In(lang), w)
				}
			}
		}
	}
	// ssl0.ovh.net refusing finds the OVH entry by its server name.
	if p := tb.ByServerHost("SSL0.ovh.net"); p == nil || p.ID != "ovh.net" {
		t.Errorf("ssl0.ovh.net → %v", p)
	}
}

// Hosters with a server per customer are named by the MX host that
// matched, never guessed as mail.<domain>; the new hosters are found by MX.
func TestHostersByMX(t *testing.T) {
	tb := Bundled()
	addr, _ := ParseAddress("jan@kancelaria.pl")
	for mx, want := range map[string]struct{ id, in, out string }{
		"s12.cyber-folks.pl.":       {"cyberfolks.pl", "s12.cyber-folks.pl", "s12.cyber-folks.pl"},
		"server123456.nazwa.pl":     {"nazwa.pl", "server123456.nazwa.pl", "server123456.nazwa.pl"},
		"kancelaria.atthost24.pl":   {"atthost.pl", "kancelaria.atthost24.pl", "kancelaria.atthost24.pl"},
		"mx1.hostinger.com":         {"hostinger", "imap.hostinger.com", "smtp.hostinger.com"},
		"mx.zenbox.pl":              {"zenbox.pl", "imap.zenbox.pl", "smtp.zenbox.pl"},
		"mx1.mail.ovh.net":          {"ovh.net", "ssl0.ovh.net", "ssl0.ovh.net"},
		"kancelaria-pl.mx.lh.pl":    {"lh.pl", "kancelaria-pl.mx.lh.pl", "kancelaria-pl.mx.lh.pl"},
		"kancelaria.pl.home.pl":     {"home.pl", "kancelaria.pl", "kancelaria.pl"},
		"mx1.hostinger.com.example": {},
	} {
		p := tb.ByMX(mx)
		if want.id == "" {
			if p != nil {
				t.Errorf("%s matched %s", mx, p.ID)
			}
			continue
		}
		if p == nil || p.ID != want.id {
			t.Errorf("ByMX(%s) = %v, want %s", mx, p, want.id)
			continue
		}
		s := p.SettingsForMX(addr, "", mx)
		if s.Incoming.Host != want.in || s.Outgoing.Host != want.out || s.Incoming.Username != "jan@kancelaria.pl" {
			t.Errorf("%s: %s / %s user %s", mx, s.Incoming.Host, s.Outgoing.Host, s.Incoming.Username)
		}
		if err := s.Validate(ValidateOptions{}); err != nil {
			t.Errorf("%s: %v", mx, err)
		}
	}
}

func TestMXHostNeedsMXOnlyProvider(t *testing.T) {
	doc := `{"version":1,"providers":[{"id":"x","name":"X","domains":["x.pl"],"mx":["*.x.pl"],"incoming":[{"protocol":"imap","host":"%MXHOST%","port":993,"security":"tls","username":"address"}],"outgoing":[{"protocol":"smtp","host":"%MXHOST%","port":465,"security":"tls","username":"address"}],"help":{"pl":"a","en":"b"},"sources":["s"]}]}`
	if _, err := ParseTable([]byte(doc)); err == nil || !strings.Contains(err.Error(), MXHostPlaceholder) {
		t.Errorf("an MX-named provider with domains was accepted: %v", err)
	}
}
