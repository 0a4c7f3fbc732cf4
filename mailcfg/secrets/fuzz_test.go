package secrets

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/zalando/go-keyring"
)

// fuzzBackend is a map keyring that counts reads.
type fuzzBackend struct {
	mu    sync.Mutex
	m     map[string]string
	reads int
}

func (b *fuzzBackend) Get(_, user string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reads++
	v, ok := b.m[user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (b *fuzzBackend) Set(_, user, secret string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.m[user] = secret
	return nil
}

func (b *fuzzBackend) Delete(_, user string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.m[user]; !ok {
		return keyring.ErrNotFound
	}
	delete(b.m, user)
	return nil
}

// FuzzParseManifest: an accepted manifest is within the bounds the reader
// relies on (so Get never grows a buffer or reads more chunks than
// MaxValueSize allows) and prints back to a manifest that parses the same.
func FuzzParseManifest(f *testing.F) {
	sum := sha256.Sum256([]byte("x"))
	good := manifest{slot: "a", count: 3, length: 4000, sum: sum[:]}.String()
	for _, s := range []string{good, strings.Replace(good, ":a:", ":b:", 1), strings.Replace(good, "2d711642", "2D711642", 1),
		"infino-chunked:v1:a:65537:10:" + strings.Repeat("00", 32),
		"infino-chunked:v1:a:1:9223372036854775807:" + strings.Repeat("00", 32),
		"infino-chunked:v1:a:-1:10:" + strings.Repeat("00", 32),
		"infino-chunked:v1:c:1:10:" + strings.Repeat("00", 32),
		"infino-chunked:v1:a:+1:10:" + strings.Repeat("00", 32),
		"infino-chunked:v2:a:1:1:00", "infino-chunked:", "eyJ0eXAiOiJKV1Qi"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, ok := parseManifest(s)
		if !ok {
			return
		}
		if (m.slot != "a" && m.slot != "b") || m.count < 1 || m.count > MaxValueSize || m.length < 0 ||
			m.length > MaxValueSize || len(m.sum) != sha256.Size {
			t.Fatalf("accepted %q as %+v", s, m)
		}
		m2, ok := parseManifest(m.String())
		if !ok || m2.String() != m.String() {
			t.Fatalf("%q prints as %q, which parses as %+v %v", s, m.String(), m2, ok)
		}
	})
}

// FuzzKeyringGet puts any entry (a value or a manifest) and any chunks into
// the keyring and reads the key back. Get returns the inline value, or a
// value whose length and hash match the manifest, or ErrCorrupt; it reads
// no chunk beyond the manifest's count; its error does not depend on the
// chunks' content (so never quotes a secret). Set then replaces whatever was
// there, and Delete leaves nothing behind.
func FuzzKeyringGet(f *testing.F) {
	value := "0.AXoAv4j5cvGGr0GRqy180BHbR8ZQ-Żółć"
	sum := sha256.Sum256([]byte(value))
	chunks := strings.Join(split(value, 8), "\x00")
	good := manifest{slot: "a", count: len(split(value, 8)), length: len(value), sum: sum[:]}.String()
	f.Add(good, chunks, "new-value")
	f.Add(strings.Replace(good, ":a:", ":b:", 1), chunks, strings.Repeat("ż", 20))
	f.Add(good, chunks[:len(chunks)-3], "x")
	f.Add(good, chunks+"\x00extra", "")
	f.Add(manifest{slot: "a", count: 2, length: 0, sum: sum[:]}.String(), "\x00", "infino-chunked:v1:a:1:1:00")
	f.Add(manifest{slot: "b", count: MaxValueSize, length: MaxValueSize, sum: sum[:]}.String(), chunks, "y")
	f.Add("plain-refresh-token", "", "z")
	f.Add("infino-chunked:v1:garbage", chunks, "z")
	f.Fuzz(func(t *testing.T, stored, chunkData, next string) {
		const key = "mailbox:jan@kancelaria.pl:microsoft-refresh"
		parts := strings.Split(chunkData, "\x00")
		load := func(flip bool) *fuzzBackend {
			b := &fuzzBackend{m: map[string]string{key: stored}}
			for _, slot := range []string{"a", "b"} {
				for i, p := range parts {
					if flip {
						q := []byte(p)
						for j := range q {
							q[j] ^= 0x5a
						}
						p = string(q)
					}
					b.m[chunkKey(key, slot, i)] = p
				}
			}
			return b
		}
		ctx := context.Background()
		b := load(false)
		k := NewKeyring(Options{Backend: b, ChunkSize: 8})
		v, err := k.Get(ctx, key)
		m, isManifest := parseManifest(stored)
		switch {
		case !strings.HasPrefix(stored, manifestPrefix):
			if err != nil || v != stored {
				t.Fatalf("inline value: %q %v", v, err)
			}
		case err == nil:
			s := sha256.Sum256([]byte(v))
			if !isManifest || len(v) != m.length || string(s[:]) != string(m.sum) {
				t.Fatalf("Get returned %d bytes for %q", len(v), stored)
			}
		case !errors.Is(err, ErrCorrupt):
			t.Fatalf("Get: %v, want ErrCorrupt", err)
		}
		if isManifest && b.reads > m.count+1 {
			t.Fatalf("%d reads for a manifest of %d chunks", b.reads, m.count)
		}
		if err != nil {
			_, err2 := NewKeyring(Options{Backend: load(true), ChunkSize: 8}).Get(ctx, key)
			if err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("the error depends on the chunks' content:\n%v\n%v", err, err2)
			}
		}

		if len(next) > MaxValueSize {
			return
		}
		if err := k.Set(ctx, key, next); err != nil {
			t.Fatalf("Set over %q: %v", stored, err)
		}
		if got, err := k.Get(ctx, key); err != nil || got != next {
			t.Fatalf("Get after Set: %q %v, want %q", got, err, next)
		}
		if err := k.Delete(ctx, key); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if len(b.m) != 0 {
			t.Fatalf("left behind after Delete: %d entries", len(b.m))
		}
	})
}
