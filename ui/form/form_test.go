package form

import (
	"testing"

	"infino.legal/mailbox/mailcfg"
)

func TestFromPath(t *testing.T) {
	for in, want := range map[string]Field{
		"email":               Email,
		"secret":              Password,
		"secret.password":     Password,
		"password":            Password,
		"incoming":            InHost,
		"outgoing":            OutHost,
		"username":            InUsername,
		"incoming.port":       InPort,
		"outgoing.certSha256": OutCertSHA256,
		"outgoing.security":   OutSecurity,
		"auth":                Field("auth"),
		"incoming.whatever":   Field("incoming.whatever"),
	} {
		if got := FromPath(in); got != want {
			t.Errorf("FromPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFieldParts(t *testing.T) {
	for _, tc := range []struct {
		f      Field
		side   Side
		part   Part
		server bool
		sideOK bool
		onForm bool
	}{
		{Email, 0, 0, false, false, true},
		{Password, 0, 0, false, false, true},
		{InProtocol, Incoming, Protocol, true, true, false},
		{InHost, Incoming, Host, true, true, true},
		{OutPort, Outgoing, Port, true, true, true},
		{OutUsername, Outgoing, Username, true, true, true},
		{InSecurity, Incoming, Security, true, true, true},
		{OutCertSHA256, Outgoing, CertSHA256, true, true, true},
		{Field("outgoing.whatever"), Outgoing, 0, false, true, false},
		{Field("auth"), 0, 0, false, false, false},
	} {
		side, part, ok := tc.f.Server()
		if ok != tc.server || ok && (side != tc.side || part != tc.part) {
			t.Errorf("%q.Server() = %v %v %v", tc.f, side, part, ok)
		}
		if s, ok := tc.f.Side(); ok != tc.sideOK || ok && s != tc.side {
			t.Errorf("%q.Side() = %v %v", tc.f, s, ok)
		}
		if got := tc.f.OnForm(); got != tc.onForm {
			t.Errorf("%q.OnForm() = %v", tc.f, got)
		}
		if tc.server && tc.side.Field(tc.part) != tc.f {
			t.Errorf("%v.Field(%v) = %q, want %q", tc.side, tc.part, tc.side.Field(tc.part), tc.f)
		}
	}
	if Incoming.String() != "incoming" || Outgoing.String() != "outgoing" {
		t.Error("side names")
	}
}

func TestDefaultPort(t *testing.T) {
	for _, tc := range []struct {
		p    mailcfg.Protocol
		s    mailcfg.Security
		want int
	}{
		{mailcfg.IMAP, mailcfg.SecurityTLS, 993},
		{mailcfg.IMAP, mailcfg.SecurityStartTLS, 143},
		{mailcfg.IMAP, mailcfg.SecurityNone, 143},
		{mailcfg.POP3, mailcfg.SecurityTLS, 995},
		{mailcfg.POP3, mailcfg.SecurityStartTLS, 110},
		{mailcfg.SMTP, mailcfg.SecurityTLS, 465},
		{mailcfg.SMTP, mailcfg.SecurityStartTLS, 587},
		{mailcfg.SMTP, mailcfg.SecurityNone, 587},
	} {
		if got := defaultPort(tc.p, tc.s); got != tc.want {
			t.Errorf("defaultPort(%s, %s) = %d, want %d", tc.p, tc.s, got, tc.want)
		}
	}
}

func TestNew(t *testing.T) {
	m := New()
	s := m.Settings()
	if s.Incoming.Protocol != mailcfg.IMAP || s.Incoming.Port != 993 || s.Incoming.Security != mailcfg.SecurityTLS ||
		s.Outgoing.Protocol != mailcfg.SMTP || s.Outgoing.Port != 465 || s.Outgoing.Security != mailcfg.SecurityTLS {
		t.Errorf("new form: %+v", s)
	}
	if s.Source != mailcfg.SourceManual || s.Auth != mailcfg.AuthPassword || m.EditedServers() {
		t.Errorf("new form: source %q auth %q edited %v", s.Source, s.Auth, m.EditedServers())
	}
}

// found is what a discovery could answer.
func found() mailcfg.Settings {
	return mailcfg.Settings{
		Email: "jan@example.pl",
		Incoming: mailcfg.Server{Protocol: mailcfg.POP3, Host: "pop.example.pl", Port: 1995,
			Security: mailcfg.SecurityTLS, Username: "jan", CertSHA256: "aa"},
		Outgoing: mailcfg.Server{Protocol: mailcfg.SMTP, Host: "smtp.example.pl", Port: 2587,
			Security: mailcfg.SecurityStartTLS, Username: "jan@example.pl"},
		Provider: &mailcfg.ProviderRef{ID: "example", Name: "Example"},
		Source:   mailcfg.SourceAutoconfig,
		LowTrust: true,
	}
}

func TestApply(t *testing.T) {
	for _, tc := range []struct {
		name      string
		edit      func(m *Model)
		keepProto bool
		check     func(t *testing.T, s mailcfg.Settings, m *Model)
	}{
		{"fills an untouched form", nil, false, func(t *testing.T, s mailcfg.Settings, m *Model) {
			want := found()
			if s.Incoming != want.Incoming || s.Outgoing != want.Outgoing {
				t.Errorf("got %+v / %+v", s.Incoming, s.Outgoing)
			}
			if s.Source != mailcfg.SourceAutoconfig || !s.LowTrust {
				t.Errorf("source %q lowTrust %v", s.Source, s.LowTrust)
			}
		}},
		{"never over what the user typed", func(m *Model) {
			m.Edit(InHost, "mine.example")
			m.Edit(OutPort, "25")
			m.Edit(InUsername, "me")
			m.EditSecurity(Outgoing, mailcfg.SecurityTLS)
			m.Pin(Incoming, "bb")
		}, false, func(t *testing.T, s mailcfg.Settings, m *Model) {
			if s.Incoming.Host != "mine.example" || s.Outgoing.Port != 25 || s.Incoming.Username != "me" ||
				s.Outgoing.Security != mailcfg.SecurityTLS || s.Incoming.CertSHA256 != "bb" {
				t.Errorf("typed values overwritten: %+v / %+v", s.Incoming, s.Outgoing)
			}
			if s.Outgoing.Host != "smtp.example.pl" || s.Incoming.Port != 1995 {
				t.Errorf("untouched values not filled: %+v / %+v", s.Incoming, s.Outgoing)
			}
			// The user changed servers: the settings are theirs.
			if s.Source != mailcfg.SourceManual || s.LowTrust {
				t.Errorf("source %q lowTrust %v", s.Source, s.LowTrust)
			}
		}},
		{"a chosen protocol stays", func(m *Model) { m.ChooseProtocol(mailcfg.IMAP) }, false, func(t *testing.T, s mailcfg.Settings, m *Model) {
			if s.Incoming.Protocol != mailcfg.IMAP {
				t.Errorf("protocol %q", s.Incoming.Protocol)
			}
		}},
		{"keepProto", nil, true, func(t *testing.T, s mailcfg.Settings, m *Model) {
			if s.Incoming.Protocol != mailcfg.IMAP {
				t.Errorf("protocol %q", s.Incoming.Protocol)
			}
		}},
		{"without encryption, the unencrypted ports", func(m *Model) { m.SetEncrypted(false) }, false, func(t *testing.T, s mailcfg.Settings, m *Model) {
			if s.Incoming.Port != 110 || s.Outgoing.Port != 587 ||
				s.Incoming.Security != mailcfg.SecurityNone || s.Outgoing.Security != mailcfg.SecurityNone {
				t.Errorf("got %+v / %+v", s.Incoming, s.Outgoing)
			}
		}},
		{"a pin is no server change", func(m *Model) { m.Pin(Outgoing, "cc") }, false, func(t *testing.T, s mailcfg.Settings, m *Model) {
			if s.Source != mailcfg.SourceAutoconfig || !s.LowTrust || s.Outgoing.CertSHA256 != "cc" {
				t.Errorf("source %q lowTrust %v pin %q", s.Source, s.LowTrust, s.Outgoing.CertSHA256)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			if tc.edit != nil {
				tc.edit(m)
			}
			m.Apply(found(), nil, tc.keepProto)
			tc.check(t, m.Settings(), m)
		})
	}
}

func TestApplyKeepsWhatIsMissing(t *testing.T) {
	m := New()
	m.Apply(found(), nil, false)
	// A worse answer without port, security or pin keeps those.
	m.Apply(mailcfg.Settings{Incoming: mailcfg.Server{Host: "h", Security: mailcfg.SecurityNone}}, nil, false)
	s := m.Settings()
	if s.Incoming.Port != 1995 || s.Incoming.Security != mailcfg.SecurityTLS || s.Incoming.CertSHA256 != "aa" || s.Incoming.Host != "h" {
		t.Errorf("got %+v", s.Incoming)
	}
	if s.Incoming.Protocol != mailcfg.POP3 {
		t.Errorf("no protocol in the answer changed it: %q", s.Incoming.Protocol)
	}
	if s.Source != mailcfg.SourceManual || s.LowTrust {
		t.Errorf("source %q lowTrust %v", s.Source, s.LowTrust)
	}
}

func TestReset(t *testing.T) {
	m := New()
	m.Apply(found(), &mailcfg.Provider{ID: "example", Name: "Example"}, false)
	m.Edit(OutHost, "mine.example")
	addr, err := mailcfg.ParseAddress("ola@nowhere.example")
	if err != nil {
		t.Fatal(err)
	}
	m.Reset(&addr)
	s := m.Settings()
	if s.Incoming.Host != "" || s.Incoming.Username != "ola@nowhere.example" || s.Incoming.CertSHA256 != "" ||
		s.Incoming.Security != mailcfg.SecurityTLS || s.Incoming.Port != 995 {
		t.Errorf("incoming not reset: %+v", s.Incoming)
	}
	if s.Outgoing.Host != "mine.example" || s.Outgoing.Port != 465 {
		t.Errorf("outgoing: %+v", s.Outgoing)
	}
	if m.Provider != nil || s.Provider != nil || m.LowTrust {
		t.Errorf("provider %v lowTrust %v", m.Provider, m.LowTrust)
	}
	m.Reset(nil)
	if u := m.Settings().Incoming.Username; u != "" {
		t.Errorf("username %q", u)
	}
}

func TestPortFollows(t *testing.T) {
	m := New()
	m.EditSecurity(Incoming, mailcfg.SecurityStartTLS)
	m.EditSecurity(Outgoing, mailcfg.SecurityStartTLS)
	if s := m.Settings(); s.Incoming.Port != 143 || s.Outgoing.Port != 587 || s.Incoming.Security != mailcfg.SecurityStartTLS {
		t.Errorf("STARTTLS: %+v / %+v", s.Incoming, s.Outgoing)
	}
	m.Edit(InPort, " 1143 ")
	m.EditSecurity(Incoming, mailcfg.SecurityTLS)
	if s := m.Settings(); s.Incoming.Port != 1143 {
		t.Errorf("a typed port changed: %d", s.Incoming.Port)
	}
	m.SetEncrypted(false)
	if s := m.Settings(); s.Incoming.Port != 1143 || s.Outgoing.Port != 587 || s.Outgoing.Security != mailcfg.SecurityNone {
		t.Errorf("unencrypted: %+v / %+v", s.Incoming, s.Outgoing)
	}
	m.ChooseProtocol(mailcfg.POP3)
	if s := m.Settings(); s.Incoming.Port != 1143 || s.Incoming.Protocol != mailcfg.POP3 {
		t.Errorf("POP3: %+v", s.Incoming)
	}
}

func TestChooseProtocolAsksTheProvider(t *testing.T) {
	table := mailcfg.Bundled()
	m := New()
	m.Edit(Email, "jan@wp.pl")
	s, err := table.Autofill("jan@wp.pl", mailcfg.IMAP)
	if err != nil {
		t.Fatal(err)
	}
	m.Apply(s, table.ByID(s.Provider.ID), false)
	m.Edit(OutUsername, "typed")
	got, ok := m.ChooseProtocol(mailcfg.POP3)
	if !ok || got.Incoming.Protocol != mailcfg.POP3 {
		t.Fatalf("ChooseProtocol = %+v, %v", got, ok)
	}
	set := m.Settings()
	if set.Incoming != got.Incoming || set.Outgoing.Username != "typed" || set.Incoming.Protocol != mailcfg.POP3 {
		t.Errorf("POP3 from the provider: %+v / %+v", set.Incoming, set.Outgoing)
	}
	if m.Source != s.Source || m.Provider == nil {
		t.Errorf("source %q provider %v", m.Source, m.Provider)
	}
	// Unknown provider: only the port follows.
	n := New()
	if _, ok := n.ChooseProtocol(mailcfg.POP3); ok || n.Settings().Incoming.Port != 995 {
		t.Errorf("without a provider: %v %+v", ok, n.Settings().Incoming)
	}
}

func TestSettingsParsesText(t *testing.T) {
	m := New()
	m.Edit(Email, "  jan@example.pl ")
	m.Edit(Password, " secret ")
	m.Edit(InHost, " imap.example.pl ")
	m.Edit(InPort, "99999x")
	m.Edit(OutUsername, "\tjan ")
	m.Edit(OutCertSHA256, " ab ")
	m.Edit(Field("auth"), "ignored")
	m.Provider = &mailcfg.Provider{ID: "p", Name: "P"}
	s := m.Settings()
	if s.Email != "jan@example.pl" || s.Incoming.Host != "imap.example.pl" || s.Incoming.Port != 0 ||
		s.Outgoing.Username != "jan" || s.Outgoing.CertSHA256 != "ab" {
		t.Errorf("got %+v", s)
	}
	if m.Password != " secret " {
		t.Errorf("the password is kept as typed: %q", m.Password)
	}
	if s.Provider == nil || s.Provider.ID != "p" || s.Provider.Name != "P" {
		t.Errorf("provider %+v", s.Provider)
	}
	if m.Touched(Field("auth")) || !m.Touched(InHost) || !m.EditedServers() {
		t.Error("touched")
	}
	for _, f := range []Field{Email, Password, InHost, InPort, OutUsername, OutCertSHA256} {
		if m.Value(f) == "" {
			t.Errorf("Value(%q) empty", f)
		}
	}
	if m.Value(InProtocol) != "" || m.Value(Field("x")) != "" {
		t.Error("Value of a non-text field")
	}
}

// The firm's locked servers replace what the user typed, and the fields are
// no longer the user's; the address and password stay.
func TestApplyLocked(t *testing.T) {
	m := New()
	m.Edit(Email, "jan@kancelaria.pl")
	m.Edit(Password, "sekret")
	m.Edit(InHost, "imap.elsewhere.pl")
	m.Edit(OutPort, "25")
	m.ChooseProtocol(mailcfg.POP3)
	s := mailcfg.Settings{Email: "jan@kancelaria.pl", Auth: mailcfg.AuthPassword, Source: mailcfg.SourcePolicy,
		Incoming: mailcfg.Server{Protocol: mailcfg.IMAP, Host: "poczta.kancelaria.pl", Port: 993, Security: mailcfg.SecurityTLS, Username: "jan@kancelaria.pl"},
		Outgoing: mailcfg.Server{Protocol: mailcfg.SMTP, Host: "poczta.kancelaria.pl", Port: 587, Security: mailcfg.SecurityStartTLS, Username: "jan@kancelaria.pl"}}
	m.ApplyLocked(s, nil)
	got := m.Settings()
	if got.Incoming.Host != "poczta.kancelaria.pl" || got.Incoming.Protocol != mailcfg.IMAP || got.Outgoing.Port != 587 ||
		got.Source != mailcfg.SourcePolicy || m.EditedServers() || m.Email != "jan@kancelaria.pl" || m.Password != "sekret" {
		t.Errorf("%+v (edited %v)", got, m.EditedServers())
	}
}
