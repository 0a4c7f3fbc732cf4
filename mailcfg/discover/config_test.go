package discover

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"infino.legal/mailbox/mailcfg"
)

const fixtures = "../../testdata/autoconfig"

func fixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustAddr(t testing.TB, s string) mailcfg.Address {
	t.Helper()
	a, err := mailcfg.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func srv(proto mailcfg.Protocol, host string, port int, sec mailcfg.Security, user string) mailcfg.Server {
	return mailcfg.Server{Protocol: proto, Host: host, Port: port, Security: sec, Username: user}
}

func TestConfigSettings(t *testing.T) {
	const tls, starttls = mailcfg.SecurityTLS, mailcfg.SecurityStartTLS
	imap, pop3, smtp := mailcfg.IMAP, mailcfg.POP3, mailcfg.SMTP
	cases := []struct {
		file, email string
		proto       mailcfg.Protocol
		auth        mailcfg.Auth
		in, out     mailcfg.Server
		err         error
	}{
		{file: "wp.pl.xml", email: "jan@wp.pl", auth: mailcfg.AuthPassword,
			in: srv(imap, "imap.wp.pl", 993, tls, "jan"), out: srv(smtp, "smtp.wp.pl", 465, tls, "jan")},
		{file: "wp.pl.xml", email: "jan@wp.pl", proto: pop3, auth: mailcfg.AuthPassword,
			in: srv(pop3, "pop3.wp.pl", 995, tls, "jan"), out: srv(smtp, "smtp.wp.pl", 465, tls, "jan")},
		{file: "o2.pl.xml", email: "Anna.Nowak@tlen.pl", auth: mailcfg.AuthPassword,
			in: srv(imap, "poczta.o2.pl", 993, tls, "Anna.Nowak"), out: srv(smtp, "poczta.o2.pl", 465, tls, "Anna.Nowak")},
		{file: "onet.pl.xml", email: "jan@op.pl", auth: mailcfg.AuthPassword,
			in: srv(imap, "imap.poczta.onet.pl", 993, tls, "jan@op.pl"), out: srv(smtp, "smtp.poczta.onet.pl", 465, tls, "jan@op.pl")},
		// OAuth2 only: Auth says so; the exchange entry with the
		// %EMAILADDRESS typo is not a candidate anyway.
		{file: "office365.xml", email: "jan@kancelaria.pl", auth: mailcfg.AuthOAuth2,
			in:  srv(imap, "outlook.office365.com", 993, tls, "jan@kancelaria.pl"),
			out: srv(smtp, "smtp.office365.com", 587, starttls, "jan@kancelaria.pl")},
		{file: "mail.ru.xml", email: "ivan@inbox.ru", auth: mailcfg.AuthPassword,
			in: srv(imap, "imap.mail.ru", 993, tls, "ivan@inbox.ru"), out: srv(smtp, "smtp.mail.ru", 465, tls, "ivan@inbox.ru")},
		// Implicit TLS beats an earlier STARTTLS; plain is never picked.
		{file: "starttls-first.xml", email: "jan@kancelaria.pl", auth: mailcfg.AuthPassword,
			in:  srv(imap, "imap.example-hoster.pl", 993, tls, "jan@kancelaria.pl"),
			out: srv(smtp, "smtp.example-hoster.pl", 587, starttls, "jan@kancelaria.pl")},
		{file: "plain-only.xml", email: "jan@kancelaria.pl", err: ErrNoUsableServer},
		{file: "emaildomain-hosts.xml", email: "jan@kancelaria-żółć.pl", auth: mailcfg.AuthPassword,
			in:  srv(imap, "mail.xn--kancelaria--0eb4xn3ak0a.pl", 993, tls, "jan@xn--kancelaria--0eb4xn3ak0a.pl"),
			out: srv(smtp, "mail.xn--kancelaria--0eb4xn3ak0a.pl", 465, tls, "jan@xn--kancelaria--0eb4xn3ak0a.pl")},
		{file: "latin1.xml", email: "jan@latin1.example-hoster.pl", auth: mailcfg.AuthPassword,
			in:  srv(imap, "imap.latin1.example-hoster.pl", 993, tls, "jan@latin1.example-hoster.pl"),
			out: srv(smtp, "smtp.latin1.example-hoster.pl", 465, tls, "jan@latin1.example-hoster.pl")},
		// IMAP wanted, only POP3 offered: POP3 rather than nothing.
		{file: "pop3-only.xml", email: "jan@pop.example-hoster.pl", auth: mailcfg.AuthPassword,
			in:  srv(pop3, "pop3.pop.example-hoster.pl", 995, tls, "jan@pop.example-hoster.pl"),
			out: srv(smtp, "smtp.pop.example-hoster.pl", 465, tls, "jan@pop.example-hoster.pl")},
	}
	for _, c := range cases {
		t.Run(c.file+"/"+string(c.proto), func(t *testing.T) {
			cfg, err := ParseConfig([]byte(fixture(t, c.file)))
			if err != nil {
				t.Fatal(err)
			}
			s, err := cfg.Settings(mustAddr(t, c.email), c.proto)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("err = %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Auth != c.auth || s.Incoming != c.in || s.Outgoing != c.out {
				t.Errorf("got auth %s\n in  %+v\n out %+v\nwant auth %s\n in  %+v\n out %+v", s.Auth, s.Incoming, s.Outgoing, c.auth, c.in, c.out)
			}
			if s.Source != "" || s.LowTrust {
				t.Errorf("source %q lowTrust %v: the caller sets them", s.Source, s.LowTrust)
			}
			if err := s.Validate(mailcfg.ValidateOptions{}); err != nil {
				t.Errorf("picked settings do not validate: %v", err)
			}
		})
	}
}

func TestParseConfigRejects(t *testing.T) {
	cases := map[string]string{
		"empty":        "",
		"not xml":      "{\"incoming\": {}}",
		"html":         "<html><body>404</body></html>",
		"no provider":  `<clientConfig version="1.1"></clientConfig>`,
		"truncated":    `<clientConfig version="1.1"><emailProvider id="x"><incomingServer type="imap">`,
		"bad charset":  `<?xml version="1.0" encoding="EBCDIC"?><clientConfig/>`,
		"too large":    "<clientConfig>" + strings.Repeat(" ", MaxConfigSize) + "</clientConfig>",
		"entity bomb":  `<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><clientConfig><emailProvider id="&b;"/></clientConfig>`,
		"external ent": `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><clientConfig><emailProvider id="&e;"/></clientConfig>`,
	}
	for name, doc := range cases {
		if _, err := ParseConfig([]byte(doc)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestConfigServerRules(t *testing.T) {
	addr := mustAddr(t, "jan@kancelaria.pl")
	ok := ConfigServer{Type: "imap", Hostname: "imap.kancelaria.pl", Port: "993", SocketType: "SSL"}
	if _, good := ok.usable(mailcfg.IMAP, addr); !good {
		t.Fatal("baseline server refused")
	}
	bad := map[string]func(*ConfigServer){
		"plain":            func(s *ConfigServer) { s.SocketType = "plain" },
		"no socket type":   func(s *ConfigServer) { s.SocketType = "" },
		"port 0":           func(s *ConfigServer) { s.Port = "0" },
		"port text":        func(s *ConfigServer) { s.Port = "imap" },
		"port huge":        func(s *ConfigServer) { s.Port = "99999" },
		"host empty":       func(s *ConfigServer) { s.Hostname = "" },
		"host bad":         func(s *ConfigServer) { s.Hostname = "imap kancelaria.pl" },
		"localhost":        func(s *ConfigServer) { s.Hostname = "localhost" },
		"loopback":         func(s *ConfigServer) { s.Hostname = "127.0.0.1" },
		"unknown host var": func(s *ConfigServer) { s.Hostname = "%HOSTER%.pl" },
		"realname user":    func(s *ConfigServer) { s.Username = "%REALNAME%" },
		"typo user":        func(s *ConfigServer) { s.Username = "%EMAILADDRESS" },
		"control user":     func(s *ConfigServer) { s.Username = "jan\x00" },
		"ntlm only":        func(s *ConfigServer) { s.Authentication = []string{"NTLM"} },
		"client ip only":   func(s *ConfigServer) { s.Authentication = []string{"client-IP-address"} },
		"other type":       func(s *ConfigServer) { s.Type = "pop3" },
	}
	for name, mut := range bad {
		s := ok
		mut(&s)
		if _, good := s.usable(mailcfg.IMAP, addr); good {
			t.Errorf("%s: accepted", name)
		}
	}
	s := ok
	s.Username = "  "
	p, good := s.usable(mailcfg.IMAP, addr)
	if !good || p.server.Username != "jan@kancelaria.pl" {
		t.Errorf("empty username: %+v %v, want the address", p.server, good)
	}
	s = ok
	s.SocketType, s.Port, s.Hostname = " starttls ", " 143 ", "IMAP.Kancelaria.PL"
	p, good = s.usable(mailcfg.IMAP, addr)
	if !good || p.server.Security != mailcfg.SecurityStartTLS || p.server.Port != 143 || p.server.Host != "imap.kancelaria.pl" {
		t.Errorf("lenient spelling: %+v %v", p.server, good)
	}
}

// FuzzParseConfig feeds the parser and the server picker anything: they
// must not panic, and whatever they pick must be encrypted, valid and
// filled from the address.
func FuzzParseConfig(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(fixtures, "*.xml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed corpus in %s: %v", fixtures, err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Add([]byte(`<clientConfig><emailProvider><incomingServer type="imap"><hostname>%EMAILDOMAIN%</hostname><port>993</port><socketType>SSL</socketType></incomingServer><outgoingServer type="smtp"><hostname>smtp.%EMAILDOMAIN%</hostname><port>465</port><socketType>SSL</socketType></outgoingServer></emailProvider></clientConfig>`), false)
	addr := mailcfg.Address{Local: "jan.kowalski", Domain: "kancelaria.pl", DomainUnicode: "kancelaria.pl"}
	f.Fuzz(func(t *testing.T, data []byte, pop bool) {
		cfg, err := ParseConfig(data)
		if err != nil {
			return
		}
		proto := mailcfg.IMAP
		if pop {
			proto = mailcfg.POP3
		}
		s, err := cfg.Settings(addr, proto)
		if err != nil {
			if !errors.Is(err, ErrNoUsableServer) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		for _, side := range []mailcfg.Server{s.Incoming, s.Outgoing} {
			if side.Security != mailcfg.SecurityTLS && side.Security != mailcfg.SecurityStartTLS {
				t.Fatalf("unencrypted server picked: %+v", side)
			}
			if strings.Contains(side.Host, "%") || !publicHost(side.Host) {
				t.Fatalf("bad host picked: %+v", side)
			}
		}
		if s.Outgoing.Protocol != mailcfg.SMTP || (s.Incoming.Protocol != mailcfg.IMAP && s.Incoming.Protocol != mailcfg.POP3) {
			t.Fatalf("bad protocols: %+v", s)
		}
		if err := s.Validate(mailcfg.ValidateOptions{}); err != nil {
			t.Fatalf("picked settings do not validate: %v\n%+v", err, s)
		}
	})
}
