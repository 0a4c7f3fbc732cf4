package microsofttest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"infino.legal/mailbox/mailcfg"
)

// Mail is an IMAP server (implicit TLS) and an SMTP submission server
// (STARTTLS) on 127.0.0.1 that accept only SASL XOAUTH2 with an access token
// the fake issued, for the account it was issued to — the way Exchange
// Online checks outlook.office365.com and smtp.office365.com logins.
type Mail struct {
	Host               string // "127.0.0.1"
	IMAPPort, SMTPPort int
	// RootCAs trusts the servers' certificate (valid for 127.0.0.1);
	// CertPEM is that certificate (for a --ca file).
	RootCAs *x509.CertPool
	CertPEM []byte

	as   *Server
	imap *imapserver.Server
	smtp *smtp.Server

	mu           sync.Mutex
	logins       []Login
	smtpAuthOff  bool
	imapMemUsers map[string]*imapmemserver.User
}

// Login is one sign-in attempt.
type Login struct {
	Protocol  string // "imap" or "smtp"
	Mechanism string
	User      string
	OK        bool
}

// StartMail starts the mail servers; they stop when the test ends.
func (s *Server) StartMail(t testing.TB) *Mail {
	t.Helper()
	cfg := &tls.Config{Certificates: s.TLS.TLS.Certificates, MinVersion: tls.VersionTLS12}
	roots := x509.NewCertPool()
	roots.AddCert(s.TLS.Certificate())
	m := &Mail{Host: "127.0.0.1", RootCAs: roots, as: s, imapMemUsers: map[string]*imapmemserver.User{},
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.TLS.Certificate().Raw})}

	il, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sl, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		il.Close()
		t.Fatal(err)
	}
	m.IMAPPort, m.SMTPPort = il.Addr().(*net.TCPAddr).Port, sl.Addr().(*net.TCPAddr).Port

	m.imap = imapserver.New(&imapserver.Options{
		NewSession: func(c *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &imapSession{m: m}, nil, nil
		},
		Caps:   imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		Logger: log.New(io.Discard, "", 0),
	})
	go m.imap.Serve(tls.NewListener(il, cfg))

	m.smtp = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{m: m}, nil
	}))
	m.smtp.Domain = "smtp.office365.example"
	m.smtp.TLSConfig = cfg
	m.smtp.ErrorLog = log.New(io.Discard, "", 0)
	go m.smtp.Serve(sl)

	t.Cleanup(func() {
		m.imap.Close()
		m.smtp.Close()
	})
	return m
}

// Settings points Microsoft settings (as the sign-in filled them) at these
// servers: same protocols, security, user name and provider.
func (m *Mail) Settings(s mailcfg.Settings) mailcfg.Settings {
	s.Incoming.Host, s.Incoming.Port = m.Host, m.IMAPPort
	s.Outgoing.Host, s.Outgoing.Port = m.Host, m.SMTPPort
	return s
}

// SetSMTPAuthDisabled makes SMTP answer every AUTH with Exchange Online's
// "535 5.7.139 … SmtpClientAuthentication is disabled for the Tenant".
func (m *Mail) SetSMTPAuthDisabled(off bool) { m.mu.Lock(); m.smtpAuthOff = off; m.mu.Unlock() }

// Logins lists every sign-in attempt so far.
func (m *Mail) Logins() []Login {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Login(nil), m.logins...)
}

func (m *Mail) record(l Login) { m.mu.Lock(); m.logins = append(m.logins, l); m.mu.Unlock() }

// check accepts a token the fake issued to user.
func (m *Mail) check(user, token string) bool {
	a, ok := m.as.ValidAccessToken(token)
	return ok && (strings.EqualFold(a.PreferredUsername, user) || a.Email != "" && strings.EqualFold(a.Email, user))
}

// xoauth2Server reads "user=<user>\x01auth=Bearer <token>\x01\x01".
type xoauth2Server struct {
	check func(user, token string) error
	done  bool
}

func (x *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if x.done {
		return nil, true, errors.New("unexpected response")
	}
	if resp == nil {
		return []byte{}, false, nil
	}
	x.done = true
	if !strings.HasSuffix(string(resp), "\x01\x01") {
		return nil, true, errors.New("malformed XOAUTH2 response")
	}
	var user, token string
	for _, part := range strings.Split(strings.TrimSuffix(string(resp), "\x01\x01"), "\x01") {
		if v, ok := strings.CutPrefix(part, "user="); ok {
			user = v
		} else if v, ok := strings.CutPrefix(part, "auth=Bearer "); ok {
			token = v
		}
	}
	if user == "" || token == "" {
		return nil, true, errors.New("malformed XOAUTH2 response")
	}
	return nil, true, x.check(user, token)
}

type imapSession struct {
	*imapmemserver.UserSession // nil until signed in
	m                          *Mail
}

func (s *imapSession) Login(user, _ string) error {
	// Exchange Online with OAuth: no password logins for this account.
	s.m.record(Login{Protocol: "imap", Mechanism: "LOGIN", User: user})
	return imapserver.ErrAuthFailed
}

func (s *imapSession) AuthenticateMechanisms() []string { return []string{"XOAUTH2"} }

func (s *imapSession) Authenticate(mech string) (sasl.Server, error) {
	if mech != "XOAUTH2" {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "Unsupported mechanism"}
	}
	return &xoauth2Server{check: func(user, token string) error {
		ok := s.m.check(user, token)
		s.m.record(Login{Protocol: "imap", Mechanism: "XOAUTH2", User: user, OK: ok})
		if !ok {
			return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "AUTHENTICATE failed."}
		}
		s.m.mu.Lock()
		u := s.m.imapMemUsers[strings.ToLower(user)]
		if u == nil {
			u = imapmemserver.NewUser(user, "")
			u.Create("INBOX", nil)
			s.m.imapMemUsers[strings.ToLower(user)] = u
		}
		s.m.mu.Unlock()
		s.UserSession = imapmemserver.NewUserSession(u)
		return nil
	}}, nil
}

type smtpSession struct {
	m    *Mail
	user string
}

func (s *smtpSession) AuthMechanisms() []string { return []string{"LOGIN", "XOAUTH2"} }

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	if mech != "XOAUTH2" {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return &xoauth2Server{check: func(user, token string) error {
		s.m.mu.Lock()
		off := s.m.smtpAuthOff
		s.m.mu.Unlock()
		if off {
			s.m.record(Login{Protocol: "smtp", Mechanism: "XOAUTH2", User: user})
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 139},
				Message: "Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."}
		}
		ok := s.m.check(user, token)
		s.m.record(Login{Protocol: "smtp", Mechanism: "XOAUTH2", User: user, OK: ok})
		if !ok {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 3}, Message: "Authentication unsuccessful"}
		}
		s.user = user
		return nil
	}}, nil
}

func (s *smtpSession) Mail(string, *smtp.MailOptions) error {
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	return nil
}

func (s *smtpSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *smtpSession) Data(r io.Reader) error               { _, err := io.Copy(io.Discard, r); return err }
func (s *smtpSession) Reset()                               {}
func (s *smtpSession) Logout() error                        { return nil }
