package secrets

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/zalando/go-keyring"

	"infino.legal/mailbox/mailcfg"
)

// fakeOS is a Backend with Windows' size limit that records what is stored
// and can fail or block on demand.
type fakeOS struct {
	mu      sync.Mutex
	m       map[string]string // service + "\x00" + user
	limit   int
	sets    int
	failSet int // fail the n-th Set from now (1-based); 0: never
	block   chan struct{}
}

func newFakeOS() *fakeOS { return &fakeOS{m: map[string]string{}, limit: 2560} }

func (f *fakeOS) wait() {
	f.mu.Lock()
	b := f.block
	f.mu.Unlock()
	if b != nil {
		<-b
	}
}

func (f *fakeOS) Get(service, user string) (string, error) {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.m[service+"\x00"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (f *fakeOS) Set(service, user, secret string) error {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sets++
	if f.failSet > 0 {
		f.failSet--
		if f.failSet == 0 {
			return errors.New("simulated crash")
		}
	}
	if len(secret) > f.limit {
		return keyring.ErrSetDataTooBig
	}
	f.m[service+"\x00"+user] = secret
	return nil
}

func (f *fakeOS) Delete(service, user string) error {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.m[service+"\x00"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(f.m, service+"\x00"+user)
	return nil
}

func (f *fakeOS) users() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range maps.Keys(f.m) {
		_, u, _ := strings.Cut(k, "\x00")
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

func randomText(n int) string {
	s := rand.Text()
	for len(s) < n {
		s += rand.Text()
	}
	return s[:n]
}

const testKey = "mailbox:anna@kancelaria.example:microsoft-refresh"

func TestKeyringSmallValueIsOneEntry(t *testing.T) {
	keyring.MockInit()
	ctx := context.Background()
	k := NewKeyring(Options{})
	if err := k.Set(ctx, testKey, "rt-1"); err != nil {
		t.Fatal(err)
	}
	// Stored as is under the service and key (readable by other tools).
	if v, err := keyring.Get(Service, testKey); err != nil || v != "rt-1" {
		t.Fatalf("raw entry = %q, %v", v, err)
	}
	if v, err := k.Get(ctx, testKey); err != nil || v != "rt-1" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if err := k.Delete(ctx, testKey); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get(ctx, testKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if err := k.Delete(ctx, testKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: %v", err)
	}
}

func TestKeyring16KBRoundTrip(t *testing.T) {
	ctx := context.Background()
	f := newFakeOS()
	k := NewKeyring(Options{Backend: f})
	secret := randomText(16 << 10)
	if err := k.Set(ctx, testKey, secret); err != nil {
		t.Fatal(err)
	}
	users := f.users()
	if len(users) != 1+(16<<10+DefaultChunkSize-1)/DefaultChunkSize {
		t.Fatalf("entries: %v", users)
	}
	for _, u := range users {
		v, _ := f.Get(Service, u)
		if len(v) > DefaultChunkSize {
			t.Errorf("entry %s holds %d bytes", u, len(v))
		}
	}
	got, err := k.Get(ctx, testKey)
	if err != nil || got != secret {
		t.Fatalf("Get: %d bytes, %v", len(got), err)
	}

	// Replace with another large value (the other slot), then a small one.
	secret2 := randomText(9000)
	if err := k.Set(ctx, testKey, secret2); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Get(ctx, testKey); err != nil || got != secret2 {
		t.Fatalf("Get 2: %v", err)
	}
	if n := len(f.users()); n != 1+5 {
		t.Fatalf("old chunks left behind: %v", f.users())
	}
	if err := k.Set(ctx, testKey, "small"); err != nil {
		t.Fatal(err)
	}
	if u := f.users(); !slices.Equal(u, []string{testKey}) {
		t.Fatalf("entries after small value: %v", u)
	}
	if err := k.Set(ctx, testKey, secret); err != nil {
		t.Fatal(err)
	}
	if err := k.Delete(ctx, testKey); err != nil {
		t.Fatal(err)
	}
	if u := f.users(); len(u) != 0 {
		t.Fatalf("Delete left %v", u)
	}
}

func TestKeyring16KBWithGoKeyringMock(t *testing.T) {
	keyring.MockInit()
	ctx := context.Background()
	k := NewKeyring(Options{})
	secret := randomText(16 << 10)
	if err := k.Set(ctx, testKey, secret); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Get(ctx, testKey); err != nil || got != secret {
		t.Fatalf("Get: %v", err)
	}
	if err := k.Delete(ctx, testKey); err != nil {
		t.Fatal(err)
	}
	for _, slot := range []string{"a", "b"} {
		if _, err := keyring.Get(Service, chunkKey(testKey, slot, 0)); !errors.Is(err, keyring.ErrNotFound) {
			t.Fatalf("chunk of slot %s left: %v", slot, err)
		}
	}
}

func TestKeyringInterruptedWriteKeepsOldValue(t *testing.T) {
	ctx := context.Background()
	for _, old := range []string{"", "old-inline", randomText(7000)} {
		t.Run(fmt.Sprintf("old=%d", len(old)), func(t *testing.T) {
			f := newFakeOS()
			k := NewKeyring(Options{Backend: f})
			if old != "" {
				if err := k.Set(ctx, testKey, old); err != nil {
					t.Fatal(err)
				}
			}
			secret := randomText(16 << 10)
			f.failSet = 4 // three chunks written, the fourth fails
			err := k.Set(ctx, testKey, secret)
			if !errors.Is(err, ErrKeyring) {
				t.Fatalf("Set: %v", err)
			}
			got, err := k.Get(ctx, testKey)
			switch {
			case old == "" && !errors.Is(err, ErrNotFound):
				t.Fatalf("Get after failed first write = %d bytes, %v", len(got), err)
			case old != "" && (err != nil || got != old):
				t.Fatalf("Get after failed write = %d bytes, %v; want the old value", len(got), err)
			}
			// The next write succeeds and leaves no stray chunk behind.
			if err := k.Set(ctx, testKey, "fresh"); err != nil {
				t.Fatal(err)
			}
			if u := f.users(); !slices.Equal(u, []string{testKey}) {
				t.Fatalf("entries: %v", u)
			}
		})
	}
}

func TestKeyringDeleteCleansAfterInterruptedWrite(t *testing.T) {
	ctx := context.Background()
	f := newFakeOS()
	k := NewKeyring(Options{Backend: f})
	f.failSet = 3
	if err := k.Set(ctx, testKey, randomText(8000)); err == nil {
		t.Fatal("Set succeeded")
	}
	if len(f.users()) == 0 {
		t.Fatal("the simulated crash left nothing to clean")
	}
	if err := k.Delete(ctx, testKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete: %v", err)
	}
	if u := f.users(); len(u) != 0 {
		t.Fatalf("Delete left %v", u)
	}
}

func TestKeyringCorruptChunksAreNeverAValue(t *testing.T) {
	ctx := context.Background()
	secret := randomText(5000)
	for name, damage := range map[string]func(f *fakeOS){
		"missing chunk": func(f *fakeOS) { f.Delete(Service, chunkKey(testKey, "a", 1)) },
		"changed chunk": func(f *fakeOS) {
			v, _ := f.Get(Service, chunkKey(testKey, "a", 1))
			f.Set(Service, chunkKey(testKey, "a", 1), strings.ToUpper(v[:1])+strings.ToLower(v[1:]))
		},
		"extra text": func(f *fakeOS) {
			v, _ := f.Get(Service, chunkKey(testKey, "a", 2))
			f.Set(Service, chunkKey(testKey, "a", 2), v+"x")
		},
		"bad manifest": func(f *fakeOS) { f.Set(Service, testKey, manifestPrefix+"v1:c:1:2:zz") },
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeOS()
			k := NewKeyring(Options{Backend: f})
			if err := k.Set(ctx, testKey, secret); err != nil {
				t.Fatal(err)
			}
			damage(f)
			got, err := k.Get(ctx, testKey)
			var ke *Error
			if !errors.Is(err, ErrCorrupt) || !errors.As(err, &ke) || got != "" {
				t.Fatalf("Get = %q, %v", got, err)
			}
			if m := ke.Message(); m.PL == "" || m.EN == "" {
				t.Fatalf("message %+v", m)
			}
			if err := k.Delete(ctx, testKey); err != nil {
				t.Fatal(err)
			}
			if u := f.users(); len(u) != 0 {
				t.Fatalf("Delete left %v", u)
			}
		})
	}
}

func TestKeyringValueLookingLikeManifest(t *testing.T) {
	ctx := context.Background()
	f := newFakeOS()
	k := NewKeyring(Options{Backend: f})
	v := manifestPrefix + "v1:a:1:0:" + strings.Repeat("0", 64)
	if err := k.Set(ctx, testKey, v); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Get(ctx, testKey); err != nil || got != v {
		t.Fatalf("Get = %q, %v", got, err)
	}
}

func TestKeyringSplitsOnRuneBoundaries(t *testing.T) {
	ctx := context.Background()
	f := newFakeOS()
	k := NewKeyring(Options{Backend: f, ChunkSize: 10})
	secret := strings.Repeat("zażółć gęślą jaźń 🦊 ", 20)
	if err := k.Set(ctx, testKey, secret); err != nil {
		t.Fatal(err)
	}
	for _, u := range f.users() {
		v, _ := f.Get(Service, u)
		if !utf8.ValidString(v) || len(v) > 10 && u != testKey {
			t.Fatalf("chunk %s = %q", u, v)
		}
	}
	if got, err := k.Get(ctx, testKey); err != nil || got != secret {
		t.Fatalf("Get = %q, %v", got, err)
	}
}

func TestKeyringTimeout(t *testing.T) {
	f := newFakeOS()
	k := NewKeyring(Options{Backend: f, Timeout: 50 * time.Millisecond})
	ctx := context.Background()
	if err := k.Set(ctx, testKey, "v"); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	f.mu.Lock()
	f.block = release
	f.mu.Unlock()

	start := time.Now()
	_, err := k.Get(ctx, testKey)
	var ke *Error
	if !errors.Is(err, ErrTimeout) || !errors.As(err, &ke) {
		t.Fatalf("Get on a stuck keyring: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Get took %v", d)
	}
	if m := ke.Message(); !strings.Contains(m.EN, "0 s") && !strings.Contains(m.EN, "did not answer") {
		t.Fatalf("message %q", m.EN)
	}
	// The abandoned call still blocks: the next one times out as well.
	if err := k.Set(ctx, testKey, "w"); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Set behind a stuck call: %v", err)
	}
	// A cancelled context ends a call at once.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := k.Get(cctx, testKey); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get with cancelled ctx: %v", err)
	}
	k2 := NewKeyring(Options{Backend: f, Timeout: time.Hour})
	dctx, cancel2 := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel2()
	if _, err := k2.Get(dctx, testKey); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get with ctx deadline: %v", err)
	}

	close(release)
	f.mu.Lock()
	f.block = nil
	f.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, err := k.Get(ctx, testKey)
		if err == nil {
			if v != "v" {
				t.Fatalf("value %q", v)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("keyring did not recover: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKeyringErrorsAreTyped(t *testing.T) {
	defer keyring.MockInit()
	ctx := context.Background()
	for _, c := range []struct {
		err  error
		kind error
	}{
		{keyring.ErrUnsupportedPlatform, ErrUnavailable},
		{errors.New("The name org.freedesktop.secrets was not provided by any .service files"), ErrUnavailable},
		{keyring.ErrSetDataTooBig, ErrTooLarge},
		{errors.New("Cannot create an item in a locked collection"), ErrLocked},
		{errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"), ErrLocked},
		{errors.New(`exec: "dbus-launch": executable file not found in $PATH`), ErrUnavailable},
		{errors.New("org.freedesktop.DBus.Error.NoReply"), ErrKeyring},
	} {
		keyring.MockInitWithError(c.err)
		k := NewKeyring(Options{})
		err := k.Set(ctx, testKey, "x")
		var ke *Error
		if !errors.Is(err, c.kind) || !errors.As(err, &ke) || !errors.Is(err, c.err) {
			t.Errorf("%v: got %v", c.err, err)
			continue
		}
		if ke.Op != "set" || ke.Key != testKey {
			t.Errorf("%v: %+v", c.err, ke)
		}
		if m := ke.Message(); m.PL == "" || m.EN == "" {
			t.Errorf("message %+v", m)
		}
	}
	keyring.MockInit()
	k := NewKeyring(Options{})
	if err := k.Set(ctx, testKey, strings.Repeat("x", MaxValueSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("huge value: %v", err)
	}
	for _, bad := range []string{"", testKey + "#chunka0", strings.Repeat("k", MaxKeyLen+1)} {
		if err := k.Set(ctx, bad, "x"); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("key %q: %v", bad, err)
		}
	}
}

type panicky struct{ Backend }

func (panicky) Get(string, string) (string, error) { panic("boom") }

func TestKeyringBackendPanicIsAnError(t *testing.T) {
	k := NewKeyring(Options{Backend: panicky{newFakeOS()}})
	if _, err := k.Get(context.Background(), testKey); !errors.Is(err, ErrKeyring) {
		t.Fatalf("Get: %v", err)
	}
}

func TestKeyringConcurrentUse(t *testing.T) {
	ctx := context.Background()
	f := newFakeOS()
	k := NewKeyring(Options{Backend: f, ChunkSize: 100})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("mailbox:u%d@example.com:password", i%3)
			for j := range 20 {
				v := strings.Repeat(fmt.Sprint(j), 50+j*20)
				if err := k.Set(ctx, key, v); err != nil {
					t.Error(err)
					return
				}
				if _, err := k.Get(ctx, key); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for i := range 3 {
		key := fmt.Sprintf("mailbox:u%d@example.com:password", i)
		if _, err := k.Get(ctx, key); err != nil {
			t.Fatal(err)
		}
		if err := k.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	if u := f.users(); len(u) != 0 {
		t.Fatalf("left %v", u)
	}
}

func TestKeyScheme(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Jan.Kowalski@Kancelaria.PL", "mailbox:jan.kowalski@kancelaria.pl:password"},
	} {
		if got := PasswordKey(c.in); got != c.want {
			t.Errorf("PasswordKey(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := PasswordKey(" Anna@Kancelaria-Żółć.pl "); !strings.HasPrefix(got, "mailbox:anna@xn--kancelaria-") ||
		!strings.HasSuffix(got, ".pl:password") {
		t.Errorf("IDN key %q", got)
	}
	if got := MicrosoftRefreshKey("Anna@Contoso.com"); got != "mailbox:anna@contoso.com:microsoft-refresh" {
		t.Errorf("MicrosoftRefreshKey = %q", got)
	}
	ctx := context.Background()
	m := NewMemory()
	m.Set(ctx, PasswordKey("a@b.pl"), "p")
	m.Set(ctx, MicrosoftRefreshKey("a@b.pl"), "r")
	for _, p := range mailcfg.BundledOAuth().Providers {
		m.Set(ctx, RefreshKey("a@b.pl", p.ID), "r")
	}
	m.Set(ctx, PasswordKey("c@b.pl"), "p")
	if err := DeleteMailbox(ctx, m, "A@B.pl"); err != nil {
		t.Fatal(err)
	}
	if k := m.Keys(); len(k) != 1 || k[0] != PasswordKey("c@b.pl") {
		t.Fatalf("keys %v", k)
	}
	if err := DeleteMailbox(ctx, m, "nobody@b.pl"); err != nil {
		t.Fatal(err)
	}
}

// The keyring service is where every saved secret lives: a new value would
// strand them all.
func TestServiceIsStable(t *testing.T) {
	if Service != "legal.infino.mailbox" {
		t.Fatalf("keyring service changed to %q: saved secrets would be lost", Service)
	}
}
