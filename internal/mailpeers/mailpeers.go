// Package mailpeers finds the real mail servers that the scripts under
// testdata start on loopback, for tests that talk IMAP, POP3 and SMTP to real
// peers: Dovecot and Postfix (testdata/mailpeers/up.sh, Require) and, to try
// the app against other implementations too, Cyrus IMAP and Exim
// (testdata/otherpeers/up.sh, RequireOther).
//
// Each up.sh writes a KEY=VALUE env file (default
// /tmp/infino-mailpeers/env, or the path in $INFINO_MAILPEERS_ENV; for the
// other peers /tmp/infino-otherpeers/env or $INFINO_OTHERPEERS_ENV). Require
// reads it and checks that the peers answer. When they are missing, a test is
// skipped on a developer machine and fails under CI (CI non-empty): there
// these tests must run, never skip.
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

// ServerName is a name the server certificates are valid for (their SANs are
// localhost and 127.0.0.1, plus 127.0.0.2 for Dovecot and Postfix).
const ServerName = "localhost"

// Peers describes the running servers. Host (127.0.0.1) is the normal address.
// For Dovecot and Postfix, StrictHost (127.0.0.2) has the same ports, but
// Dovecot there refuses plaintext authentication before STARTTLS/STLS (IMAP
// advertises LOGINDISABLED); on Host, Dovecot treats loopback as secure and
// allows it. Postfix requires TLS before AUTH on both. Cyrus and Exim refuse
// it on any address: their StrictHost is Host.
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
	OAuthToken string // accepted for User by XOAUTH2 and OAUTHBEARER; "" for Cyrus and Exim
	// OAuthTokenDir holds one file per valid token, named by the lowercase hex
	// SHA-256 of the token, containing the introspection JSON answer
	// ({"active": true, "email": "<user>"}). Tests may add or remove files.
	OAuthTokenDir string
	// IMAPServer and SMTPServer name the software and its Debian version
	// ("cyrus-imapd/3.6.1-4+deb12u5"), when the env file says; for logs.
	IMAPServer, SMTPServer string

	CAPool *x509.CertPool
}

// A Set is one group of servers that a script under testdata starts.
type Set struct {
	name       string // for messages: "mail peers"
	prefix     string // of the env file's keys: "MAILPEERS_"
	envVar     string // overrides defaultEnv
	defaultEnv string
	upScript   string
	oauth      bool // the env file names an OAuth token
}

var (
	// DovecotPostfix: testdata/mailpeers/up.sh.
	DovecotPostfix = &Set{name: "mail peers", prefix: "MAILPEERS_", envVar: EnvVar,
		defaultEnv: DefaultEnvFile, upScript: "testdata/mailpeers/up.sh", oauth: true}
	// CyrusExim: testdata/otherpeers/up.sh (Cyrus IMAP and POP3, Exim
	// submission; password sign-in only).
	CyrusExim = &Set{name: "other mail peers (Cyrus, Exim)", prefix: "OTHERPEERS_", envVar: OtherEnvVar,
		defaultEnv: DefaultOtherEnvFile, upScript: "testdata/otherpeers/up.sh"}
)

// DefaultOtherEnvFile is where testdata/otherpeers/up.sh writes its env file
// unless OTHERPEERS_RUN moves it; OtherEnvVar overrides it.
const (
	DefaultOtherEnvFile = "/tmp/infino-otherpeers/env"
	OtherEnvVar         = "INFINO_OTHERPEERS_ENV"
)

// EnvFile is the env file Require reads.
func EnvFile() string { return DovecotPostfix.EnvFile() }

// Require returns the running Dovecot and Postfix peers: DovecotPostfix.Require.
func Require(t testing.TB) *Peers { return DovecotPostfix.Require(t) }

// RequireOther returns the running Cyrus and Exim peers: CyrusExim.Require.
func RequireOther(t testing.TB) *Peers { return CyrusExim.Require(t) }

// Load parses an env file of the Dovecot and Postfix peers.
func Load(path string) (*Peers, error) { return DovecotPostfix.Load(path) }

// EnvFile is the env file the set's Require reads.
func (s *Set) EnvFile() string {
	if p := os.Getenv(s.envVar); p != "" {
		return p
	}
	return s.defaultEnv
}

// Require returns the running peers. If the env file is missing or the peers
// do not answer, it skips the test, or fails it when the CI variable is set.
// A malformed env file always fails the test.
func (s *Set) Require(t testing.TB) *Peers {
	t.Helper()
	path := s.EnvFile()
	if _, err := os.Stat(path); err != nil {
		s.unavailable(t, fmt.Sprintf("%s env file %s: %v", s.name, path, err))
	}
	p, err := s.Load(path)
	if err != nil {
		t.Fatalf("mailpeers: %v", err)
	}
	addr := p.Addr(p.Host, p.IMAPSPort)
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		s.unavailable(t, fmt.Sprintf("%s listed in %s do not answer: %v", s.name, path, err))
	}
	_ = c.Close()
	return p
}

func (s *Set) unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s REQUIRED IN CI, NOT RUNNING: %s. "+
			"The CI script must run `bash %s` before `go test`; "+
			"these tests must never be skipped in CI.", strings.ToUpper(s.name), why, s.upScript)
	}
	t.Skipf("%s; run bash %s", why, s.upScript)
}

// Load parses an env file written by the set's up.sh: KEY=VALUE lines;
// blank lines, '#' comments, a leading "export " and matching quotes are
// tolerated.
func (s *Set) Load(path string) (*Peers, error) {
	kv, err := kvfile.Read(path)
	if err != nil {
		return nil, err
	}

	var errs []error
	str := func(k string) string {
		v := kv[s.prefix+k]
		if v == "" {
			errs = append(errs, fmt.Errorf("%s missing", s.prefix+k))
		}
		return v
	}
	port := func(k string) int {
		v := str(k)
		n, err := strconv.Atoi(v)
		if v != "" && (err != nil || n < 1 || n > 65535) {
			errs = append(errs, fmt.Errorf("%s=%q is not a port", s.prefix+k, v))
		}
		return n
	}
	p := &Peers{
		Host:             str("HOST"),
		StrictHost:       str("STRICT_HOST"),
		IMAPStartTLSPort: port("IMAP_STARTTLS_PORT"),
		IMAPSPort:        port("IMAPS_PORT"),
		POP3StartTLSPort: port("POP3_STARTTLS_PORT"),
		POP3SPort:        port("POP3S_PORT"),
		SubmissionPort:   port("SUBMISSION_PORT"),
		SubmissionsPort:  port("SUBMISSIONS_PORT"),
		CAFile:           str("CA"),
		CertFile:         str("CERT"),
		CertSHA256:       strings.ToLower(str("CERT_SHA256")),
		User:             str("USER"),
		Password:         str("PASSWORD"),
		OAuthTokenDir:    kv[s.prefix+"OAUTH_TOKEN_DIR"],
		IMAPServer:       kv[s.prefix+"IMAP_SERVER"],
		SMTPServer:       kv[s.prefix+"SMTP_SERVER"],
	}
	if s.oauth {
		p.OAuthToken = str("OAUTH_TOKEN")
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", path, errors.Join(errs...))
	}
	pem, err := os.ReadFile(p.CAFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %sCA: %w", path, s.prefix, err)
	}
	p.CAPool = x509.NewCertPool()
	if !p.CAPool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: %sCA %s holds no PEM certificate", path, s.prefix, p.CAFile)
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
