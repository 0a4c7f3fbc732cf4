package oauthloopback

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestTokenRequestNotRedirected: a token endpoint answering 307/308 must not
// make the flow post the code and the PKCE verifier again to wherever the
// Location points (here a plain-http host): the body is the secret.
func TestTokenRequestNotRedirected(t *testing.T) {
	as := newTestAS(t, HostLocalhost, "/")
	var stolen atomic.Int32
	var body atomic.Value
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen.Add(1)
		_ = r.ParseForm()
		body.Store(r.PostForm.Encode())
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"x","token_type":"Bearer"}`))
	}))
	t.Cleanup(evil.Close)
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		redirector := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, evil.URL+"/token", status)
		}))
		t.Cleanup(redirector.Close)
		b := newFakeBrowser(as, true)
		cfg := as.config()
		cfg.OAuth2.Endpoint.TokenURL = redirector.URL + "/token"
		cfg.HTTPClient = redirector.Client()
		cfg.Opener = b.open
		s := start(t, t.Context(), cfg)
		tok, err := s.Wait(t.Context())
		if err == nil {
			t.Errorf("%d: Wait succeeded (token %v) through a redirect", status, tok != nil)
		}
		if n := stolen.Load(); n != 0 {
			v, _ := body.Load().(string)
			t.Fatalf("%d: the token request followed the redirect to %s (%d requests, code sent: %v)",
				status, evil.URL, n, strings.Contains(v, "code="))
		}
		b.nextPage(t)
	}
}
