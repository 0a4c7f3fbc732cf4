package discover_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"infino.legal/mailbox/internal/discovertest"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/discover"
)

// mailServer is a scripted server: greet, then answer each command line
// from a table; "STARTTLS" answers switch to TLS. It records every line.
type mailServer struct {
	ln       net.Listener
	tlsCfg   *tls.Config
	implicit bool
	greeting string
	answers  map[string]string // command prefix → reply
	mu       sync.Mutex
	got      []string
}

func startMailServer(t *testing.T, cfg *tls.Config, implicit bool, greeting string, answers map[string]string) *mailServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &mailServer{ln: ln, tlsCfg: cfg, implicit: implicit, greeting: greeting, answers: answers}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *mailServer) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if s.implicit {
		tc := tls.Server(c, s.tlsCfg)
		if tc.Handshake() != nil {
			return
		}
		c = tc
	}
	if s.greeting == "" {
		time.Sleep(5 * time.Second) // a server that never greets
		return
	}
	c.Write([]byte(s.greeting))
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		s.mu.Lock()
		s.got = append(s.got, line)
		s.mu.Unlock()
		for prefix, reply := range s.answers {
			if !strings.HasPrefix(strings.ToUpper(line), prefix) {
				continue
			}
			c.Write([]byte(reply))
			if strings.Contains(prefix, "STARTTLS") || prefix == "STLS" {
				tc := tls.Server(c, s.tlsCfg)
				if tc.Handshake() != nil {
					return
				}
				c, r = tc, bufio.NewReader(tc)
			}
		}
	}
}

func (s *mailServer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// dialTo sends every dial to one address.
type dialTo string

func (d dialTo) DialContext(ctx context.Context, network, _ string) (net.Conn, error) {
	var nd net.Dialer
	return nd.DialContext(ctx, network, string(d))
}

func TestProbe(t *testing.T) {
	ca, err := discovertest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	other, err := discovertest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	good := ca.ServerConfig()
	cases := []struct {
		name     string
		cfg      *tls.Config
		implicit bool
		greeting string
		answers  map[string]string
		port     int
		sec      mailcfg.Security
		ok       bool
		errHas   string
	}{
		{name: "imap tls", cfg: good, implicit: true, greeting: "* OK IMAP4rev1 ready\r\n", port: 993, sec: mailcfg.SecurityTLS, ok: true},
		{name: "imap starttls", cfg: good, greeting: "* OK ready\r\n",
			answers: map[string]string{"A STARTTLS": "* BYE noise\r\na OK Begin TLS\r\n"}, port: 143, sec: mailcfg.SecurityStartTLS, ok: true},
		{name: "imap starttls refused", cfg: good, greeting: "* OK ready\r\n",
			answers: map[string]string{"A STARTTLS": "a BAD no\r\n"}, port: 143, sec: mailcfg.SecurityStartTLS},
		{name: "pop3 tls", cfg: good, implicit: true, greeting: "+OK POP3 ready\r\n", port: 995, sec: mailcfg.SecurityTLS, ok: true},
		{name: "pop3 stls", cfg: good, greeting: "+OK POP3\r\n", answers: map[string]string{"STLS": "+OK go\r\n"}, port: 110, sec: mailcfg.SecurityStartTLS, ok: true},
		{name: "smtp tls", cfg: good, implicit: true, greeting: "220-mail.example\r\n220 ESMTP\r\n", port: 465, sec: mailcfg.SecurityTLS, ok: true},
		{name: "smtp starttls", cfg: good, greeting: "220 ESMTP\r\n",
			answers: map[string]string{"EHLO": "250-mail\r\n250-PIPELINING\r\n250 STARTTLS\r\n", "STARTTLS": "220 go ahead\r\n"},
			port:    587, sec: mailcfg.SecurityStartTLS, ok: true},
		{name: "smtp without starttls", cfg: good, greeting: "220 ESMTP\r\n",
			answers: map[string]string{"EHLO": "250-mail\r\n250 AUTH PLAIN LOGIN\r\n"}, port: 587, sec: mailcfg.SecurityStartTLS, errHas: "does not offer STARTTLS"},
		{name: "smtp injected data after starttls", cfg: good, greeting: "220 ESMTP\r\n",
			answers: map[string]string{"EHLO": "250 STARTTLS\r\n", "STARTTLS": "220 go ahead\r\n250 injected\r\n"},
			port:    587, sec: mailcfg.SecurityStartTLS, errHas: "after STARTTLS"},
		{name: "untrusted certificate", cfg: other.ServerConfig(), implicit: true, greeting: "* OK\r\n", port: 993, sec: mailcfg.SecurityTLS, errHas: "unknown authority"},
		{name: "wrong protocol", cfg: good, implicit: true, greeting: "HTTP/1.1 400 Bad Request\r\n", port: 993, sec: mailcfg.SecurityTLS},
		{name: "never greets", cfg: good, implicit: true, port: 993, sec: mailcfg.SecurityTLS, errHas: "timeout"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := startMailServer(t, c.cfg, c.implicit, c.greeting, c.answers)
			// Only the silent server needs the deadline to end the probe; the
			// others get one long enough for a loaded machine, so the test
			// proves the outcome and not the speed.
			limit := 30 * time.Second
			if c.errHas == "timeout" {
				limit = 500 * time.Millisecond
			}
			ctx, cancel := context.WithTimeout(context.Background(), limit)
			defer cancel()
			err := discover.Probe(ctx, dialTo(srv.ln.Addr().String()), ca.Pool, "mail.kancelaria.pl", c.port, c.sec)
			if (err == nil) != c.ok {
				t.Errorf("err = %v, want ok=%v", err, c.ok)
			}
			if c.errHas != "" && (err == nil || !strings.Contains(err.Error(), c.errHas)) {
				t.Errorf("err = %v, want one about %q", err, c.errHas)
			}
			for _, l := range srv.lines() {
				u := strings.ToUpper(l)
				if strings.Contains(u, "LOGIN") && !strings.Contains(u, "LOGOUT") || strings.HasPrefix(u, "AUTH") ||
					strings.HasPrefix(u, "USER") || strings.HasPrefix(u, "PASS") {
					t.Errorf("probe tried to sign in: %q", l)
				}
			}
		})
	}
	if err := discover.Probe(context.Background(), dialTo("127.0.0.1:1"), nil, "x.pl", 8080, mailcfg.SecurityTLS); err == nil {
		t.Error("non-mail port probed")
	}
	if err := discover.Probe(context.Background(), dialTo("127.0.0.1:1"), nil, "x.pl", 143, mailcfg.SecurityNone); err == nil {
		t.Error("unencrypted probe")
	}
}
