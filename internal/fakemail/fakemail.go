// Package fakemail is the one fake mail pair of the demo and the tests: an
// IMAP server (go-imap's imapserver with an in-memory imapmemserver
// mailbox per account) and an SMTP submission server (go-smtp), each on
// implicit TLS and/or a plain listener that offers STARTTLS.
//
// It knows password accounts (AUTH PLAIN and IMAP LOGIN) and SASL XOAUTH2
// with a token check the caller supplies (an authorization server fake
// decides which tokens are good). Options.OAuthOnly adds the strict
// behaviour of Exchange Online: IMAP offers XOAUTH2 only and refuses LOGIN,
// and SetSMTPAuthDisabled makes SMTP answer "535 5.7.139" as a tenant with
// SMTP AUTH switched off does. Options.Authorize runs after every good
// authentication and may still refuse it with a text, for per-account
// permissions (a shared mailbox the signed-in user may not open).
//
// The server is not a mock: clients talk the real protocols over real TLS.
// Every attempt is recorded (Logins), every accepted message kept
// (Messages). Each protocol is a Serve method over the shared account
// checks (checkPassword, saslServer, authenticate), so a POP3 server would
// be one more.
package fakemail

import (
	"bytes"
	"crypto/tls"
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

// Protocol names in Login and in the callbacks.
const (
	IMAP = "imap"
	SMTP = "smtp"
)

// Mechanism names in Login.
const (
	Plain    = sasl.Plain
	LoginCmd = "LOGIN" // the IMAP LOGIN command
	XOAUTH2  = "XOAUTH2"
)

// Login is one authentication attempt.
type Login struct {
	Protocol  string // IMAP or SMTP
	Mechanism string // Plain, LoginCmd or XOAUTH2
	User      string
	OK        bool
	TLS       bool // the connection was encrypted (implicit TLS or after STARTTLS)
}

// Message is a message the SMTP server accepted.
type Message struct {
	From string
	To   []string
	Data []byte
}

// Options configure a Server.
type Options struct {
	// TLS holds the servers' certificate; it serves implicit TLS and
	// STARTTLS.
	TLS *tls.Config
	// Domain is the SMTP greeting's host name.
	Domain string
	// CheckToken, if set, enables XOAUTH2: it reports whether token is a
	// valid access token of user for protocol (IMAP or SMTP).
	CheckToken func(protocol, user, token string) bool
	// OAuthOnly is Exchange Online with OAuth: IMAP offers only XOAUTH2 and
	// refuses LOGIN; SMTP offers "LOGIN XOAUTH2" but accepts only XOAUTH2.
	// Password accounts are not consulted.
	OAuthOnly bool
	// Authorize, if set, runs after a successful authentication of user
	// with mechanism over protocol. A non-nil error refuses the login; its
	// text is what the client sees (an *imap.Error or *smtp.SMTPError is
	// passed through as is).
	Authorize func(protocol, mechanism, user string) error
}

// Server is the IMAP and SMTP pair. Create it with New, add accounts, then
// ServeIMAP and ServeSMTP; Close stops both.
type Server struct {
	opts Options

	mu          sync.Mutex
	passwords   map[string]string // lower-case user → password
	boxes       map[string]*imapmemserver.User
	logins      []Login
	messages    []Message
	smtpAuthOff bool

	imap *imapserver.Server
	smtp *smtp.Server
}

// New makes a server that serves nothing yet.
func New(opts Options) *Server {
	if opts.Domain == "" {
		opts.Domain = "localhost"
	}
	return &Server{opts: opts, passwords: map[string]string{}, boxes: map[string]*imapmemserver.User{}}
}

// AddUser adds a password account to both servers.
func (s *Server) AddUser(user, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.passwords[strings.ToLower(user)] = password
	s.mailboxLocked(user)
}

// SetSMTPAuthDisabled makes SMTP answer every AUTH with Exchange Online's
// "535 5.7.139 … SmtpClientAuthentication is disabled for the Tenant".
func (s *Server) SetSMTPAuthDisabled(off bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.smtpAuthOff = off
}

// Logins returns every authentication attempt so far.
func (s *Server) Logins() []Login {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Login(nil), s.logins...)
}

// Messages returns the messages accepted by SMTP.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

func (s *Server) mailboxLocked(user string) *imapmemserver.User {
	user = strings.ToLower(user)
	u := s.boxes[user]
	if u == nil {
		u = imapmemserver.NewUser(user, "\x00no password login") // logins go through checkPassword
		_ = u.Create("INBOX", nil)
		_ = u.Create("Sent", nil)
		s.boxes[user] = u
	}
	return u
}

func (s *Server) mailbox(user string) *imapmemserver.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mailboxLocked(user)
}

func (s *Server) checkPassword(user, password string) bool {
	if s.opts.OAuthOnly {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	want, ok := s.passwords[strings.ToLower(user)]
	return ok && password != "" && password == want
}

func (s *Server) record(l Login) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logins = append(s.logins, l)
}

// authenticate decides one attempt: ok is the credential check; Authorize
// may still refuse. It records the attempt and returns nil or the error
// the client sees (fail, or Authorize's).
func (s *Server) authenticate(l Login, ok bool, fail error) error {
	var err error
	if !ok {
		err = fail
	} else if s.opts.Authorize != nil {
		err = s.opts.Authorize(l.Protocol, l.Mechanism, l.User)
	}
	l.OK = err == nil
	s.record(l)
	return err
}

func (s *Server) mechanisms(protocol string) []string {
	var m []string
	if !s.opts.OAuthOnly {
		m = append(m, sasl.Plain)
	} else if protocol == SMTP {
		m = append(m, "LOGIN") // advertised by Exchange Online, never accepted for OAuth accounts
	}
	if s.opts.CheckToken != nil {
		m = append(m, XOAUTH2)
	}
	return m
}

func (s *Server) offers(protocol, mech string) bool {
	for _, m := range s.mechanisms(protocol) {
		if m == mech && mech != "LOGIN" {
			return true
		}
	}
	return false
}

// saslServer is the server side of an offered mechanism (PLAIN or
// XOAUTH2): it checks the credential and hands the attempt and the verdict
// to finish, which answers the client.
func (s *Server) saslServer(protocol, mech string, tls bool, finish func(l Login, ok bool) error) sasl.Server {
	if mech == sasl.Plain {
		return sasl.NewPlainServer(func(identity, user, password string) error {
			ok := (identity == "" || identity == user) && s.checkPassword(user, password)
			return finish(Login{Protocol: protocol, Mechanism: Plain, User: user, TLS: tls}, ok)
		})
	}
	return &xoauth2{check: func(user, token string) error {
		ok := s.opts.CheckToken(protocol, user, token)
		return finish(Login{Protocol: protocol, Mechanism: XOAUTH2, User: user, TLS: tls}, ok)
	}}
}

// Close stops both servers.
func (s *Server) Close() {
	if s.imap != nil {
		s.imap.Close()
	}
	if s.smtp != nil {
		s.smtp.Close()
	}
}

// --- IMAP ---

var imapAuthFailed = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "AUTHENTICATE failed."}

// ServeIMAP serves IMAP with implicit TLS on tlsLn and with STARTTLS on
// plainLn; either may be nil.
func (s *Server) ServeIMAP(tlsLn, plainLn net.Listener) {
	s.imap = imapserver.New(&imapserver.Options{
		NewSession: func(c *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &imapSession{s: s, conn: c}, nil, nil
		},
		Caps:      imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		TLSConfig: s.opts.TLS, // STARTTLS on the plain listener
		Logger:    log.New(io.Discard, "", 0),
	})
	s.serve(s.imap, tlsLn, plainLn)
}

// serve runs srv with implicit TLS on tlsLn and as is (STARTTLS) on
// plainLn; either may be nil.
func (s *Server) serve(srv interface{ Serve(net.Listener) error }, tlsLn, plainLn net.Listener) {
	if tlsLn != nil {
		go srv.Serve(tls.NewListener(tlsLn, s.opts.TLS))
	}
	if plainLn != nil {
		go srv.Serve(plainLn)
	}
}

type imapSession struct {
	*imapmemserver.UserSession // nil until authenticated
	s                          *Server
	conn                       *imapserver.Conn
}

func (c *imapSession) isTLS() bool {
	_, ok := c.conn.NetConn().(*tls.Conn)
	return ok
}

func (c *imapSession) begin(user string) {
	c.UserSession = imapmemserver.NewUserSession(c.s.mailbox(user))
}

func (c *imapSession) Login(user, password string) error {
	l := Login{Protocol: IMAP, Mechanism: LoginCmd, User: user, TLS: c.isTLS()}
	if err := c.s.authenticate(l, c.s.checkPassword(user, password), imapserver.ErrAuthFailed); err != nil {
		return err
	}
	c.begin(user)
	return nil
}

func (c *imapSession) AuthenticateMechanisms() []string { return c.s.mechanisms(IMAP) }

func (c *imapSession) Authenticate(mech string) (sasl.Server, error) {
	if !c.s.offers(IMAP, mech) {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "Unsupported mechanism"}
	}
	return c.s.saslServer(IMAP, mech, c.isTLS(), func(l Login, ok bool) error {
		if err := c.s.authenticate(l, ok, imapAuthFailed); err != nil {
			return err
		}
		c.begin(l.User)
		return nil
	}), nil
}

// --- SMTP ---

var (
	smtpAuthFailed = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 3}, Message: "Authentication unsuccessful"}
	smtpAuthOff    = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 139},
		Message: "Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."}
)

// ServeSMTP serves SMTP submission with implicit TLS on tlsLn and with
// STARTTLS on plainLn; either may be nil.
func (s *Server) ServeSMTP(tlsLn, plainLn net.Listener) {
	s.smtp = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{s: s, conn: c}, nil
	}))
	s.smtp.Domain = s.opts.Domain
	s.smtp.TLSConfig = s.opts.TLS // STARTTLS on the plain listener
	s.smtp.ErrorLog = log.New(io.Discard, "", 0)
	s.smtp.MaxMessageBytes = 10 << 20
	s.smtp.MaxRecipients = 50
	s.serve(s.smtp, tlsLn, plainLn)
}

type smtpSession struct {
	s    *Server
	conn *smtp.Conn
	user string
	from string
	to   []string
}

func (c *smtpSession) isTLS() bool {
	_, ok := c.conn.TLSConnectionState()
	return ok
}

func (c *smtpSession) AuthMechanisms() []string { return c.s.mechanisms(SMTP) }

func (c *smtpSession) Auth(mech string) (sasl.Server, error) {
	if !c.s.offers(SMTP, mech) {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	finish := func(l Login, ok bool) error {
		c.s.mu.Lock()
		off := c.s.smtpAuthOff
		c.s.mu.Unlock()
		if off {
			l.OK = false
			c.s.record(l)
			return smtpAuthOff
		}
		if err := c.s.authenticate(l, ok, smtpAuthFailed); err != nil {
			return err
		}
		c.user = l.User
		return nil
	}
	return c.s.saslServer(SMTP, mech, c.isTLS(), finish), nil
}

func (c *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if c.user == "" {
		return smtp.ErrAuthRequired
	}
	c.from = from
	return nil
}

func (c *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	c.to = append(c.to, to)
	return nil
}

func (c *smtpSession) Data(r io.Reader) error {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(r, 10<<20)); err != nil {
		return err
	}
	c.s.mu.Lock()
	c.s.messages = append(c.s.messages, Message{From: c.from, To: c.to, Data: buf.Bytes()})
	c.s.mu.Unlock()
	return nil
}

func (c *smtpSession) Reset()        { c.from, c.to = "", nil }
func (c *smtpSession) Logout() error { return nil }
