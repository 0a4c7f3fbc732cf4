package microsofttest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"strings"
	"sync"
	"testing"

	"infino.legal/mailbox/internal/fakemail"
	"infino.legal/mailbox/mailcfg"
)

// Mail is an IMAP server (implicit TLS) and an SMTP submission server
// (STARTTLS) on 127.0.0.1 that accept only SASL XOAUTH2 with an access token
// the fake issued, for the account it was issued to — the way Exchange
// Online checks outlook.office365.com and smtp.office365.com logins. It is
// fakemail with Options.OAuthOnly; Logins and SetSMTPAuthDisabled come from
// there.
//
// Shared mailboxes have no sign-in of their own: IMAP accepts a shared
// address as the XOAUTH2 user with the token of a user who has Full Access
// to it (SetFullAccess), as Exchange Online does.
type Mail struct {
	*fakemail.Server
	Host               string // "127.0.0.1"
	IMAPPort, SMTPPort int
	// RootCAs trusts the servers' certificate (valid for 127.0.0.1);
	// CertPEM is that certificate (for a --ca file).
	RootCAs *x509.CertPool
	CertPEM []byte

	mu         sync.Mutex
	fullAccess map[string]map[string]bool // shared address → users with Full Access
}

// SetFullAccess grants (or takes away) user's Full Access to the shared
// mailbox shared.
func (m *Mail) SetFullAccess(shared, user string, allowed bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fullAccess == nil {
		m.fullAccess = map[string]map[string]bool{}
	}
	shared, user = strings.ToLower(shared), strings.ToLower(user)
	if m.fullAccess[shared] == nil {
		m.fullAccess[shared] = map[string]bool{}
	}
	m.fullAccess[shared][user] = allowed
}

func (m *Mail) hasFullAccess(shared, user string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.fullAccess[strings.ToLower(shared)][strings.ToLower(user)]
}

// StartMail starts the mail servers; they stop when the test ends.
func (s *Server) StartMail(t testing.TB) *Mail {
	t.Helper()
	cfg := &tls.Config{Certificates: s.TLS.TLS.Certificates, MinVersion: tls.VersionTLS12}
	roots := x509.NewCertPool()
	roots.AddCert(s.TLS.Certificate())
	m := &Mail{Host: "127.0.0.1", RootCAs: roots,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.TLS.Certificate().Raw})}
	m.Server = fakemail.New(fakemail.Options{TLS: cfg, Domain: "smtp.office365.example", OAuthOnly: true,
		CheckToken: func(protocol, user, token string) bool {
			a, ok := s.ValidAccessToken(token)
			if !ok {
				return false
			}
			if strings.EqualFold(a.PreferredUsername, user) || a.Email != "" && strings.EqualFold(a.Email, user) {
				return true
			}
			return protocol == fakemail.IMAP && m.hasFullAccess(user, a.PreferredUsername)
		}})

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
	m.ServeIMAP(il, nil)
	m.ServeSMTP(nil, sl)
	t.Cleanup(m.Close)
	return m
}

// Settings points Microsoft settings (as the sign-in filled them) at these
// servers: same protocols, security, user name and provider.
func (m *Mail) Settings(s mailcfg.Settings) mailcfg.Settings {
	s.Incoming.Host, s.Incoming.Port = m.Host, m.IMAPPort
	s.Outgoing.Host, s.Outgoing.Port = m.Host, m.SMTPPort
	return s
}
