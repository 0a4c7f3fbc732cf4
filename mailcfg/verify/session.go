package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/quickack"
)

// session is one side's check: its connection, its step clock and the
// reasons it may have torn the connection down itself.
type session struct {
	ctx      context.Context
	side     Side
	srv      mailcfg.Server
	host     string // normalized srv.Host
	opt      *Options
	provider *mailcfg.Provider
	start    time.Time

	mu        sync.Mutex
	step      Step
	stepStart time.Time
	steps     []Event
	conn      net.Conn // the raw TCP connection, wrapped in limitConn
	cause     error    // why the session closed conn itself (cancel, timeout, limit)
	certErr   error    // the certificate refusal of the last handshake
	timer     *time.Timer
	stopCtx   func() bool
	caps      []string
	oauth     bool // the credential is an XOAUTH2 token
	closed    bool
	dead      chan struct{} // closed by the first abort
	deadOnce  sync.Once

	addr        string         // the address the connection went to, for a probe
	connectTook time.Duration  // how long the TCP connection took: about one round trip
	handedOff   bool           // the connection belongs to a background goodbye (goodbye.go)
	watch       *greetingWatch // the wait for a greeting that may start a probe (probe.go)
	first       firstBytes     // the first bytes the server sent, before and inside TLS
}

func newSession(ctx context.Context, side Side, srv mailcfg.Server, opt *Options, provider *mailcfg.Provider) *session {
	now := time.Now()
	return &session{ctx: ctx, side: side, srv: srv, opt: opt, provider: provider, start: now, stepStart: now,
		dead: make(chan struct{})}
}

// begin starts a step: its clock, and its deadline once a connection exists.
func (s *session) begin(step Step) {
	s.mu.Lock()
	s.step, s.stepStart = step, time.Now()
	if s.timer != nil {
		s.timer.Reset(s.opt.StepTimeout)
	}
	s.mu.Unlock()
}

// end reports the current step as done.
func (s *session) end() {
	s.mu.Lock()
	ev := Event{Side: s.side, Step: s.step, Elapsed: time.Since(s.stepStart)}
	s.steps = append(s.steps, ev)
	s.mu.Unlock()
	if s.opt.Progress != nil {
		s.opt.Progress(ev)
	}
}

// stepTimeout is the cause when a step's deadline passed.
type stepTimeout struct {
	step Step
	d    time.Duration
}

func (e *stepTimeout) Error() string {
	return "no answer during " + string(e.step) + " within " + e.d.String()
}
func (e *stepTimeout) Unwrap() error { return context.DeadlineExceeded }

// errTooMuch is the cause when a server sent more than MaxRead bytes.
var errTooMuch = fmt.Errorf("%w: the server sent more than %d bytes", ErrProtocol, MaxRead)

// attach adopts the connection: from now on cancellation, the overall and
// the step deadlines and the read limit close it.
func (s *session) attach(c net.Conn) net.Conn {
	lc := &limitConn{Conn: c, s: s, left: MaxRead}
	s.mu.Lock()
	s.conn = lc
	s.timer = time.AfterFunc(s.opt.StepTimeout, func() {
		s.mu.Lock()
		st := &stepTimeout{step: s.step, d: s.opt.StepTimeout}
		s.mu.Unlock()
		s.abort(st)
	})
	s.mu.Unlock()
	s.stopCtx = context.AfterFunc(s.ctx, func() { s.abort(context.Cause(s.ctx)) })
	return lc
}

// abort closes the connection and remembers why (the first reason wins).
func (s *session) abort(cause error) {
	s.mu.Lock()
	if s.cause == nil && !s.closed {
		s.cause = cause
	}
	c := s.conn
	s.mu.Unlock()
	s.deadOnce.Do(func() { close(s.dead) })
	if c != nil {
		_ = c.Close()
	}
}

// await runs a blocking library call and gives up as soon as the session is
// torn down (cancel, a deadline, the read limit). go-imap's Caps, for one,
// waits on its own 30 s timer and can miss a connection closed under it.
func (s *session) await(fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-s.dead:
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.cause == nil {
			return net.ErrClosed
		}
		return s.cause
	}
}

func (s *session) close() {
	s.greeted()
	s.mu.Lock()
	s.closed = true
	c := s.conn
	if s.timer != nil {
		s.timer.Stop()
	}
	handedOff := s.handedOff
	s.mu.Unlock()
	if s.stopCtx != nil {
		s.stopCtx()
	}
	if c != nil && !handedOff {
		_ = c.Close()
	}
}

// result turns the outcome into a SideResult with a classified failure. A
// reason the session had itself (certificate refusal, cancel, deadline,
// read limit) beats whatever error the protocol library made of it.
func (s *session) result(err error) SideResult {
	s.mu.Lock()
	s.closed = true
	if err != nil {
		switch {
		case s.certErr != nil:
			err = s.certErr
		case s.cause != nil:
			err = s.cause
		case s.ctx.Err() != nil:
			err = context.Cause(s.ctx)
		}
	}
	s.mu.Unlock()
	if err != nil {
		err = s.explain(err)
	}
	r := SideResult{OK: err == nil, Elapsed: time.Since(s.start)}
	if err != nil {
		f := Classify(err, string(s.side), s.provider)
		if s.oauth {
			f = ForToken(f, string(s.side), s.provider, s.opt.Shared)
		}
		var st *stepTimeout
		if errors.As(err, &st) && f.Kind == mailcfg.KindTimeout {
			f.Detail = st.Error()
		} else if f.Kind == mailcfg.KindTimeout && f.Detail == "" {
			f.Detail = "no answer during " + string(s.step)
		}
		r.Failure = f
		s.mu.Lock()
		ev := Event{Side: s.side, Step: s.step, Elapsed: time.Since(s.stepStart), Failure: f}
		s.steps = append(s.steps, ev)
		s.mu.Unlock()
		if s.opt.Progress != nil {
			s.opt.Progress(ev)
		}
	} else {
		ev := Event{Side: s.side, Step: StepDone, Elapsed: r.Elapsed}
		s.mu.Lock()
		s.steps = append(s.steps, ev)
		s.mu.Unlock()
		if s.opt.Progress != nil {
			s.opt.Progress(ev)
		}
	}
	s.mu.Lock()
	r.Steps = append([]Event(nil), s.steps...)
	r.Capabilities = s.caps
	s.mu.Unlock()
	return r
}

// dial resolves the host and opens a TCP connection within ConnectTimeout,
// trying the addresses in the resolver's order.
func (s *session) dial() (net.Conn, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.opt.ConnectTimeout)
	defer cancel()
	s.begin(StepResolve)
	var ips []string
	if ip := net.ParseIP(s.host); ip != nil {
		ips = []string{ip.String()}
	} else {
		addrs, err := s.opt.Resolver.LookupIPAddr(ctx, s.host)
		if err != nil {
			return nil, s.ctxErr(ctx, err)
		}
		for _, a := range addrs {
			ips = append(ips, a.IP.String())
		}
		if len(ips) == 0 {
			return nil, &net.DNSError{Err: "no addresses", Name: s.host, IsNotFound: true}
		}
	}
	s.end()
	s.begin(StepConnect)
	port := strconv.Itoa(s.srv.Port)
	var firstErr error
	for i, ip := range ips {
		// Later addresses get an equal share of the time left, so one
		// black-holed address does not eat all of it.
		actx, acancel := ctx, context.CancelFunc(func() {})
		if left := len(ips) - i; left > 1 {
			if dl, ok := ctx.Deadline(); ok {
				actx, acancel = context.WithTimeout(ctx, time.Until(dl)/time.Duration(left))
			}
		}
		addr := net.JoinHostPort(ip, port)
		t0 := time.Now()
		c, err := s.opt.Dialer.DialContext(actx, "tcp", addr)
		acancel()
		if err == nil {
			s.addr, s.connectTook = addr, time.Since(t0)
			s.end()
			return s.attach(c), nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, s.ctxErr(ctx, firstErr)
}

// ctxErr prefers the check's own cancellation, then the connect deadline,
// over what a dial or lookup made of them.
func (s *session) ctxErr(local context.Context, err error) error {
	if s.ctx.Err() != nil {
		return context.Cause(s.ctx)
	}
	if local.Err() != nil {
		return fmt.Errorf("%w: no connection within %s", context.DeadlineExceeded, s.opt.ConnectTimeout)
	}
	return err
}

// tlsConfig is TLS 1.2+ with our own verification in VerifyConnection, which
// sees the leaf even when it is refused, so the failure can describe it.
func (s *session) tlsConfig() *tls.Config {
	return &tls.Config{
		ServerName: s.host,
		MinVersion: tls.VersionTLS12,
		// Verification is not skipped: VerifyConnection below does it (chain,
		// host name, validity, or the pin) and fails the handshake.
		InsecureSkipVerify: true,
		VerifyConnection:   s.verifyConnection,
	}
}

func (s *session) verifyConnection(cs tls.ConnectionState) error {
	err := verifyPeer(cs.PeerCertificates, s.host, s.srv.CertSHA256, s.opt.RootCAs, s.opt.Now())
	if ce, ok := err.(*mailcfg.CertificateError); ok && ce.SuggestedHost != "" &&
		!plausibleHost(ce.SuggestedHost, s.host, s.opt.mailDomain, s.opt.Table) {
		ce.SuggestedHost = ""
	}
	if err != nil {
		s.mu.Lock()
		s.certErr = err
		s.mu.Unlock()
	}
	return err
}

// verifyPeer trusts the chain for host at now, or exactly the pinned leaf.
func verifyPeer(certs []*x509.Certificate, host, pin string, roots *x509.CertPool, now time.Time) error {
	if len(certs) == 0 {
		return &mailcfg.CertificateError{Reason: mailcfg.CertOther, Err: errors.New("no certificate")}
	}
	leaf := certs[0]
	if pin != "" {
		want, err := mailcfg.ParseFingerprint(pin)
		got := sha256.Sum256(leaf.Raw)
		if err != nil || subtle.ConstantTimeCompare(want, got[:]) != 1 {
			return &mailcfg.CertificateError{Leaf: leaf, Reason: mailcfg.CertPinMismatch, Err: ErrCertPinMismatch}
		}
		return nil
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		DNSName:       host,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err == nil {
		return nil
	}
	reason, _, ok := X509Reason(err, now)
	if !ok {
		reason = mailcfg.CertOther
	}
	// x509 reports an untrusted chain before a wrong name; a person needs
	// both, and the name is what they can fix, so check it separately.
	if reason == mailcfg.CertUnknownAuthority && leaf.VerifyHostname(host) != nil {
		reason = mailcfg.CertWrongHost
	}
	if reason == mailcfg.CertUnknownAuthority && (now.After(leaf.NotAfter) || now.Before(leaf.NotBefore)) {
		reason = mailcfg.CertExpired
		if now.Before(leaf.NotBefore) {
			reason = mailcfg.CertNotYetValid
		}
	}
	ce := &mailcfg.CertificateError{Leaf: leaf, Reason: reason, Err: err}
	if reason == mailcfg.CertWrongHost {
		ce.SuggestedHost = trustedOtherName(leaf, inter, roots, host, now)
	}
	return ce
}

// handshake runs the TLS client handshake on c as the "tls" step.
func (s *session) handshake(c net.Conn) (*tls.Conn, error) {
	s.begin(StepTLS)
	tc := tls.Client(c, s.tlsConfig())
	if err := s.tlsHandshake(tc); err != nil {
		return nil, err
	}
	s.end()
	return tc, nil
}

// inner records the first bytes read through a connection inside TLS, so a
// greeting of another protocol can be named.
func (s *session) inner(c net.Conn) net.Conn {
	return &recordConn{Conn: c, rec: &s.first.inner}
}

// tlsHandshake runs a handshake; a failure that is not about the certificate
// or the clock is marked as a failed handshake for Classify.
func (s *session) tlsHandshake(tc *tls.Conn) error {
	err := tc.HandshakeContext(s.ctx)
	if err == nil {
		return nil
	}
	var ce *mailcfg.CertificateError
	if errors.As(err, &ce) || s.ctx.Err() != nil {
		return err
	}
	return fmt.Errorf("%w: %w", ErrTLSHandshake, err)
}

// limitConn stops a server that sends more than MaxRead bytes.
type limitConn struct {
	net.Conn
	s    *session
	mu   sync.Mutex
	left int64
}

func (c *limitConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	left := c.left
	c.mu.Unlock()
	if left <= 0 {
		c.s.abort(errTooMuch)
		return 0, errTooMuch
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	// A server that writes its TLS session ticket and its next reply
	// separately, with Nagle's algorithm on (Postfix after every TLS 1.3
	// handshake), holds the reply until the ticket is acknowledged: on a
	// fast link the delayed ACK was most of SMTP's time.
	quickack.Set(c.Conn)
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.left -= int64(n)
	c.mu.Unlock()
	c.s.first.raw.add(p[:n])
	return n, err
}

// prefixConn reads a prefix before the connection's own data.
type prefixConn struct {
	net.Conn
	prefix *bytes.Reader
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if c.prefix.Len() > 0 {
		return c.prefix.Read(p)
	}
	return c.Conn.Read(p)
}

// credUser is the user name for a credential on this server.
func (s *session) credUser(cred Credential) string {
	if t, ok := cred.(OAuth2Token); ok && t.Username != "" {
		return t.Username
	}
	return s.srv.Username
}

// token returns the access token of an OAuth credential.
func (s *session) token(cred Credential) (string, error) {
	switch c := cred.(type) {
	case OAuth2Token:
		return c.AccessToken, nil
	case TokenFunc:
		tok, err := c(s.ctx)
		if err == nil && tok == "" {
			err = errors.New("empty token")
		}
		if err != nil {
			var f *mailcfg.Failure
			if errors.As(err, &f) || s.ctx.Err() != nil {
				return "", err
			}
			f = mailcfg.NewFailure(mailcfg.KindAuthFailed, string(s.side), s.provider)
			f.Field = "auth"
			f.Detail = "no access token"
			return "", f
		}
		return tok, nil
	}
	return "", errors.New("not an OAuth credential")
}

func isOAuth(cred Credential) bool {
	switch cred.(type) {
	case OAuth2Token, TokenFunc:
		return true
	}
	return false
}
