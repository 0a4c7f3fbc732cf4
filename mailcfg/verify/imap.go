package verify

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"

	"infino.legal/mailbox/mailcfg"
)

// imapMaxLine bounds a line of the plain-text STARTTLS prelude; greetings
// with a capability list are a few hundred bytes.
const imapMaxLine = 8 << 10

// imap signs in with go-imap's client. Before TLS (STARTTLS) the session
// speaks the prelude itself, so it can insist that STARTTLS is advertised and
// refuse anything the server sends between its OK and the handshake; after
// TLS, imapclient takes over.
func (s *session) imap(cred Credential) error {
	conn, err := s.dial()
	if err != nil {
		return err
	}
	var stream net.Conn
	switch s.srv.Security {
	case mailcfg.SecurityTLS:
		tc, err := s.handshake(conn)
		if err != nil {
			return err
		}
		stream = s.inner(tc)
	case mailcfg.SecurityStartTLS:
		plainCaps, err := s.imapStartTLS(conn)
		if err != nil {
			return err
		}
		tc, err := s.handshake(conn)
		if err != nil {
			return err
		}
		// imapclient expects a greeting; after STARTTLS there is none, so
		// it gets a neutral one without capabilities, which makes it ask for
		// CAPABILITY anew, as RFC 9051 §6.2.1 requires after STARTTLS.
		greeting := []byte("* OK TLS\r\n")
		if pw, ok := cred.(Password); ok && hasWord(plainCaps, "SASL-IR") {
			done, rest, err := s.imapPipelinedLogin(tc, pw)
			if done {
				return err
			}
			greeting = rest
		}
		stream = &prefixConn{Conn: tc, prefix: bytes.NewReader(greeting)}
	default: // SecurityNone, allowed by run
		stream = conn
	}

	c := imapclient.New(stream, nil)
	signedOff := false
	defer func() {
		if !signedOff {
			_ = s.await(c.Close)
		}
	}()
	if s.srv.Security != mailcfg.SecurityStartTLS {
		s.begin(StepGreeting)
		s.watchGreeting()
	}
	err = s.await(func() error { return waitGreeting(c) })
	s.greeted()
	if err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) {
			return fmt.Errorf("%w: %w", ErrGreetingRefused, err)
		}
		return err
	}
	if s.srv.Security != mailcfg.SecurityStartTLS {
		s.end()
	}
	if c.State() != imap.ConnStateNotAuthenticated {
		// PREAUTH: the server signed us in without a credential; the
		// credential has not been checked.
		return fmt.Errorf("%w: PREAUTH", ErrProtocol)
	}

	s.begin(StepLogin)
	var caps imap.CapSet
	if err := s.await(func() error {
		caps = c.Caps() // from the greeting, or one CAPABILITY round trip
		if caps == nil {
			return fmt.Errorf("%w: no capabilities", ErrProtocol)
		}
		return nil
	}); err != nil {
		return err
	}
	s.caps = imapCapList(caps)
	if err := s.await(func() error { return s.imapLogin(c, caps, cred) }); err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) || errors.Is(err, errXOAUTH2Rejected) {
			return fmt.Errorf("%w: %w", ErrAuthRejected, err)
		}
		return err
	}
	s.end()

	// The result is known: LOGOUT is written now, its answer (a server
	// that hangs up instead of BYE is fine) is left to the background.
	s.begin(StepDone)
	logout := c.Logout()
	signedOff = true
	s.farewell(func() {
		_ = logout.Wait()
		_ = c.Close()
	})
	return nil
}

// waitGreeting is c.WaitGreeting without its race: when a server says BYE
// (or OK) and hangs up at once, both of imapclient's channels are closed and
// its select may report "connection closed before greeting" instead of the
// greeting. Once either is closed a call does not block, so asking again
// finds the greeting if there was one.
func waitGreeting(c *imapclient.Client) error {
	err := c.WaitGreeting()
	var ie *imap.Error
	for i := 0; i < 32 && err != nil && !errors.As(err, &ie); i++ {
		err = c.WaitGreeting()
	}
	return err
}

// imapLogin picks the sign-in: AUTHENTICATE PLAIN when offered (one round
// trip with SASL-IR, and it needs no quoting), LOGIN otherwise unless the
// server says LOGINDISABLED; XOAUTH2 for a token.
func (s *session) imapLogin(c *imapclient.Client, caps imap.CapSet, cred Credential) error {
	user := s.credUser(cred)
	if isOAuth(cred) {
		if !caps.Has(imap.AuthCap("XOAUTH2")) {
			return fmt.Errorf("%w: no AUTH=XOAUTH2", ErrNoAuthMechanism)
		}
		tok, err := s.token(cred)
		if err != nil {
			return err
		}
		return c.Authenticate(&xoauth2{user: user, token: tok})
	}
	pw := string(cred.(Password))
	plain := caps.Has(imap.AuthCap(sasl.Plain))
	switch {
	case plain && (caps.Has(imap.CapSASLIR) || caps.Has(imap.CapLoginDisabled)):
		return c.Authenticate(sasl.NewPlainClient("", user, pw))
	case !caps.Has(imap.CapLoginDisabled):
		return c.Login(user, pw).Wait()
	case plain:
		return c.Authenticate(sasl.NewPlainClient("", user, pw))
	}
	return fmt.Errorf("%w: LOGINDISABLED and no AUTH=PLAIN", ErrNoAuthMechanism)
}

func imapCapList(caps imap.CapSet) []string {
	out := make([]string, 0, len(caps))
	for c := range caps {
		out = append(out, string(c))
	}
	sort.Strings(out)
	return out
}

// imapStartTLS speaks the plain-text prelude of RFC 9051 §6.2.1 (RFC 3501
// §6.2.1): greeting, CAPABILITY if the greeting carried none, STARTTLS. It
// returns when the server has said OK to STARTTLS and sent nothing after it,
// with the capabilities it announced before TLS.
func (s *session) imapStartTLS(conn net.Conn) ([]string, error) {
	br := bufio.NewReaderSize(conn, imapMaxLine)
	s.begin(StepGreeting)
	s.watchGreeting()
	line, err := readLine(br, imapMaxLine)
	s.greeted()
	if err != nil {
		return nil, err
	}
	g, err := parseIMAPStatus(line)
	if err != nil {
		return nil, err
	}
	if g.tag != "*" {
		return nil, fmt.Errorf("%w: greeting is tagged", ErrProtocol)
	}
	switch g.typ {
	case "OK":
	case "PREAUTH":
		// Already signed in on a plain connection: STARTTLS is impossible
		// (RFC 9051 §7.1.4); refuse.
		return nil, fmt.Errorf("%w: PREAUTH before STARTTLS", ErrTLSUnavailable)
	case "BYE":
		return nil, fmt.Errorf("%w: %w", ErrGreetingRefused, g.imapError())
	default:
		return nil, fmt.Errorf("%w: greeting %q", ErrProtocol, safeWord(g.typ))
	}
	s.end()

	s.begin(StepTLS)
	caps := g.caps
	if caps == nil {
		if _, err := conn.Write([]byte("V1 CAPABILITY\r\n")); err != nil {
			return nil, err
		}
		if caps, err = readIMAPCaps(br, "V1"); err != nil {
			return nil, err
		}
	}
	if !hasWord(caps, "STARTTLS") {
		return nil, fmt.Errorf("%w: STARTTLS not advertised", ErrTLSUnavailable)
	}
	if _, err := conn.Write([]byte("V2 STARTTLS\r\n")); err != nil {
		return nil, err
	}
	st, _, err := readIMAPTagged(br, "V2")
	if err != nil {
		return nil, err
	}
	if st.typ != "OK" {
		return nil, fmt.Errorf("%w: %w", ErrTLSUnavailable, st.imapError())
	}
	if br.Buffered() > 0 {
		// Bytes after the OK would be read as if they came through TLS
		// (a STARTTLS command-injection attack): refuse.
		return nil, fmt.Errorf("%w: data after STARTTLS OK", ErrProtocol)
	}
	return caps, nil
}

// imapStatus is one line of an IMAP server: "* OK [CODE args] text",
// "tag NO text", "* CAPABILITY …".
type imapStatus struct {
	tag, typ string
	code     string   // response code without brackets and arguments
	caps     []string // the arguments of a CAPABILITY response code, upper-case
	rest     string   // what follows the type (for untagged data)
}

func (st imapStatus) imapError() *imap.Error {
	return &imap.Error{Type: imap.StatusResponseType(st.typ), Code: imap.ResponseCode(st.code)}
}

// parseIMAPStatus reads the parts of a response line that the prelude needs;
// anything it cannot read is a protocol error.
func parseIMAPStatus(line string) (imapStatus, error) {
	var st imapStatus
	tag, rest, ok := strings.Cut(line, " ")
	if !ok || tag == "" || !isIMAPAtom(tag) && tag != "*" {
		return st, fmt.Errorf("%w: malformed response line", ErrProtocol)
	}
	st.tag = tag
	typ, rest, _ := strings.Cut(rest, " ")
	if typ == "" || !isIMAPAtom(typ) {
		return st, fmt.Errorf("%w: malformed response line", ErrProtocol)
	}
	st.typ = strings.ToUpper(typ)
	st.rest = rest
	switch st.typ {
	case "OK", "NO", "BAD", "BYE", "PREAUTH":
	default:
		return st, nil
	}
	if !strings.HasPrefix(rest, "[") {
		return st, nil
	}
	end := strings.IndexByte(rest, ']')
	if end < 0 {
		return st, fmt.Errorf("%w: unterminated response code", ErrProtocol)
	}
	code, args, _ := strings.Cut(rest[1:end], " ")
	st.code = strings.ToUpper(code)
	if st.code == "CAPABILITY" {
		st.caps = strings.Fields(strings.ToUpper(args))
		if st.caps == nil {
			st.caps = []string{}
		}
	}
	return st, nil
}

// readIMAPTagged reads lines until the tagged reply, keeping at most a few
// dozen untagged ones.
func readIMAPTagged(br *bufio.Reader, tag string) (imapStatus, []imapStatus, error) {
	var untagged []imapStatus
	for i := 0; i < 64; i++ {
		line, err := readLine(br, imapMaxLine)
		if err != nil {
			return imapStatus{}, nil, err
		}
		st, err := parseIMAPStatus(line)
		if err != nil {
			return st, nil, err
		}
		switch {
		case st.tag == tag:
			return st, untagged, nil
		case st.tag == "*" && st.typ == "BYE":
			return st, nil, fmt.Errorf("%w: %w", ErrGreetingRefused, st.imapError())
		case st.tag == "*":
			untagged = append(untagged, st)
		default:
			return st, nil, fmt.Errorf("%w: reply with an unknown tag", ErrProtocol)
		}
	}
	return imapStatus{}, nil, fmt.Errorf("%w: too many untagged replies", ErrProtocol)
}

// readIMAPCaps reads the reply to a CAPABILITY command sent with tag: the
// capabilities of its untagged CAPABILITY lines, or of the tagged OK's
// response code when it carries them.
func readIMAPCaps(br *bufio.Reader, tag string) ([]string, error) {
	st, untagged, err := readIMAPTagged(br, tag)
	if err != nil {
		return nil, err
	}
	if st.typ != "OK" {
		return nil, fmt.Errorf("%w: %w", ErrProtocol, st.imapError())
	}
	if st.caps != nil {
		return st.caps, nil
	}
	var caps []string
	for _, u := range untagged {
		if u.typ == "CAPABILITY" {
			caps = append(caps, strings.Fields(strings.ToUpper(u.rest))...)
		}
	}
	return caps, nil
}

func isIMAPAtom(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\]`, c) >= 0 {
			return false
		}
	}
	return s != ""
}

func hasWord(list []string, w string) bool {
	for _, x := range list {
		if strings.EqualFold(x, w) {
			return true
		}
	}
	return false
}
