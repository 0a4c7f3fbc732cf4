package form

import (
	"strconv"
	"strings"
	"testing"

	"infino.legal/mailbox/mailcfg"
)

// touchable are the fields a fuzz case may have typed in, by bit.
var touchable = []Field{
	InProtocol, InHost, InPort, InUsername, InSecurity, InCertSHA256,
	OutHost, OutPort, OutUsername, OutSecurity, OutCertSHA256,
}

// FuzzFormMerge: merging found settings never panics, never changes a
// field the user typed in, and Settings shows every untouched field as
// Apply set it.
func FuzzFormMerge(f *testing.F) {
	f.Add("imap.example.pl", 993, "tls", "jan", "", "smtp.example.pl", 587, "starttls", "jan@example.pl", "ab", "pop3", uint16(0), "typed", true, false)
	f.Add(" h ", 0, "none", "", "", "", -1, "", "", "", "", uint16(0xffff), " 12 ", false, true)
	f.Add("pop.example.pl", 995, "tls", "x", "cc", "s", 465, "tls", "y", "", "imap", uint16(0b1010_0101), "mine", true, false)
	f.Fuzz(func(t *testing.T, inHost string, inPort int, inSec, inUser, inCert, outHost string, outPort int, outSec, outUser, outCert, proto string,
		mask uint16, typed string, encrypted, keepProto bool) {
		mask &= 1<<len(touchable) - 1
		m := New()
		m.SetEncrypted(encrypted)
		for i, fld := range touchable {
			if mask&(1<<i) == 0 {
				continue
			}
			side, part, _ := fld.Server()
			switch part {
			case Protocol:
				m.ChooseProtocol(mailcfg.POP3)
			case Security:
				m.EditSecurity(side, mailcfg.SecurityStartTLS)
			case CertSHA256:
				m.Pin(side, typed)
			default:
				m.Edit(fld, typed)
			}
		}
		before := struct {
			Protocol mailcfg.Protocol
			Servers  [2]Server
		}{m.Protocol, m.Servers}
		found := mailcfg.Settings{
			Incoming: mailcfg.Server{Protocol: mailcfg.Protocol(proto), Host: inHost, Port: inPort,
				Security: mailcfg.Security(inSec), Username: inUser, CertSHA256: inCert},
			Outgoing: mailcfg.Server{Protocol: mailcfg.SMTP, Host: outHost, Port: outPort,
				Security: mailcfg.Security(outSec), Username: outUser, CertSHA256: outCert},
			Source: mailcfg.SourceGuess, LowTrust: true,
		}
		m.Apply(found, nil, keepProto)
		got := m.Settings()

		for i, fld := range touchable {
			side, part, _ := fld.Server()
			was, now := before.Servers[side], m.Servers[side]
			if mask&(1<<i) != 0 {
				same := true
				switch part {
				case Protocol:
					same = m.Protocol == before.Protocol
				case Host:
					same = now.Host == was.Host
				case Port:
					same = now.Port == was.Port
				case Username:
					same = now.Username == was.Username
				case Security:
					same = now.Security == was.Security
				case CertSHA256:
					same = now.CertSHA256 == was.CertSHA256
				}
				if !same {
					t.Fatalf("Apply changed %s, which the user typed in", fld)
				}
				continue
			}
			srv, gotSrv := found.Incoming, got.Incoming
			if side == Outgoing {
				srv, gotSrv = found.Outgoing, got.Outgoing
			}
			switch part {
			case Protocol:
				if !keepProto && proto != "" {
					want := mailcfg.IMAP
					if proto == string(mailcfg.POP3) {
						want = mailcfg.POP3
					}
					if got.Incoming.Protocol != want {
						t.Fatalf("protocol %q, want %q", got.Incoming.Protocol, want)
					}
				}
			case Host:
				if gotSrv.Host != strings.TrimSpace(srv.Host) {
					t.Fatalf("%s: %q, want %q", fld, gotSrv.Host, srv.Host)
				}
			case Username:
				if gotSrv.Username != strings.TrimSpace(srv.Username) {
					t.Fatalf("%s: %q, want %q", fld, gotSrv.Username, srv.Username)
				}
			case CertSHA256:
				if srv.CertSHA256 != "" && gotSrv.CertSHA256 != strings.TrimSpace(srv.CertSHA256) {
					t.Fatalf("%s: %q, want %q", fld, gotSrv.CertSHA256, srv.CertSHA256)
				}
			case Port:
				if srv.Port > 0 && encrypted && gotSrv.Port != srv.Port {
					t.Fatalf("%s: %d, want %d", fld, gotSrv.Port, srv.Port)
				}
				if srv.Port > 0 && !encrypted && m.Servers[side].Port != strconv.Itoa(defaultPort(srv.Protocol, mailcfg.SecurityNone)) {
					t.Fatalf("%s unencrypted: %q", fld, m.Servers[side].Port)
				}
			case Security:
				if encrypted && (srv.Security == mailcfg.SecurityTLS || srv.Security == mailcfg.SecurityStartTLS) && gotSrv.Security != srv.Security {
					t.Fatalf("%s: %q, want %q", fld, gotSrv.Security, srv.Security)
				}
				if !encrypted && gotSrv.Security != mailcfg.SecurityNone {
					t.Fatalf("%s unencrypted: %q", fld, gotSrv.Security)
				}
			}
		}
		if m.EditedServers() != (mask&^(1<<5|1<<10) != 0) {
			t.Fatalf("EditedServers %v with mask %b", m.EditedServers(), mask)
		}
		if !m.EditedServers() && (got.Source != mailcfg.SourceGuess || !got.LowTrust) {
			t.Fatalf("source %q lowTrust %v", got.Source, got.LowTrust)
		}
		if m.EditedServers() && (got.Source != mailcfg.SourceManual || got.LowTrust) {
			t.Fatalf("edited: source %q lowTrust %v", got.Source, got.LowTrust)
		}
	})
}
