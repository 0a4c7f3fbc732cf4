package discover

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"infino.legal/mailbox/mailcfg"
)

// guessTry is one server the guess stage probes.
type guessTry struct {
	proto mailcfg.Protocol
	host  string
	port  int
	sec   mailcfg.Security
}

// guessTries lists, in order of preference, the servers to probe for one
// protocol: implicit TLS on every host name before STARTTLS, host names in
// the order given (Polish hosters often use poczta.<domain>).
func guessTries(proto mailcfg.Protocol, domain string) []guessTry {
	var prefixes []string
	switch proto {
	case mailcfg.POP3:
		prefixes = []string{"pop3.", "pop.", "mail.", "poczta.", ""}
	case mailcfg.SMTP:
		prefixes = []string{"smtp.", "mail.", "poczta.", ""}
	default:
		proto = mailcfg.IMAP
		prefixes = []string{"imap.", "mail.", "poczta.", ""}
	}
	var out []guessTry
	for _, sec := range []mailcfg.Security{mailcfg.SecurityTLS, mailcfg.SecurityStartTLS} {
		port := mailcfg.DefaultPort(proto, sec)
		for _, p := range prefixes {
			out = append(out, guessTry{proto: proto, host: p + domain, port: port, sec: sec})
		}
	}
	return out
}

// guessJob owns rankGuess. It runs only after every other source failed:
// it probes the likely incoming and outgoing servers (TLS connect and
// greeting, never a login) and answers, with low trust, when both sides
// have a server.
func (e *engine) guessJob(ctx context.Context) {
	type side struct {
		t  guessTry
		ok bool
	}
	inCh := make(chan side, 1)
	go func() {
		t, ok := e.probeBest(ctx, guessTries(e.proto, e.addr.Domain))
		inCh <- side{t, ok}
	}()
	outT, outOK := e.probeBest(ctx, guessTries(mailcfg.SMTP, e.addr.Domain))
	var in side
	select {
	case in = <-inCh:
	case <-ctx.Done():
		return
	}
	if !in.ok || !outOK {
		e.send(ctx, rankGuess, nil)
		return
	}
	server := func(t guessTry) mailcfg.Server {
		return mailcfg.Server{Protocol: t.proto, Host: t.host, Port: t.port, Security: t.sec, Username: e.addr.String()}
	}
	s := mailcfg.Settings{Email: e.addr.String(), Auth: mailcfg.AuthPassword, Incoming: server(in.t), Outgoing: server(outT)}
	c, err := e.finish(s, mailcfg.SourceGuess, true, nil)
	if err != nil {
		e.log.add(Attempt{Source: mailcfg.SourceGuess, URL: "guess:" + in.t.host + "+" + outT.host, Err: errText(err)})
	}
	e.send(ctx, rankGuess, c)
}

// probeBest starts the tries GuessStagger apart (sooner when the earlier
// ones have failed) and returns the first in
// preference order that answered once every try before it has failed, or
// at the deadline the best that answered so far.
func (e *engine) probeBest(ctx context.Context, tries []guessTry) (guessTry, bool) {
	if e.allowed != nil {
		kept := tries[:0:0]
		for _, t := range tries {
			if e.allowed(t.host) {
				kept = append(kept, t)
			}
		}
		tries = kept
	}
	if len(tries) == 0 {
		return guessTry{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout+time.Duration(len(tries))*GuessStagger)
	defer cancel()
	type result struct {
		i  int
		ok bool
	}
	results := make(chan result, len(tries))
	// A try starts GuessStagger after the one before it, or at once when
	// every try before it has finished: on a dead network nothing waits.
	allDone := make([]chan struct{}, len(tries)+1)
	for i := range allDone {
		allDone[i] = make(chan struct{})
	}
	close(allDone[0])
	for i, t := range tries {
		go func() {
			defer func() {
				<-allDone[i]
				close(allDone[i+1])
			}()
			timer := time.NewTimer(time.Duration(i) * GuessStagger)
			defer timer.Stop()
			select {
			case <-timer.C:
			case <-allDone[i]:
			case <-ctx.Done():
				results <- result{i, false}
				return
			}
			rec := e.log.begin(mailcfg.SourceGuess, fmt.Sprintf("probe:%s:%d %s", t.host, t.port, t.sec))
			pctx, pcancel := context.WithTimeout(ctx, ProbeTimeout)
			err := e.prober(pctx, t.host, t.port, t.sec)
			pcancel()
			e.log.end(rec, err)
			results <- result{i, err == nil}
		}()
	}
	const (
		pending = iota
		failed
		answered
	)
	state := make([]int, len(tries))
	bestSoFar := func(final bool) (guessTry, bool) {
		for i, s := range state {
			switch {
			case s == answered:
				return tries[i], true
			case s == pending && !final:
				return guessTry{}, false
			}
		}
		return guessTry{}, false
	}
	for range tries {
		select {
		case r := <-results:
			state[r.i] = failed
			if r.ok {
				state[r.i] = answered
			}
		case <-ctx.Done():
			return bestSoFar(true)
		}
		if t, ok := bestSoFar(false); ok {
			return t, true
		}
	}
	return bestSoFar(true)
}

// Probe checks that a mail server answers with a valid certificate:
// implicit TLS and the greeting, or the greeting, STARTTLS and the TLS
// handshake. It never logs in. The protocol follows from the standard
// port (993/143 IMAP, 995/110 POP3, 465/587/25 SMTP). roots nil means the
// system roots.
func Probe(ctx context.Context, d interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}, roots *x509.CertPool, host string, port int, sec mailcfg.Security) error {
	proto, ok := protoForPort(port)
	if !ok {
		return fmt.Errorf("probe: port %d is not a standard mail port", port)
	}
	if sec != mailcfg.SecurityTLS && sec != mailcfg.SecurityStartTLS {
		return errors.New("probe: only TLS and STARTTLS are probed")
	}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	tcfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, RootCAs: roots}
	var c net.Conn = conn
	if sec == mailcfg.SecurityTLS {
		tc := tls.Client(conn, tcfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return err
		}
		c = tc
	}
	r := bufio.NewReaderSize(c, 1024)
	if err := readGreeting(r, proto); err != nil {
		return err
	}
	if sec == mailcfg.SecurityStartTLS {
		if err := startTLS(c, r, proto); err != nil {
			return err
		}
		tc := tls.Client(conn, tcfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return err
		}
		c = tc
	}
	// Be polite; the answer does not matter.
	bye := map[mailcfg.Protocol]string{mailcfg.IMAP: "z LOGOUT\r\n", mailcfg.POP3: "QUIT\r\n", mailcfg.SMTP: "QUIT\r\n"}[proto]
	c.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = io.WriteString(c, bye)
	return nil
}

// protoForPort reads the protocol from a standard port (mailcfg.DefaultPort),
// or from 25, the relay port some servers still accept submissions on.
func protoForPort(port int) (mailcfg.Protocol, bool) {
	if port == 25 {
		return mailcfg.SMTP, true
	}
	for _, proto := range []mailcfg.Protocol{mailcfg.IMAP, mailcfg.POP3, mailcfg.SMTP} {
		for _, sec := range []mailcfg.Security{mailcfg.SecurityTLS, mailcfg.SecurityStartTLS} {
			if mailcfg.DefaultPort(proto, sec) == port {
				return proto, true
			}
		}
	}
	return "", false
}

const maxProbeLines = 64

// readLine reads one CRLF line of at most 1 KiB.
func readLine(r *bufio.Reader) (string, error) {
	line, isPrefix, err := r.ReadLine()
	if err != nil {
		return "", err
	}
	if isPrefix {
		return "", errors.New("probe: line too long")
	}
	return string(line), nil
}

// readSMTPReply reads a (multi-line) SMTP reply and returns its code and
// lines.
func readSMTPReply(r *bufio.Reader) (string, []string, error) {
	var lines []string
	for range maxProbeLines {
		l, err := readLine(r)
		if err != nil {
			return "", nil, err
		}
		if len(l) < 3 {
			return "", nil, fmt.Errorf("probe: bad SMTP reply %q", limitString(l, 40))
		}
		lines = append(lines, l)
		if len(l) == 3 || l[3] == ' ' {
			return l[:3], lines, nil
		}
	}
	return "", nil, errors.New("probe: SMTP reply too long")
}

func readGreeting(r *bufio.Reader, proto mailcfg.Protocol) error {
	switch proto {
	case mailcfg.SMTP:
		code, _, err := readSMTPReply(r)
		if err != nil {
			return err
		}
		if code != "220" {
			return fmt.Errorf("probe: SMTP greeting %s", code)
		}
	case mailcfg.POP3:
		l, err := readLine(r)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(l, "+OK") {
			return fmt.Errorf("probe: POP3 greeting %q", limitString(l, 40))
		}
	default:
		l, err := readLine(r)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(l, "* OK") && !strings.HasPrefix(l, "* PREAUTH") {
			return fmt.Errorf("probe: IMAP greeting %q", limitString(l, 40))
		}
	}
	return nil
}

func startTLS(w io.Writer, r *bufio.Reader, proto mailcfg.Protocol) error {
	switch proto {
	case mailcfg.SMTP:
		if _, err := io.WriteString(w, "EHLO infino-mailbox.invalid\r\n"); err != nil {
			return err
		}
		code, lines, err := readSMTPReply(r)
		if err != nil {
			return err
		}
		if code != "250" {
			return fmt.Errorf("probe: EHLO answered %s", code)
		}
		offered := false
		for _, l := range lines {
			if len(l) > 4 && strings.EqualFold(strings.TrimSpace(l[4:]), "STARTTLS") {
				offered = true
			}
		}
		if !offered {
			return errors.New("probe: server does not offer STARTTLS")
		}
		if _, err := io.WriteString(w, "STARTTLS\r\n"); err != nil {
			return err
		}
		code, _, err = readSMTPReply(r)
		if err != nil {
			return err
		}
		if code != "220" {
			return fmt.Errorf("probe: STARTTLS answered %s", code)
		}
	case mailcfg.POP3:
		if _, err := io.WriteString(w, "STLS\r\n"); err != nil {
			return err
		}
		l, err := readLine(r)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(l, "+OK") {
			return fmt.Errorf("probe: STLS answered %q", limitString(l, 40))
		}
	default:
		if _, err := io.WriteString(w, "a STARTTLS\r\n"); err != nil {
			return err
		}
		if err := readIMAPTagged(r, "a"); err != nil {
			return err
		}
	}
	if r.Buffered() > 0 {
		// Anything sent before the handshake could be injected by an
		// attacker (CVE-2011-0411 style).
		return errors.New("probe: data after STARTTLS before the handshake")
	}
	return nil
}

// readIMAPTagged skips untagged lines up to the tagged reply and checks
// that it is OK.
func readIMAPTagged(r *bufio.Reader, tag string) error {
	for range maxProbeLines {
		l, err := readLine(r)
		if err != nil {
			return err
		}
		if strings.HasPrefix(l, tag+" ") {
			if strings.HasPrefix(strings.ToUpper(l), strings.ToUpper(tag)+" OK") {
				return nil
			}
			return fmt.Errorf("probe: STARTTLS answered %q", limitString(l, 40))
		}
	}
	return errors.New("probe: no answer to STARTTLS")
}
