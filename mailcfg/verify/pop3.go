package verify

// A small, strict POP3 client: just enough to sign in and out. No POP3
// client is maintained among the Go modules, and signing in needs little:
//
//   - RFC 1939 (POP3): the greeting, +OK/-ERR status lines, USER/PASS, QUIT
//     (in TRANSACTION state QUIT enters UPDATE, which deletes only messages
//     marked with DELE; this client marks none).
//   - RFC 2449 (extension mechanism): CAPA and its multi-line reply; the
//     bracketed response codes; PIPELINING; replies are at most 512 octets
//     and commands at most 255 octets including CRLF.
//   - RFC 2595 §4 (STLS): STARTTLS for POP3; after TLS the client discards
//     what it knew of the capabilities and asks CAPA again.
//   - RFC 5034 (SASL AUTH): "+ " continuations in base64, an initial response
//     on the AUTH line only when the line stays within 255 octets, "*" to
//     cancel.
//   - RFC 3206 (response codes SYS/TEMP, SYS/PERM, AUTH) and RFC 2449 §8
//     (IN-USE, LOGIN-DELAY).
//
// Lines are bounded (pop3MaxLine, twice RFC 2449's 512 octets for servers
// that run over), multi-line replies too (pop3MaxLines), so a hostile server
// costs a few kilobytes at most.

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"strings"

	"infino.legal/mailbox/mailcfg"
)

const (
	pop3MaxLine    = 1024 // bytes per reply line including CRLF
	pop3MaxLines   = 64   // lines per multi-line reply
	pop3MaxCommand = 255  // RFC 2449 §4: octets per command line including CRLF
	pop3MaxRounds  = 4    // SASL challenge rounds
)

// pop3Conn is one POP3 connection, before or after TLS.
type pop3Conn struct {
	conn net.Conn
	br   *bufio.Reader
}

func newPOP3(c net.Conn) *pop3Conn {
	return &pop3Conn{conn: c, br: bufio.NewReaderSize(c, pop3MaxLine)}
}

// send writes one command line. Callers never pass CR or LF inside it.
func (p *pop3Conn) send(line string) error {
	_, err := p.conn.Write([]byte(line + "\r\n"))
	return err
}

// status reads a single-line reply to cmd: the text after +OK, or a
// *POP3Error for -ERR.
func (p *pop3Conn) status(cmd string) (string, error) {
	line, err := readLine(p.br, pop3MaxLine)
	if err != nil {
		return "", err
	}
	ok, code, text, err := parsePOP3Status(line)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", &POP3Error{Command: cmd, Code: code, Text: text}
	}
	return text, nil
}

// multiline reads the body of a multi-line reply up to the "." line,
// undoing the dot-stuffing (RFC 1939 §3).
func (p *pop3Conn) multiline() ([]string, error) {
	var lines []string
	for {
		line, err := readLine(p.br, pop3MaxLine)
		if err != nil {
			return nil, err
		}
		if line == "." {
			return lines, nil
		}
		if len(lines) == pop3MaxLines {
			return nil, fmt.Errorf("%w: multi-line reply too long", ErrProtocol)
		}
		lines = append(lines, strings.TrimPrefix(line, "."))
	}
}

// pop3Caps is what CAPA said.
type pop3Caps struct {
	known      bool // CAPA answered +OK
	stls       bool
	user       bool
	pipelining bool
	sasl       []string // upper-case mechanism names
	list       []string // every capability line, for SideResult.Capabilities
}

// capa asks CAPA (RFC 2449 §5). A server without CAPA answers -ERR, which
// gives the zero pop3Caps and no error.
func (p *pop3Conn) capa() (pop3Caps, error) {
	if err := p.send("CAPA"); err != nil {
		return pop3Caps{}, err
	}
	if _, err := p.status("CAPA"); err != nil {
		if _, isERR := err.(*POP3Error); isERR {
			return pop3Caps{}, nil
		}
		return pop3Caps{}, err
	}
	lines, err := p.multiline()
	if err != nil {
		return pop3Caps{}, err
	}
	return parseCAPA(lines), nil
}

// parsePOP3Status splits a status line: "+OK text" or "-ERR [CODE] text"
// (RFC 1939 §3, RFC 2449 §8). Anything else is a protocol error.
func parsePOP3Status(line string) (ok bool, code, text string, err error) {
	var rest string
	switch {
	case line == "+OK" || strings.HasPrefix(line, "+OK "):
		ok, rest = true, strings.TrimPrefix(strings.TrimPrefix(line, "+OK"), " ")
	case line == "-ERR" || strings.HasPrefix(line, "-ERR "):
		rest = strings.TrimPrefix(strings.TrimPrefix(line, "-ERR"), " ")
	default:
		return false, "", "", fmt.Errorf("%w: not a POP3 status line", ErrProtocol)
	}
	if strings.HasPrefix(rest, "[") {
		if end := strings.IndexByte(rest, ']'); end > 0 && validRespCode(rest[1:end]) {
			code = strings.ToUpper(rest[1:end])
			rest = strings.TrimPrefix(rest[end+1:], " ")
		}
	}
	return ok, code, rest, nil
}

// validRespCode: resp-level *("/" resp-level), resp-level 1*rchar, rchar
// ALPHA / DIGIT / "-" (RFC 2449 §8 grammar, slightly relaxed on case).
func validRespCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, lvl := range strings.Split(s, "/") {
		if lvl == "" {
			return false
		}
		for i := 0; i < len(lvl); i++ {
			c := lvl[i]
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// parseCAPA reads the capability lines of a CAPA reply (RFC 2449 §6).
func parseCAPA(lines []string) pop3Caps {
	c := pop3Caps{known: true}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		c.list = append(c.list, strings.Join(f, " "))
		switch strings.ToUpper(f[0]) {
		case "STLS":
			c.stls = true
		case "USER":
			c.user = true
		case "PIPELINING":
			c.pipelining = true
		case "SASL":
			for _, m := range f[1:] {
				c.sasl = append(c.sasl, strings.ToUpper(m))
			}
		}
	}
	return c
}

func (s *session) pop3(cred Credential) error {
	conn, err := s.dial()
	if err != nil {
		return err
	}
	stream := conn
	if s.srv.Security == mailcfg.SecurityTLS {
		tc, err := s.handshake(conn)
		if err != nil {
			return err
		}
		stream = s.inner(tc)
	}
	p := newPOP3(stream)

	s.begin(StepGreeting)
	s.watchGreeting()
	_, err = p.status("greeting")
	s.greeted()
	if err != nil {
		if _, isERR := err.(*POP3Error); isERR {
			return fmt.Errorf("%w: %w", ErrGreetingRefused, err)
		}
		return err
	}
	s.end()

	pipelining := false // announced before STLS
	if s.srv.Security == mailcfg.SecurityStartTLS {
		s.begin(StepTLS)
		caps, err := p.capa()
		if err != nil {
			return err
		}
		if !caps.stls {
			return fmt.Errorf("%w: STLS not advertised", ErrTLSUnavailable)
		}
		if err := p.send("STLS"); err != nil {
			return err
		}
		if _, err := p.status("STLS"); err != nil {
			if _, isERR := err.(*POP3Error); isERR {
				return fmt.Errorf("%w: %w", ErrTLSUnavailable, err)
			}
			return err
		}
		if p.br.Buffered() > 0 {
			// STARTTLS command injection: refuse (RFC 2595 §4 wants
			// the negotiation to start right after +OK).
			return fmt.Errorf("%w: data after STLS +OK", ErrProtocol)
		}
		tc := tls.Client(conn, s.tlsConfig())
		if err := s.tlsHandshake(tc); err != nil {
			return err
		}
		s.end()
		p = newPOP3(tc)
		pipelining = caps.pipelining
	}

	s.begin(StepLogin)
	var caps pop3Caps
	signedIn := false
	if pw, ok := cred.(Password); ok && pipelining {
		caps, signedIn, err = s.pop3PipelinedLogin(p, pw)
	} else {
		caps, err = p.capa() // again after STLS: RFC 2595 §4
	}
	s.caps = caps.list
	if err == nil && !signedIn {
		err = s.pop3Login(p, caps, cred)
	}
	if err != nil {
		if _, isERR := err.(*POP3Error); isERR {
			return fmt.Errorf("%w: %w", ErrAuthRejected, err)
		}
		return err
	}
	s.end()

	// The result is known: QUIT is written now, its answer is left to the
	// background.
	s.begin(StepDone)
	if p.send("QUIT") == nil {
		s.farewell(func() { _, _ = p.status("QUIT") })
	}
	return nil
}

// pop3Login signs in: AUTH XOAUTH2 for a token; for a password AUTH PLAIN
// when offered, else USER/PASS (pipelined when the server allows it).
func (s *session) pop3Login(p *pop3Conn, caps pop3Caps, cred Credential) error {
	user := s.credUser(cred)
	if isOAuth(cred) {
		if !hasWord(caps.sasl, "XOAUTH2") {
			return fmt.Errorf("%w: no SASL XOAUTH2", ErrNoAuthMechanism)
		}
		tok, err := s.token(cred)
		if err != nil {
			return err
		}
		return p.auth("XOAUTH2", xoauth2Response(user, tok), true)
	}
	pw := string(cred.(Password))
	if hasWord(caps.sasl, "PLAIN") {
		return p.auth("PLAIN", []byte("\x00"+user+"\x00"+pw), false)
	}
	if caps.known && !caps.user {
		return fmt.Errorf("%w: neither USER nor SASL PLAIN", ErrNoAuthMechanism)
	}
	if caps.pipelining {
		// RFC 2449 §6.6: both commands in one write, replies in order.
		if _, err := p.conn.Write([]byte("USER " + user + "\r\nPASS " + pw + "\r\n")); err != nil {
			return err
		}
		_, userErr := p.status("USER")
		_, passErr := p.status("PASS")
		if userErr != nil {
			return userErr
		}
		return passErr
	}
	if err := p.send("USER " + user); err != nil {
		return err
	}
	if _, err := p.status("USER"); err != nil {
		return err
	}
	if err := p.send("PASS " + pw); err != nil {
		return err
	}
	_, err := p.status("PASS")
	return err
}

// auth runs one SASL exchange (RFC 5034). The initial response goes on the
// AUTH line when that stays within 255 octets, else after the first "+".
// Challenges are answered with an empty response when emptyOnChallenge
// (XOAUTH2's error JSON), otherwise the exchange is cancelled with "*".
func (p *pop3Conn) auth(mech string, ir []byte, emptyOnChallenge bool) error {
	b64 := base64.StdEncoding.EncodeToString(ir)
	pending := true
	if len("AUTH "+mech+" "+b64+"\r\n") <= pop3MaxCommand {
		if err := p.send("AUTH " + mech + " " + b64); err != nil {
			return err
		}
		pending = false
	} else if err := p.send("AUTH " + mech); err != nil {
		return err
	}
	for i := 0; i < pop3MaxRounds; i++ {
		line, err := readLine(p.br, pop3MaxLine)
		if err != nil {
			return err
		}
		if line == "+" || strings.HasPrefix(line, "+ ") {
			var reply string
			switch {
			case pending:
				reply, pending = b64, false
			case emptyOnChallenge:
				reply = ""
			default:
				reply = "*"
			}
			if err := p.send(reply); err != nil {
				return err
			}
			continue
		}
		ok, code, text, err := parsePOP3Status(line)
		if err != nil {
			return err
		}
		if !ok {
			return &POP3Error{Command: "AUTH", Code: code, Text: text}
		}
		if pending {
			return fmt.Errorf("%w: +OK before the credential was sent", ErrProtocol)
		}
		return nil
	}
	return fmt.Errorf("%w: too many SASL rounds", ErrProtocol)
}
