// Package localca makes throw-away certificate authorities and the server
// certificates they sign, for the fake servers of the tests and for the
// sandbox that `infino-mailbox --demo` runs. The keys live only in the
// process; nothing outside trusts these certificates unless it is handed
// CA.Pool or CA.PEM.
//
// Keys are ECDSA P-256; serial numbers are random.
package localca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"time"
)

// Subject names a certificate and bounds its validity.
type Subject struct {
	CommonName   string
	Organization string // "" leaves it out
	// NotBefore and NotAfter bound the validity; the zero values mean an
	// hour ago and a day from now.
	NotBefore, NotAfter time.Time
}

// CA is a certificate authority whose key never leaves the process.
type CA struct {
	Cert *x509.Certificate
	// Pool holds Cert and nothing else, for clients.
	Pool *x509.CertPool
	// PEM is Cert in PEM (for a --ca file or SSL_CERT_FILE).
	PEM []byte

	key *ecdsa.PrivateKey
}

// New makes a CA that may sign server certificates (and no other CA).
func New(s Subject) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl, err := s.template()
	if err != nil {
		return nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	tmpl.BasicConstraintsValid = true
	tmpl.IsCA = true
	tmpl.MaxPathLenZero = true
	cert, err := create(tmpl, tmpl, key, key)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{
		Cert: cert,
		Pool: pool,
		PEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}),
		key:  key,
	}, nil
}

// Issue signs a server certificate for names: host names (wildcards such as
// *.example.pl too) and IP addresses. The chain it returns is the leaf, then
// the CA certificate.
func (ca *CA) Issue(s Subject, names ...string) (tls.Certificate, error) {
	return issue(s, names, ca.Cert, ca.key)
}

// SelfSigned makes a server certificate for names that is signed with its
// own key, as a server set up without any CA presents it.
func SelfSigned(s Subject, names ...string) (tls.Certificate, error) {
	return issue(s, names, nil, nil)
}

// issue makes a leaf signed by parent with parentKey, or by itself when
// parent is nil.
func issue(s Subject, names []string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl, err := s.template()
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	leaf, err := create(tmpl, parent, key, parentKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	chain := [][]byte{leaf.Raw}
	if parent != tmpl {
		chain = append(chain, parent.Raw)
	}
	return tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}, nil
}

func (s Subject) template() (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	name := pkix.Name{CommonName: s.CommonName}
	if s.Organization != "" {
		name.Organization = []string{s.Organization}
	}
	notBefore, notAfter := s.NotBefore, s.NotAfter
	if notBefore.IsZero() {
		notBefore = time.Now().Add(-time.Hour)
	}
	if notAfter.IsZero() {
		notAfter = time.Now().Add(24 * time.Hour)
	}
	return &x509.Certificate{SerialNumber: serial, Subject: name, NotBefore: notBefore, NotAfter: notAfter}, nil
}

func create(tmpl, parent *x509.Certificate, key, parentKey *ecdsa.PrivateKey) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}
