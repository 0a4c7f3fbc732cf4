package ui

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"infino.legal/mailbox/internal/sandbox"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/world"
)

// secretFields are the fields of a stored JSON value that hold a secret
// (the others, such as "type": "password", are plain words).
var secretFields = []string{"password", "refreshToken", "accessToken", "clientSecret"}

// keyringOnly fails when a secret the world's keyring holds (each value and
// each secret field of a JSON value), or one of extra, is in a file under
// the world's config dir, on h's screen or in its diagnostic report. It
// returns how many secrets it looked for.
func keyringOnly(t *testing.T, h *harness, w *world.World, extra ...string) int {
	t.Helper()
	store := w.Store.(*secrets.Memory)
	list := append([]string{}, extra...)
	for _, k := range store.Keys() {
		v, err := store.Get(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, v)
		var fields map[string]any
		if json.Unmarshal([]byte(v), &fields) == nil {
			for _, name := range secretFields {
				if s, ok := fields[name].(string); ok {
					list = append(list, s)
				}
			}
		}
	}
	texts := map[string]string{"screen": h.screenText(), "report": h.wz.report()}
	filepath.WalkDir(w.ConfigDir, func(p string, de fs.DirEntry, err error) error {
		if err == nil && !de.IsDir() {
			b, _ := os.ReadFile(p)
			texts[p] = string(b)
		}
		return nil
	})
	for where, text := range texts {
		for _, s := range list {
			if len(s) >= 6 && strings.Contains(text, s) {
				t.Errorf("%s contains a secret (%.6s…)", where, s)
			}
		}
	}
	return len(list)
}

// A hand-off the window had to queue leaves the mailbox password and the
// Infino refresh token in the keyring only: not in any file under the
// config dir (the outbox entry among them), not on the screen, not in the
// diagnostic report.
func TestQueuedHandOffKeepsSecretsInTheKeyring(t *testing.T) {
	w, sb := sandboxWiring(t)
	sb.Infino.Inject(sandbox.Fault{Status: 503, Count: 1})
	h := newHarness(t, "pl_PL.UTF-8", useDeps(w.deps()))
	d := toDone(t, h)
	handedOff(t, h, d)
	if d.last.State != infino.StateQueued {
		t.Fatalf("%+v", d.last)
	}
	if _, err := w.w.Store.Get(context.Background(), infino.TokenKey(sb.InfinoURL)); err != nil {
		t.Fatalf("no Infino sign-in to look for: %v", err)
	}
	if entries, _ := w.Pending(testCtx(t)); len(entries) != 1 {
		t.Fatalf("outbox entries %d, want 1", len(entries))
	}
	if n := keyringOnly(t, h, w.w, sandbox.DemoPassword); n < 5 {
		t.Fatalf("looked for %d secrets only", n)
	}
}
