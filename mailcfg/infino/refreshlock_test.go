package infino_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/secrets"
)

// rotatingServer is a token endpoint with strict rotation and reuse
// detection: a spent refresh token presented again revokes the sign-in.
type rotatingServer struct {
	mu      sync.Mutex
	current string
	spent   map[string]bool
	revoked bool
	n       int
}

func (s *rotatingServer) handler(base *string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == infino.MetadataPath {
			json.NewEncoder(w).Encode(infino.Metadata{Issuer: *base, AuthorizationEndpoint: *base + "/a", TokenEndpoint: *base + "/t",
				ResponseTypesSupported: []string{"code"}, CodeChallengeMethodsSupported: []string{"S256"}})
			return
		}
		r.ParseForm()
		s.mu.Lock()
		defer s.mu.Unlock()
		rt := r.PostForm.Get("refresh_token")
		if s.spent[rt] {
			s.revoked = true // reuse: the whole sign-in goes
		}
		if s.revoked || rt != s.current {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_grant"}`)
			return
		}
		s.spent[rt] = true
		s.n++
		s.current = fmt.Sprintf("rt-%d", s.n)
		fmt.Fprintf(w, `{"access_token":"at-%d","token_type":"Bearer","expires_in":60,"refresh_token":%q}`, s.n, s.current)
	})
}

// Two processes of the app (two Auths on one keyring) take turns with one
// rotating refresh token: the one whose copy went stale reads the keyring
// again under the shared lock instead of presenting a spent token, which
// would end the sign-in for both.
func TestRefreshAcrossProcessesUsesTheCurrentToken(t *testing.T) {
	t.Setenv(secrets.LockDirEnv, t.TempDir())
	srv := &rotatingServer{current: "rt-0", spent: map[string]bool{}}
	var base string
	ts := httptest.NewTLSServer(srv.handler(&base))
	t.Cleanup(ts.Close)
	base = ts.URL
	ctx := context.Background()
	store := secrets.NewMemory()
	store.Set(ctx, infino.TokenKey(base), `{"refreshToken":"rt-0"}`)
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	a := &infino.Auth{BaseURL: base, ClientID: "infino-mailbox", HTTP: ts.Client(), Store: store, Now: now}
	b := &infino.Auth{BaseURL: base, ClientID: "infino-mailbox", HTTP: ts.Client(), Store: store, Now: now}
	if _, err := a.Token(ctx); err != nil { // rt-0 → rt-1
		t.Fatal(err)
	}
	if _, err := b.Token(ctx); err != nil { // rt-1 → rt-2
		t.Fatal(err)
	}
	offset.Store(int64(2 * time.Minute)) // both access tokens expired; a still holds rt-1
	if _, err := a.Token(ctx); err != nil {
		t.Fatalf("the stale process: %v", err)
	}
	if srv.revoked {
		t.Fatal("a spent refresh token was presented")
	}
	if v, _ := store.Get(ctx, infino.TokenKey(base)); v != `{"refreshToken":"rt-3"}` {
		t.Fatalf("stored %s", v)
	}

	// Both at once, many times: never a spent token.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := a
			if i%2 == 1 {
				x = b
			}
			offset.Add(int64(2 * time.Minute))
			if _, err := x.Renew(ctx, "expired"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if srv.revoked {
		t.Fatal("concurrent refreshes presented a spent token")
	}
}
