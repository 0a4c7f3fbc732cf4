package secrets

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zalando/go-keyring"
)

// Backend is a raw keyring: service + user name → secret. OSBackend is the
// OS keyring through github.com/zalando/go-keyring; tests use go-keyring's
// MockInit (which OSBackend then reaches) or their own Backend. A Backend
// returns keyring.ErrNotFound for a missing entry and may block (Keyring
// bounds every call with a timeout).
type Backend interface {
	Get(service, user string) (string, error)
	Set(service, user, secret string) error
	Delete(service, user string) error
}

// OSBackend is the OS keyring: Windows Credential Manager, the macOS
// Keychain, the Secret Service (GNOME Keyring, KWallet) on Linux and BSD.
var OSBackend Backend = osBackend{}

type osBackend struct{}

func (osBackend) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (osBackend) Set(service, user, secret string) error   { return keyring.Set(service, user, secret) }
func (osBackend) Delete(service, user string) error        { return keyring.Delete(service, user) }

const (
	// DefaultTimeout bounds each keyring call. It leaves time for a
	// keyring that asks the user to unlock it, and still ends a call to a
	// locked Linux keyring whose prompt nobody sees.
	DefaultTimeout = 30 * time.Second
	// DefaultChunkSize is the largest value stored in one entry. Windows
	// Credential Manager takes at most 2560 bytes; go-keyring on macOS
	// writes base64 (4/3) plus the service and key into one 4096-byte
	// command line. 1800 bytes fits both with room for a long key.
	DefaultChunkSize = 1800
	// MaxValueSize bounds a value (refresh tokens are 0.3–5 KB).
	MaxValueSize = 64 << 10
	// MaxKeyLen bounds a key (Windows target names, macOS command line).
	MaxKeyLen = 400
)

// manifestPrefix starts the manifest of a chunked value. A value that itself
// starts with it is always stored chunked, so an inline value is never
// mistaken for a manifest.
const manifestPrefix = "infino-chunked:"

// chunkMarker separates a key from the slot and number of its chunks.
const chunkMarker = "#chunk"

// Options configure a Keyring; the zero value means the OS keyring with the
// defaults.
type Options struct {
	Service   string        // default Service
	Backend   Backend       // default OSBackend
	Timeout   time.Duration // per keyring call; default DefaultTimeout
	ChunkSize int           // default DefaultChunkSize
}

// Keyring is the Store over the OS keyring. Entries are written under
// Options.Service with the key as the user name (see the key scheme in
// keys.go).
//
// Every keyring call runs in its own goroutine and is abandoned when the
// context ends or Options.Timeout passes, with an *Error of kind ErrTimeout
// (a locked Linux keyring can block forever; the abandoned call keeps later
// calls waiting until it returns, and they time out too). Calls are
// serialized within the process. Nothing is ever written anywhere else.
//
// Values longer than the chunk size are split (on UTF-8 boundaries) into
// entries "<key>#chunk<slot><n>", n = 0, 1, …, and the entry <key> holds a
// manifest "infino-chunked:v1:<slot>:<count>:<length>:<sha256 hex>". A write
// fills the slot the current manifest does not use, then replaces the
// manifest, then deletes the old slot's chunks; so an interrupted write leaves
// the previous value readable, and Get returns a value only when every chunk
// is present and the length and hash match (else ErrCorrupt). Delete removes
// the chunks of both slots first and the manifest last.
type Keyring struct {
	service   string
	backend   Backend
	timeout   time.Duration
	chunkSize int

	op   chan struct{} // one Store operation at a time
	call chan struct{} // held by a backend call until it returns, even if abandoned
}

var _ Store = (*Keyring)(nil)

// NewKeyring returns a Store over the OS keyring (or opt.Backend).
func NewKeyring(opt Options) *Keyring {
	k := &Keyring{
		service: opt.Service, backend: opt.Backend, timeout: opt.Timeout, chunkSize: opt.ChunkSize,
		op: make(chan struct{}, 1), call: make(chan struct{}, 1),
	}
	if k.service == "" {
		k.service = Service
	}
	if k.backend == nil {
		k.backend = OSBackend
	}
	if k.timeout <= 0 {
		k.timeout = DefaultTimeout
	}
	if k.chunkSize <= 0 {
		k.chunkSize = DefaultChunkSize
	}
	if k.chunkSize < 8 {
		k.chunkSize = 8 // room for any UTF-8 sequence
	}
	return k
}

// Get returns the secret stored under key, or ErrNotFound.
func (k *Keyring) Get(ctx context.Context, key string) (string, error) {
	if err := k.begin(ctx, "get", key); err != nil {
		return "", err
	}
	defer k.end()
	v, err := k.get(ctx, "get", key)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(v, manifestPrefix) {
		return v, nil
	}
	m, ok := parseManifest(v)
	if !ok {
		return "", &Error{Op: "get", Key: key, Kind: ErrCorrupt, Err: errors.New("malformed manifest")}
	}
	var sb strings.Builder
	sb.Grow(m.length)
	for i := range m.count {
		c, err := k.get(ctx, "get", chunkKey(key, m.slot, i))
		if errors.Is(err, ErrNotFound) {
			return "", &Error{Op: "get", Key: key, Kind: ErrCorrupt, Err: fmt.Errorf("chunk %d of %d is missing", i+1, m.count)}
		}
		if err != nil {
			return "", err
		}
		sb.WriteString(c)
		if sb.Len() > m.length {
			break
		}
	}
	out := sb.String()
	sum := sha256.Sum256([]byte(out))
	if len(out) != m.length || subtle.ConstantTimeCompare(sum[:], m.sum) != 1 {
		return "", &Error{Op: "get", Key: key, Kind: ErrCorrupt, Err: errors.New("chunks do not match the manifest")}
	}
	return out, nil
}

// Set stores value under key, replacing what was there.
func (k *Keyring) Set(ctx context.Context, key, value string) error {
	if len(value) > MaxValueSize {
		return &Error{Op: "set", Key: key, Kind: ErrTooLarge, Err: fmt.Errorf("%d bytes, at most %d", len(value), MaxValueSize)}
	}
	if err := k.begin(ctx, "set", key); err != nil {
		return err
	}
	defer k.end()

	old, err := k.get(ctx, "set", key)
	switch {
	case errors.Is(err, ErrNotFound):
		old = ""
	case err != nil:
		return err
	}
	oldM, _ := parseManifest(old)

	if len(value) <= k.chunkSize && !strings.HasPrefix(value, manifestPrefix) {
		if err := k.set(ctx, "set", key, value); err != nil {
			return err
		}
		// The old value's chunks, and leftovers of interrupted writes.
		return k.clearSlots(ctx, "set", key, oldM, "a", "b")
	}

	slot := "a"
	if oldM.slot == "a" {
		slot = "b"
	}
	other := map[string]string{"a": "b", "b": "a"}[slot]
	parts := split(value, k.chunkSize)
	for i, p := range parts {
		if err := k.set(ctx, "set", chunkKey(key, slot, i), p); err != nil {
			return err
		}
	}
	// Leftovers of an earlier interrupted write to this slot.
	if err := k.clearSlot(ctx, "set", key, slot, len(parts), 0); err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(value))
	m := manifest{slot: slot, count: len(parts), length: len(value), sum: sum[:]}
	if err := k.set(ctx, "set", key, m.String()); err != nil {
		return err
	}
	return k.clearSlots(ctx, "set", key, oldM, other)
}

// Delete removes key and every chunk of it; ErrNotFound if there was no
// entry under key.
func (k *Keyring) Delete(ctx context.Context, key string) error {
	if err := k.begin(ctx, "delete", key); err != nil {
		return err
	}
	defer k.end()
	v, err := k.get(ctx, "delete", key)
	missing := errors.Is(err, ErrNotFound)
	if err != nil && !missing {
		return err
	}
	m, _ := parseManifest(v)
	if err := k.clearSlots(ctx, "delete", key, m, "a", "b"); err != nil {
		return err
	}
	if missing {
		return ErrNotFound
	}
	err = k.del(ctx, "delete", key)
	if errors.Is(err, ErrNotFound) {
		return nil // gone meanwhile: the result is the same
	}
	return err
}

// clearSlots clears whole slots; known is the manifest of the value they
// held, if any, so that chunks beyond a gap are found too.
func (k *Keyring) clearSlots(ctx context.Context, op, key string, known manifest, slots ...string) error {
	for _, slot := range slots {
		end := 0
		if slot == known.slot {
			end = known.count
		}
		if err := k.clearSlot(ctx, op, key, slot, 0, end); err != nil {
			return err
		}
	}
	return nil
}

// clearSlot deletes the chunks from index from upward of one slot; chunks
// below knownEnd are deleted whether or not they are still there. Stale
// chunks otherwise form a run from a low index up (writes go upward, deletes
// downward), so it finds their end first and deletes from the top, keeping
// that true if it is interrupted.
func (k *Keyring) clearSlot(ctx context.Context, op, key, slot string, from, knownEnd int) error {
	n := max(from, knownEnd)
	for ; n < MaxValueSize; n++ {
		_, err := k.get(ctx, op, chunkKey(key, slot, n))
		if errors.Is(err, ErrNotFound) {
			break
		}
		if err != nil {
			return err
		}
	}
	for i := n - 1; i >= from; i-- {
		if err := k.del(ctx, op, chunkKey(key, slot, i)); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

func (k *Keyring) begin(ctx context.Context, op, key string) error {
	if key == "" || len(key) > MaxKeyLen || strings.Contains(key, chunkMarker) || !utf8.ValidString(key) {
		return &Error{Op: op, Key: key, Kind: ErrInvalidKey}
	}
	select {
	case k.op <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (k *Keyring) end() { <-k.op }

func (k *Keyring) get(ctx context.Context, op, key string) (string, error) {
	var v string
	err := k.do(ctx, op, key, func() (err error) {
		v, err = k.backend.Get(k.service, key)
		return err
	})
	return v, err
}

func (k *Keyring) set(ctx context.Context, op, key, value string) error {
	return k.do(ctx, op, key, func() error { return k.backend.Set(k.service, key, value) })
}

func (k *Keyring) del(ctx context.Context, op, key string) error {
	return k.do(ctx, op, key, func() error { return k.backend.Delete(k.service, key) })
}

// do runs one backend call in a goroutine, bounded by ctx and the timeout.
// keyring.ErrNotFound becomes ErrNotFound; other errors an *Error.
func (k *Keyring) do(ctx context.Context, op, key string, f func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	timer := time.NewTimer(k.timeout)
	defer timer.Stop()
	timedOut := func() error {
		return &Error{Op: op, Key: key, Kind: ErrTimeout, Timeout: k.timeout}
	}
	select {
	case k.call <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return timedOut() // an earlier, abandoned call is still stuck
	}
	done := make(chan error, 1)
	go func() {
		defer func() { <-k.call }()
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("keyring backend panic: %v", r)
			}
		}()
		done <- f()
	}()
	select {
	case err := <-done:
		switch {
		case err == nil:
			return nil
		case errors.Is(err, keyring.ErrNotFound), errors.Is(err, ErrNotFound):
			return ErrNotFound
		}
		return &Error{Op: op, Key: key, Kind: classify(err), Err: err}
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return timedOut()
	}
}

func chunkKey(key, slot string, i int) string {
	return key + chunkMarker + slot + strconv.Itoa(i)
}

// split cuts s into pieces of at most size bytes, never inside a UTF-8
// sequence (some keyrings store text, not bytes).
func split(s string, size int) []string {
	var out []string
	for len(s) > size {
		cut := size
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		if cut == 0 {
			cut = size
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	if s != "" || len(out) == 0 {
		out = append(out, s)
	}
	return out
}

type manifest struct {
	slot          string
	count, length int
	sum           []byte
}

func (m manifest) String() string {
	return fmt.Sprintf("%sv1:%s:%d:%d:%s", manifestPrefix, m.slot, m.count, m.length, hex.EncodeToString(m.sum))
}

func parseManifest(s string) (manifest, bool) {
	rest, ok := strings.CutPrefix(s, manifestPrefix+"v1:")
	if !ok {
		return manifest{}, false
	}
	f := strings.Split(rest, ":")
	if len(f) != 4 || (f[0] != "a" && f[0] != "b") {
		return manifest{}, false
	}
	count, err1 := strconv.Atoi(f[1])
	length, err2 := strconv.Atoi(f[2])
	sum, err3 := hex.DecodeString(f[3])
	if err1 != nil || err2 != nil || err3 != nil || count < 1 || count > MaxValueSize ||
		length < 0 || length > MaxValueSize || len(sum) != sha256.Size {
		return manifest{}, false
	}
	return manifest{slot: f[0], count: count, length: length, sum: sum}, true
}
