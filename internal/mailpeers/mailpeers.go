// Package mailpeers finds the real Dovecot and Postfix servers that
// testdata/mailpeers/up.sh starts on loopback, for tests that talk IMAP, POP3
// and SMTP to real peers.
//
// up.sh writes a KEY=VALUE env file (default /tmp/infino-mailpeers/env, or the
// path in $INFINO_MAILPEERS_ENV). Require reads it and checks that the peers
// answer. When they are missing, a test is skipped on a developer machine and
// fails under CI (CI non-empty): there these tests must run, never skip.
package mailpeers

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/internal/kvfile"
)

// DefaultEnvFile is where up.sh writes the env file unless MAILPEERS_RUN moves it.
const DefaultEnvFile = "/tmp/infino-mailpeers/env"

// EnvVar overrides DefaultEnvFile.
const EnvVar = "INFINO_MAILPEERS_ENV"

// ServerName is a name the server certificate is valid for (its SANs are
// localhost, 127.0.0.1 and 127.0.0.2).
const ServerName = "localhost"

// Peers describes the running servers. Host (127.0.0.1) is the normal address.
// StrictHost (127.0.0.2) has the same ports, but Dovecot there refuses
// plaintext authentication before STARTTLS/STLS (IMAP advertises
// LOGINDISABLED); on Host, Dovecot treats loopback as secure and allows it.
// Postfix requires TLS before AUTH on both.
type Peers struct {
	Host, StrictHost string

	IMAPStartTLSPort, IMAPSPort int
	POP3StartTLSPort, POP3SPort int
	// SubmissionPort is 587-style (STARTTLS required), SubmissionsPort is
	// 465-style (implicit TLS). Both require AUTH; mail to @example.test is
	// delivered to User's mailbox, other domains are accepted and discarded.
	SubmissionPort, SubmissionsPort int

	CAFile     string // PEM of the private CA that signed the server cert
	CertFile   string // PEM of the server leaf
	CertSHA256 string // lowercase hex SHA-256 of the server leaf DER
	User       string
	Password   string
	OAuthToken string // accepted for User by XOAUTH2 and OAUTHBEARER
	// OAuthTokenDir holds one file per valid token, named by the lowercase hex
	// SHA-256 of the token, containing the introspection JSON answer
	// ({"active": true, "email": "<user>"}). Tests may add or remove files.
	OAuthTokenDir string

	CAPool *x509.CertPool
}

// EnvFile is the env file Require reads.
func EnvFile() string {
	if p := os.Getenv(EnvVar); p != "" {
		return p
	}
	return DefaultEnvFile
}

// Require returns the running peers. If the env file is missing or the peers
// do not answer, it skips the test, or fails it when the CI variable is set.
// A malformed env file always fails the test.
func Require(t testing.TB) *Peers {
	t.Helper()
	path := EnvFile()
	if _, err := os.Stat(path); err != nil {
		unavailable(t, fmt.Sprintf("mail peers env file %s: %v", path, err))
	}
	p, err := Load(path)
	if err != nil {
		t.Fatalf("mailpeers: %v", err)
	}
	addr := p.Addr(p.Host, p.IMAPSPort)
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		unavailable(t, fmt.Sprintf("mail peers listed in %s do not answer: %v", path, err))
	}
	_ = c.Close()
	return p
}

func unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("MAIL PEERS REQUIRED IN CI, NOT RUNNING: %s. "+
			"The CI script must run `bash testdata/mailpeers/up.sh` before `go test`; "+
			"these tests must never be skipped in CI.", why)
	}
	t.Skipf("%s; run bash testdata/mailpeers/up.sh", why)
}

// Load parses an env file written by up.sh: KEY=VALUE lines; blank lines,
// '#' comments, a leading "export " and matching quotes are tolerated.
func Load(path string) (*Peers, error) {
	kv, err := kvfile.Read(path)
	if err != nil {
		return nil, err
	}

	var errs []error
	str := func(k string) string {
		v := kv[k]
		if v == "" {
			errs = append(errs, fmt.Errorf("%s missing", k))
		}
		return v
	}
	port := func(k string) int {
		v := str(k)
		n, err := strconv.Atoi(v)
		if v != "" && (err != nil || n < 1 || n > 65535) {
			errs = append(errs, fmt.Errorf("%s=%q is not a port", k, v))
		}
		return n
	}
	p := &Peers{
		Host:             str("MAILPEERS_HOST"),
		StrictHost:       str("MAILPEERS_STRICT_HOST"),
		IMAPStartTLSPort: port("MAILPEERS_IMAP_STARTTLS_PORT"),
		IMAPSPort:        port("MAILPEERS_IMAPS_PORT"),
		POP3StartTLSPort: port("MAILPEERS_POP3_STARTTLS_PORT"),
		POP3SPort:        port("MAILPEERS_POP3S_PORT"),
		SubmissionPort:   port("MAILPEERS_SUBMISSION_PORT"),
		SubmissionsPort:  port("MAILPEERS_SUBMISSIONS_PORT"),
		CAFile:           str("MAILPEERS_CA"),
		CertFile:         str("MAILPEERS_CERT"),
		CertSHA256:       strings.ToLower(str("MAILPEERS_CERT_SHA256")),
		User:             str("MAILPEERS_USER"),
		Password:         str("MAILPEERS_PASSWORD"),
		OAuthToken:       str("MAILPEERS_OAUTH_TOKEN"),
		OAuthTokenDir:    kv["MAILPEERS_OAUTH_TOKEN_DIR"],
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", path, errors.Join(errs...))
	}
	pem, err := os.ReadFile(p.CAFile)
	if err != nil {
		return nil, fmt.Errorf("%s: MAILPEERS_CA: %w", path, err)
	}
	p.CAPool = x509.NewCertPool()
	if !p.CAPool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: MAILPEERS_CA %s holds no PEM certificate", path, p.CAFile)
	}
	return p, nil
}

// Addr joins host and port.
func (p *Peers) Addr(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// TLSConfig trusts only the peers' CA and verifies the name "localhost".
func (p *Peers) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: p.CAPool, ServerName: ServerName, MinVersion: tls.VersionTLS12}
}
