package verify

import (
	"context"
	"crypto/x509"
	"net"
	"testing"
	"time"

	"infino.legal/mailbox/internal/latency"
	"infino.legal/mailbox/internal/mailpeers"
	"infino.legal/mailbox/mailcfg"
)

// startProxy starts a latency proxy to target; source is the address it
// connects from ("" any).
func startProxy(tb testing.TB, source, target string, oneWay time.Duration) *latency.Proxy {
	p, err := latency.StartFrom(source, target, oneWay)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	return p
}

// routeDialer sends each target address to its proxy.
type routeDialer map[string]string

func (r routeDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if to, ok := r[addr]; ok {
		addr = to
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// benchSetup is IMAP+SMTP against the real peers, or against the fakes when
// the peers are not running.
func benchSetup(b *testing.B, sec mailcfg.Security) (mailcfg.Settings, Credential, *x509.CertPool, string) {
	if p, err := mailpeers.Load(mailpeers.EnvFile()); err == nil {
		if c, err := net.DialTimeout("tcp", p.Addr(p.StrictHost, p.IMAPSPort), time.Second); err == nil {
			c.Close()
			return peersSettings(p, p.StrictHost, mailcfg.IMAP, sec, sec), Password(p.Password), p.CAPool, "peers"
		}
	}
	o := fakeOpts{implicit: sec == mailcfg.SecurityTLS, okLogin: true}
	in, out := startFake(b, imapFake(o)), startFake(b, smtpFake(o))
	return mailcfg.Settings{
		Email: fakeUser, Auth: mailcfg.AuthPassword,
		Incoming: fakeServerSetting("imap", in.port(), sec),
		Outgoing: fakeServerSetting("smtp", out.port(), sec),
	}, Password(fakePassword), pkiOnce().pool, "fakes"
}

// BenchmarkVerifyLatency runs the IMAP+SMTP check through a proxy that adds
// 50 ms each way (internal/latency), and each side alone for comparison.
// Metrics: wall-ms per check, and the turns per side the proxies counted.
// The goal is wall ≈ the slower side alone, at its floor: the sign-in's
// round trips, and no more (the goodbye is written, its answer not waited
// for, though the server's answer still counts as a turn).
//
// IMAP on 993: TCP (1, not a turn), TLS 1.3 handshake (1), Finished→greeting
// with capabilities (1, no CAPABILITY command), AUTHENTICATE PLAIN with
// SASL-IR (1). On 143: the greeting comes unasked after 1.5, then STARTTLS,
// handshake, CAPABILITY (required after TLS) pipelined with AUTHENTICATE
// (pipelined.go). SMTP on 465:
// TCP, handshake, greeting, EHLO, AUTH; on 587 EHLO and STARTTLS come first
// and EHLO again after TLS. The same for the real binary, and the figures:
// make bench-latency, docs/latency.md.
func BenchmarkVerifyLatency(b *testing.B) {
	const delay = 50 * time.Millisecond
	for _, sec := range []mailcfg.Security{mailcfg.SecurityTLS, mailcfg.SecurityStartTLS} {
		b.Run(string(sec), func(b *testing.B) {
			s, cred, roots, against := benchSetup(b, sec)
			b.Logf("against the %s", against)
			// Against the peers, from an address of its own: other tests'
			// failed sign-ins from 127.0.0.1 make Dovecot (which checks
			// Postfix's AUTH too) slow that address down.
			source := ""
			if against == "peers" {
				source = "127.0.0.77"
			}
			inProxy := startProxy(b, source, s.Incoming.Addr(), delay)
			outProxy := startProxy(b, source, s.Outgoing.Addr(), delay)
			opt := Options{RootCAs: roots, Dialer: routeDialer{
				s.Incoming.Addr(): inProxy.Addr(),
				s.Outgoing.Addr(): outProxy.Addr(),
			}}
			run := func(b *testing.B, what string) {
				var wall time.Duration
				inTurns, outTurns := 0, 0
				for b.Loop() {
					start := time.Now()
					var ok bool
					switch what {
					case "both":
						ok = Verify(b.Context(), s, cred, opt).OK
					case "imap":
						ok = VerifyServer(b.Context(), Incoming, s.Incoming, cred, opt).OK
					case "smtp":
						ok = VerifyServer(b.Context(), Outgoing, s.Outgoing, cred, opt).OK
					}
					wall += time.Since(start)
					if !ok {
						b.Fatal("check failed")
					}
					// Let the proxies finish forwarding the goodbyes.
					time.Sleep(3 * delay)
					inTurns += inProxy.TakeTurns()
					outTurns += outProxy.TakeTurns()
				}
				b.ReportMetric(float64(wall.Milliseconds())/float64(b.N), "wall-ms/op")
				if what != "smtp" {
					b.ReportMetric(float64(inTurns)/float64(b.N), "imap-rtts/op")
				}
				if what != "imap" {
					b.ReportMetric(float64(outTurns)/float64(b.N), "smtp-rtts/op")
				}
			}
			for _, what := range []string{"both", "imap", "smtp"} {
				b.Run(what, func(b *testing.B) { run(b, what) })
			}
		})
	}
}
