package infino_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/secrets"
)

// TestRefreshNotRedirected: the refresh request posts the Infino refresh
// token in its body, which net/http re-posts on a 307/308 to any host, plain
// http included. A redirecting token endpoint must not get it sent on.
func TestRefreshNotRedirected(t *testing.T) {
	var stolen atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"x","token_type":"Bearer","expires_in":3600}`))
	}))
	t.Cleanup(evil.Close)
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case infino.MetadataPath:
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(infino.Metadata{Issuer: srv.URL, AuthorizationEndpoint: srv.URL + "/authorize",
				TokenEndpoint: srv.URL + "/token", ResponseTypesSupported: []string{"code"},
				CodeChallengeMethodsSupported: []string{"S256"}})
		case "/token":
			http.Redirect(w, r, evil.URL+"/token", http.StatusTemporaryRedirect)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	for name, hc := range map[string]*http.Client{"default": nil, "given": srv.Client()} {
		store := secrets.NewMemory()
		if err := store.Set(ctx, infino.TokenKey(srv.URL), `{"refreshToken":"rt-secret"}`); err != nil {
			t.Fatal(err)
		}
		a := &infino.Auth{BaseURL: srv.URL, ClientID: "app", HTTP: hc, Store: store}
		if hc == nil {
			// NewHTTPClient with the test server's roots.
			a.HTTP = infino.NewHTTPClient()
			a.HTTP.Transport.(*http.Transport).TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig
		}
		if _, err := a.Token(ctx); err == nil {
			t.Errorf("%s: Token succeeded through a redirect", name)
		}
		if n := stolen.Load(); n != 0 {
			t.Fatalf("%s: the refresh token was posted on to %s (%d requests)", name, evil.URL, n)
		}
	}
}
