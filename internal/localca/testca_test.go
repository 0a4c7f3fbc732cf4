package localca

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"
	"time"
)

func TestIssuedLeafVerifiesForItsNamesOnly(t *testing.T) {
	ca, err := New(Subject{CommonName: "Test CA", Organization: "Infino tests"})
	if err != nil {
		t.Fatal(err)
	}
	if !ca.Cert.IsCA || ca.Cert.Subject.CommonName != "Test CA" || ca.Cert.Subject.Organization[0] != "Infino tests" {
		t.Fatalf("CA certificate %+v", ca.Cert.Subject)
	}
	if blk, _ := pem.Decode(ca.PEM); blk == nil || string(blk.Bytes) != string(ca.Cert.Raw) {
		t.Fatal("PEM does not hold the CA certificate")
	}
	c, err := ca.Issue(Subject{CommonName: "localhost"}, "localhost", "*.example.pl", "127.0.0.1", "::1")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Certificate) != 2 || string(c.Certificate[1]) != string(ca.Cert.Raw) || c.Leaf == nil || string(c.Leaf.Raw) != string(c.Certificate[0]) {
		t.Fatalf("chain of %d, leaf %v", len(c.Certificate), c.Leaf != nil)
	}
	for _, name := range []string{"localhost", "mail.example.pl", "127.0.0.1", "::1"} {
		if _, err := c.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool, DNSName: name}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	var host x509.HostnameError
	if _, err := c.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool, DNSName: "other.example"}); !errors.As(err, &host) {
		t.Errorf("other.example: %v, want a host name error", err)
	}
	other, err := New(Subject{CommonName: "Other CA"})
	if err != nil {
		t.Fatal(err)
	}
	var unknown x509.UnknownAuthorityError
	if _, err := c.Leaf.Verify(x509.VerifyOptions{Roots: other.Pool, DNSName: "localhost"}); !errors.As(err, &unknown) {
		t.Errorf("another CA's pool: %v, want unknown authority", err)
	}
}

func TestValidity(t *testing.T) {
	now := time.Now()
	ca, err := New(Subject{CommonName: "CA", NotBefore: now.Add(-2 * 365 * 24 * time.Hour), NotAfter: now.Add(365 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	expired, err := ca.Issue(Subject{CommonName: "old", NotBefore: now.Add(-400 * 24 * time.Hour), NotAfter: now.Add(-365 * 24 * time.Hour)}, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	var invalid x509.CertificateInvalidError
	if _, err := expired.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool, DNSName: "localhost"}); !errors.As(err, &invalid) || invalid.Reason != x509.Expired {
		t.Errorf("expired leaf: %v", err)
	}
	if _, err := expired.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool, DNSName: "localhost", CurrentTime: now.Add(-380 * 24 * time.Hour)}); err != nil {
		t.Errorf("expired leaf within its validity: %v", err)
	}
	// Zero bounds: from an hour ago to a day from now.
	d, err := ca.Issue(Subject{CommonName: "default"}, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	if nb := d.Leaf.NotBefore; nb.After(now.Add(-59*time.Minute)) || nb.Before(now.Add(-61*time.Minute)) {
		t.Errorf("NotBefore %v", nb)
	}
	if na := d.Leaf.NotAfter; na.Before(now.Add(23*time.Hour)) || na.After(now.Add(25*time.Hour)) {
		t.Errorf("NotAfter %v", na)
	}
}

func TestSelfSigned(t *testing.T) {
	ca, err := New(Subject{CommonName: "CA"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := SelfSigned(Subject{CommonName: "self"}, "localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Certificate) != 1 || c.Leaf.IsCA || c.Leaf.Issuer.CommonName != "self" {
		t.Fatalf("chain of %d, CA %v, issuer %q", len(c.Certificate), c.Leaf.IsCA, c.Leaf.Issuer.CommonName)
	}
	if err := c.Leaf.CheckSignature(c.Leaf.SignatureAlgorithm, c.Leaf.RawTBSCertificate, c.Leaf.Signature); err != nil {
		t.Errorf("not signed by itself: %v", err)
	}
	var unknown x509.UnknownAuthorityError
	if _, err := c.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool, DNSName: "localhost"}); !errors.As(err, &unknown) {
		t.Errorf("self-signed leaf against a CA pool: %v, want unknown authority", err)
	}
}
