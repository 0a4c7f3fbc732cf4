package verify

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"io"
	mrand "math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"infino.legal/mailbox/internal/localca"
	"infino.legal/mailbox/mailcfg"
)

// In-process fake servers for what Dovecot and Postfix will not do. Every
// fake records every byte it read off the TCP connection (ciphertext after
// TLS), so a test can prove that a password never crossed the wire in clear.

// testPKI is a private CA with leaves for the fakes.
type testPKI struct {
	pool     *x509.CertPool
	good     tls.Certificate // 127.0.0.1 and localhost, valid now
	expired  tls.Certificate // 127.0.0.1, expired a year ago
	wrongHst tls.Certificate // valid, but only for mail.other.example
	selfSign tls.Certificate // self-signed leaf, not from the CA
}

var pkiOnce = sync.OnceValue(func() *testPKI {
	now := time.Now()
	ca := must(localca.New(localca.Subject{CommonName: "Fake Test CA", Organization: "Infino tests",
		NotBefore: now.Add(-2 * 365 * 24 * time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour)}))
	subject := func(nb, na time.Time) localca.Subject {
		return localca.Subject{CommonName: "fake mail server", NotBefore: nb, NotAfter: na}
	}
	lo := []string{"localhost", "127.0.0.1", "::1"}
	return &testPKI{
		pool:     ca.Pool,
		good:     must(ca.Issue(subject(now.Add(-time.Hour), now.Add(24*time.Hour)), lo...)),
		expired:  must(ca.Issue(subject(now.Add(-400*24*time.Hour), now.Add(-365*24*time.Hour)), lo...)),
		wrongHst: must(ca.Issue(subject(now.Add(-time.Hour), now.Add(24*time.Hour)), "mail.other.example")),
		selfSign: must(localca.SelfSigned(subject(now.Add(-time.Hour), now.Add(24*time.Hour)), lo...)),
	}
})

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// capture records what a fake read from the network.
type capture struct {
	net.Conn
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *capture) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.buf.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

// fakeConn is the server end of one connection.
type fakeConn struct {
	raw *capture
	c   net.Conn
	br  *bufio.Reader
	tls bool
}

// send writes lines in one write.
func (f *fakeConn) send(lines ...string) {
	_, _ = f.c.Write([]byte(strings.Join(lines, "\r\n") + "\r\n"))
}

// line reads one line (bounded); ok is false when the client is gone.
func (f *fakeConn) line() (string, bool) {
	var b []byte
	for {
		chunk, isPrefix, err := f.br.ReadLine()
		if err != nil {
			return "", false
		}
		b = append(b, chunk...)
		if len(b) > 64<<10 {
			return "", false
		}
		if !isPrefix {
			return string(b), true
		}
	}
}

func (f *fakeConn) upgrade(cert tls.Certificate) bool {
	tc := tls.Server(f.raw, &tls.Config{Certificates: []tls.Certificate{cert}})
	if err := tc.Handshake(); err != nil {
		return false
	}
	f.c, f.br, f.tls = tc, bufio.NewReader(tc), true
	return true
}

// fakeServer accepts connections and runs handle on each.
type fakeServer struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []*capture
	wg    sync.WaitGroup
}

func startFake(t testing.TB, handle func(*fakeConn)) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			cp := &capture{Conn: c}
			s.mu.Lock()
			s.conns = append(s.conns, cp)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				handle(&fakeConn{raw: cp, c: cp, br: bufio.NewReader(cp)})
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *fakeServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// wire is every byte the fake read, from all connections.
func (s *fakeServer) wire() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []byte
	for _, c := range s.conns {
		c.mu.Lock()
		all = append(all, c.buf.Bytes()...)
		c.mu.Unlock()
	}
	return all
}

// assertNotInClear fails if the password, or the usual encodings of it
// (SASL PLAIN, LOGIN, XOAUTH2 blobs in base64), appear in what the fake read.
func assertNotInClear(t *testing.T, s *fakeServer, user, password string) {
	t.Helper()
	wire := s.wire()
	forms := map[string]string{
		"password":       password,
		"base64 LOGIN":   base64.StdEncoding.EncodeToString([]byte(password)),
		"base64 PLAIN":   base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password)),
		"base64 XOAUTH2": base64.StdEncoding.EncodeToString([]byte("user=" + user + "\x01auth=Bearer " + password + "\x01\x01")),
	}
	for name, f := range forms {
		if bytes.Contains(wire, []byte(f)) {
			t.Fatalf("the %s crossed the wire in clear (%d bytes read by the fake)", name, len(wire))
		}
	}
}

// fakeOpts knobs for the protocol fakes.
type fakeOpts struct {
	implicit   bool            // TLS from the first byte
	cert       tls.Certificate // the certificate; zero: pki.good
	noStartTLS bool            // do not advertise STARTTLS/STLS
	refuseTLS  string          // reply to STARTTLS/STLS instead of accepting
	inject     string          // plaintext sent right after accepting STARTTLS
	silent     bool            // never send a greeting
	greeting   string          // replaces the greeting line
	flood      int             // send this many bytes of 'A' with no line end, instead of a greeting
	garbage    bool            // send random bytes instead of a greeting
	closeLogin bool            // hang up when the credential arrives
	authReply  string          // reply to the sign-in (default: a protocol-specific failure)
	caps       string          // replaces the capability list (IMAP, before TLS and after)
	okLogin    bool            // accept any sign-in
}

func (o fakeOpts) certificate() tls.Certificate {
	if o.cert.Certificate == nil {
		return pkiOnce().good
	}
	return o.cert
}

// opening runs the common start of every fake: implicit TLS, then the
// hostile greetings. It returns false when the fake should stop.
func (o fakeOpts) opening(f *fakeConn, greeting string) bool {
	if o.implicit && !f.upgrade(o.certificate()) {
		return false
	}
	switch {
	case o.silent:
		_, _ = io.Copy(io.Discard, f.c)
		return false
	case o.flood > 0:
		chunk := bytes.Repeat([]byte("A"), 64<<10)
		for sent := 0; sent < o.flood; sent += len(chunk) {
			if _, err := f.c.Write(chunk); err != nil {
				return false
			}
		}
		_, _ = io.Copy(io.Discard, f.c)
		return false
	case o.garbage:
		// Fixed noise, so the outcome does not depend on luck.
		b := make([]byte, 4096)
		_, _ = mrand.NewChaCha8([32]byte{1}).Read(b)
		_, _ = f.c.Write(b)
		_, _ = io.Copy(io.Discard, f.c)
		return false
	case o.greeting != "":
		f.send(o.greeting)
	default:
		f.send(greeting)
	}
	return true
}

// imapFake is a minimal IMAP server.
func imapFake(o fakeOpts) func(*fakeConn) {
	return func(f *fakeConn) {
		caps := func() string {
			if o.caps != "" {
				return o.caps
			}
			c := "IMAP4rev1 AUTH=PLAIN SASL-IR"
			if !f.tls && !o.noStartTLS {
				c += " STARTTLS"
			}
			return c
		}
		if !o.opening(f, "* OK [CAPABILITY "+caps()+"] fake IMAP ready") {
			return
		}
		for {
			l, ok := f.line()
			if !ok {
				return
			}
			tag, rest, _ := strings.Cut(l, " ")
			cmd, _, _ := strings.Cut(rest, " ")
			switch strings.ToUpper(cmd) {
			case "CAPABILITY":
				f.send("* CAPABILITY "+caps(), tag+" OK done")
			case "STARTTLS":
				if o.refuseTLS != "" {
					f.send(tag + " " + o.refuseTLS)
					continue
				}
				f.send(withInject(o.inject, tag+" OK begin TLS")...)
				if !f.upgrade(o.certificate()) {
					return
				}
			case "LOGIN", "AUTHENTICATE":
				if strings.ToUpper(cmd) == "AUTHENTICATE" && strings.Count(rest, " ") == 1 {
					f.send("+ ")
					if _, ok := f.line(); !ok {
						return
					}
				}
				if o.closeLogin {
					return
				}
				switch {
				case o.okLogin:
					f.send(tag + " OK [CAPABILITY IMAP4rev1] logged in")
				case o.authReply != "":
					f.send(tag + " " + o.authReply)
				default:
					f.send(tag + " NO [AUTHENTICATIONFAILED] Authentication failed.")
				}
			case "LOGOUT":
				f.send("* BYE bye", tag+" OK done")
				return
			default:
				f.send(tag + " BAD unknown command")
			}
		}
	}
}

// pop3Fake is a minimal POP3 server.
func pop3Fake(o fakeOpts) func(*fakeConn) {
	return func(f *fakeConn) {
		if !o.opening(f, "+OK fake POP3 ready") {
			return
		}
		for {
			l, ok := f.line()
			if !ok {
				return
			}
			cmd, _, _ := strings.Cut(l, " ")
			switch strings.ToUpper(cmd) {
			case "CAPA":
				f.send("+OK capabilities", "USER", "SASL PLAIN", "RESP-CODES")
				if !f.tls && !o.noStartTLS {
					f.send("STLS")
				}
				f.send(".")
			case "STLS":
				if o.refuseTLS != "" {
					f.send(o.refuseTLS)
					continue
				}
				f.send(withInject(o.inject, "+OK begin TLS")...)
				if !f.upgrade(o.certificate()) {
					return
				}
			case "USER":
				f.send("+OK")
			case "PASS", "AUTH":
				if o.closeLogin {
					return
				}
				switch {
				case o.okLogin:
					f.send("+OK logged in")
				case o.authReply != "":
					f.send(o.authReply)
				default:
					f.send("-ERR [AUTH] Authentication failed.")
				}
			case "QUIT":
				f.send("+OK bye")
				return
			default:
				f.send("-ERR unknown command")
			}
		}
	}
}

// smtpFake is a minimal submission server.
func smtpFake(o fakeOpts) func(*fakeConn) {
	return func(f *fakeConn) {
		if !o.opening(f, "220 fake ESMTP") {
			return
		}
		for {
			l, ok := f.line()
			if !ok {
				return
			}
			cmd, _, _ := strings.Cut(l, " ")
			switch strings.ToUpper(cmd) {
			case "EHLO":
				f.send("250-fake.example")
				if !f.tls && !o.noStartTLS {
					f.send("250-STARTTLS")
				}
				f.send("250-ENHANCEDSTATUSCODES", "250 AUTH PLAIN LOGIN XOAUTH2")
			case "HELO":
				f.send("250 fake.example")
			case "STARTTLS":
				if o.refuseTLS != "" {
					f.send(o.refuseTLS)
					continue
				}
				f.send(withInject(o.inject, "220 2.0.0 go ahead")...)
				if !f.upgrade(o.certificate()) {
					return
				}
			case "AUTH":
				if o.closeLogin {
					return
				}
				switch {
				case o.okLogin:
					f.send("235 2.7.0 Authentication successful")
				case o.authReply != "":
					f.send(o.authReply)
				default:
					f.send("535 5.7.8 Error: authentication failed")
				}
			case "QUIT":
				f.send("221 2.0.0 bye")
				return
			case "*":
				f.send("501 5.7.0 cancelled")
			default:
				f.send("502 5.5.2 unknown command")
			}
		}
	}
}

func fakeServerFor(proto string, o fakeOpts) func(*fakeConn) {
	switch proto {
	case "imap":
		return imapFake(o)
	case "pop3":
		return pop3Fake(o)
	}
	return smtpFake(o)
}

func itoa(n int) string { return strconv.Itoa(n) }

func x509ParseLeaf(der []byte) (*x509.Certificate, error) { return x509.ParseCertificate(der) }

func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return mailcfg.FormatFingerprint(sum[:])
}

func withInject(inject, line string) []string {
	if inject == "" {
		return []string{line}
	}
	return []string{line, inject}
}
