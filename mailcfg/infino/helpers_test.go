package infino_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"infino.legal/mailbox/internal/sandbox"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/secrets"
)

// env is one test's world: a sandbox, a config dir, a memory store, a
// service whose sleeps are recorded instead of slept.
type env struct {
	t     *testing.T
	sb    *sandbox.Sandbox
	dir   string
	store *secrets.Memory
	svc   *infino.Service
	opts  infino.Options

	mu     sync.Mutex
	sleeps []time.Duration
	// down makes every connection to the sandbox HTTP port go to a closed
	// port instead (a real "connection refused").
	down     atomic.Bool
	browsers atomic.Int32
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sb, err := sandbox.Start(ctx, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	e := &env{t: t, sb: sb, dir: t.TempDir(), store: secrets.NewMemory()}
	e.opts = infino.Options{
		ConfigDir: e.dir,
		Store:     e.store,
		Policy:    sb.Policy(),
		Browser:   &infino.Browser{Opener: e.browser, Timeout: 20 * time.Second},
		ClientOptions: infino.ClientOptions{
			HTTP:   e.httpClient(),
			Lang:   "en",
			Sleep:  e.sleep,
			Jitter: func(time.Duration) time.Duration { return 0 },
		},
	}
	e.svc = infino.NewService(e.opts)
	return e
}

// httpClient trusts the sandbox CA and can be switched "offline".
func (e *env) httpClient() *http.Client {
	closed := closedPort(e.t)
	infinoHost := strings.TrimPrefix(e.sb.InfinoURL, "https://")
	var d net.Dialer
	tr := &http.Transport{
		TLSClientConfig: e.sb.TLSConfig(),
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if e.down.Load() && addr == infinoHost {
				addr = closed
			}
			return d.DialContext(ctx, network, addr)
		},
		DisableKeepAlives: true,
	}
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// closedPort is a loopback address nobody listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func (e *env) sleep(ctx context.Context, d time.Duration) error {
	e.mu.Lock()
	e.sleeps = append(e.sleeps, d)
	e.mu.Unlock()
	return ctx.Err()
}

func (e *env) slept() []time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]time.Duration(nil), e.sleeps...)
}

// browser is the sandbox's fake browser, counting the sign-ins it is sent to.
func (e *env) browser(ctx context.Context, u string) error {
	e.browsers.Add(1)
	return e.sb.Browser().Open(ctx, u)
}

func (e *env) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	e.t.Cleanup(cancel)
	return ctx
}

// secretsOf lists the strings that must never be in a file.
func (e *env) secretsOf() []string {
	out := []string{sandbox.DemoPassword}
	for _, k := range e.store.Keys() {
		v, _ := e.store.Get(context.Background(), k)
		out = append(out, v)
		// token values inside the stored JSON
		for _, part := range strings.Split(v, `"`) {
			if strings.HasPrefix(part, "at-") || strings.HasPrefix(part, "rt-") {
				out = append(out, part)
			}
		}
	}
	return out
}

// assertNoSecretFiles scans every file under the config dir for secrets.
func assertNoSecretFiles(t *testing.T, dir string, secretList ...string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range secretList {
			if len(s) >= 6 && bytes.Contains(data, []byte(s)) {
				t.Errorf("file %s contains a secret (%.6s…)", path, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("scanned %d files under the config dir for %d secrets", n, len(secretList))
}

func demoSubmit(e *env) infino.Outcome {
	e.t.Helper()
	return e.svc.Submit(e.ctx(), e.sb.DemoSettings(), infino.PasswordSecret(sandbox.DemoPassword), time.Now())
}

func outboxKeys(store *secrets.Memory) []string {
	var out []string
	for _, k := range store.Keys() {
		if strings.HasPrefix(k, "outbox:") {
			out = append(out, k)
		}
	}
	return out
}

func wantState(t *testing.T, o infino.Outcome, want infino.State) {
	t.Helper()
	if o.State != want {
		t.Fatalf("state %q, want %q (err %v)", o.State, want, o.Err)
	}
}

// staticTokens is a TokenSource with a fixed token.
type staticTokens struct {
	tok     string
	renewed atomic.Int32
}

func (s *staticTokens) Token(context.Context) (string, error) { return s.tok, nil }
func (s *staticTokens) Renew(context.Context, string) (string, error) {
	s.renewed.Add(1)
	return s.tok, nil
}

func sprintf(f string, a ...any) string { return fmt.Sprintf(f, a...) }

var _ = mailcfg.IMAP
