package policy

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"infino.legal/mailbox/mailcfg"
)

const firmJSON = `{
  "firmProvider": {
    "name": "Kancelaria Kowalski",
    "domains": ["Kancelaria.pl", "kancelaria.com.pl"],
    "incoming": ["imaps://mail.kancelaria.pl:993", "pop3s://mail.kancelaria.pl"],
    "outgoing": ["submissions://mail.kancelaria.pl:465", "submission://mail.kancelaria.pl:587"],
    "username": "localpart",
    "help": {"pl": "Pomoc: it@kancelaria.pl", "en": "Help: it@kancelaria.pl"},
    "helpUrl": "https://intranet.kancelaria.pl/poczta"
  },
  "lockServerSettings": true
}`

func TestFirmProviderFromJSON(t *testing.T) {
	path := write(t, firmJSON)
	t.Setenv(EnvPath, path)
	p, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	fp, err := p.FirmProvider()
	if err != nil || fp == nil {
		t.Fatalf("%v %v", fp, err)
	}
	if fp.ID != mailcfg.PresetProviderID || fp.Name != "Kancelaria Kowalski" || strings.Join(fp.Domains, ",") != "kancelaria.pl,kancelaria.com.pl" ||
		fp.Help.PL != "Pomoc: it@kancelaria.pl" || fp.HelpURL != "https://intranet.kancelaria.pl/poczta" || !strings.Contains(fp.Sources[0], path) {
		t.Errorf("provider %+v", fp)
	}
	want := []mailcfg.ServerTemplate{
		{Protocol: mailcfg.IMAP, Host: "mail.kancelaria.pl", Port: 993, Security: mailcfg.SecurityTLS, Username: mailcfg.UsernameLocalPart},
		{Protocol: mailcfg.POP3, Host: "mail.kancelaria.pl", Port: 995, Security: mailcfg.SecurityTLS, Username: mailcfg.UsernameLocalPart},
	}
	if len(fp.Incoming) != 2 || fp.Incoming[0] != want[0] || fp.Incoming[1] != want[1] {
		t.Errorf("incoming %+v", fp.Incoming)
	}
	if len(fp.Outgoing) != 2 || fp.Outgoing[1].Port != 587 || fp.Outgoing[1].Security != mailcfg.SecurityStartTLS {
		t.Errorf("outgoing %+v", fp.Outgoing)
	}
	if !p.FirmServersLocked() {
		t.Error("lockServerSettings does not lock the firm's servers")
	}

	// For its domains the entry beats the bundled table; elsewhere nothing changes.
	tb := mailcfg.Bundled().WithPreset(fp)
	s, err := tb.Autofill("Jan@KANCELARIA.pl", "")
	if err != nil || s.Source != mailcfg.SourcePolicy || s.Provider.ID != "firm" || s.Incoming.Host != "mail.kancelaria.pl" || s.Incoming.Username != "Jan" {
		t.Errorf("firm autofill %+v %v", s, err)
	}
	if s, err := tb.Autofill("jan@wp.pl", ""); err != nil || s.Provider.ID != "wp.pl" || s.Source != mailcfg.SourceBundled {
		t.Errorf("other domains: %+v %v", s, err)
	}
	if f := mailcfg.NewFailure(mailcfg.KindAuthFailed, "incoming", tb.ProviderFor(s)); f.Hint.In("pl") != "Pomoc: it@kancelaria.pl" || f.Hint.In("en") != "Help: it@kancelaria.pl" {
		t.Errorf("a refused sign-in shows %q / %q", f.Hint.In("pl"), f.Hint.In("en"))
	}
}

// The firm's entry wins even over a hand-researched provider of the table.
func TestFirmProviderBeatsBundled(t *testing.T) {
	p := Default()
	if err := p.Set("gpo", map[string]any{
		"firmProvider.domains":  []any{"interia.pl"},
		"firmProvider.incoming": []any{"imap://imap.firma.example:143"},
		"firmProvider.outgoing": []any{"submission://smtp.firma.example"},
	}); err != nil {
		t.Fatal(err)
	}
	fp, err := p.FirmProvider()
	if err != nil {
		t.Fatal(err)
	}
	s, err := mailcfg.Bundled().WithPreset(fp).Autofill("jan@interia.pl", "")
	if err != nil || s.Incoming.Host != "imap.firma.example" || s.Incoming.Security != mailcfg.SecurityStartTLS || s.Outgoing.Port != 587 {
		t.Errorf("%+v %v", s, err)
	}
	if fp.Help != defaultFirmHelp || p.FirmServersLocked() {
		t.Errorf("help %v, locked %v", fp.Help, p.FirmServersLocked())
	}
	if got, _ := mailcfg.Bundled().Autofill("jan@interia.pl", ""); got.Provider.ID != "interia.pl" {
		t.Error("WithPreset changed the bundled table")
	}
}

// policy check reports a bad or incomplete entry by key, at load.
func TestFirmProviderProblems(t *testing.T) {
	for name, c := range map[string]struct {
		json string
		want []string
	}{
		"incomplete": {`{"firmProvider":{"domains":["kancelaria.pl"]}}`, []string{`"firmProvider": incomplete: set firmProvider.incoming, firmProvider.outgoing`}},
		"no domains": {`{"firmProvider":{"incoming":["imaps://a.pl"],"outgoing":["submissions://a.pl"]}}`, []string{"set firmProvider.domains"}},
		"plain":      {`{"firmProvider":{"domains":["k.pl"],"incoming":["http://mail.k.pl"],"outgoing":["smtp://mail.k.pl"]}}`, []string{`"firmProvider.incoming"`, "the scheme must be imaps"}},
		"swapped":    {`{"firmProvider":{"domains":["k.pl"],"incoming":["submissions://mail.k.pl"],"outgoing":["imaps://mail.k.pl"]}}`, []string{`"firmProvider.incoming": server "submissions://mail.k.pl" is smtp, not an IMAP or POP3 server`, `"firmProvider.outgoing"`}},
		"bad values": {`{"firmProvider":{"domains":["k pl"],"incoming":["imaps://user:pw@mail.k.pl"],"outgoing":["submissions://mail.k.pl:99999"],"username":"upn","helpUrl":"http://x.pl"}}`,
			[]string{`"firmProvider.domains"`, "only scheme://host:port", "port must be", `"firmProvider.username"`, `"firmProvider.helpUrl": must use https://`}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(EnvPath, write(t, c.json))
			_, err := Load()
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Errorf("not a policy.Error: %T", err)
			}
		})
	}
}

// From the registry (what the MSI and GPO write): lists as REG_MULTI_SZ or
// ";"-separated REG_SZ.
func TestFirmProviderFromRegistry(t *testing.T) {
	flat, err := ParseRegistry(`HKLM\SOFTWARE\Policies\Infino\Mailbox`, []RegValue{
		{Name: "FirmProvider.Domains", Type: RegMultiSZ, Strs: []string{"kancelaria.pl", "kancelaria.eu"}},
		{Name: "firmProvider.incoming", Type: RegSZ, Str: "imaps://mail.kancelaria.pl:993;imap://mail.kancelaria.pl"},
		{Name: "firmProvider.outgoing", Type: RegSZ, Str: "submissions://mail.kancelaria.pl"},
		{Name: "firmProvider.help.pl", Type: RegSZ, Str: "Zadzwoń do IT, wew. 123"},
		{Name: "lockServerSettings", Type: RegDWord, Int: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := Default()
	if err := p.Set(`HKLM\SOFTWARE\Policies\Infino\Mailbox`, flat); err != nil {
		t.Fatal(err)
	}
	fp, err := p.FirmProvider()
	if err != nil || len(fp.Domains) != 2 || len(fp.Incoming) != 2 || fp.Incoming[1].Port != 143 || fp.Help.PL != "Zadzwoń do IT, wew. 123" || fp.Help.EN != defaultFirmHelp.EN {
		t.Fatalf("%+v %v", fp, err)
	}
	if !p.FirmServersLocked() {
		t.Error("not locked")
	}
}

func TestParseServerURL(t *testing.T) {
	for in, want := range map[string]string{
		"imaps://Mail.Kancelaria.pl":      "imap mail.kancelaria.pl 993 tls",
		"IMAP://mail.kancelaria.pl":       "imap mail.kancelaria.pl 143 starttls",
		"pop3://mail.kancelaria.pl:1110":  "pop3 mail.kancelaria.pl 1110 starttls",
		"smtps://mail.kancelaria.pl":      "smtp mail.kancelaria.pl 465 tls",
		"submission://[2001:db8::1]:2587": "smtp 2001:db8::1 2587 starttls",
		" submissions://mail.k.pl/ ":      "smtp mail.k.pl 465 tls",
	} {
		s, err := ParseServerURL(in)
		got := strings.Join([]string{string(s.Protocol), s.Host, strconv.Itoa(s.Port), string(s.Security)}, " ")
		if err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "mail.k.pl", "imaps:mail.k.pl", "ftp://mail.k.pl", "imaps://", "imaps://mail.k.pl:0", "imaps://mail.k.pl?x=1",
		"imaps://mail.k.pl#a", "imaps://u@mail.k.pl", "imaps://mail.k.pl/INBOX", "imaps://bad_host!.pl", "none://mail.k.pl"} {
		if _, err := ParseServerURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParseServerURL(f *testing.F) {
	for _, s := range []string{"imaps://mail.k.pl:993", "submission://[::1]:587", "pop3://a", "imaps://u:p@h/x?y#z", "smtp://%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		srv, err := ParseServerURL(s)
		if err != nil {
			return
		}
		if srv.Security != mailcfg.SecurityTLS && srv.Security != mailcfg.SecurityStartTLS {
			t.Fatalf("%q gave security %q", s, srv.Security)
		}
		if h, ok := mailcfg.NormalizeHost(srv.Host); !ok || h != srv.Host || srv.Port < 1 || srv.Port > 65535 {
			t.Fatalf("%q gave %+v", s, srv)
		}
	})
}

// From an MDM profile (macOS managed preferences), nested as in JSON.
func TestFirmProviderFromPlist(t *testing.T) {
	flat, err := ParsePlist("managed", []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
  <key>firmProvider</key>
  <dict>
    <key>domains</key>  <array><string>kancelaria.pl</string></array>
    <key>incoming</key> <array><string>imaps://mail.kancelaria.pl</string></array>
    <key>outgoing</key> <array><string>submissions://mail.kancelaria.pl</string></array>
    <key>help</key>     <dict><key>en</key><string>Ask IT.</string></dict>
  </dict>
  <key>lockServerSettings</key> <true/>
</dict></plist>`))
	if err != nil {
		t.Fatal(err)
	}
	p := Default()
	if err := p.Set("managed", flat); err != nil {
		t.Fatal(err)
	}
	fp, err := p.FirmProvider()
	if err != nil || fp == nil || fp.Help.EN != "Ask IT." || fp.Incoming[0].Host != "mail.kancelaria.pl" || !p.FirmServersLocked() {
		t.Fatalf("%+v %v", fp, err)
	}
}
