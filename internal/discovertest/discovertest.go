// Package discovertest runs the network that discovery talks to inside a
// test: a DNS server (MX and SRV records, delays, hangs) and HTTPS/HTTP
// servers that answer for any host name with certificates from a test CA,
// plus a resolver and an HTTP client pointed at them. Nothing leaves
// 127.0.0.1.
package discovertest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"infino.legal/mailbox/internal/localca"
	"infino.legal/mailbox/mailcfg"
)

// CA is a throw-away certificate authority that issues a leaf for any
// name on demand.
type CA struct {
	Cert *x509.Certificate
	Pool *x509.CertPool
	ca   *localca.CA

	mu    sync.Mutex
	cache map[string]*tls.Certificate
}

// NewCA makes a CA valid for a day.
func NewCA() (*CA, error) {
	ca, err := localca.New(localca.Subject{CommonName: "Infino Mailbox test CA"})
	if err != nil {
		return nil, err
	}
	return &CA{Cert: ca.Cert, Pool: ca.Pool, ca: ca, cache: map[string]*tls.Certificate{}}, nil
}

// Leaf issues a server certificate for the names (host names, wildcards
// such as *.example.pl, or IP addresses), valid for a day.
func (ca *CA) Leaf(names ...string) (*tls.Certificate, error) {
	c, err := ca.ca.Issue(localca.Subject{CommonName: names[0]}, names...)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// GetCertificate serves, for tls.Config, a leaf for whatever name the
// client asks for (SNI), or 127.0.0.1 without SNI.
func (ca *CA) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := strings.ToLower(hello.ServerName)
	if name == "" {
		name = "127.0.0.1"
	}
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if c := ca.cache[name]; c != nil {
		return c, nil
	}
	c, err := ca.Leaf(name)
	if err != nil {
		return nil, err
	}
	ca.cache[name] = c
	return c, nil
}

// ServerConfig is a TLS server configuration that presents the CA's
// leaves.
func (ca *CA) ServerConfig() *tls.Config {
	return &tls.Config{GetCertificate: ca.GetCertificate, MinVersion: tls.VersionTLS12}
}

// ClientConfig trusts only the CA.
func (ca *CA) ClientConfig() *tls.Config {
	return &tls.Config{RootCAs: ca.Pool, MinVersion: tls.VersionTLS12}
}

// DNS is an authoritative test DNS server on 127.0.0.1 (UDP and TCP on
// the same port). Unknown names get NXDOMAIN; known names without records
// of the asked type get an empty answer.
type DNS struct {
	Addr string

	mu      sync.Mutex
	records map[string][]dns.RR // by lower-case FQDN
	delays  map[string]time.Duration
	queries []string
	closed  chan struct{}
	servers []*dns.Server
}

// Forever is a delay that lasts until the server is closed.
const Forever time.Duration = -1

// NewDNS starts a server that stops when the test ends.
func NewDNS(t testing.TB) *DNS {
	t.Helper()
	d := &DNS{records: map[string][]dns.RR{}, delays: map[string]time.Duration{}, closed: make(chan struct{})}
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err != nil {
			pc.Close()
			lastErr = err
			continue
		}
		d.Addr = pc.LocalAddr().String()
		h := dns.HandlerFunc(d.serve)
		d.servers = []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}}
		for _, s := range d.servers {
			started := make(chan struct{})
			s.NotifyStartedFunc = func() { close(started) }
			go s.ActivateAndServe()
			<-started
		}
		t.Cleanup(d.Close)
		return d
	}
	t.Fatalf("discovertest: no free port for UDP and TCP: %v", lastErr)
	return nil
}

// Close stops the server and releases every delayed answer.
func (d *DNS) Close() {
	d.mu.Lock()
	select {
	case <-d.closed:
		d.mu.Unlock()
		return
	default:
	}
	close(d.closed)
	d.mu.Unlock()
	for _, s := range d.servers {
		_ = s.Shutdown()
	}
}

func fqdn(name string) string { return dns.Fqdn(strings.ToLower(name)) }

func (d *DNS) add(rr dns.RR) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := fqdn(rr.Header().Name)
	d.records[n] = append(d.records[n], rr)
}

// MX adds an MX record; host "." makes a null MX (RFC 7505).
func (d *DNS) MX(domain string, pref uint16, host string) {
	d.add(&dns.MX{Hdr: dns.RR_Header{Name: fqdn(domain), Rrtype: dns.TypeMX, Class: dns.ClassINET, Ttl: 60},
		Preference: pref, Mx: fqdn(host)})
}

// SRV adds an SRV record for service ("_imaps._tcp") at domain; target
// "." means the service is not offered.
func (d *DNS) SRV(service, domain string, priority, weight, port uint16, target string) {
	d.add(&dns.SRV{Hdr: dns.RR_Header{Name: fqdn(service + "." + domain), Rrtype: dns.TypeSRV, Class: dns.ClassINET, Ttl: 60},
		Priority: priority, Weight: weight, Port: port, Target: fqdn(target)})
}

// A adds an address record.
func (d *DNS) A(name string, ip string) {
	d.add(&dns.A{Hdr: dns.RR_Header{Name: fqdn(name), Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.ParseIP(ip)})
}

// Delay holds every answer for name (any type) for the duration, or
// until the server closes with Forever.
func (d *DNS) Delay(name string, delay time.Duration) { d.setDelay(fqdn(name), delay) }

// DelayAll holds every answer, for any name without its own Delay.
func (d *DNS) DelayAll(delay time.Duration) { d.setDelay("*", delay) }

func (d *DNS) setDelay(key string, delay time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.delays[key] = delay
}

// Queries lists the questions asked so far ("MX example.pl.").
func (d *DNS) Queries() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.queries...)
}

func (d *DNS) serve(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	if len(r.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	d.mu.Lock()
	d.queries = append(d.queries, dns.TypeToString[q.Qtype]+" "+name)
	delay, ok := d.delays[name]
	if !ok {
		delay, ok = d.delays["*"]
	}
	recs, known := d.records[name]
	recs = append([]dns.RR(nil), recs...)
	d.mu.Unlock()
	if ok {
		var wait <-chan time.Time
		if delay >= 0 {
			t := time.NewTimer(delay)
			defer t.Stop()
			wait = t.C
		}
		select {
		case <-wait:
		case <-d.closed:
			return
		}
	}
	if !known {
		m.Rcode = dns.RcodeNameError
	}
	for _, rr := range recs {
		if rr.Header().Rrtype == q.Qtype {
			m.Answer = append(m.Answer, rr)
		}
	}
	_ = w.WriteMsg(m)
}

// Resolver is a pure-Go resolver that asks only this server.
func (d *DNS) Resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var nd net.Dialer
		return nd.DialContext(ctx, network, d.Addr)
	}}
}

// Web answers HTTPS (any host, port 443) and HTTP (any host, port 80)
// requests from a route table; unknown URLs get 404.
type Web struct {
	CA *CA

	mu       sync.Mutex
	routes   map[string]http.Handler
	requests []string
	closed   chan struct{}
	tlsSrv   *httptest.Server
	plainSrv *httptest.Server
}

// NewWeb starts the servers; they stop when the test ends.
func NewWeb(t testing.TB) *Web {
	t.Helper()
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	w := &Web{CA: ca, routes: map[string]http.Handler{}, closed: make(chan struct{})}
	quiet := log.New(io.Discard, "", 0) // handshakes cut by Close are expected
	w.tlsSrv = httptest.NewUnstartedServer(w.handler("https"))
	w.tlsSrv.TLS = ca.ServerConfig()
	w.tlsSrv.Config.ErrorLog = quiet
	w.tlsSrv.StartTLS()
	w.plainSrv = httptest.NewUnstartedServer(w.handler("http"))
	w.plainSrv.Config.ErrorLog = quiet
	w.plainSrv.Start()
	t.Cleanup(w.Close)
	return w
}

// Close releases hanging handlers and stops the servers.
func (w *Web) Close() {
	w.mu.Lock()
	select {
	case <-w.closed:
		w.mu.Unlock()
		return
	default:
	}
	close(w.closed)
	w.mu.Unlock()
	w.tlsSrv.CloseClientConnections()
	w.plainSrv.CloseClientConnections()
	w.tlsSrv.Close()
	w.plainSrv.Close()
}

func (w *Web) handler(scheme string) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		host := strings.ToLower(r.Host)
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		key := scheme + "://" + host + r.URL.Path
		w.mu.Lock()
		w.requests = append(w.requests, key)
		h := w.routes[key]
		w.mu.Unlock()
		if h == nil {
			http.NotFound(rw, r)
			return
		}
		h.ServeHTTP(rw, r)
	})
}

// Handle routes a URL (scheme, host and path; the query is ignored).
func (w *Web) Handle(rawURL string, h http.Handler) {
	rawURL, _, _ = strings.Cut(rawURL, "?")
	w.mu.Lock()
	defer w.mu.Unlock()
	w.routes[strings.ToLower(rawURL)] = h
}

// XML serves a document at a URL.
func (w *Web) XML(rawURL, body string) { w.Handle(rawURL, XMLHandler(body)) }

// Requests lists the URLs asked for so far (scheme://host/path).
func (w *Web) Requests() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.requests...)
}

// Client is an HTTP client that trusts only the CA and sends every
// connection to these servers: port 443 to the HTTPS one, port 80 to the
// HTTP one, anything else fails at once.
func (w *Web) Client() *http.Client {
	tr := &http.Transport{
		TLSClientConfig: w.CA.ClientConfig(),
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			var target string
			switch port {
			case "443":
				target = w.tlsSrv.Listener.Addr().String()
			case "80":
				target = w.plainSrv.Listener.Addr().String()
			default:
				return nil, fmt.Errorf("discovertest: no server for %s", addr)
			}
			var d net.Dialer
			return d.DialContext(ctx, network, target)
		},
		DisableKeepAlives: true,
	}
	return &http.Client{Transport: tr}
}

// XMLHandler serves a fixed XML body.
func XMLHandler(body string) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "application/xml")
		_, _ = rw.Write([]byte(body))
	})
}

// Delayed answers with h after the delay (or not at all if the request
// ends first).
func Delayed(delay time.Duration, h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
			h.ServeHTTP(rw, r)
		case <-r.Context().Done():
		}
	})
}

// Hang never answers: it returns when the client gives up or the servers
// close.
func (w *Web) Hang() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-w.closed:
		}
	})
}

// Huge streams n bytes of an endless XML comment.
func Huge(n int64) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/xml")
		chunk := []byte(strings.Repeat("<!-- padding padding padding padding padding padding padding -->\n", 512))
		for sent := int64(0); sent < n; sent += int64(len(chunk)) {
			if _, err := rw.Write(chunk); err != nil {
				return
			}
		}
	})
}

// Redirect answers with a redirect to target.
func Redirect(target string) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, target, http.StatusFound)
	})
}

var errOffline = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ENETUNREACH}

// OfflineResolver fails every query at once, like a machine with no route.
func OfflineResolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errOffline
	}}
}

// OfflineClient fails every request at once.
func OfflineClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: OfflineDialer{}.DialContext}}
}

// OfflineDialer fails every dial at once.
type OfflineDialer struct{}

// DialContext fails.
func (OfflineDialer) DialContext(context.Context, string, string) (net.Conn, error) {
	return nil, errOffline
}

// ErrRefused is what FakeProber returns for servers it does not know.
var ErrRefused = errors.New("discovertest: connection refused")

// FakeProber answers probes from a set of "host:port" strings that are up.
func FakeProber(up ...string) func(ctx context.Context, host string, port int, sec mailcfg.Security) error {
	set := map[string]bool{}
	for _, u := range up {
		set[u] = true
	}
	return func(ctx context.Context, host string, port int, _ mailcfg.Security) error {
		if set[net.JoinHostPort(host, fmt.Sprint(port))] {
			return nil
		}
		return ErrRefused
	}
}
