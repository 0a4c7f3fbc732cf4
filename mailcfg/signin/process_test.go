package signin_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"crypto/tls"
	"crypto/x509"

	"infino.legal/mailbox/internal/googletest"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/signin"
)

// dirStore is a keyring shared by processes for the test: one file per key
// in a private directory, replaced atomically. (The OS keyring is the
// same kind of shared store; this one needs no session bus.)
type dirStore string

func (d dirStore) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(string(d), hex.EncodeToString(sum[:]))
}

func (d dirStore) Get(_ context.Context, key string) (string, error) {
	b, err := os.ReadFile(d.path(key))
	if errors.Is(err, os.ErrNotExist) {
		return "", secrets.ErrNotFound
	}
	return string(b), err
}

func (d dirStore) Set(_ context.Context, key, value string) error {
	tmp := d.path(key) + ".tmp" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, []byte(value), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, d.path(key))
}

func (d dirStore) Delete(_ context.Context, key string) error { return os.Remove(d.path(key)) }

const (
	helperEnv  = "SIGNIN_TEST_REFRESH_HELPER"
	refreshes  = 20
	helperAddr = "jan.kowalski@gmail.com"
)

// TestRefreshHelperProcess is the other process of TestTwoProcessesRefresh:
// it refreshes the stored sign-in again and again, as a window or the
// command line would, each time from a fresh token source.
func TestRefreshHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("run by TestTwoProcessesRefresh")
	}
	pemBytes, err := os.ReadFile(os.Getenv("SIGNIN_TEST_CA"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(pemBytes)
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	pol := policy.Default()
	if err := pol.Set("t", map[string]any{"oauth.google.clientId": googletest.ClientID, "oauth.google.clientSecret": googletest.ClientSecret,
		"oauth.google.authority": os.Getenv("SIGNIN_TEST_AUTHORITY")}); err != nil {
		t.Fatal(err)
	}
	svc := signin.New(signin.Config{Policy: pol, Store: storeFrom(os.Getenv("SIGNIN_TEST_STORE")), HTTPClient: hc})
	for i := range refreshes {
		if _, err := svc.Tokens("google", helperAddr).AccessToken(context.Background()); err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
	}
}

// storeFrom is the helper's store: "keyring:<service>" is the OS keyring
// under that service name, anything else a dirStore.
func storeFrom(s string) secrets.Store {
	if svc, ok := strings.CutPrefix(s, "keyring:"); ok {
		return secrets.NewKeyring(secrets.Options{Service: svc})
	}
	return dirStore(s)
}

// Two processes refreshing the same account never present a spent refresh
// token: the fake revokes the whole grant on the first reuse, and counts
// it.
func TestTwoProcessesRefresh(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "store"), 0o700)
	twoProcesses(t, dir, filepath.Join(dir, "store"))
}

// The same through the real Secret Service, when the tests run under
// testdata/keyring/run-with-secret-service.sh (as CI runs them).
func TestTwoProcessesRefreshSecretService(t *testing.T) {
	if os.Getenv("INFINO_SECRET_SERVICE") != "1" {
		t.Skip("run it with `bash testdata/keyring/run-with-secret-service.sh go test -run TwoProcesses ./mailcfg/signin/`")
	}
	service := "legal.infino.mailbox.test-" + strconv.Itoa(os.Getpid())
	t.Cleanup(func() { secrets.DeleteMailbox(context.Background(), storeFrom("keyring:"+service), helperAddr) })
	twoProcesses(t, t.TempDir(), "keyring:"+service)
}

func twoProcesses(t *testing.T, dir, storeSpec string) {
	if os.Getenv(helperEnv) != "" {
		t.Skip("helper")
	}
	ctx := testCtx(t)
	g := googletest.NewServer(t)
	store := storeFrom(storeSpec)
	lockDir := filepath.Join(dir, "locks")
	t.Setenv(secrets.LockDirEnv, lockDir)
	svc := signin.New(signin.Config{Policy: withPolicy(t, g.Policy()), Store: store, HTTPClient: g.HTTPClient(), Opener: g.Browser().Open})
	if _, err := svc.SignIn(ctx, signin.Request{Provider: "google", LoginHint: helperAddr}); err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: g.TLS.Certificate().Raw}), 0o600)

	var cmds []*exec.Cmd
	for range 2 {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestRefreshHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnv+"=1", "SIGNIN_TEST_CA="+caFile, "SIGNIN_TEST_AUTHORITY="+g.URL,
			"SIGNIN_TEST_STORE="+storeSpec, secrets.LockDirEnv+"="+lockDir)
		out := &prefixWriter{t: t}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("helper: %v", err)
		}
	}
	st := g.Stats()
	if st.RefreshReused != 0 || st.RefreshRejected != 0 || st.RefreshGrants != 2*refreshes {
		t.Fatalf("stats %+v", st)
	}
	rt, err := store.Get(ctx, secrets.RefreshKey(helperAddr, "google"))
	if err != nil || !g.ValidRefreshToken(rt) {
		t.Fatalf("the stored refresh token is not the live one: %v", err)
	}
}

type prefixWriter struct{ t *testing.T }

func (w *prefixWriter) Write(b []byte) (int, error) {
	w.t.Log(fmt.Sprintf("helper: %s", b))
	return len(b), nil
}
