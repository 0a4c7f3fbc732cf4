package verify

// Wrong settings that would otherwise only show as a timeout, recognised in
// about a second:
//
//   - STARTTLS (or no security) chosen for a port that expects implicit TLS:
//     the client waits for a greeting, the server for a TLS ClientHello, and
//     neither says anything. When the greeting is late, a probe opens a
//     second connection and starts a TLS handshake on it; a server that
//     answers in TLS is a port for SSL/TLS. A mail greeting on the probe
//     means the server is merely slow, and the check waits on.
//   - Implicit TLS chosen for a STARTTLS port: the server's plain greeting
//     breaks the handshake at once; its first bytes tell which protocol
//     spoke.
//   - Another server on the port: a web server (HTTP, or HTTPS found by the
//     probe's ALPN offer), or a mail server of another protocol (an IMAP
//     greeting where SMTP was expected), named by its first bytes.
//
// The probe sends nothing but a ClientHello, never a credential, and never
// trusts what it learns beyond naming the mistake.

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"infino.legal/mailbox/mailcfg"
)

const (
	// DefaultProbeAfter is the shortest wait for a greeting before the
	// probe starts; on a slow link it is three connection times.
	DefaultProbeAfter = 500 * time.Millisecond
	// probeTimeout bounds the probe's connection and handshake.
	probeTimeout = 1500 * time.Millisecond
	// probeMaxRead bounds what the probe reads.
	probeMaxRead = 64 << 10
	// firstBytesKept is how much of the server's first bytes is kept.
	firstBytesKept = 32
)

// greetingWatch is one wait for a greeting; the probe only acts while it is
// the session's current watch.
type greetingWatch struct {
	timer  *time.Timer
	cancel context.CancelFunc
}

// probeAfter is how long a greeting may be silent before the probe; a
// negative Options.ProbeAfter turns the probe off.
func (s *session) probeAfter() time.Duration {
	if s.opt.ProbeAfter < 0 {
		return -1
	}
	if s.opt.ProbeAfter > 0 {
		return s.opt.ProbeAfter
	}
	return max(DefaultProbeAfter, 3*s.connectTook)
}

// watchGreeting starts waiting for the greeting on the connection made by
// dial; greeted (or the end of the session) stops the wait.
func (s *session) watchGreeting() {
	d := s.probeAfter()
	if d < 0 || s.addr == "" {
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	w := &greetingWatch{cancel: cancel}
	w.timer = time.AfterFunc(d, func() { s.probe(ctx, w) })
	s.mu.Lock()
	s.watch = w
	s.mu.Unlock()
}

// greeted stops the greeting watch, if one runs.
func (s *session) greeted() {
	s.mu.Lock()
	w := s.watch
	s.watch = nil
	s.mu.Unlock()
	if w != nil {
		w.timer.Stop()
		w.cancel()
	}
}

// probeResult is what a TLS handshake on a second connection found.
type probeResult struct {
	tls   bool   // the server answered in TLS (a handshake or an alert)
	https bool   // and chose HTTP by ALPN
	plain []byte // or the first bytes of a plain-text answer
}

// probe runs the TLS probe and, if it shows the settings cannot work, ends
// the check with a failure that says what the port expects.
func (s *session) probe(ctx context.Context, w *greetingWatch) {
	defer w.cancel()
	r, ok := probeTLS(ctx, s.opt.Dialer, s.addr, s.host)
	if !ok {
		return
	}
	var f *mailcfg.Failure
	switch {
	case r.https:
		f = s.failure(mailcfg.KindProtocol, mailcfg.VariantWebServer, "HTTPS on this port")
	case s.srv.Security == mailcfg.SecurityTLS:
		// The handshake on the check's own connection worked; only a web
		// server is worth naming.
	case r.tls:
		f = s.failure(mailcfg.KindTLSUnavailable, mailcfg.VariantExpectsTLS, "the port expects SSL/TLS")
	default:
		f = s.otherProtocol(greetingProtocol(r.plain))
	}
	if f == nil {
		return
	}
	s.mu.Lock()
	current := s.watch == w
	s.mu.Unlock()
	if current {
		s.abort(f)
	}
}

// probeTLS dials addr and starts a TLS handshake offering HTTP by ALPN.
// ok is false when it learnt nothing (no connection, silence, cancelled).
func probeTLS(ctx context.Context, d Dialer, addr, host string) (probeResult, bool) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return probeResult{}, false
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	rec := &recordConn{Conn: c, rec: &byteRecorder{}, max: probeMaxRead}
	cfg := &tls.Config{
		// The probe only learns whether the port speaks TLS; it sends no
		// data, so whom it talks to does not matter.
		InsecureSkipVerify: true,
		NextProtos:         []string{"h2", "http/1.1"},
	}
	if net.ParseIP(host) == nil {
		cfg.ServerName = host
	}
	tc := tls.Client(rec, cfg)
	err = tc.HandshakeContext(ctx)
	var alert tls.AlertError
	var rh tls.RecordHeaderError
	var oe *net.OpError
	switch {
	case err == nil:
		p := tc.ConnectionState().NegotiatedProtocol
		return probeResult{tls: true, https: p == "h2" || p == "http/1.1"}, true
	case errors.As(err, &alert), errors.As(err, &oe) && oe.Op == "remote error":
		// The server answered with a TLS alert: it speaks TLS. (A mail
		// server with ALPN of its own, Exim's, refuses an offer of HTTP
		// only with no_application_protocol, which Go reports as a
		// "remote error".)
		return probeResult{tls: true}, true
	case errors.As(err, &rh):
		b := rec.rec.bytes()
		if len(b) == 0 {
			b = rh.RecordHeader[:]
		}
		return probeResult{plain: b}, true
	}
	return probeResult{}, false
}

// explain names a mistake behind a failure where the bytes the server sent
// tell more than the protocol error: a plain mail greeting where TLS was
// expected (the port wants STARTTLS), a greeting of another protocol or a
// web server. Anything else is returned unchanged.
func (s *session) explain(err error) error {
	var f *mailcfg.Failure
	var ce *mailcfg.CertificateError
	if errors.As(err, &f) || errors.As(err, &ce) || errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) && s.srv.Security == mailcfg.SecurityTLS {
		// Implicit TLS met plain text from the first byte. (After an
		// accepted STARTTLS it is a broken server, not a wrong setting.)
		b := s.first.raw.bytes()
		if len(b) == 0 {
			b = rh.RecordHeader[:]
		}
		got := greetingProtocol(b)
		if got != "" && got == protocolName(s.srv.Protocol) {
			return s.failure(mailcfg.KindTLSUnavailable, mailcfg.VariantExpectsStartTLS, "the port expects STARTTLS")
		}
		if f := s.otherProtocol(got); f != nil {
			return f
		}
		return err
	}
	s.mu.Lock()
	step := s.step
	s.mu.Unlock()
	if step != StepGreeting {
		return err
	}
	b := s.first.raw.bytes()
	if s.srv.Security == mailcfg.SecurityTLS {
		b = s.first.inner.bytes()
	}
	if f := s.otherProtocol(greetingProtocol(b)); f != nil {
		return f
	}
	return err
}

// otherProtocol is the failure for a server that speaks got instead of the
// settings' protocol, or nil when got is unknown or the expected one.
func (s *session) otherProtocol(got string) *mailcfg.Failure {
	switch got {
	case "", protocolName(s.srv.Protocol):
		return nil
	case "HTTP":
		return s.failure(mailcfg.KindProtocol, mailcfg.VariantWebServer, "HTTP on this port")
	}
	return mailcfg.Cause{Kind: mailcfg.KindProtocol, Variant: mailcfg.VariantOtherProtocol, Detail: got + " on this port",
		Args: []string{got, protocolName(s.srv.Protocol)}}.Failure(string(s.side), s.provider)
}

func (s *session) failure(kind mailcfg.Kind, v mailcfg.Variant, detail string) *mailcfg.Failure {
	return mailcfg.Cause{Kind: kind, Variant: v, Detail: detail}.Failure(string(s.side), s.provider)
}

func protocolName(p mailcfg.Protocol) string { return strings.ToUpper(string(p)) }

// greetingProtocol names the protocol a server's first bytes belong to:
// "IMAP", "POP3", "SMTP", "HTTP", "SSH", or "" when they say too little.
// An FTP greeting looks like SMTP's and is taken for it.
func greetingProtocol(b []byte) string {
	has := func(p string) bool { return len(b) >= len(p) && strings.EqualFold(string(b[:len(p)]), p) }
	switch {
	case has("* OK"), has("* PREAUTH"), has("* BYE"):
		return "IMAP"
	case has("+OK"), has("-ERR"):
		return "POP3"
	case has("HTTP/"):
		return "HTTP"
	case has("SSH-"):
		return "SSH"
	case len(b) >= 4 && isDigit(b[0]) && isDigit(b[1]) && isDigit(b[2]) && (b[3] == ' ' || b[3] == '-' || b[3] == '\r'):
		if b[0] >= '2' && b[0] <= '5' {
			return "SMTP"
		}
	}
	return ""
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// firstBytes are the first bytes the server sent on the check's connection:
// raw (plain text before any TLS, or TLS records) and inside implicit TLS.
type firstBytes struct {
	raw, inner byteRecorder
}

// byteRecorder keeps the first firstBytesKept bytes written to it.
type byteRecorder struct {
	mu sync.Mutex
	b  []byte
}

func (r *byteRecorder) add(p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := firstBytesKept - len(r.b); n > 0 && len(p) > 0 {
		r.b = append(r.b, p[:min(n, len(p))]...)
	}
}

func (r *byteRecorder) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.b)
}

// recordConn records the first bytes read through it; with max > 0 it
// also refuses to read more than max bytes.
type recordConn struct {
	net.Conn
	rec  *byteRecorder
	max  int
	read int
}

func (c *recordConn) Read(p []byte) (int, error) {
	if c.max > 0 {
		if c.read >= c.max {
			return 0, errTooMuch
		}
		p = p[:min(len(p), c.max-c.read)]
	}
	n, err := c.Conn.Read(p)
	c.read += n
	c.rec.add(p[:n])
	return n, err
}
