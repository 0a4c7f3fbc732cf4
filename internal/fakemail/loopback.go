package fakemail

import (
	"net"

	"infino.legal/mailbox/mailcfg"
)

// Loopback is where a Server listens on 127.0.0.1 (ServeLoopback).
type Loopback struct {
	Host               string // "127.0.0.1"
	IMAPPort, SMTPPort int
}

// ServeLoopback serves IMAP with implicit TLS and SMTP submission on two
// free ports of 127.0.0.1 until Close: SMTP with implicit TLS, or with
// STARTTLS when smtpSTARTTLS (as Exchange Online's submission server).
func (s *Server) ServeLoopback(smtpSTARTTLS bool) (Loopback, error) {
	il, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return Loopback{}, err
	}
	sl, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		il.Close()
		return Loopback{}, err
	}
	s.ServeIMAP(il, nil)
	if smtpSTARTTLS {
		s.ServeSMTP(nil, sl)
	} else {
		s.ServeSMTP(sl, nil)
	}
	return Loopback{Host: "127.0.0.1", IMAPPort: il.Addr().(*net.TCPAddr).Port, SMTPPort: sl.Addr().(*net.TCPAddr).Port}, nil
}

// Settings points settings (as a sign-in filled them) at these servers:
// same protocols, security, user names and provider.
func (l Loopback) Settings(s mailcfg.Settings) mailcfg.Settings {
	s.Incoming.Host, s.Incoming.Port = l.Host, l.IMAPPort
	s.Outgoing.Host, s.Outgoing.Port = l.Host, l.SMTPPort
	return s
}
