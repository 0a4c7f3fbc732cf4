package mailpeers

import (
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/internal/localca"
)

func TestLoadOtherNeedsNoToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env")
	ca, err := localca.New(localca.Subject{CommonName: "other peers test CA"})
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	env := strings.Join([]string{
		"OTHERPEERS_HOST=127.0.0.1", "OTHERPEERS_STRICT_HOST=127.0.0.1",
		"OTHERPEERS_IMAP_STARTTLS_PORT=10143", "OTHERPEERS_IMAPS_PORT=10993",
		"OTHERPEERS_POP3_STARTTLS_PORT=10110", "OTHERPEERS_POP3S_PORT=10995",
		"OTHERPEERS_SUBMISSION_PORT=10587", "OTHERPEERS_SUBMISSIONS_PORT=10465",
		"OTHERPEERS_CA=" + caFile, "OTHERPEERS_CERT=/nonexistent", "OTHERPEERS_CERT_SHA256=AB",
		"OTHERPEERS_USER=u@example.test", "OTHERPEERS_PASSWORD=pw",
		"OTHERPEERS_IMAP_SERVER=cyrus-imapd/3.6.1-4", "OTHERPEERS_SMTP_SERVER=exim4-daemon-light/4.96",
	}, "\n") + "\n"
	if err := os.WriteFile(path, []byte(env), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := CyrusExim.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.OAuthToken != "" || p.IMAPServer != "cyrus-imapd/3.6.1-4" || p.SMTPServer != "exim4-daemon-light/4.96" ||
		p.SubmissionsPort != 10465 || p.CertSHA256 != "ab" {
		t.Errorf("loaded %+v", p)
	}
	// The same file is no Dovecot/Postfix env file: its keys are MAILPEERS_.
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "MAILPEERS_OAUTH_TOKEN missing") {
		t.Errorf("Load of an otherpeers env file: %v", err)
	}
}

// TestOtherServersWording pins what Cyrus and Exim really say, the replies
// the app's classifier meets: greetings, what is offered before TLS, and the
// answer to a wrong password on each protocol.
func TestOtherServersWording(t *testing.T) {
	p := RequireOther(t)
	t.Logf("%s, %s", p.IMAPServer, p.SMTPServer)
	plain := func(pass string) string {
		return base64.StdEncoding.EncodeToString([]byte("\x00" + p.User + "\x00" + pass))
	}

	t.Run("imap", func(t *testing.T) {
		c := dial(t, p, p.Host, p.IMAPStartTLSPort, false)
		c.greeting = c.expect("* OK")
		if !strings.Contains(c.greeting, "Cyrus IMAP") {
			t.Errorf("greeting %q", c.greeting)
		}
		// No loopback exemption: LOGINDISABLED and no AUTH= before STARTTLS.
		if got := c.imap("a CAPABILITY"); !strings.Contains(got, "LOGINDISABLED") || strings.Contains(got, " AUTH=") {
			t.Errorf("before STARTTLS: %q", got)
		}
		if got := c.imap("s STARTTLS"); !strings.HasPrefix(got, "s OK") {
			t.Fatalf("STARTTLS: %q", got)
		}
		c.startTLS(p)
		if got := c.imap("c CAPABILITY"); !strings.Contains(got, "AUTH=PLAIN") || strings.Contains(got, "XOAUTH2") {
			t.Errorf("after STARTTLS: %q", got)
		}
		// No response code: a plain NO to a wrong password.
		if got := c.imap(fmt.Sprintf("l LOGIN %s wrong", p.User)); got != "l NO Login failed: authentication failure" {
			t.Errorf("LOGIN, wrong password: %q", got)
		}
		if got := c.imap("m AUTHENTICATE PLAIN " + plain("wrong")); !strings.HasPrefix(got, "m NO ") || strings.Contains(got, "[") {
			t.Errorf("AUTHENTICATE PLAIN, wrong password: %q", got)
		}
		if got := c.imap(fmt.Sprintf("n LOGIN %s %s", p.User, p.Password)); !strings.HasPrefix(got, "n OK") {
			t.Errorf("LOGIN: %q", got)
		}
	})

	t.Run("pop3", func(t *testing.T) {
		c := dial(t, p, p.Host, p.POP3SPort, true)
		c.greeting = c.expect("+OK")
		if !strings.Contains(c.greeting, "Cyrus POP3") || !strings.Contains(c.greeting, "<") {
			t.Errorf("greeting %q (Cyrus offers an APOP timestamp)", c.greeting)
		}
		c.send("USER " + p.User)
		c.expect("+OK")
		c.send("PASS wrong")
		if got := c.line(); got != "-ERR [AUTH] Invalid login" {
			t.Errorf("PASS, wrong password: %q", got)
		}
		c.send("USER " + p.User)
		c.expect("+OK")
		c.send("PASS " + p.Password)
		c.expect("+OK")

		// Before STLS, CAPA offers neither USER nor SASL.
		s := dial(t, p, p.Host, p.POP3StartTLSPort, false)
		s.expect("+OK")
		s.send("CAPA")
		s.expect("+OK")
		var caps []string
		for l := s.line(); l != "."; l = s.line() {
			caps = append(caps, l)
		}
		if got := strings.Join(caps, " "); !strings.Contains(got, "STLS") || strings.Contains(got, "USER") || strings.Contains(got, "SASL") {
			t.Errorf("CAPA before STLS: %q", got)
		}
	})

	t.Run("smtp", func(t *testing.T) {
		c := dial(t, p, p.Host, p.SubmissionPort, false)
		c.greeting = c.expect("220")
		if !strings.Contains(c.greeting, "Exim") {
			t.Errorf("greeting %q", c.greeting)
		}
		if ehlo := c.smtpMulti("EHLO client.test"); strings.Contains(ehlo, "AUTH") || !strings.Contains(ehlo, "STARTTLS") {
			t.Errorf("EHLO before STARTTLS: %q", ehlo)
		}
		if got := c.smtpMulti("AUTH PLAIN " + plain(p.Password)); !strings.HasPrefix(got, "503 ") {
			t.Errorf("AUTH before STARTTLS: %q", got)
		}
		if got := c.smtpMulti("STARTTLS"); !strings.HasPrefix(got, "220") {
			t.Fatalf("STARTTLS: %q", got)
		}
		c.startTLS(p)
		if ehlo := c.smtpMulti("EHLO client.test"); !strings.Contains(ehlo, "AUTH PLAIN LOGIN") {
			t.Errorf("EHLO after STARTTLS: %q", ehlo)
		}
		// No enhanced status code on the failure.
		if got := c.smtpMulti("AUTH PLAIN " + plain("wrong")); got != "535 Incorrect authentication data" {
			t.Errorf("AUTH PLAIN, wrong password: %q", got)
		}
		if got := c.smtpMulti("AUTH PLAIN " + plain(p.Password)); !strings.HasPrefix(got, "235") {
			t.Errorf("AUTH PLAIN: %q", got)
		}
		if _, ok := c.c.(*tls.Conn); !ok {
			t.Error("not TLS")
		}

		// Exim checks ALPN (tls_alpn, default "smtp : esmtp"): a
		// ClientHello offering only HTTP gets alert 120, which Go reports
		// as a *net.OpError "remote error", not as a tls.AlertError.
		nc, err := net.DialTimeout("tcp", p.Addr(p.Host, p.SubmissionsPort), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(15 * time.Second))
		err = tls.Client(nc, &tls.Config{RootCAs: p.CAPool, ServerName: ServerName, NextProtos: []string{"h2", "http/1.1"}}).Handshake()
		var oe *net.OpError
		var ae tls.AlertError
		if !errors.As(err, &oe) || oe.Op != "remote error" || !strings.Contains(err.Error(), "no application protocol") || errors.As(err, &ae) {
			t.Errorf("TLS with ALPN h2, http/1.1: %v (%T)", err, err)
		}
	})
}
