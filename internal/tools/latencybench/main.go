// Command latencybench measures "infino-mailbox verify" on a slow link: it
// runs the real binary against the real Dovecot and Postfix
// (testdata/mailpeers/up.sh) through internal/latency proxies that add a
// round-trip time, and prints the time as multiples of that round trip.
//
//	go run ./internal/tools/latencybench                       # builds . and measures it
//	go run ./internal/tools/latencybench -bin old=/tmp/old -bin new=/tmp/new -n 7
//	make bench-latency                                           # the same, via make
//
// Several binaries run alternately, scenario by scenario, so load on the
// machine hits them alike; medians are printed.
//
// Success rows put the delay on one side (the other side is direct and ends
// in milliseconds), or on both ("both" rows: what a user waits for).
// "wall" is exec to exit of the process, "check" the slower delayed side's
// elapsedMs from --json, "turns" the exchanges the proxies counted.
//
// Failure rows measure how soon a wrong setting is recognised: STARTTLS on an
// implicit-TLS port and the reverse, a web server on the port, a refused
// connection, an unknown host. The wrong side goes through the proxy (the
// last two are direct); "check" is the failing side's elapsedMs.
package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"infino.legal/mailbox/internal/latency"
	"infino.legal/mailbox/internal/mailpeers"
	"infino.legal/mailbox/mailcfg"
)

type binFlag []string

func (b *binFlag) String() string     { return strings.Join(*b, ",") }
func (b *binFlag) Set(s string) error { *b = append(*b, s); return nil }

type side struct {
	OK        bool  `json:"ok"`
	ElapsedMs int64 `json:"elapsedMs"`
	Error     *struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
		Detail  string `json:"detail"`
	} `json:"error"`
}

type result struct {
	OK       bool `json:"ok"`
	Incoming side `json:"incoming"`
	Outgoing side `json:"outgoing"`
}

// endpoint is one side of a scenario: where the settings point, and
// whether the link there is slow.
type endpoint struct {
	proto  mailcfg.Protocol
	sec    mailcfg.Security
	target string // host:port of the real server
	slow   bool
	direct string // host:port used as is, without a proxy (refused, unknown host)
}

type scenario struct {
	name     string
	in, out  endpoint
	failure  bool // the slow side is expected to fail
	failSide string
}

type sample struct {
	wall, check time.Duration
	turns       int
	res         result
}

func main() {
	var bins binFlag
	flag.Var(&bins, "bin", "NAME=PATH of a binary to measure (repeatable); none: build . as \"this\"")
	rtt := flag.Duration("rtt", 100*time.Millisecond, "round-trip time the proxies add")
	n := flag.Int("n", 5, "runs of each success scenario per binary")
	fn := flag.Int("failn", 2, "runs of each failure scenario per binary")
	only := flag.String("run", "", "only scenarios whose name contains this")
	failures := flag.Bool("failures", true, "measure the failure paths too")
	source := flag.String("source", "127.0.0.77", "loopback address the proxies connect to the peers from (other tests' failed sign-ins from 127.0.0.1 make Dovecot slow that address down)")
	flag.Parse()

	peers, err := mailpeers.Load(mailpeers.EnvFile())
	check(err)
	if len(bins) == 0 {
		dir, err := os.MkdirTemp("", "latencybench")
		check(err)
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "infino-mailbox")
		cmd := exec.Command("go", "build", "-o", out, ".")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		check(cmd.Run())
		bins = binFlag{"this=" + out}
	}
	type bin struct{ name, path string }
	var bs []bin
	for _, b := range bins {
		name, path, ok := strings.Cut(b, "=")
		if !ok {
			name, path = filepath.Base(b), b
		}
		bs = append(bs, bin{name, path})
	}

	work, err := os.MkdirTemp("", "latencybench-run")
	check(err)
	defer os.RemoveAll(work)
	web := startWeb(peers)
	defer web.close()

	h := peers.StrictHost
	at := func(port int) string { return peers.Addr(h, port) }
	imaps := endpoint{proto: mailcfg.IMAP, sec: mailcfg.SecurityTLS, target: at(peers.IMAPSPort)}
	imap := endpoint{proto: mailcfg.IMAP, sec: mailcfg.SecurityStartTLS, target: at(peers.IMAPStartTLSPort)}
	pop3s := endpoint{proto: mailcfg.POP3, sec: mailcfg.SecurityTLS, target: at(peers.POP3SPort)}
	pop3 := endpoint{proto: mailcfg.POP3, sec: mailcfg.SecurityStartTLS, target: at(peers.POP3StartTLSPort)}
	smtps := endpoint{proto: mailcfg.SMTP, sec: mailcfg.SecurityTLS, target: at(peers.SubmissionsPort)}
	smtp := endpoint{proto: mailcfg.SMTP, sec: mailcfg.SecurityStartTLS, target: at(peers.SubmissionPort)}
	slow := func(e endpoint) endpoint { e.slow = true; return e }
	with := func(e endpoint, sec mailcfg.Security, target string) endpoint {
		e.sec, e.target, e.slow = sec, target, true
		return e
	}
	scs := []scenario{
		{name: "IMAP tls", in: slow(imaps), out: smtps},
		{name: "IMAP starttls", in: slow(imap), out: smtps},
		{name: "POP3 tls", in: slow(pop3s), out: smtps},
		{name: "POP3 starttls", in: slow(pop3), out: smtps},
		{name: "SMTP tls (465)", in: imaps, out: slow(smtps)},
		{name: "SMTP starttls (587)", in: imaps, out: slow(smtp)},
		{name: "both IMAP+SMTP tls", in: slow(imaps), out: slow(smtps)},
		{name: "both IMAP+SMTP starttls", in: slow(imap), out: slow(smtp)},
		{name: "both POP3+SMTP tls", in: slow(pop3s), out: slow(smtps)},
		{name: "both POP3+SMTP starttls", in: slow(pop3), out: slow(smtp)},
	}
	if *failures {
		unknown := imap
		unknown.direct = "no-such-host.invalid:143"
		refused := imap
		refused.direct = net.JoinHostPort("127.0.0.1", fmt.Sprint(closedPort()))
		fails := []scenario{
			{name: "fail IMAP starttls on 993", in: with(imap, mailcfg.SecurityStartTLS, at(peers.IMAPSPort)), out: smtps},
			{name: "fail IMAP tls on 143", in: with(imaps, mailcfg.SecurityTLS, at(peers.IMAPStartTLSPort)), out: smtps},
			{name: "fail POP3 starttls on 995", in: with(pop3, mailcfg.SecurityStartTLS, at(peers.POP3SPort)), out: smtps},
			{name: "fail POP3 tls on 110", in: with(pop3s, mailcfg.SecurityTLS, at(peers.POP3StartTLSPort)), out: smtps},
			{name: "fail SMTP starttls on 465", in: imaps, out: with(smtp, mailcfg.SecurityStartTLS, at(peers.SubmissionsPort)), failSide: "outgoing"},
			{name: "fail SMTP tls on 587", in: imaps, out: with(smtps, mailcfg.SecurityTLS, at(peers.SubmissionPort)), failSide: "outgoing"},
			{name: "fail IMAP starttls on http", in: with(imap, mailcfg.SecurityStartTLS, web.plain), out: smtps},
			{name: "fail IMAP tls on http", in: with(imaps, mailcfg.SecurityTLS, web.plain), out: smtps},
			{name: "fail IMAP tls on https", in: with(imaps, mailcfg.SecurityTLS, web.tls), out: smtps},
			{name: "fail IMAP refused", in: refused, out: smtps},
			{name: "fail IMAP unknown host", in: unknown, out: smtps},
		}
		for i := range fails {
			fails[i].failure = true
			if fails[i].failSide == "" {
				fails[i].failSide = "incoming"
			}
		}
		scs = append(scs, fails...)
	}

	fmt.Printf("latencybench: RTT %s, Dovecot %s / Postfix, %d runs (failures %d), medians; multiples of the RTT\n",
		*rtt, h, *n, *fn)
	for _, sc := range scs {
		if *only != "" && !strings.Contains(sc.name, *only) {
			continue
		}
		runs := *n
		if sc.failure {
			runs = *fn
		}
		samples := make([][]sample, len(bs))
		for i := 0; i < runs; i++ {
			for j, b := range bs {
				samples[j] = append(samples[j], runScenario(b.path, sc, peers, *rtt, *source, work))
			}
		}
		for j, b := range bs {
			printRow(sc, b.name, samples[j], *rtt)
		}
	}
}

func runScenario(binPath string, sc scenario, peers *mailpeers.Peers, rtt time.Duration, source, work string) sample {
	var proxies, slowOnes []*latency.Proxy
	server := func(e endpoint) mailcfg.Server {
		addr := e.direct
		if addr == "" {
			delay := time.Duration(0)
			if e.slow {
				delay = rtt / 2
			}
			p, err := latency.StartFrom(source, e.target, delay)
			check(err)
			proxies = append(proxies, p)
			if e.slow {
				slowOnes = append(slowOnes, p)
			}
			addr = p.Addr()
		}
		host, port, _ := net.SplitHostPort(addr)
		var pn int
		fmt.Sscan(port, &pn)
		return mailcfg.Server{Protocol: e.proto, Host: host, Port: pn, Security: e.sec, Username: peers.User}
	}
	s := mailcfg.Settings{Email: peers.User, Auth: mailcfg.AuthPassword, Incoming: server(sc.in), Outgoing: server(sc.out)}
	b, err := json.Marshal(s)
	check(err)
	file := filepath.Join(work, "settings.json")
	check(os.WriteFile(file, b, 0o600))

	cmd := exec.Command(binPath, "verify", "--json", "--password-stdin", "--ca", peers.CAFile, file)
	cmd.Stdin = strings.NewReader(peers.Password + "\n")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "LANG=en_US.UTF-8")
	start := time.Now()
	_ = cmd.Run()
	wall := time.Since(start)
	var r result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		fmt.Fprintf(os.Stderr, "latencybench: %s: no JSON (%v): %s %s\n", sc.name, err, out.String(), errb.String())
	}
	// Let the proxies see the goodbyes before they are counted and closed,
	// and the servers finish the session: Dovecot's POP3, for one, makes
	// the next session of the same mailbox wait while it ends the last.
	time.Sleep(max(5*rtt, 500*time.Millisecond))
	turns := 0
	for _, p := range slowOnes {
		turns += p.TakeTurns()
	}
	for _, p := range proxies {
		_ = p.Close()
	}
	var chk time.Duration
	for _, x := range []struct {
		e endpoint
		s side
	}{{sc.in, r.Incoming}, {sc.out, r.Outgoing}} {
		if x.e.slow || x.e.direct != "" {
			chk = max(chk, time.Duration(x.s.ElapsedMs)*time.Millisecond)
		}
	}
	return sample{wall: wall, check: chk, turns: turns, res: r}
}

func printRow(sc scenario, bin string, ss []sample, rtt time.Duration) {
	walls := make([]time.Duration, len(ss))
	checks := make([]time.Duration, len(ss))
	turns := make([]int, len(ss))
	for i, s := range ss {
		walls[i], checks[i], turns[i] = s.wall, s.check, s.turns
	}
	w, c, t := median(walls), median(checks), medianInt(turns)
	x := func(d time.Duration) float64 { return float64(d) / float64(rtt) }
	last := ss[len(ss)-1].res
	outcome := "ok"
	if !last.OK {
		var fs side
		switch {
		case sc.failSide == "outgoing" || sc.failSide == "" && !last.Outgoing.OK:
			fs = last.Outgoing
		default:
			fs = last.Incoming
		}
		outcome = "FAILED"
		if fs.Error != nil {
			outcome = fs.Error.Kind
			if fs.Error.Detail != "" {
				outcome += " (" + fs.Error.Detail + ")"
			}
			outcome += ": " + fs.Error.Message
		}
	}
	if sc.failure {
		fmt.Printf("%-28s %-6s  wall %6.2f s  check %6.2f s  %s\n", sc.name, bin, w.Seconds(), c.Seconds(), outcome)
		return
	}
	fmt.Printf("%-28s %-6s  wall %5.2f RTT (%4.0f ms)  check %5.2f RTT  turns %d  %s\n",
		sc.name, bin, x(w), float64(w.Milliseconds()), x(c), t, outcome)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func medianInt(ds []int) int {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// web is an HTTP and an HTTPS server on loopback: "a server that answers on
// TCP but speaks another protocol".
type web struct {
	plain, tls string
	close      func()
}

func startWeb(peers *mailpeers.Peers) web {
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "a web page") })
	l1, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	cert, err := tls.LoadX509KeyPair(peers.CertFile, strings.TrimSuffix(peers.CertFile, ".crt")+".key")
	check(err)
	s1 := &http.Server{Handler: h, ReadHeaderTimeout: time.Minute}
	s2 := &http.Server{Handler: h, ReadHeaderTimeout: time.Minute, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	go s1.Serve(l1)
	go s2.ServeTLS(l2, "", "")
	return web{plain: l1.Addr().String(), tls: l2.Addr().String(), close: func() { s1.Close(); s2.Close() }}
}

// closedPort is a loopback port nothing listens on.
func closedPort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "latencybench:", err)
		os.Exit(1)
	}
}
