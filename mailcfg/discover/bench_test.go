package discover_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"infino.legal/mailbox/internal/discovertest"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/discover"
)

// BenchmarkDiscover measures the wall time of one discovery with three
// answering sources at injected delays; every other source fails at once.
// The goal is the delay of the best source (or of the slowest source that
// outranks the answer) plus little, never the sum. Read ms/op.
func BenchmarkDiscover(b *testing.B) {
	const ms = time.Millisecond
	cases := []struct {
		name                   string
		autoconfig, ispdb, srv time.Duration
		autoconfigFails        bool
		want                   mailcfg.Source
	}{
		// The best source is the fastest: ≈ 50 ms.
		{name: "best=autoconfig@50/ispdb@200/srv@1000", autoconfig: 50 * ms, ispdb: 200 * ms, srv: 1000 * ms, want: mailcfg.SourceAutoconfig},
		// A worse source answers first; the best comes at 200 ms: ≈ 200 ms.
		{name: "best=autoconfig@200/ispdb@1000/srv@50", autoconfig: 200 * ms, ispdb: 1000 * ms, srv: 50 * ms, want: mailcfg.SourceAutoconfig},
		// The best is the slowest: ≈ 1000 ms.
		{name: "best=autoconfig@1000/ispdb@200/srv@50", autoconfig: 1000 * ms, ispdb: 200 * ms, srv: 50 * ms, want: mailcfg.SourceAutoconfig},
		// The best fails after 1000 ms; ISPDB (at 200 ms) wins then: ≈ 1000 ms.
		{name: "autoconfig404@1000/best=ispdb@200/srv@50", autoconfig: 1000 * ms, ispdb: 200 * ms, srv: 50 * ms, autoconfigFails: true, want: mailcfg.SourceISPDB},
		// Only SRV answers, after 200 ms: ≈ 200 ms.
		{name: "best=srv@200", srv: 200 * ms, autoconfig: -1, ispdb: -1, want: mailcfg.SourceSRV},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			w := newWorld(b)
			if c.autoconfig >= 0 {
				var h http.Handler = discovertest.XMLHandler(variant("autoconfig"))
				if c.autoconfigFails {
					h = http.NotFoundHandler()
				}
				w.web.Handle(autoconfigURL, discovertest.Delayed(c.autoconfig, h))
			}
			if c.ispdb >= 0 {
				w.web.Handle(ispdbURL, discovertest.Delayed(c.ispdb, discovertest.XMLHandler(variant("ispdb"))))
			}
			w.dns.SRV("_imaps._tcp", domain, 0, 1, 993, "srv.hoster.example.pl")
			w.dns.SRV("_submissions._tcp", domain, 0, 1, 465, "srv.hoster.example.pl")
			w.dns.Delay("_imaps._tcp."+domain, c.srv)
			w.dns.Delay("_submissions._tcp."+domain, c.srv)
			o := w.opts()
			o.Wait = 3 * time.Second
			for b.Loop() {
				r, err := discover.Discover(context.Background(), email, o)
				if err != nil || r.Settings.Source != c.want {
					b.Fatalf("got %s, %v; want %s\n%s", r.Settings.Source, err, c.want, tried(r))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
		})
	}
}

// BenchmarkDiscoverBundled is the bundled answer: no network, well under
// a millisecond.
func BenchmarkDiscoverBundled(b *testing.B) {
	w := newWorld(b)
	o := w.opts()
	for b.Loop() {
		if r, err := discover.Discover(context.Background(), "jan@wp.pl", o); err != nil || r.Settings.Source != mailcfg.SourceBundled {
			b.Fatalf("got %s, %v", r.Settings.Source, err)
		}
	}
}

// BenchmarkDiscoverCapped is a hanging best source cut by a 500 ms cap:
// ≈ 500 ms, the cap's own overhead on top.
func BenchmarkDiscoverCapped(b *testing.B) {
	w := newWorld(b)
	w.web.Handle(autoconfigURL, w.web.Hang())
	w.web.XML(ispdbURL, variant("ispdb"))
	o := w.opts()
	o.Wait = 500 * time.Millisecond
	for b.Loop() {
		if r, err := discover.Discover(context.Background(), email, o); err != nil || r.Settings.Source != mailcfg.SourceISPDB {
			b.Fatalf("got %s, %v", r.Settings.Source, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}

func BenchmarkParseConfig(b *testing.B) {
	data := []byte(fixture(b, "o2.pl.xml"))
	addr, _ := mailcfg.ParseAddress("jan@o2.pl")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		cfg, err := discover.ParseConfig(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cfg.Settings(addr, mailcfg.IMAP); err != nil {
			b.Fatal(err)
		}
	}
}
