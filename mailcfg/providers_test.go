package mailcfg

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestBundledTableValid(t *testing.T) {
	if _, err := ParseTable(bundledProviders); err != nil {
		t.Fatal(err)
	}
	tb := Bundled()
	if len(tb.Providers) < 25 {
		t.Fatalf("only %d providers", len(tb.Providers))
	}
}

// Every alias of every provider autofills to that provider, with the
// provider's username form, and the result validates and round-trips.
func TestEveryAliasResolves(t *testing.T) {
	tb := Bundled()
	n := 0
	for _, p := range tb.Providers {
		for _, d := range p.Domains {
			n++
			s, err := tb.Autofill("Jan.Kowalski@"+strings.ToUpper(d), "")
			if err != nil {
				t.Errorf("%s: %v", d, err)
				continue
			}
			if s.Provider == nil || s.Provider.ID != p.ID || s.Source != SourceBundled {
				t.Errorf("%s resolved to %+v", d, s.Provider)
			}
			if err := s.Validate(ValidateOptions{}); err != nil {
				t.Errorf("%s: settings do not validate: %v", d, err)
			}
			in, _ := pickServer(p.Incoming, s.Incoming.Protocol)
			wantUser := "Jan.Kowalski@" + d
			switch in.Username {
			case UsernameLocalPart:
				wantUser = "Jan.Kowalski"
			case UsernameLocalDotDomain:
				wantUser = "Jan.Kowalski." + d
			}
			if s.Incoming.Username != wantUser {
				t.Errorf("%s: username %q, want %q", d, s.Incoming.Username, wantUser)
			}
			if s.Incoming.Security == SecurityNone || s.Outgoing.Security == SecurityNone {
				t.Errorf("%s: autofill chose no encryption", d)
			}
			data, _ := json.Marshal(s)
			back, err := DecodeSettings(strings.NewReader(string(data)))
			if err != nil || !equalSettings(back, s) {
				t.Errorf("%s: JSON round trip failed: %v", d, err)
			}
		}
	}
	if n < 150 {
		t.Errorf("only %d domains in the table", n)
	}
}

func TestAutofillNamedProviders(t *testing.T) {
	cases := []struct {
		email, id, inHost string
		inPort            int
		auth              Auth
	}{
		{"jan@interia.pl", "interia.pl", "poczta.interia.pl", 993, AuthPassword},
		{"jan@poczta.fm", "interia.pl", "poczta.interia.pl", 993, AuthPassword},
		{"jan@gmail.com", "gmail.com", "imap.gmail.com", 993, AuthPassword},
		{"jan@googlemail.com", "gmail.com", "imap.gmail.com", 993, AuthPassword},
		{"jan@wp.pl", "wp.pl", "imap.wp.pl", 993, AuthPassword},
		{"jan@op.pl", "onet.pl", "imap.poczta.onet.pl", 993, AuthPassword},
		{"jan@int.pl", "int.pl", "poczta.int.pl", 993, AuthPassword},
		{"jan@hotmail.com", "outlook.com", "outlook.office365.com", 993, AuthOAuth2},
		{"jan@o2.pl", "o2.pl", "poczta.o2.pl", 993, AuthPassword},
	}
	for _, c := range cases {
		s, err := Autofill(c.email, "")
		if err != nil {
			t.Errorf("%s: %v", c.email, err)
			continue
		}
		if s.Provider.ID != c.id || s.Incoming.Host != c.inHost || s.Incoming.Port != c.inPort || s.Auth != c.auth {
			t.Errorf("%s: got %s %s:%d %s", c.email, s.Provider.ID, s.Incoming.Host, s.Incoming.Port, s.Auth)
		}
		if s.Incoming.Security != SecurityTLS {
			t.Errorf("%s: implicit TLS not preferred: %s", c.email, s.Incoming.Security)
		}
	}
}

func TestAutofillPOP3AndIDNAndUnknown(t *testing.T) {
	s, err := Autofill("jan@wp.pl", POP3)
	if err != nil || s.Incoming.Protocol != POP3 || s.Incoming.Port != 995 {
		t.Fatalf("POP3: %+v %v", s.Incoming, err)
	}
	if _, err := Autofill("biuro@kancelaria-żółć.pl", ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown IDN domain: %v", err)
	}
	var fe *FieldError
	if _, err := Autofill("no-at-sign", ""); !errors.As(err, &fe) || fe.Code != "email_no_at" {
		t.Fatalf("bad address: %v", err)
	}
}

func TestByMX(t *testing.T) {
	tb := Bundled()
	for mx, id := range map[string]string{
		"kancelaria-pl.mail.protection.outlook.com.": "microsoft365",
		"ASPMX.L.GOOGLE.COM":                         "google-workspace",
	} {
		p := tb.ByMX(mx)
		if p == nil || p.ID != id {
			t.Errorf("ByMX(%s) = %v, want %s", mx, p, id)
		}
	}
	if p := tb.ByMX("mx.unknown-hoster.example"); p != nil {
		t.Errorf("unknown MX matched %s", p.ID)
	}
	if MatchMX("*.ovh.net", "ovh.net") || !MatchMX("*.ovh.net", "mx1.mail.ovh.net") || !MatchMX("a.b", "a.b") {
		t.Error("MatchMX semantics")
	}
}

func TestParseTableRejectsBadData(t *testing.T) {
	for name, doc := range map[string]string{
		"plain server": `{"version":1,"providers":[{"id":"x","name":"X","domains":["x.pl"],"incoming":[{"protocol":"imap","host":"imap.x.pl","port":143,"security":"none","username":"address"}],"outgoing":[{"protocol":"smtp","host":"smtp.x.pl","port":465,"security":"tls","username":"address"}],"help":{"pl":"a","en":"b"},"sources":["s"]}]}`,
		"duplicate domain": `{"version":1,"providers":[
		  {"id":"x","name":"X","domains":["x.pl"],"incoming":[{"protocol":"imap","host":"imap.x.pl","port":993,"security":"tls","username":"address"}],"outgoing":[{"protocol":"smtp","host":"smtp.x.pl","port":465,"security":"tls","username":"address"}],"help":{"pl":"a","en":"b"},"sources":["s"]},
		  {"id":"y","name":"Y","domains":["x.pl"],"incoming":[{"protocol":"imap","host":"imap.x.pl","port":993,"security":"tls","username":"address"}],"outgoing":[{"protocol":"smtp","host":"smtp.x.pl","port":465,"security":"tls","username":"address"}],"help":{"pl":"a","en":"b"},"sources":["s"]}]}`,
		"no help":      `{"version":1,"providers":[{"id":"x","name":"X","domains":["x.pl"],"incoming":[{"protocol":"imap","host":"imap.x.pl","port":993,"security":"tls","username":"address"}],"outgoing":[{"protocol":"smtp","host":"smtp.x.pl","port":465,"security":"tls","username":"address"}],"sources":["s"]}]}`,
		"unknown key":  `{"version":1,"providers":[{"id":"x","nmae":"X"}]}`,
		"upper domain": `{"version":1,"providers":[{"id":"x","name":"X","domains":["X.pl"],"incoming":[{"protocol":"imap","host":"imap.x.pl","port":993,"security":"tls","username":"address"}],"outgoing":[{"protocol":"smtp","host":"smtp.x.pl","port":465,"security":"tls","username":"address"}],"help":{"pl":"a","en":"b"},"sources":["s"]}]}`,
	} {
		if _, err := ParseTable([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// BenchmarkAutofill measures the offline autofill of a known address, the
// work the form does on every keystroke (goal: well under 1 ms, no network).
func BenchmarkAutofill(b *testing.B) {
	Bundled()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Autofill("jan.kowalski@interia.pl", ""); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAutofillIDN(b *testing.B) {
	Bundled()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = Autofill("biuro@kancelaria-żółć.pl", "")
	}
}

func TestProviderFor(t *testing.T) {
	tab := Bundled()
	cases := []struct {
		s    Settings
		want string
	}{
		{Settings{Provider: &ProviderRef{ID: "wp.pl"}, Email: "a@gmail.com"}, "wp.pl"},
		{Settings{Email: "a@interia.pl"}, "interia.pl"},
		{Settings{Email: "a@kancelaria.example", Outgoing: Server{Host: "SMTP.Office365.com"}}, "microsoft365"},
		{Settings{Email: "a@kancelaria.example", Incoming: Server{Host: "mail.kancelaria.example"}}, ""},
	}
	for _, c := range cases {
		got := ""
		if p := tab.ProviderFor(c.s); p != nil {
			got = p.ID
		}
		if got != c.want {
			t.Errorf("%+v: got %q want %q", c.s, got, c.want)
		}
	}
}

func TestNewTableCopiesAndValidates(t *testing.T) {
	b := Bundled()
	p := *b.ByID(b.Providers[0].ID)
	p.ID, p.Domains, p.MX = "copy", []string{"kancelaria.example"}, nil
	mine := &p
	t1, err := NewTable(7, []*Provider{mine})
	if err != nil {
		t.Fatal(err)
	}
	if t1.Version != 7 || t1.ByID("copy") == nil || t1.ByID("copy") == mine {
		t.Fatalf("NewTable did not index a copy: %+v", t1)
	}
	t1.ByID("copy").Domains[0] = "changed.example"
	if mine.Domains[0] != "kancelaria.example" {
		t.Errorf("the table shares the caller's Domains")
	}
	// The same provider may sit in two tables.
	if _, err := NewTable(1, []*Provider{mine}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewTable(1, []*Provider{mine, mine}); err == nil || !strings.Contains(err.Error(), "duplicate id") {
		t.Errorf("duplicate provider: err = %v", err)
	}
	upper := p
	upper.ID, upper.Domains = "upper", []string{"Kancelaria2.example"}
	if _, err := NewTable(1, []*Provider{&upper}); err == nil {
		t.Errorf("an upper-case domain was accepted")
	}
}
