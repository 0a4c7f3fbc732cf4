package verify

// Signing in after STARTTLS/STLS in one round trip: the capabilities asked
// anew and the sign-in go out together.

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"slices"
	"strings"
)

// imapPipelinedLogin signs in right after the STARTTLS handshake in one
// round trip instead of two: the CAPABILITY that RFC 9051 §6.2.1 asks for
// anew after TLS and AUTHENTICATE PLAIN with its initial response go out
// together. AUTH=PLAIN under TLS is mandatory to implement for IMAP4rev1
// (RFC 3501 §6.2.1, §11.1) and IMAP4rev2; the initial response (RFC 4959)
// is only sent when the server announced SASL-IR before TLS. The password
// travels inside TLS only.
//
// done reports that the side's outcome is settled: signed in (nil, and
// LOGOUT written), refused by a server that offers PLAIN (ErrAuthRejected),
// or a broken connection. Otherwise the server would not take PLAIN this
// way (BAD, or NO without AUTH=PLAIN): greeting is then a greeting for
// imapclient with the capabilities just learnt, followed by whatever was
// read after them, and imapclient picks the sign-in as before.
func (s *session) imapPipelinedLogin(tc net.Conn, pw Password) (done bool, greeting []byte, err error) {
	s.begin(StepLogin)
	ir := base64.StdEncoding.EncodeToString([]byte("\x00" + s.srv.Username + "\x00" + string(pw)))
	if _, err := tc.Write([]byte("V3 CAPABILITY\r\nV4 AUTHENTICATE PLAIN " + ir + "\r\n")); err != nil {
		return true, nil, err
	}
	br := bufio.NewReaderSize(tc, imapMaxLine)
	caps, err := readIMAPCaps(br, "V3")
	if err != nil {
		return true, nil, err
	}
	auth, err := readIMAPAuthReply(br, tc, "V4")
	if err != nil {
		return true, nil, err
	}
	switch {
	case auth.typ == "OK":
		s.caps = slices.Sorted(slices.Values(caps))
		s.end()
		// The result is known: LOGOUT is written now, its answer is left
		// to the background.
		s.begin(StepDone)
		if _, err := tc.Write([]byte("V5 LOGOUT\r\n")); err == nil {
			s.farewell(func() {
				_, _, _ = readIMAPTagged(br, "V5") // ends at the BYE or the tagged OK
				_ = tc.Close()
			})
		}
		return true, nil, nil
	case auth.typ == "NO" && hasWord(caps, "AUTH=PLAIN"):
		return true, nil, fmt.Errorf("%w: %w", ErrAuthRejected, auth.imapError())
	}
	g := "* OK TLS\r\n"
	if len(caps) > 0 {
		g = "* OK [CAPABILITY " + strings.Join(caps, " ") + "] TLS\r\n"
	}
	rest, _ := br.Peek(br.Buffered())
	return false, append([]byte(g), rest...), nil
}

// readIMAPAuthReply reads the tagged reply to a pipelined AUTHENTICATE,
// skipping untagged data; a continuation request (a server that wants the
// response apart after all) is cancelled with "*" (RFC 3501 §6.2.2), which
// the server answers with BAD.
func readIMAPAuthReply(br *bufio.Reader, w net.Conn, tag string) (imapStatus, error) {
	for i := 0; i < 64; i++ {
		line, err := readLine(br, imapMaxLine)
		if err != nil {
			return imapStatus{}, err
		}
		if line == "+" || strings.HasPrefix(line, "+ ") {
			if _, err := w.Write([]byte("*\r\n")); err != nil {
				return imapStatus{}, err
			}
			continue
		}
		st, err := parseIMAPStatus(line)
		if err != nil {
			return st, err
		}
		switch {
		case st.tag == tag:
			return st, nil
		case st.tag == "*" && st.typ == "BYE":
			return st, fmt.Errorf("%w: %w", ErrGreetingRefused, st.imapError())
		case st.tag != "*":
			return st, fmt.Errorf("%w: reply with an unknown tag", ErrProtocol)
		}
	}
	return imapStatus{}, fmt.Errorf("%w: too many untagged replies", ErrProtocol)
}

// pop3PipelinedLogin is the same for POP3 after STLS, where the server
// announced PIPELINING (RFC 2449 §6.6) before TLS: the CAPA that RFC 2595 §4
// asks for anew and AUTH PLAIN with its initial response (RFC 5034) go out
// together, inside TLS. signedIn is true when the server took it; a -ERR
// from a server that offers SASL PLAIN (or says [AUTH]) is returned as the
// refusal; otherwise caps are what CAPA said and the caller signs in the
// way the server offers.
func (s *session) pop3PipelinedLogin(p *pop3Conn, pw Password) (caps pop3Caps, signedIn bool, err error) {
	auth := "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00"+s.srv.Username+"\x00"+string(pw)))
	if len(auth)+2 > pop3MaxCommand {
		caps, err := p.capa()
		return caps, false, err
	}
	if _, err := p.conn.Write([]byte("CAPA\r\n" + auth + "\r\n")); err != nil {
		return pop3Caps{}, false, err
	}
	if _, err := p.status("CAPA"); err == nil {
		lines, err := p.multiline()
		if err != nil {
			return pop3Caps{}, false, err
		}
		caps = parseCAPA(lines)
	} else if _, isERR := err.(*POP3Error); !isERR {
		return pop3Caps{}, false, err
	}
	for i := 0; i < pop3MaxRounds; i++ {
		line, err := readLine(p.br, pop3MaxLine)
		if err != nil {
			return caps, false, err
		}
		if line == "+" || strings.HasPrefix(line, "+ ") {
			// The server wants the response apart after all: cancel.
			if err := p.send("*"); err != nil {
				return caps, false, err
			}
			continue
		}
		ok, code, text, err := parsePOP3Status(line)
		switch {
		case err != nil:
			return caps, false, err
		case ok:
			return caps, true, nil
		case hasWord(caps.sasl, "PLAIN") || code == "AUTH":
			return caps, false, &POP3Error{Command: "AUTH", Code: code, Text: text}
		}
		return caps, false, nil
	}
	return caps, false, fmt.Errorf("%w: too many SASL rounds", ErrProtocol)
}
