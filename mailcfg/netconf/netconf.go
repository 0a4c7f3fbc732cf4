// Package netconf builds the HTTP clients and TLS configurations of Infino
// Mailbox from the firm's policy, so that every request (Infino, autoconfig,
// OAuth token endpoints) goes through the firm's proxy and trusts the firm's
// CA the same way.
//
// Proxy, first match wins:
//
//  1. the policy's proxyUrl: "direct" means no proxy at all; a URL
//     (http://, https:// or socks5://) is used for http and https requests
//     except to hosts in NO_PROXY;
//  2. the environment: HTTPS_PROXY for https, HTTP_PROXY for http, NO_PROXY
//     (and their lower-case forms), as curl and Go read them;
//  3. the system proxy, on Windows (Internet Options / WinHTTP: a static
//     proxy with its bypass list, or a PAC script, via go-ieproxy) and on
//     macOS (System Settings, via CFNetwork); none elsewhere.
//
// Requests to loopback addresses never use a proxy. Proxies that ask for
// credentials (HTTP 407: Basic, NTLM, Kerberos/Negotiate) are not supported.
//
// Trust: the system roots (on Windows and macOS the OS verifier, so CAs that
// GPO or MDM installed count) plus the certificates in the policy's
// extraCaFile (PEM, one or more certificates, or a single DER certificate).
//
// Load reads all of this once per process into a Net. Mail protocols (IMAP,
// POP3, SMTP) do not go through the HTTP proxy; use Net.TLS or Net.RootCAs
// for their TLS so they trust the same CAs.
package netconf

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/net/http/httpproxy"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/urlcheck"
)

// Options lets tests (and callers with their own needs) replace what the
// package reads from the machine. The zero value reads the real machine.
type Options struct {
	// Getenv reads the environment; nil: os.Getenv.
	Getenv func(string) string
	// SystemProxy returns the system proxy for a URL (nil, nil: direct);
	// nil: this OS's (see SystemProxy).
	SystemProxy func(*url.URL) (*url.URL, error)
	// NoSystemProxy ignores the system proxy entirely.
	NoSystemProxy bool
}

// MaxCAFileSize bounds extraCaFile.
const MaxCAFileSize = 1 << 20

// Net is the network of one process, built from the policy once by Load:
// the HTTP client (proxy, roots, TLS 1.2 or newer), the roots that
// verification and discovery trust, and a TLS configuration for the mail
// protocols. Warning is set when the policy's extraCaFile could not be used.
type Net struct {
	// HTTP reaches Infino, autoconfig and the OAuth endpoints through the
	// policy's proxy. It sets no overall timeout: give each request a
	// context with a deadline. At most 10 redirects, never from https to
	// plain http.
	HTTP *http.Client
	// RootCAs are the system roots plus the certificates of extraCaFile;
	// nil when the policy names no usable file (the system roots).
	RootCAs *x509.CertPool
	// TLS is a client configuration over RootCAs for IMAP, POP3 and SMTP;
	// clone it and set ServerName before use.
	TLS *tls.Config
	// Warning is why extraCaFile was not used (nil: it was, or none is
	// named). The proxy still applies; only the system roots are trusted.
	Warning *CAFileError
}

// Load reads the policy's extraCaFile once and builds the process's Net
// from it and the machine's proxy settings. A broken CA file is not fatal:
// Net.Warning says so, the proxy still applies and the system roots are
// trusted.
func Load(p policy.Policy) Net { return Options{}.Load(p) }

// ProxyFunc is the proxy choice of the policy and the machine, as
// http.Transport.Proxy wants it; nil means always direct.
func ProxyFunc(p policy.Policy) func(*http.Request) (*url.URL, error) {
	return Options{}.ProxyFunc(p)
}

// CA is the policy's extraCaFile as read once: its certificates, or why
// they cannot be used.
type CA struct {
	Certs   []*x509.Certificate
	Warning *CAFileError
}

// ReadPolicyCA reads the policy's extraCaFile (nothing when it names none).
// It is cheap next to Load (no system roots, no system proxy), so a face
// can say early that the file cannot be used and build the rest later.
func ReadPolicyCA(p policy.Policy) CA {
	if p.ExtraCAFile == "" {
		return CA{}
	}
	certs, err := ReadCAFile(p.ExtraCAFile)
	if err != nil {
		var ce *CAFileError
		if !errors.As(err, &ce) {
			ce = &CAFileError{Path: p.ExtraCAFile, Problem: err.Error(), Err: err}
		}
		return CA{Warning: ce}
	}
	return CA{Certs: certs}
}

// Load: see the package function.
func (o Options) Load(p policy.Policy) Net { return o.LoadWith(p, ReadPolicyCA(p)) }

// LoadWith is Load with the policy's CA file already read (ReadPolicyCA).
func (o Options) LoadWith(p policy.Policy, ca CA) Net {
	n := Net{Warning: ca.Warning}
	if len(ca.Certs) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		for _, c := range ca.Certs {
			pool.AddCert(c)
		}
		n.RootCAs = pool
	}
	n.TLS = &tls.Config{RootCAs: n.RootCAs, MinVersion: tls.VersionTLS12}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = o.ProxyFunc(p)
	t.TLSClientConfig = n.TLS.Clone()
	t.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 15 * time.Second
	t.ResponseHeaderTimeout = 60 * time.Second
	n.HTTP = &http.Client{Transport: t, CheckRedirect: checkRedirect}
	return n
}

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	prev := via[len(via)-1].URL
	if prev.Scheme == "https" && req.URL.Scheme != "https" && !urlcheck.IsLoopbackHost(req.URL.Hostname()) {
		return fmt.Errorf("refusing a redirect from %s to plain %s", prev.Redacted(), req.URL.Redacted())
	}
	return nil
}

// CAFileError is a problem with the policy's extraCaFile.
type CAFileError struct {
	Path    string
	Problem string
	Err     error
}

func (e *CAFileError) Error() string {
	return fmt.Sprintf("policy extraCaFile %s: %s", e.Path, e.Problem)
}

func (e *CAFileError) Unwrap() error { return e.Err }

// Message is the one sentence the window and the command line show for a
// policy CA file that cannot be used: it names the file, the problem and
// what the app does instead.
func (e *CAFileError) Message() mailcfg.Text {
	return mailcfg.Text{
		PL: fmt.Sprintf("Nie można użyć pliku urzędu certyfikacji z zasad kancelarii (extraCaFile) %s (%s). Aplikacja ufa tylko urzędom certyfikacji systemu; serwer proxy z ustawień nadal obowiązuje.", e.Path, e.Problem),
		EN: fmt.Sprintf("The CA file named by your firm's policy (extraCaFile) %s cannot be used (%s). The app trusts only the system's certificate authorities; the proxy settings still apply.", e.Path, e.Problem),
	}
}

// ReadCAFile reads the certificates of a CA file: PEM with one or more
// CERTIFICATE blocks, or one DER certificate (a .cer exported from the
// Windows certificate store).
func ReadCAFile(path string) ([]*x509.Certificate, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &CAFileError{path, "cannot be read: " + withoutPath(err), err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxCAFileSize+1))
	if err != nil {
		return nil, &CAFileError{path, "cannot be read: " + withoutPath(err), err}
	}
	if len(data) > MaxCAFileSize {
		return nil, &CAFileError{Path: path, Problem: "is larger than 1 MiB"}
	}
	var certs []*x509.Certificate
	rest := data
	for n := 1; ; n++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue // keys and the like are not ours to judge
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, &CAFileError{path, fmt.Sprintf("PEM block %d is not a valid certificate: %v", n, err), err}
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, &CAFileError{Path: path, Problem: "holds no certificate (expected PEM \"-----BEGIN CERTIFICATE-----\" blocks or one DER certificate)"}
		}
		certs = append(certs, c)
	}
	return certs, nil
}

// withoutPath is an I/O error without the file name, which CAFileError
// already gives.
func withoutPath(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// ProxyFunc: see the package function.
func (o Options) ProxyFunc(p policy.Policy) func(*http.Request) (*url.URL, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	env := func(names ...string) string {
		for _, n := range names {
			if v := getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	noProxy := env("NO_PROXY", "no_proxy")
	if p.ProxyURL == policy.ProxyDirect {
		return nil
	}
	if p.ProxyURL != "" {
		return fromConfig(httpproxy.Config{HTTPProxy: p.ProxyURL, HTTPSProxy: p.ProxyURL, NoProxy: noProxy})
	}
	cfg := httpproxy.Config{HTTPProxy: env("HTTP_PROXY", "http_proxy"), HTTPSProxy: env("HTTPS_PROXY", "https_proxy"), NoProxy: noProxy}
	if cfg.HTTPProxy != "" || cfg.HTTPSProxy != "" {
		return fromConfig(cfg)
	}
	if o.NoSystemProxy {
		return nil
	}
	sys := o.SystemProxy
	if sys == nil {
		sys = SystemProxy()
	}
	if sys == nil {
		return nil
	}
	return func(r *http.Request) (*url.URL, error) {
		if urlcheck.IsLoopbackHost(r.URL.Hostname()) {
			return nil, nil
		}
		return sys(r.URL)
	}
}

func fromConfig(c httpproxy.Config) func(*http.Request) (*url.URL, error) {
	f := c.ProxyFunc()
	return func(r *http.Request) (*url.URL, error) { return f(r.URL) }
}

// Describe says in one line which proxy a request to target would use, for
// "policy show" and support: "direct" or the proxy URL.
func (o Options) Describe(p policy.Policy, target string) string {
	f := o.ProxyFunc(p)
	if f == nil {
		return "direct"
	}
	u, err := url.Parse(target)
	if err != nil {
		return "error: " + err.Error()
	}
	pu, err := f(&http.Request{URL: u})
	switch {
	case err != nil:
		return "error: " + err.Error()
	case pu == nil:
		return "direct"
	}
	return pu.Redacted()
}

// hostOnly reports whether a host name has no dot (an intranet name), the
// hosts Windows' "<local>" bypass entry means.
func hostOnly(h string) bool {
	return !strings.Contains(h, ".") && !strings.Contains(h, ":") && net.ParseIP(h) == nil
}
