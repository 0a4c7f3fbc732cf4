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
)

// secretFields are the fields of a stored JSON value that hold a secret
// (the others, such as "type": "password", are plain words).
var secretFields = []string{"password", "refreshToken", "accessToken", "clientSecret"}

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
	store := w.w.Store.(*secrets.Memory)
	list := []string{sandbox.DemoPassword}
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
	if _, err := store.Get(context.Background(), infino.TokenKey(sb.InfinoURL)); err != nil || len(list) < 3 {
		t.Fatalf("nothing to look for: sign-in %v, %d secrets", err, len(list))
	}
	texts := map[string]string{"screen": h.screenText(), "report": h.wz.report()}
	files := 0
	filepath.WalkDir(w.w.ConfigDir, func(p string, de fs.DirEntry, err error) error {
		if err == nil && !de.IsDir() {
			b, _ := os.ReadFile(p)
			texts[p] = string(b)
			files++
		}
		return nil
	})
	if files == 0 {
		t.Fatal("no outbox entry written")
	}
	for where, text := range texts {
		for _, s := range list {
			if len(s) >= 6 && strings.Contains(text, s) {
				t.Errorf("%s contains a secret (%.6s…)", where, s)
			}
		}
	}
}
