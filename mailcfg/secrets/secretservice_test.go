package secrets

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// EnvSecretService, set to 1, makes the real Secret Service test run; the
// script testdata/keyring/run-with-secret-service.sh sets it after starting
// an unlocked GNOME Keyring on a private session bus.
const EnvSecretService = "INFINO_SECRET_SERVICE"

const secretServiceScript = "testdata/keyring/run-with-secret-service.sh"

// requireSecretService decides whether the real keyring test runs: always
// when INFINO_SECRET_SERVICE=1, and on Linux whenever CI is set. There, a
// missing or unusable Secret Service fails the test; elsewhere it skips.
func requireSecretService(t *testing.T, k *Keyring) {
	t.Helper()
	enabled := os.Getenv(EnvSecretService) == "1"
	inCI := os.Getenv("CI") != "" && runtime.GOOS == "linux"
	if !enabled && !inCI {
		t.Skipf("real Secret Service test: run it with `bash %s go test -run SecretService ./mailcfg/secrets/`", secretServiceScript)
	}
	if !enabled {
		t.Fatalf("SECRET SERVICE TEST REQUIRED IN CI: %s is not set. CI must run the tests through "+
			"`bash %s go test -race -count=1 ./...` (packages: dbus gnome-keyring libsecret-tools); "+
			"this test must never be skipped in CI.", EnvSecretService, secretServiceScript)
	}
	// Probe: a locked or missing service fails here with a typed error
	// within the timeout instead of hanging.
	ctx := context.Background()
	probe := "probe:" + rand.Text()
	if err := k.Set(ctx, probe, "probe"); err != nil {
		t.Fatalf("%s=1 but the Secret Service does not work: %v (%s). Run the test through %s.",
			EnvSecretService, err, messageEN(err), secretServiceScript)
	}
	if err := k.Delete(ctx, probe); err != nil {
		t.Fatalf("deleting the probe entry: %v", err)
	}
}

func messageEN(err error) string {
	var ke *Error
	if errors.As(err, &ke) {
		return ke.Message().EN
	}
	return ""
}

func TestSecretServiceRealKeyring(t *testing.T) {
	// A separate service name: a developer who sets the variable by hand
	// never sees (or loses) the app's real entries.
	k := NewKeyring(Options{Service: Service + ".test", Timeout: 10 * time.Second})
	requireSecretService(t, k)
	ctx := context.Background()
	key := MicrosoftRefreshKey("test-" + rand.Text()[:8] + "@kancelaria.example")
	t.Cleanup(func() { k.Delete(context.Background(), key) })

	// A refresh-token-sized value: one entry.
	small := "0.AXkA" + rand.Text() + rand.Text()
	if err := k.Set(ctx, key, small); err != nil {
		t.Fatal(err)
	}
	if v, err := keyring.Get(Service+".test", key); err != nil || v != small {
		t.Fatalf("raw entry: %v", err)
	}
	if v, err := k.Get(ctx, key); err != nil || v != small {
		t.Fatalf("Get small: %v", err)
	}

	// 16 KB: chunked, round trip, replaced, deleted with every chunk.
	big := randomText(16 << 10)
	if err := k.Set(ctx, key, big); err != nil {
		t.Fatal(err)
	}
	if v, err := k.Get(ctx, key); err != nil || v != big {
		t.Fatalf("Get 16 KB: %d bytes, %v", len(v), err)
	}
	if _, err := keyring.Get(Service+".test", chunkKey(key, "a", 9)); err != nil {
		t.Fatalf("chunk a9 not in the real keyring: %v", err)
	}
	big2 := randomText(12 << 10)
	if err := k.Set(ctx, key, big2); err != nil {
		t.Fatal(err)
	}
	if v, err := k.Get(ctx, key); err != nil || v != big2 {
		t.Fatalf("Get after replace: %v", err)
	}
	if _, err := keyring.Get(Service+".test", chunkKey(key, "a", 0)); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("old slot not cleaned: %v", err)
	}
	if err := k.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	for _, slot := range []string{"a", "b"} {
		for i := range 10 {
			if _, err := keyring.Get(Service+".test", chunkKey(key, slot, i)); !errors.Is(err, keyring.ErrNotFound) {
				t.Fatalf("chunk %s%d left after Delete: %v", slot, i, err)
			}
		}
	}
}
