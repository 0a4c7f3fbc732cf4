package sandbox

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"strings"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mail is the sandbox IMAP and SMTP server pair: go-imap's in-memory server
// and go-smtp, both with implicit TLS and STARTTLS, AUTH PLAIN for password
// accounts and XOAUTH2 for tokens of the sandbox Microsoft.
type Mail struct {
	ms *Microsoft

	mu        sync.Mutex
	passwords map[string]string // user → password
	users     map[string]*imapmemserver.User
	logins    []Login
	messages  []Message

	imap *imapserver.Server
	smtp *smtp.Server
}

// Login is one authentication attempt at the sandbox mail servers.
type Login struct {
	Protocol  string // "imap" or "smtp"
	Mechanism string // "PLAIN", "LOGIN" (IMAP LOGIN command), "XOAUTH2"
	User      string
	OK        bool
	TLS       bool
}

// Message is a message accepted by the sandbox SMTP server.
type Message struct {
	From string
	To   []string
	Data []byte
}

func newMail(ms *Microsoft) *Mail {
	return &Mail{ms: ms, passwords: map[string]string{}, users: map[string]*imapmemserver.User{}}
}

// AddUser adds a password account to both servers.
func (m *Mail) AddUser(user, password string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.passwords[strings.ToLower(user)] = password
	m.userLocked(user)
}

func (m *Mail) userLocked(user string) *imapmemserver.User {
	user = strings.ToLower(user)
	u := m.users[user]
	if u == nil {
		u = imapmemserver.NewUser(user, "\x00no password login") // logins go through checkPassword
		_ = u.Create("INBOX", nil)
		_ = u.Create("Sent", nil)
		m.users[user] = u
	}
	return u
}

func (m *Mail) checkPassword(user, password string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	want, ok := m.passwords[strings.ToLower(user)]
	return ok && password != "" && password == want
}

func (m *Mail) record(l Login) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.logins = append(m.logins, l)
}

// Logins returns every authentication attempt so far.
func (m *Mail) Logins() []Login {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Login(nil), m.logins...)
}

// Messages returns the messages accepted by SMTP.
func (m *Mail) Messages() []Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Message(nil), m.messages...)
}

// xoauth2 is the server side of XOAUTH2: the initial response is
// "user=<user>\x01auth=Bearer <token>\x01\x01".
type xoauth2 struct {
	check func(user, token string) error
	done  bool
}

func (x *xoauth2) Next(resp []byte) ([]byte, bool, error) {
	if x.done {
		return nil, true, errors.New("unexpected response")
	}
	if resp == nil {
		return []byte{}, false, nil // ask for the initial response
	}
	x.done = true
	var user, token string
	for _, part := range strings.Split(string(resp), "\x01") {
		if v, ok := strings.CutPrefix(part, "user="); ok {
			user = v
		} else if v, ok := strings.CutPrefix(part, "auth="); ok {
			if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
				token = v[7:]
			}
		}
	}
	if user == "" || token == "" {
		return nil, true, errors.New("malformed XOAUTH2 response")
	}
	return nil, true, x.check(user, token)
}

// --- IMAP ---

type imapSession struct {
	*imapmemserver.UserSession // nil until authenticated
	m                          *Mail
	conn                       *imapserver.Conn
}

func (s *imapSession) isTLS() bool {
	_, ok := s.conn.NetConn().(*tls.Conn)
	return ok
}

func (s *imapSession) Login(user, password string) error {
	ok := s.m.checkPassword(user, password)
	s.m.record(Login{Protocol: "imap", Mechanism: "LOGIN", User: user, OK: ok, TLS: s.isTLS()})
	if !ok {
		return imapserver.ErrAuthFailed
	}
	s.begin(user)
	return nil
}

func (s *imapSession) begin(user string) {
	s.m.mu.Lock()
	u := s.m.userLocked(user)
	s.m.mu.Unlock()
	s.UserSession = imapmemserver.NewUserSession(u)
}

func (s *imapSession) AuthenticateMechanisms() []string { return []string{sasl.Plain, "XOAUTH2"} }

func (s *imapSession) Authenticate(mech string) (sasl.Server, error) {
	fail := &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "Authentication failed"}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, user, password string) error {
			ok := (identity == "" || identity == user) && s.m.checkPassword(user, password)
			s.m.record(Login{Protocol: "imap", Mechanism: "PLAIN", User: user, OK: ok, TLS: s.isTLS()})
			if !ok {
				return fail
			}
			s.begin(user)
			return nil
		}), nil
	case "XOAUTH2":
		return &xoauth2{check: func(user, token string) error {
			who, ok := s.m.ms.CheckToken(token, "IMAP.AccessAsUser.All")
			ok = ok && strings.EqualFold(who, user)
			s.m.record(Login{Protocol: "imap", Mechanism: "XOAUTH2", User: user, OK: ok, TLS: s.isTLS()})
			if !ok {
				return fail
			}
			s.begin(user)
			return nil
		}}, nil
	}
	return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "Unsupported mechanism"}
}

func (m *Mail) startIMAP(cfg *tls.Config, tlsLn, plainLn net.Listener) {
	m.imap = imapserver.New(&imapserver.Options{
		NewSession: func(c *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &imapSession{m: m, conn: c}, nil, nil
		},
		Caps:      imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		TLSConfig: cfg, // STARTTLS on the plain listener
		Logger:    log.New(io.Discard, "", 0),
	})
	go m.imap.Serve(tls.NewListener(tlsLn, cfg))
	go m.imap.Serve(plainLn)
}

// --- SMTP ---

type smtpSession struct {
	m    *Mail
	conn *smtp.Conn
	user string
	from string
	to   []string
}

func (s *smtpSession) isTLS() bool {
	_, ok := s.conn.TLSConnectionState()
	return ok
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain, "XOAUTH2"} }

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, user, password string) error {
			ok := (identity == "" || identity == user) && s.m.checkPassword(user, password)
			s.m.record(Login{Protocol: "smtp", Mechanism: "PLAIN", User: user, OK: ok, TLS: s.isTLS()})
			if !ok {
				return smtp.ErrAuthFailed
			}
			s.user = user
			return nil
		}), nil
	case "XOAUTH2":
		return &xoauth2{check: func(user, token string) error {
			who, ok := s.m.ms.CheckToken(token, "SMTP.Send")
			ok = ok && strings.EqualFold(who, user)
			s.m.record(Login{Protocol: "smtp", Mechanism: "XOAUTH2", User: user, OK: ok, TLS: s.isTLS()})
			if !ok {
				return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 3}, Message: "Authentication unsuccessful"}
			}
			s.user = user
			return nil
		}}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(r, 10<<20)); err != nil {
		return err
	}
	s.m.mu.Lock()
	s.m.messages = append(s.m.messages, Message{From: s.from, To: s.to, Data: buf.Bytes()})
	s.m.mu.Unlock()
	return nil
}

func (s *smtpSession) Reset()        { s.from, s.to = "", nil }
func (s *smtpSession) Logout() error { return nil }

func (m *Mail) startSMTP(cfg *tls.Config, tlsLn, plainLn net.Listener) {
	m.smtp = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{m: m, conn: c}, nil
	}))
	m.smtp.Domain = "smtp." + DemoDomain
	m.smtp.TLSConfig = cfg // STARTTLS on the plain listener
	m.smtp.ErrorLog = log.New(io.Discard, "", 0)
	m.smtp.MaxMessageBytes = 10 << 20
	m.smtp.MaxRecipients = 50
	go m.smtp.Serve(tls.NewListener(tlsLn, cfg))
	go m.smtp.Serve(plainLn)
}

func (m *Mail) close() {
	if m.imap != nil {
		m.imap.Close()
	}
	if m.smtp != nil {
		m.smtp.Close()
	}
}
