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
// Mail protocols (IMAP, POP3, SMTP) do not go through the HTTP proxy; use
// TLSConfig for their TLS so they trust the same CAs.
package netconf

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/net/http/httpproxy"

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

// HTTPClient is an *http.Client for the policy: its proxy, its roots, TLS
// 1.2 or newer, no redirect from https to plain http, at most 10 redirects.
// It sets no overall timeout: give each request a context with a deadline.
func HTTPClient(p policy.Policy) (*http.Client, error) { return Options{}.HTTPClient(p) }

// Transport is the *http.Transport behind HTTPClient, for callers that wrap
// it (for example golang.org/x/oauth2).
func Transport(p policy.Policy) (*http.Transport, error) { return Options{}.Transport(p) }

// TLSConfig is a TLS client configuration trusting the policy's roots, for
// IMAP, POP3 and SMTP connections; set ServerName before use.
func TLSConfig(p policy.Policy) (*tls.Config, error) { return Options{}.TLSConfig(p) }

// RootCAs is the system roots plus the certificates of the policy's
// extraCaFile.
func RootCAs(p policy.Policy) (*x509.CertPool, error) { return Options{}.RootCAs(p) }

// ProxyFunc is the proxy choice of the policy and the machine, as
// http.Transport.Proxy wants it; nil means always direct.
func ProxyFunc(p policy.Policy) func(*http.Request) (*url.URL, error) {
	return Options{}.ProxyFunc(p)
}

// HTTPClient: see the package function.
func (o Options) HTTPClient(p policy.Policy) (*http.Client, error) {
	t, err := o.Transport(p)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: t, CheckRedirect: checkRedirect}, nil
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

// Transport: see the package function.
func (o Options) Transport(p policy.Policy) (*http.Transport, error) {
	tc, err := o.TLSConfig(p)
	if err != nil {
		return nil, err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = o.ProxyFunc(p)
	t.TLSClientConfig = tc
	t.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 15 * time.Second
	t.ResponseHeaderTimeout = 60 * time.Second
	return t, nil
}

// TLSConfig: see the package function.
func (o Options) TLSConfig(p policy.Policy) (*tls.Config, error) {
	roots, err := o.RootCAs(p)
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, nil
}

// RootCAs: see the package function.
func (o Options) RootCAs(p policy.Policy) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if p.ExtraCAFile == "" {
		return pool, nil
	}
	certs, err := ReadCAFile(p.ExtraCAFile)
	if err != nil {
		return nil, err
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
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

// ReadCAFile reads the certificates of a CA file: PEM with one or more
// CERTIFICATE blocks, or one DER certificate (a .cer exported from the
// Windows certificate store).
func ReadCAFile(path string) ([]*x509.Certificate, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &CAFileError{path, "cannot be read: " + err.Error(), err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxCAFileSize+1))
	if err != nil {
		return nil, &CAFileError{path, "cannot be read: " + err.Error(), err}
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
