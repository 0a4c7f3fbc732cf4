package infino_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/secrets"
)

// TestOutboxUpdateRefusesBadID: Update writes <dir>/<id>.json, so an id with
// a path in it would write outside the outbox.
func TestOutboxUpdateRefusesBadID(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "outbox")
	ob := infino.NewOutbox(dir, secrets.NewMemory(), nil)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// A file Update would take as "the entry is still waiting".
	if err := os.WriteFile(filepath.Join(root, "escape.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := testEntry()
	e.ID = "../escape"
	if err := ob.Update(e); err == nil {
		t.Error("Update accepted an id with a path in it")
	}
	if data, _ := os.ReadFile(filepath.Join(root, "escape.json")); string(data) != "{}" {
		t.Errorf("Update wrote outside the outbox: %q", data)
	}
	if _, err := ob.Secret(context.Background(), "../escape"); err == nil {
		t.Error("Secret accepted a bad id")
	}
}

// TestOutboxEntryFileBounded: an entry file is read up to a bound, not
// whatever size it has (a hostile or broken file cannot exhaust memory).
func TestOutboxEntryFileBounded(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ob := infino.NewOutbox(dir, secrets.NewMemory(), nil)
	e := testEntry()
	if err := ob.Add(ctx, e, infino.PasswordSecret("pw-123456")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, e.ID+".json")
	data, err := os.ReadFile(path)
	if err != nil || !json.Valid(data) {
		t.Fatal(err)
	}
	// Still one valid entry, padded with 8 MiB of white space.
	huge := append(data, []byte(strings.Repeat(" ", 8<<20))...)
	if err := os.WriteFile(path, huge, 0o600); err != nil {
		t.Fatal(err)
	}
	list, problems, err := ob.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 || len(problems) != 1 {
		t.Fatalf("an 8 MiB entry file was read whole: list %d, problems %v", len(list), problems)
	}
}
