package mailpeers

import (
	"bufio"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadRejectsIncompleteEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(path, []byte("MAILPEERS_HOST=127.0.0.1\nMAILPEERS_IMAPS_PORT=x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), "MAILPEERS_USER missing") ||
		!strings.Contains(err.Error(), `MAILPEERS_IMAPS_PORT="x" is not a port`) {
		t.Fatalf("Load: %v", err)
	}
}

func TestCertificateMatchesEnv(t *testing.T) {
	p := Require(t)
	b, err := os.ReadFile(p.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", p.CertFile)
	}
	sum := sha256.Sum256(blk.Bytes)
	if got := hex.EncodeToString(sum[:]); got != p.CertSHA256 {
		t.Fatalf("MAILPEERS_CERT_SHA256 = %s, cert file hashes to %s", p.CertSHA256, got)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"localhost", p.Host, p.StrictHost} {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: p.CAPool, DNSName: name}); err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
}

// TestBanners dials every port on both hosts, does TLS (implicit or after
// STARTTLS/STLS) against the private CA, and reads the servers' answers.
func TestBanners(t *testing.T) {
	p := Require(t)
	for _, host := range []string{p.Host, p.StrictHost} {
		for _, tc := range []struct {
			name string
			port int
			open func(*testing.T, *Peers, string, int) *conn
		}{
			{"imaps", p.IMAPSPort, imapTLS},
			{"imap-starttls", p.IMAPStartTLSPort, imapStartTLS},
			{"pop3s", p.POP3SPort, pop3TLS},
			{"pop3-stls", p.POP3StartTLSPort, pop3StartTLS},
			{"submissions", p.SubmissionsPort, smtpTLS},
			{"submission-starttls", p.SubmissionPort, smtpStartTLS},
		} {
			t.Run(tc.name+"@"+host, func(t *testing.T) {
				c := tc.open(t, p, host, tc.port)
				st, ok := c.c.(*tls.Conn)
				if !ok {
					t.Fatal("not TLS")
				}
				leaf := st.ConnectionState().PeerCertificates[0]
				sum := sha256.Sum256(leaf.Raw)
				if hex.EncodeToString(sum[:]) != p.CertSHA256 {
					t.Errorf("server leaf is not the one in MAILPEERS_CERT_SHA256")
				}
				t.Logf("greeting: %s", c.greeting)
			})
		}
	}
}

// TestStrictHost: Dovecot on StrictHost refuses plaintext LOGIN before
// STARTTLS; on Host (loopback to itself) it counts as secured.
func TestStrictHost(t *testing.T) {
	p := Require(t)
	caps := func(host string) string {
		c := dial(t, p, host, p.IMAPStartTLSPort, false)
		c.expect("* OK")
		return c.imap("a CAPABILITY")
	}
	if got := caps(p.StrictHost); !strings.Contains(got, "LOGINDISABLED") {
		t.Errorf("strict host before TLS: no LOGINDISABLED in %q", got)
	}
	if got := caps(p.Host); strings.Contains(got, "LOGINDISABLED") {
		t.Errorf("host before TLS: LOGINDISABLED in %q", got)
	}
	c := imapStartTLS(t, p, p.StrictHost, p.IMAPStartTLSPort)
	if got := c.imap(fmt.Sprintf("b LOGIN %s %s", p.User, p.Password)); !strings.HasPrefix(got, "b OK") {
		t.Errorf("strict host LOGIN after STARTTLS: %q", got)
	}
}

func TestAuthentication(t *testing.T) {
	p := Require(t)
	// Failed logins take ~0.4 s each even with Dovecot's delays off.
	run := func(name string, f func(*testing.T)) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f(t)
		})
	}
	plain := base64.StdEncoding.EncodeToString([]byte("\x00" + p.User + "\x00" + p.Password))
	badPlain := base64.StdEncoding.EncodeToString([]byte("\x00" + p.User + "\x00wrong"))
	xoauth2 := func(token string) string {
		return base64.StdEncoding.EncodeToString([]byte("user=" + p.User + "\x01auth=Bearer " + token + "\x01\x01"))
	}
	oauthbearer := base64.StdEncoding.EncodeToString([]byte("n,a=" + p.User + ",\x01auth=Bearer " + p.OAuthToken + "\x01\x01"))

	imapLogin := func(open func(*testing.T, *Peers, string, int) *conn, port int, pass, want string) func(*testing.T) {
		return func(t *testing.T) {
			c := open(t, p, p.Host, port)
			if got := c.imap(fmt.Sprintf("a LOGIN %s %s", p.User, pass)); !strings.HasPrefix(got, want) {
				t.Errorf("LOGIN: %q, want %q", got, want)
			}
		}
	}
	run("imaps-login", imapLogin(imapTLS, p.IMAPSPort, p.Password, "a OK"))
	run("imaps-login-wrong", imapLogin(imapTLS, p.IMAPSPort, "wrong", "a NO"))
	run("imap-starttls-login", imapLogin(imapStartTLS, p.IMAPStartTLSPort, p.Password, "a OK"))
	run("imap-starttls-login-wrong", imapLogin(imapStartTLS, p.IMAPStartTLSPort, "wrong", "a NO"))
	run("imaps-xoauth2", func(t *testing.T) {
		c := imapTLS(t, p, p.Host, p.IMAPSPort)
		if got := c.imap("a AUTHENTICATE XOAUTH2 " + xoauth2(p.OAuthToken)); !strings.HasPrefix(got, "a OK") {
			t.Errorf("XOAUTH2: %q", got)
		}
	})
	run("imaps-xoauth2-wrong", func(t *testing.T) {
		c := imapTLS(t, p, p.Host, p.IMAPSPort)
		c.send("a AUTHENTICATE XOAUTH2 " + xoauth2("not-a-token"))
		c.expect("+ ") // base64 JSON error; the client must answer with an empty line
		if got := c.imap(""); !strings.HasPrefix(got, "a NO") {
			t.Errorf("bad XOAUTH2: %q", got)
		}
	})
	run("imaps-oauthbearer", func(t *testing.T) {
		c := imapTLS(t, p, p.Host, p.IMAPSPort)
		if got := c.imap("a AUTHENTICATE OAUTHBEARER " + oauthbearer); !strings.HasPrefix(got, "a OK") {
			t.Errorf("OAUTHBEARER: %q", got)
		}
	})

	pop3Login := func(open func(*testing.T, *Peers, string, int) *conn, port int, pass, want string) func(*testing.T) {
		return func(t *testing.T) {
			c := open(t, p, p.Host, port)
			c.send("USER " + p.User)
			c.expect("+OK")
			c.send("PASS " + pass)
			if got := c.line(); !strings.HasPrefix(got, want) {
				t.Errorf("PASS: %q, want %q", got, want)
			}
		}
	}
	run("pop3s-login", pop3Login(pop3TLS, p.POP3SPort, p.Password, "+OK"))
	run("pop3s-login-wrong", pop3Login(pop3TLS, p.POP3SPort, "wrong", "-ERR"))
	run("pop3-stls-login", pop3Login(pop3StartTLS, p.POP3StartTLSPort, p.Password, "+OK"))
	run("pop3s-xoauth2", func(t *testing.T) {
		c := pop3TLS(t, p, p.Host, p.POP3SPort)
		c.send("AUTH XOAUTH2 " + xoauth2(p.OAuthToken))
		c.expect("+OK")
	})

	smtpAuth := func(open func(*testing.T, *Peers, string, int) *conn, port int, ir, want string) func(*testing.T) {
		return func(t *testing.T) {
			c := open(t, p, p.Host, port)
			c.send("AUTH " + ir)
			got := c.line()
			if strings.HasPrefix(got, "334") { // failed XOAUTH2: JSON challenge first
				c.send("")
				got = c.line()
			}
			if !strings.HasPrefix(got, want) {
				t.Errorf("AUTH: %q, want %q", got, want)
			}
		}
	}
	run("submission-plain", smtpAuth(smtpStartTLS, p.SubmissionPort, "PLAIN "+plain, "235"))
	run("submission-plain-wrong", smtpAuth(smtpStartTLS, p.SubmissionPort, "PLAIN "+badPlain, "535"))
	run("submissions-plain", smtpAuth(smtpTLS, p.SubmissionsPort, "PLAIN "+plain, "235"))
	run("submissions-plain-wrong", smtpAuth(smtpTLS, p.SubmissionsPort, "PLAIN "+badPlain, "535"))
	run("submission-xoauth2", smtpAuth(smtpStartTLS, p.SubmissionPort, "XOAUTH2 "+xoauth2(p.OAuthToken), "235"))
	run("submissions-xoauth2", smtpAuth(smtpTLS, p.SubmissionsPort, "XOAUTH2 "+xoauth2(p.OAuthToken), "235"))
	run("submission-xoauth2-wrong", smtpAuth(smtpStartTLS, p.SubmissionPort, "XOAUTH2 "+xoauth2("not-a-token"), "535"))

	run("submission-no-auth-before-tls", func(t *testing.T) {
		c := dial(t, p, p.Host, p.SubmissionPort, false)
		c.expect("220")
		if ehlo := c.smtpMulti("EHLO client.test"); strings.Contains(ehlo, "AUTH") {
			t.Errorf("AUTH offered before STARTTLS: %q", ehlo)
		}
	})
}

// conn is a minimal line client for the three protocols.
type conn struct {
	t        *testing.T
	c        net.Conn
	r        *bufio.Reader
	greeting string
}

func dial(t *testing.T, p *Peers, host string, port int, implicitTLS bool) *conn {
	t.Helper()
	addr := p.Addr(host, port)
	d := &net.Dialer{Timeout: 5 * time.Second}
	var nc net.Conn
	var err error
	if implicitTLS {
		nc, err = tls.DialWithDialer(d, "tcp", addr, p.TLSConfig())
	} else {
		nc, err = d.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	_ = nc.SetDeadline(time.Now().Add(15 * time.Second))
	t.Cleanup(func() { _ = nc.Close() })
	return &conn{t: t, c: nc, r: bufio.NewReader(nc)}
}

func (c *conn) startTLS(p *Peers) {
	c.t.Helper()
	tc := tls.Client(c.c, p.TLSConfig())
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake after STARTTLS: %v", err)
	}
	_ = tc.SetDeadline(time.Now().Add(15 * time.Second))
	c.c, c.r = tc, bufio.NewReader(tc)
}

func (c *conn) send(s string) {
	c.t.Helper()
	if _, err := c.c.Write([]byte(s + "\r\n")); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *conn) line() string {
	c.t.Helper()
	s, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (got %q)", err, s)
	}
	return strings.TrimRight(s, "\r\n")
}

func (c *conn) expect(prefix string) string {
	c.t.Helper()
	s := c.line()
	if !strings.HasPrefix(s, prefix) {
		c.t.Fatalf("got %q, want prefix %q", s, prefix)
	}
	return s
}

// imap sends a tagged command (or a bare continuation line when cmd is empty
// after an AUTHENTICATE challenge) and returns untagged lines plus the tagged
// completion, the completion last.
func (c *conn) imap(cmd string) string {
	c.t.Helper()
	tag := "a"
	if cmd != "" {
		tag, _, _ = strings.Cut(cmd, " ")
	}
	c.send(cmd)
	var untagged []string
	for {
		s := c.line()
		if strings.HasPrefix(s, tag+" ") {
			if len(untagged) > 0 {
				return strings.Join(untagged, "\n") + "\n" + s
			}
			return s
		}
		untagged = append(untagged, s)
	}
}

// smtpMulti sends cmd and returns the whole (possibly multi-line) reply.
func (c *conn) smtpMulti(cmd string) string {
	c.t.Helper()
	c.send(cmd)
	var all []string
	for {
		s := c.line()
		all = append(all, s)
		if len(s) < 4 || s[3] != '-' {
			return strings.Join(all, "\n")
		}
	}
}

func imapTLS(t *testing.T, p *Peers, host string, port int) *conn {
	c := dial(t, p, host, port, true)
	c.greeting = c.expect("* OK")
	return c
}

func imapStartTLS(t *testing.T, p *Peers, host string, port int) *conn {
	c := dial(t, p, host, port, false)
	c.greeting = c.expect("* OK")
	if got := c.imap("s STARTTLS"); !strings.HasPrefix(got, "s OK") {
		t.Fatalf("STARTTLS: %q", got)
	}
	c.startTLS(p)
	if got := c.imap("c CAPABILITY"); !strings.Contains(got, "AUTH=PLAIN") || !strings.Contains(got, "AUTH=XOAUTH2") {
		t.Fatalf("CAPABILITY after STARTTLS lacks AUTH=PLAIN/XOAUTH2: %q", got)
	}
	return c
}

func pop3TLS(t *testing.T, p *Peers, host string, port int) *conn {
	c := dial(t, p, host, port, true)
	c.greeting = c.expect("+OK")
	return c
}

func pop3StartTLS(t *testing.T, p *Peers, host string, port int) *conn {
	c := dial(t, p, host, port, false)
	c.greeting = c.expect("+OK")
	c.send("STLS")
	c.expect("+OK")
	c.startTLS(p)
	c.send("CAPA")
	c.expect("+OK")
	var caps []string
	for s := c.line(); s != "."; s = c.line() {
		caps = append(caps, s)
	}
	if !strings.Contains(strings.Join(caps, " "), "XOAUTH2") {
		t.Fatalf("CAPA after STLS lacks SASL XOAUTH2: %q", caps)
	}
	return c
}

func smtpTLS(t *testing.T, p *Peers, host string, port int) *conn {
	c := dial(t, p, host, port, true)
	c.greeting = c.expect("220")
	if ehlo := c.smtpMulti("EHLO client.test"); !strings.Contains(ehlo, "XOAUTH2") {
		t.Fatalf("EHLO lacks AUTH ... XOAUTH2: %q", ehlo)
	}
	return c
}

func smtpStartTLS(t *testing.T, p *Peers, host string, port int) *conn {
	c := dial(t, p, host, port, false)
	c.greeting = c.expect("220")
	c.smtpMulti("EHLO client.test")
	if got := c.smtpMulti("STARTTLS"); !strings.HasPrefix(got, "220") {
		t.Fatalf("STARTTLS: %q", got)
	}
	c.startTLS(p)
	if ehlo := c.smtpMulti("EHLO client.test"); !strings.Contains(ehlo, "XOAUTH2") {
		t.Fatalf("EHLO after STARTTLS lacks AUTH ... XOAUTH2: %q", ehlo)
	}
	return c
}
