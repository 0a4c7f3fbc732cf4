package microsoft_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"infino.legal/mailbox/internal/microsofttest"
	"infino.legal/mailbox/mailcfg/microsoft"
	"infino.legal/mailbox/mailcfg/secrets"
)

// TestRefreshNotRedirected: the refresh request carries the refresh token in
// its body, which net/http re-posts on a 307/308 to any host, plain http
// included. A token endpoint that redirects gets an error, not the token.
func TestRefreshNotRedirected(t *testing.T) {
	as := microsofttest.NewServer(t)
	store := secrets.NewMemory()
	acc := signIn(t, as, store)
	var stolen atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"x","token_type":"Bearer","expires_in":3600}`))
	}))
	t.Cleanup(evil.Close)
	redirector := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, evil.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)
	cfg := config(as, store)
	cfg.Policy.Authority = redirector.URL
	cfg.HTTPClient = redirector.Client()
	_, err := microsoft.NewTokens(cfg, acc.Address).AccessToken(context.Background())
	if err == nil {
		t.Error("refresh succeeded through a redirect")
	}
	if n := stolen.Load(); n != 0 {
		t.Fatalf("the refresh token was posted on to %s (%d requests)", evil.URL, n)
	}
	asError(t, err)
}
