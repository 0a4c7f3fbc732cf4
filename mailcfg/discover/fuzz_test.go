package discover

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"infino.legal/mailbox/mailcfg"
)

// fuzzDNS is a resolver whose every answer holds the given MX and SRV
// records (the name a record is for is the one asked). It speaks DNS over
// an in-memory stream, so nothing leaves the process.
func fuzzDNS(mx []*dnsmessage.MXResource, srv []*dnsmessage.SRVResource) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		c, s := net.Pipe()
		go func() {
			defer s.Close()
			for {
				var n [2]byte
				if _, err := io.ReadFull(s, n[:]); err != nil {
					return
				}
				q := make([]byte, binary.BigEndian.Uint16(n[:]))
				if _, err := io.ReadFull(s, q); err != nil {
					return
				}
				var p dnsmessage.Parser
				h, err := p.Start(q)
				if err != nil {
					return
				}
				qu, err := p.Question()
				if err != nil {
					return
				}
				b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionAvailable: true})
				b.EnableCompression()
				_ = b.StartQuestions()
				_ = b.Question(qu)
				_ = b.StartAnswers()
				rh := dnsmessage.ResourceHeader{Name: qu.Name, Class: dnsmessage.ClassINET, TTL: 300}
				switch qu.Type {
				case dnsmessage.TypeMX:
					for _, r := range mx {
						_ = b.MXResource(rh, *r)
					}
				case dnsmessage.TypeSRV:
					for _, r := range srv {
						_ = b.SRVResource(rh, *r)
					}
				}
				msg, err := b.Finish()
				if err != nil {
					return
				}
				binary.BigEndian.PutUint16(n[:], uint16(len(msg)))
				if _, err := s.Write(append(n[:], msg...)); err != nil {
					return
				}
			}
		}()
		return c, nil
	}}
}

// fuzzName makes a DNS name of s (dnsmessage wants it absolute); ok is
// false if it cannot be one.
func fuzzName(s string) (dnsmessage.Name, bool) {
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	n, err := dnsmessage.NewName(s)
	return n, err == nil
}

// FuzzDNSAnswers feeds the MX and SRV handling any records a DNS server may
// return (targets, preferences, ports, the null MX and "." SRV). The MX
// hosts used are normalized lower-case host names, and a usable SRV answer
// is a public host and a real port; an error is given exactly when nothing
// is usable.
func FuzzDNSAnswers(f *testing.F) {
	f.Add("mx1.kancelaria.pl.", uint16(10), "ALT1.ASPMX.L.GOOGLE.COM.", uint16(20), "imap.kancelaria.pl.", uint16(993), uint16(0))
	f.Add("kancelaria-pl.mail.protection.outlook.com", uint16(0), "", uint16(0), "outlook.office365.com", uint16(993), uint16(1))
	f.Add(".", uint16(0), ".", uint16(0), ".", uint16(0), uint16(0))
	f.Add("mx.ovh.net.", uint16(1), "127.0.0.1.", uint16(5), "localhost.", uint16(993), uint16(10))
	f.Add("xn--kancelaria-rzb.pl.", uint16(5), "-bad-.example.", uint16(5), "mail.xn--kancelaria-rzb.pl.", uint16(143), uint16(0))
	f.Add("a..b.", uint16(5), "under_score.example.", uint16(5), "::1.", uint16(65535), uint16(0))
	f.Add(strings.Repeat("a", 63)+"."+strings.Repeat("b", 63)+".pl.", uint16(5), "x", uint16(5), "192.0.2.1.", uint16(25), uint16(0))
	addr := mailcfg.Address{Local: "jan.kowalski", Domain: "kancelaria.pl", DomainUnicode: "kancelaria.pl"}
	f.Fuzz(func(t *testing.T, mx1 string, pref1 uint16, mx2 string, pref2 uint16, target string, port, prio uint16) {
		var mxs []*dnsmessage.MXResource
		var raw []string
		for _, m := range []struct {
			host string
			pref uint16
		}{{mx1, pref1}, {mx2, pref2}} {
			if n, ok := fuzzName(m.host); ok {
				mxs = append(mxs, &dnsmessage.MXResource{Pref: m.pref, MX: n})
				raw = append(raw, m.host)
			}
		}
		var srvs []*dnsmessage.SRVResource
		if n, ok := fuzzName(target); ok {
			srvs = append(srvs, &dnsmessage.SRVResource{Priority: prio, Weight: 1, Port: port, Target: n})
		}
		e := newEngine(addr, Options{Offline: true, Resolver: fuzzDNS(mxs, srvs)})
		ctx := context.Background()

		hosts, err := e.lookupMX(ctx)
		if (err == nil) != (len(hosts) > 0) {
			t.Fatalf("MX %q: hosts %q, error %v", raw, hosts, err)
		}
		for _, h := range hosts {
			n, ok := mailcfg.NormalizeHost(h)
			if h == "" || !ok || n != h || h != strings.ToLower(h) || strings.HasSuffix(h, ".") {
				t.Fatalf("MX %q gave host %q", raw, h)
			}
		}

		a := e.lookupSRV(ctx, srvIMAP[0])
		if (a.err == nil) != (a.host != "") {
			t.Fatalf("SRV %q: %+v", target, a)
		}
		if a.err == nil {
			n, ok := mailcfg.NormalizeHost(a.host)
			if !ok || n != a.host || !publicHost(a.host) || a.port < 1 || a.port > 65535 {
				t.Fatalf("SRV %q port %d gave %s:%d", target, port, a.host, a.port)
			}
		}
		for _, at := range e.log.snapshot("") {
			if at.Source != mailcfg.SourceMX && at.Source != mailcfg.SourceSRV {
				t.Fatalf("attempt %+v", at)
			}
		}
	})
}
