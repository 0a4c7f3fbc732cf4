package verify

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/mailcfg"
)

func TestParsePOP3Status(t *testing.T) {
	cases := []struct {
		line       string
		ok         bool
		code, text string
		err        bool
	}{
		{"+OK", true, "", "", false},
		{"+OK Dovecot ready.", true, "", "Dovecot ready.", false},
		{"-ERR [AUTH] Authentication failed.", false, "AUTH", "Authentication failed.", false},
		{"-ERR [SYS/PERM] not enabled", false, "SYS/PERM", "not enabled", false},
		{"-ERR [sys/temp] later", false, "SYS/TEMP", "later", false},
		{"-ERR [no code here", false, "", "[no code here", false},
		{"-ERR [bad code!] x", false, "", "[bad code!] x", false},
		{"-ERR", false, "", "", false},
		{"+OKAY", false, "", "", true},
		{"* OK imap", false, "", "", true},
		{"", false, "", "", true},
	}
	for _, c := range cases {
		ok, code, text, err := parsePOP3Status(c.line)
		if (err != nil) != c.err || err == nil && (ok != c.ok || code != c.code || text != c.text) {
			t.Errorf("%q: got %v %q %q %v", c.line, ok, code, text, err)
		}
		if err != nil && !errors.Is(err, ErrProtocol) {
			t.Errorf("%q: error %v is not ErrProtocol", c.line, err)
		}
	}
}

func TestParseCAPA(t *testing.T) {
	c := parseCAPA([]string{"CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "USER", "SASL PLAIN xoauth2  OAUTHBEARER", "STLS", ""})
	if !c.known || !c.stls || !c.user || !c.pipelining || fmt.Sprint(c.sasl) != "[PLAIN XOAUTH2 OAUTHBEARER]" {
		t.Fatalf("%+v", c)
	}
	if len(c.list) != 9 || c.list[7] != "SASL PLAIN xoauth2 OAUTHBEARER" {
		t.Errorf("list %q", c.list)
	}
}

func TestReadLineBounded(t *testing.T) {
	huge := strings.NewReader(strings.Repeat("A", 10<<20) + "\r\n")
	br := bufio.NewReaderSize(huge, pop3MaxLine)
	if _, err := readLine(br, pop3MaxLine); !errors.Is(err, errLineTooLong) {
		t.Fatalf("huge line: %v", err)
	}
	if huge.Len() < 9<<20 {
		t.Errorf("read %d bytes of a line it should have given up on", 10<<20-huge.Len())
	}
	br = bufio.NewReaderSize(strings.NewReader("+OK a\x00b\r\n"), pop3MaxLine)
	if _, err := readLine(br, pop3MaxLine); !errors.Is(err, ErrProtocol) {
		t.Errorf("NUL: %v", err)
	}
	br = bufio.NewReaderSize(strings.NewReader("+OK half"), pop3MaxLine)
	if _, err := readLine(br, pop3MaxLine); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("unterminated: %v", err)
	}
	br = bufio.NewReaderSize(strings.NewReader("+OK bare LF\n"), pop3MaxLine)
	if l, err := readLine(br, pop3MaxLine); err != nil || l != "+OK bare LF" {
		t.Errorf("bare LF: %q %v", l, err)
	}
}

func TestParseIMAPStatus(t *testing.T) {
	st, err := parseIMAPStatus("* OK [CAPABILITY IMAP4rev1 SASL-IR starttls AUTH=PLAIN] Dovecot ready.")
	if err != nil || st.tag != "*" || st.typ != "OK" || st.code != "CAPABILITY" || fmt.Sprint(st.caps) != "[IMAP4REV1 SASL-IR STARTTLS AUTH=PLAIN]" {
		t.Fatalf("%+v %v", st, err)
	}
	st, err = parseIMAPStatus("V2 no [PRIVACYREQUIRED] nope")
	if err != nil || st.tag != "V2" || st.typ != "NO" || st.code != "PRIVACYREQUIRED" || st.caps != nil {
		t.Fatalf("%+v %v", st, err)
	}
	st, err = parseIMAPStatus("* CAPABILITY IMAP4rev1 STARTTLS")
	if err != nil || st.typ != "CAPABILITY" || st.rest != "IMAP4rev1 STARTTLS" {
		t.Fatalf("%+v %v", st, err)
	}
	for _, bad := range []string{"", "*", "* ", "(x) OK", "* OK [CAPABILITY IMAP4rev1", "*  OK"} {
		if _, err := parseIMAPStatus(bad); !errors.Is(err, ErrProtocol) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func FuzzPOP3Status(f *testing.F) {
	for _, s := range []string{"+OK", "+OK hi", "-ERR [AUTH] x", "-ERR [A/B/C] y", "-ERR [", "-ERR []", "+OK [x]", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		ok, code, text, err := parsePOP3Status(line)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if ok != strings.HasPrefix(line, "+OK") {
			t.Fatalf("%q: ok=%v", line, ok)
		}
		if code != "" && (!validRespCode(code) || !strings.Contains(strings.ToUpper(line), "["+code+"]")) {
			t.Fatalf("%q: code %q", line, code)
		}
		if !strings.Contains(line, text) {
			t.Fatalf("%q: text %q not from the line", line, text)
		}
	})
}

func FuzzCAPA(f *testing.F) {
	f.Add("TOP\nUSER\nSASL PLAIN XOAUTH2\nSTLS\nPIPELINING")
	f.Add("SASL\n\n  \nstls")
	f.Fuzz(func(t *testing.T, body string) {
		lines := strings.Split(body, "\n")
		c := parseCAPA(lines)
		if !c.known || len(c.list) > len(lines) {
			t.Fatalf("%+v", c)
		}
		for _, m := range c.sasl {
			if m != strings.ToUpper(m) || strings.ContainsAny(m, " \t") {
				t.Fatalf("mechanism %q", m)
			}
		}
	})
}

func FuzzIMAPStatus(f *testing.F) {
	for _, s := range []string{"* OK [CAPABILITY IMAP4rev1 STARTTLS] hi", "V1 OK done", "* BYE", "* PREAUTH [x", "+ go", "V2 BAD [PRIVACYREQUIRED]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		st, err := parseIMAPStatus(line)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if st.tag == "" || st.typ == "" || !strings.HasPrefix(line, st.tag+" ") {
			t.Fatalf("%q: %+v", line, st)
		}
		if st.caps != nil && st.code != "CAPABILITY" {
			t.Fatalf("%q: caps without the code", line)
		}
	})
}

// FuzzPOP3Session runs the whole POP3 sign-in against a server that says
// arbitrary bytes (in plain text, with the insecure override, so the fuzzer
// drives the parser directly). It must end, never panic, and never put the
// password into its result.
func FuzzPOP3Session(f *testing.F) {
	f.Add([]byte("+OK hi\r\n+OK caps\r\nUSER\r\n.\r\n+OK\r\n+OK in\r\n+OK bye\r\n"))
	f.Add([]byte("+OK hi\r\n-ERR no CAPA\r\n+OK\r\n-ERR [AUTH] bad\r\n"))
	f.Add([]byte("+OK hi\r\n+OK\r\nSASL PLAIN\r\n.\r\n+ \r\n+ \r\n-ERR [SYS/PERM] x\r\n"))
	f.Add([]byte("+OK hi\r\n+OK\r\n" + strings.Repeat("X", 2000) + "\r\n"))
	f.Fuzz(func(t *testing.T, script []byte) {
		r := pipeSession(t, script, mailcfg.POP3)
		if r.OK && !strings.Contains(string(script), "+OK") {
			t.Fatal("signed in without a single +OK")
		}
		assertNoSecret(t, Result{Incoming: r}, fakePassword)
	})
}

// FuzzIMAPSession does the same for IMAP (go-imap after the greeting).
func FuzzIMAPSession(f *testing.F) {
	f.Add([]byte("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hi\r\nT1 OK in\r\n* BYE\r\nT2 OK\r\n"))
	f.Add([]byte("* OK hi\r\n* CAPABILITY IMAP4rev1 LOGINDISABLED\r\nT1 OK\r\n"))
	f.Add([]byte("* PREAUTH hi\r\n"))
	f.Add([]byte("* OK [CAPABILITY IMAP4rev1] hi\r\nT1 NO [AUTHENTICATIONFAILED] no\r\n"))
	f.Fuzz(func(t *testing.T, script []byte) {
		r := pipeSession(t, script, mailcfg.IMAP)
		assertNoSecret(t, Result{Incoming: r}, fakePassword)
	})
}

// pipeSession plays script as the server's side of an in-memory connection
// and drains what the client writes.
func pipeSession(t *testing.T, script []byte, proto mailcfg.Protocol) SideResult {
	dial := dialFunc(func(ctx context.Context, _, _ string) (net.Conn, error) {
		client, server := net.Pipe()
		go func() {
			defer server.Close()
			go func() { _, _ = io.Copy(io.Discard, server) }()
			_, _ = server.Write(script)
		}()
		return client, nil
	})
	srv := mailcfg.Server{Protocol: proto, Host: "127.0.0.1", Port: 110, Security: mailcfg.SecurityNone, Username: fakeUser}
	return VerifyServer(t.Context(), Incoming, srv, Password(fakePassword), Options{
		Dialer: dial, AllowInsecure: true, InsecureOverride: true,
		StepTimeout: 200 * time.Millisecond, Timeout: time.Second,
	})
}
