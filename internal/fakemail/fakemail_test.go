package fakemail_test

import (
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"infino.legal/mailbox/internal/fakemail"
	"infino.legal/mailbox/internal/localca"
	"infino.legal/mailbox/mailcfg"
)

// start runs the pair on loopback with implicit-TLS IMAP and STARTTLS SMTP
// and returns their addresses and a client TLS config.
func start(t *testing.T, opts fakemail.Options) (s *fakemail.Server, imapAddr, smtpAddr string, client *tls.Config) {
	t.Helper()
	s, lb, client := startLoopback(t, opts, true)
	return s, net.JoinHostPort(lb.Host, strconv.Itoa(lb.IMAPPort)), net.JoinHostPort(lb.Host, strconv.Itoa(lb.SMTPPort)), client
}

// startLoopback runs the pair with ServeLoopback.
func startLoopback(t *testing.T, opts fakemail.Options, smtpSTARTTLS bool) (*fakemail.Server, fakemail.Loopback, *tls.Config) {
	t.Helper()
	ca, err := localca.New(localca.Subject{CommonName: "fakemail test CA"})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue(localca.Subject{CommonName: "127.0.0.1"}, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	opts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	s := fakemail.New(opts)
	lb, err := s.ServeLoopback(smtpSTARTTLS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, lb, &tls.Config{RootCAs: ca.Pool, ServerName: "127.0.0.1"}
}

// ServeLoopback with implicit-TLS SMTP (Gmail's way) answers TLS on both
// ports, and Settings points settings there, keeping the rest.
func TestServeLoopbackImplicitTLS(t *testing.T) {
	s, lb, tc := startLoopback(t, fakemail.Options{}, false)
	s.AddUser("jan@kancelaria.example", "secret")
	addr := net.JoinHostPort(lb.Host, strconv.Itoa(lb.SMTPPort))
	cl, err := smtp.DialTLS(addr, tc)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Auth(sasl.NewPlainClient("", "jan@kancelaria.example", "secret")); err != nil {
		t.Fatalf("SMTP over implicit TLS: %v", err)
	}
	if err := imapAuth(t, net.JoinHostPort(lb.Host, strconv.Itoa(lb.IMAPPort)), tc, sasl.NewPlainClient("", "jan@kancelaria.example", "secret")); err != nil {
		t.Fatalf("IMAP over implicit TLS: %v", err)
	}
	in := mailcfg.Settings{Email: "jan@kancelaria.example",
		Incoming: mailcfg.Server{Protocol: mailcfg.IMAP, Host: "imap.gmail.com", Port: 993, Security: mailcfg.SecurityTLS, Username: "jan"},
		Outgoing: mailcfg.Server{Protocol: mailcfg.SMTP, Host: "smtp.gmail.com", Port: 465, Security: mailcfg.SecurityTLS, Username: "jan"}}
	got := lb.Settings(in)
	want := in
	want.Incoming.Host, want.Incoming.Port = "127.0.0.1", lb.IMAPPort
	want.Outgoing.Host, want.Outgoing.Port = "127.0.0.1", lb.SMTPPort
	if got != want {
		t.Fatalf("Settings:\n%+v\nwant\n%+v", got, want)
	}
}

// xoauth2 is a client XOAUTH2 mechanism.
type xoauth2 struct{ user, token string }

func (x xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}
func (x xoauth2) Next([]byte) ([]byte, error) { return nil, errors.New("unexpected challenge") }

func imapAuth(t *testing.T, addr string, tc *tls.Config, c sasl.Client) error {
	t.Helper()
	cl, err := imapclient.DialTLS(addr, &imapclient.Options{TLSConfig: tc})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	return cl.Authenticate(c)
}

func smtpAuth(t *testing.T, addr string, tc *tls.Config, c sasl.Client) error {
	t.Helper()
	cl, err := smtp.DialStartTLS(addr, tc)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	return cl.Auth(c)
}

func TestPasswordAndXOAUTH2(t *testing.T) {
	s, ia, sa, tc := start(t, fakemail.Options{CheckToken: func(proto, user, token string) bool {
		return user == "anna@kancelaria.example" && token == "good-"+proto
	}})
	s.AddUser("jan@kancelaria.example", "secret")
	if err := imapAuth(t, ia, tc, sasl.NewPlainClient("", "jan@kancelaria.example", "secret")); err != nil {
		t.Errorf("IMAP PLAIN: %v", err)
	}
	if err := imapAuth(t, ia, tc, sasl.NewPlainClient("", "jan@kancelaria.example", "wrong")); err == nil {
		t.Errorf("IMAP PLAIN with a wrong password succeeded")
	}
	if err := imapAuth(t, ia, tc, xoauth2{"anna@kancelaria.example", "good-imap"}); err != nil {
		t.Errorf("IMAP XOAUTH2: %v", err)
	}
	if err := smtpAuth(t, sa, tc, xoauth2{"anna@kancelaria.example", "good-imap"}); err == nil {
		t.Errorf("SMTP accepted the IMAP token")
	}
	if err := smtpAuth(t, sa, tc, xoauth2{"anna@kancelaria.example", "good-smtp"}); err != nil {
		t.Errorf("SMTP XOAUTH2: %v", err)
	}
	var got []string
	for _, l := range s.Logins() {
		got = append(got, l.Protocol+" "+l.Mechanism+" "+l.User+" "+map[bool]string{true: "ok", false: "no"}[l.OK]+" "+map[bool]string{true: "tls", false: "plain"}[l.TLS])
	}
	want := []string{
		"imap PLAIN jan@kancelaria.example ok tls",
		"imap PLAIN jan@kancelaria.example no tls",
		"imap XOAUTH2 anna@kancelaria.example ok tls",
		"smtp XOAUTH2 anna@kancelaria.example no tls",
		"smtp XOAUTH2 anna@kancelaria.example ok tls",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Logins:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestOAuthOnlyIsExchange(t *testing.T) {
	s, ia, sa, tc := start(t, fakemail.Options{OAuthOnly: true, CheckToken: func(_, _, token string) bool { return token == "good" }})
	s.AddUser("jan@kancelaria.example", "secret") // never consulted
	if err := imapAuth(t, ia, tc, sasl.NewPlainClient("", "jan@kancelaria.example", "secret")); err == nil {
		t.Errorf("IMAP PLAIN succeeded on an OAuth-only server")
	}
	if err := smtpAuth(t, sa, tc, xoauth2{"anna@kancelaria.example", "good"}); err != nil {
		t.Errorf("SMTP XOAUTH2: %v", err)
	}
	s.SetSMTPAuthDisabled(true)
	err := smtpAuth(t, sa, tc, xoauth2{"anna@kancelaria.example", "good"})
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 535 || se.EnhancedCode != (smtp.EnhancedCode{5, 7, 139}) {
		t.Errorf("SMTP with AUTH disabled: %v, want 535 5.7.139", err)
	}
}

func TestAuthorizeRefusesWithItsText(t *testing.T) {
	_, ia, sa, tc := start(t, fakemail.Options{
		CheckToken: func(_, _, token string) bool { return token == "good" },
		Authorize: func(proto, _, user string) error {
			if user != "shared@kancelaria.example" {
				return nil
			}
			if proto == fakemail.IMAP {
				return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeNoPerm, Text: "User is not allowed to access the mailbox"}
			}
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "User is not allowed to send as this mailbox"}
		},
	})
	if err := imapAuth(t, ia, tc, xoauth2{"anna@kancelaria.example", "good"}); err != nil {
		t.Errorf("own mailbox: %v", err)
	}
	if err := imapAuth(t, ia, tc, xoauth2{"shared@kancelaria.example", "good"}); err == nil || !strings.Contains(err.Error(), "not allowed to access") {
		t.Errorf("IMAP shared mailbox: %v, want the permission text", err)
	}
	if err := smtpAuth(t, sa, tc, xoauth2{"shared@kancelaria.example", "good"}); err == nil || !strings.Contains(err.Error(), "not allowed to send") {
		t.Errorf("SMTP shared mailbox: %v, want the permission text", err)
	}
}
