package sandbox

import (
	"crypto/tls"
	"crypto/x509"
	"time"

	"infino.legal/mailbox/internal/localca"
)

// CA is a throw-away certificate authority and the one server certificate it
// signed, valid for localhost, 127.0.0.1 and ::1. Nothing outside the
// sandbox trusts it.
type CA struct {
	// Pool holds the CA certificate, for clients.
	Pool *x509.CertPool
	// PEM is the CA certificate in PEM (for SSL_CERT_FILE in tests that
	// run the binary).
	PEM []byte
	// Leaf is the server certificate with its key.
	Leaf tls.Certificate
	Cert *x509.Certificate
}

// NewCA makes a CA and a server certificate for the loopback names.
func NewCA(now time.Time) (*CA, error) {
	const org = "Infino Mailbox sandbox"
	ca, err := localca.New(localca.Subject{CommonName: "Infino Mailbox sandbox CA", Organization: org,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(90 * 24 * time.Hour)})
	if err != nil {
		return nil, err
	}
	leaf, err := ca.Issue(localca.Subject{CommonName: "localhost", Organization: org,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(89 * 24 * time.Hour)},
		"localhost", "127.0.0.1", "::1")
	if err != nil {
		return nil, err
	}
	return &CA{Pool: ca.Pool, PEM: ca.PEM, Leaf: leaf, Cert: ca.Cert}, nil
}

// ServerTLS is the TLS configuration of the sandbox servers.
func (c *CA) ServerTLS() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.Leaf}, MinVersion: tls.VersionTLS12}
}

// ClientTLS trusts the CA and nothing else.
func (c *CA) ClientTLS() *tls.Config {
	return &tls.Config{RootCAs: c.Pool, MinVersion: tls.VersionTLS12}
}
