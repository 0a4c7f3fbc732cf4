package verify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strings"

	gomail "github.com/wneessen/go-mail"
	maillog "github.com/wneessen/go-mail/log"

	"infino.legal/mailbox/mailcfg"
)

// smtpHELO is the EHLO argument: an address literal, as mail programs use,
// so the machine's name does not leave it.
const smtpHELO = "[127.0.0.1]"

// smtp signs in with go-mail: DialToSMTPClientWithContext does EHLO, STARTTLS
// (mandatory policy) or nothing more on implicit TLS, and AUTH; then the
// session says QUIT without waiting for the answer. No
// message is ever sent. go-mail dials through the session (resolve, connect,
// implicit TLS), and its debug log, which redacts everything said during
// AUTH, tells the session which step the conversation is in.
func (s *session) smtp(cred Credential) error {
	t := &smtpTracker{s: s}
	// STARTTLS gets its own config so its handshake closes the "tls" step.
	startTLSConfig := s.tlsConfig()
	startTLSConfig.VerifyConnection = func(cs tls.ConnectionState) error {
		if err := s.verifyConnection(cs); err != nil {
			return err
		}
		t.tlsDone()
		return nil
	}
	opts := []gomail.Option{
		gomail.WithDialContextFunc(t.dial),
		gomail.WithTLSConfig(startTLSConfig),
		gomail.WithTimeout(s.opt.Timeout),
		gomail.WithHELO(smtpHELO),
		gomail.WithDebugLog(),
		gomail.WithLogger(t),
	}
	switch s.srv.Security {
	case mailcfg.SecurityTLS:
		// With our own dial function go-mail does not wrap TLS itself: the
		// dial function returns the *tls.Conn.
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSPolicy(gomail.TLSMandatory))
	case mailcfg.SecurityStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default: // SecurityNone, allowed by run
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	opts = append(opts, gomail.WithPort(s.srv.Port))

	user := s.credUser(cred)
	if isOAuth(cred) {
		tok, err := s.token(cred)
		if err != nil {
			return err
		}
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthXOAUTH2),
			gomail.WithUsername(user), gomail.WithPassword(tok))
	} else {
		mechs := []gomail.SMTPAuthType{gomail.SMTPAuthPlain, gomail.SMTPAuthLogin,
			gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1}
		if s.srv.Security == mailcfg.SecurityNone {
			mechs = []gomail.SMTPAuthType{gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc}
		}
		opts = append(opts, gomail.WithOpportunisticSMTPAuth(mechs...),
			gomail.WithUsername(user), gomail.WithPassword(string(cred.(Password))))
	}
	c, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	sc, err := c.DialToSMTPClientWithContext(s.ctx)
	if err != nil {
		return t.wrap(err)
	}
	s.caps = t.caps
	s.end()

	// The result is known: QUIT is written now, its 221 is left to the
	// background.
	s.begin(StepDone)
	id, err := sc.Text.Cmd("QUIT")
	if err != nil {
		_ = sc.Close()
		return nil
	}
	s.farewell(func() {
		sc.Text.StartResponse(id)
		_, _, _ = sc.Text.ReadResponse(221)
		sc.Text.EndResponse(id)
		_ = sc.Close()
	})
	return nil
}

// smtpTracker follows go-mail's conversation through its debug log: the
// first command ends the greeting, STARTTLS and the handshake make the "tls"
// step, then EHLO and AUTH the "login" step. It never keeps what was said,
// only which command came last and the EHLO keywords. go-mail redacts the
// AUTH lines before they reach the log.
type smtpTracker struct {
	s            *session
	commands     int
	lastCmd      string // upper-case verb of the last command
	lastCode     int    // code of the last reply
	startTLSSent bool
	handshook    bool
	authSent     bool
	caps         []string
}

func (t *smtpTracker) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	conn, err := t.s.dial()
	if err != nil {
		return nil, err
	}
	if t.s.srv.Security == mailcfg.SecurityTLS {
		tc, err := t.s.handshake(conn)
		if err != nil {
			return nil, err
		}
		t.handshook = true
		conn = tc
	}
	t.s.begin(StepGreeting)
	t.s.watchGreeting()
	return conn, nil
}

func (t *smtpTracker) tlsDone() {
	t.handshook = true
	t.s.end()
	t.s.begin(StepLogin)
}

func (t *smtpTracker) Debugf(l maillog.Log) {
	if l.Direction == maillog.DirServerToClient {
		if len(l.Messages) == 2 {
			code, _ := l.Messages[0].(int)
			t.lastCode = code
			if msg, ok := l.Messages[1].(string); ok && code == 250 && (t.lastCmd == "EHLO" || t.lastCmd == "HELO") {
				t.caps = ehloKeywords(msg)
			}
		}
		return
	}
	var verb string
	if t.s != nil && len(l.Messages) == 1 && l.Format == "%s" {
		if m, ok := l.Messages[0].(string); ok && strings.Contains(m, "redacted") {
			verb = "AUTH"
		}
	}
	if verb == "" {
		verb, _, _ = strings.Cut(l.Format, " ")
		verb = strings.ToUpper(verb)
	}
	t.lastCmd, t.lastCode = verb, 0
	t.commands++
	if t.commands == 1 {
		// The first command goes out once the greeting has arrived.
		t.s.greeted()
		t.s.end()
		if t.s.srv.Security == mailcfg.SecurityStartTLS {
			t.s.begin(StepTLS)
		} else {
			t.s.begin(StepLogin)
		}
	}
	switch verb {
	case "STARTTLS":
		t.startTLSSent = true
	case "AUTH":
		t.authSent = true
	}
}

func (t *smtpTracker) Infof(maillog.Log)  {}
func (t *smtpTracker) Warnf(maillog.Log)  {}
func (t *smtpTracker) Errorf(maillog.Log) {}

// wrap tells Classify where in the conversation err happened, where the
// reply alone is ambiguous.
func (t *smtpTracker) wrap(err error) error {
	if transportError(err) {
		return err
	}
	switch {
	case t.commands == 0:
		var te *textproto.Error
		if errors.As(err, &te) {
			// The greeting itself was negative (421, 554).
			return fmt.Errorf("%w: %w", ErrGreetingRefused, err)
		}
		return fmt.Errorf("%w: %w", ErrProtocol, err)
	case t.s.srv.Security == mailcfg.SecurityStartTLS && !t.handshook:
		if !t.startTLSSent && t.lastCode != 250 {
			return err // EHLO and HELO both failed: a protocol problem
		}
		// Not advertised (go-mail's mandatory policy stops before sending
		// STARTTLS), or refused.
		return fmt.Errorf("%w: %w", ErrTLSUnavailable, err)
	case t.authSent:
		return fmt.Errorf("%w: %w", ErrAuthRejected, err)
	case (t.lastCmd == "EHLO" || t.lastCmd == "HELO") && t.lastCode != 250:
		return err
	}
	// go-mail gave up before AUTH: no AUTH at all, or not the mechanism.
	return fmt.Errorf("%w: %w", ErrNoAuthMechanism, err)
}

// transportError is an error of the connection rather than of a reply.
func transportError(err error) bool {
	var ne net.Error
	var rh tls.RecordHeaderError
	var ae tls.AlertError
	var ce *mailcfg.CertificateError
	var f *mailcfg.Failure
	return errors.As(err, &ne) || errors.As(err, &rh) || errors.As(err, &ae) || errors.As(err, &ce) ||
		errors.As(err, &f) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrProtocol)
}

// ehloKeywords are the extension lines of an EHLO reply (the first line is
// the server's name), printable ASCII, bounded.
func ehloKeywords(msg string) []string {
	lines := strings.Split(msg, "\n")
	var out []string
	for _, l := range lines[1:] {
		if len(out) == 64 {
			break
		}
		var b strings.Builder
		for i := 0; i < len(l) && b.Len() < 128; i++ {
			if c := l[i]; c >= ' ' && c < 0x7f {
				b.WriteByte(c)
			}
		}
		if w := strings.TrimSpace(b.String()); w != "" {
			out = append(out, w)
		}
	}
	return out
}
