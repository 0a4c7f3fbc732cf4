package discover

import (
	"strings"
	"testing"

	"infino.legal/mailbox/mailcfg"
)

// FuzzAutodiscover feeds arbitrary answers to the Autodiscover parser and
// the server choice: they must never panic, never pick an unencrypted
// server, and only give hosts and user names the form accepts.
func FuzzAutodiscover(f *testing.F) {
	for _, seed := range []string{
		`<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><Account><Action>settings</Action>` +
			`<Protocol><Type>IMAP</Type><Server>mail.example.pl</Server><Port>993</Port><LoginName>jan</LoginName><SSL>on</SSL><SPA>off</SPA></Protocol>` +
			`<Protocol><Type>SMTP</Type><Server>mail.example.pl</Server><Port>587</Port><SSL>on</SSL><Encryption>TLS</Encryption></Protocol></Account></Response></Autodiscover>`,
		`<Autodiscover><Response><Account><Action>redirectAddr</Action><RedirectAddr>jan@example.onmicrosoft.com</RedirectAddr></Account></Response></Autodiscover>`,
		`<Autodiscover><Response><Account><Action>redirectUrl</Action><RedirectUrl>https://autodiscover.example.com/autodiscover/autodiscover.xml</RedirectUrl></Account></Response></Autodiscover>`,
		`<Autodiscover><Response><Account><Protocol Type="EXHTTP"><Server>ex.example.pl</Server></Protocol><Protocol><Type>POP3</Type><Server>pop.example.pl</Server><Port>110</Port><SSL>on</SSL></Protocol><Protocol><Type>SMTP</Type><Server>::1</Server></Protocol></Account></Response></Autodiscover>`,
		`<Autodiscover><Response><Error Time="1" Id="2"><ErrorCode>600</ErrorCode><Message>Invalid Request</Message></Error></Response></Autodiscover>`,
		`<?xml version="1.0" encoding="windows-1252"?><Autodiscover><Response><Account><Protocol><Type>IMAP</Type><Server>m` + "\xe9" + `l.example.pl</Server></Protocol></Account></Response></Autodiscover>`,
		`<html><body>not found</body></html>`,
	} {
		f.Add([]byte(seed))
	}
	addr, _ := mailcfg.ParseAddress("jan.kowalski@kancelaria.pl")
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseAutodiscover(data)
		if err != nil {
			return
		}
		if len(a.Protocols) > maxProtocols {
			t.Fatalf("%d protocol blocks", len(a.Protocols))
		}
		for _, proto := range []mailcfg.Protocol{mailcfg.IMAP, mailcfg.POP3} {
			s, err := a.Settings(addr, addr, proto)
			if err != nil {
				continue
			}
			for _, srv := range []mailcfg.Server{s.Incoming, s.Outgoing} {
				if srv.Security != mailcfg.SecurityTLS && srv.Security != mailcfg.SecurityStartTLS {
					t.Fatalf("picked %q security", srv.Security)
				}
				if h, ok := mailcfg.NormalizeHost(srv.Host); !ok || h != srv.Host || !publicHost(h) {
					t.Fatalf("picked host %q", srv.Host)
				}
				if srv.Username == "" || len(srv.Username) > 320 || strings.ContainsAny(srv.Username, "\r\n\x00") {
					t.Fatalf("picked user name %q", srv.Username)
				}
			}
			if s.Outgoing.Protocol != mailcfg.SMTP || s.Incoming.Protocol == mailcfg.SMTP {
				t.Fatalf("protocols %s/%s", s.Incoming.Protocol, s.Outgoing.Protocol)
			}
			if err := s.Validate(mailcfg.ValidateOptions{}); err != nil {
				t.Fatalf("settings do not validate: %v\n%+v", err, s)
			}
		}
	})
}
