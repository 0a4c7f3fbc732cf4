package infino

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// The default client never follows Infino (or an attacker on the path) from
// https to plain http, and gives up on redirect loops.
func TestDefaultClientRedirectsHTTPSOnly(t *testing.T) {
	var reachedPlain atomic.Bool
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reachedPlain.Store(true)
	}))
	defer plain.Close()
	var loop *httptest.Server
	loop = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-plain":
			// A non-loopback name, which the transport below routes to the
			// plain server: without the check the request would succeed.
			http.Redirect(w, r, "http://infino.example.com/", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, loop.URL+"/loop", http.StatusFound)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer loop.Close()
	hc := NewHTTPClient()
	tr := hc.Transport.(*http.Transport)
	tr.TLSClientConfig = loop.Client().Transport.(*http.Transport).TLSClientConfig
	tr.Proxy = nil
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == "infino.example.com:80" {
			addr = plain.Listener.Addr().String()
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	if _, err := hc.Get(loop.URL + "/to-plain"); err == nil || reachedPlain.Load() {
		t.Errorf("followed a redirect from https to plain http (err %v)", err)
	}
	if _, err := hc.Get(loop.URL + "/loop"); err == nil {
		t.Error("followed a redirect loop")
	}
	resp, err := hc.Get(loop.URL + "/ok")
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("plain https request: %v", err)
	}
	resp.Body.Close()
}
