package infino_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/secrets"
)

func testEntry() infino.Entry {
	return infino.Entry{
		ID: infino.NewUUID(), IdempotencyKey: infino.NewUUID(), InfinoURL: "https://kancelaria.infino.legal",
		Settings: mailcfg.Settings{Email: "jan@kancelaria.pl", Auth: mailcfg.AuthPassword,
			Incoming: mailcfg.Server{Protocol: mailcfg.IMAP, Host: "imap.kancelaria.pl", Port: 993, Security: mailcfg.SecurityTLS, Username: "jan@kancelaria.pl"},
			Outgoing: mailcfg.Server{Protocol: mailcfg.SMTP, Host: "smtp.kancelaria.pl", Port: 465, Security: mailcfg.SecurityTLS, Username: "jan@kancelaria.pl"}},
		VerifiedAt: time.Now().UTC(), CreatedAt: time.Now().UTC(),
	}
}

func TestOutboxAddListComplete(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "outbox")
	store := secrets.NewMemory()
	ob := infino.NewOutbox(dir, store, nil)
	e := testEntry()
	if err := ob.Add(ctx, e, infino.PasswordSecret("tajne-haslo-1")); err != nil {
		t.Fatal(err)
	}
	list, problems, err := ob.List(ctx)
	if err != nil || len(list) != 1 || len(problems) != 0 || list[0].ID != e.ID || list[0].SecretType != "password" {
		t.Fatalf("%+v %v %v", list, problems, err)
	}
	if s, err := ob.Secret(ctx, e.ID); err != nil || s.Password != "tajne-haslo-1" {
		t.Fatalf("secret %v", err)
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(filepath.Join(dir, e.ID+".json"))
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("entry file mode %v", fi.Mode().Perm())
		}
		di, _ := os.Stat(dir)
		if di.Mode().Perm() != 0o700 {
			t.Errorf("outbox dir mode %v", di.Mode().Perm())
		}
	}
	assertNoSecretFiles(t, dir, "tajne-haslo-1")
	if err := ob.Complete(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	if list, _, _ := ob.List(ctx); len(list) != 0 || len(store.Keys()) != 0 {
		t.Fatalf("after complete: %v %v", list, store.Keys())
	}
	left, _ := os.ReadDir(dir)
	for _, de := range left {
		if de.Name() != ".lock" {
			t.Errorf("left in outbox: %s", de.Name())
		}
	}
}

// A crash after the entry was renamed to .done but before the secret was
// deleted: the next List finishes the job.
func TestOutboxInterruptedCompletionIsFinished(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store := secrets.NewMemory()
	ob := infino.NewOutbox(dir, store, nil)
	e := testEntry()
	if err := ob.Add(ctx, e, infino.PasswordSecret("pw-123456")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, e.ID+".json"), filepath.Join(dir, e.ID+".done")); err != nil {
		t.Fatal(err)
	}
	list, _, err := ob.List(ctx)
	if err != nil || len(list) != 0 {
		t.Fatalf("%v %v", list, err)
	}
	if len(store.Keys()) != 0 {
		t.Fatal("secret of a completed entry left in the store")
	}
	if _, err := os.Stat(filepath.Join(dir, e.ID+".done")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal(".done file left")
	}
}

func TestOutboxCorruptFileQuarantinedAndReportedOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store := secrets.NewMemory()
	ob := infino.NewOutbox(dir, store, nil)
	good := testEntry()
	if err := ob.Add(ctx, good, infino.PasswordSecret("pw-123456")); err != nil {
		t.Fatal(err)
	}
	bad := infino.NewUUID()
	os.WriteFile(filepath.Join(dir, bad+".json"), []byte(`{"v":1,"id":"`+bad+`","idempo`), 0o600) // torn write
	store.Set(ctx, infino.SecretKey(bad), `{"type":"password","password":"stranded-1"}`)
	wrongID := testEntry()
	if err := ob.Add(ctx, wrongID, infino.PasswordSecret("pw-123456")); err != nil {
		t.Fatal(err)
	}
	other := infino.NewUUID()
	os.Rename(filepath.Join(dir, wrongID.ID+".json"), filepath.Join(dir, other+".json")) // id ≠ name
	os.WriteFile(filepath.Join(dir, "notes.json"), []byte(`{}`), 0o600)

	list, problems, err := ob.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != good.ID {
		t.Fatalf("list %+v", list)
	}
	if len(problems) != 3 {
		t.Fatalf("problems %v", problems)
	}
	for _, p := range problems {
		if p.Original == "" || p.Err == nil || filepath.Base(filepath.Dir(p.File)) != "quarantine" || !strings.Contains(p.Error(), "quarantined") {
			t.Errorf("problem %+v", p)
		}
		if _, err := os.Stat(p.File); err != nil {
			t.Errorf("moved file missing: %v", err)
		}
		reason, err := os.ReadFile(p.File + ".reason")
		if err != nil || !strings.Contains(string(reason), "could not be read") {
			t.Errorf("reason file: %v %q", err, reason)
		}
	}
	// The secret of the unreadable entry is gone with it; the good one's stays.
	if _, err := store.Get(ctx, infino.SecretKey(bad)); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("secret of the corrupt entry left in the store: %v", err)
	}
	if _, err := store.Get(ctx, infino.SecretKey(good.ID)); err != nil {
		t.Errorf("secret of the good entry removed: %v", err)
	}
	// Reported once: later lists see only the good entry, and say so cleanly.
	list, problems, err = ob.List(ctx)
	if err != nil || len(problems) != 0 || len(list) != 1 {
		t.Fatalf("second list %v %v %v", list, problems, err)
	}
	if q, err := ob.Quarantined(); err != nil || len(q) != 3 {
		t.Fatalf("quarantined %v %v", q, err)
	}

	// A file an older version moved aside is quarantined and reported once too.
	legacy := infino.NewUUID()
	os.WriteFile(filepath.Join(dir, legacy+".json.corrupt-20260101T000000.000000000Z"), []byte(`{`), 0o600)
	store.Set(ctx, infino.SecretKey(legacy), `{"type":"password","password":"stranded-2"}`)
	if _, problems, _ = ob.List(ctx); len(problems) != 1 {
		t.Fatalf("legacy: %v", problems)
	}
	if _, err := store.Get(ctx, infino.SecretKey(legacy)); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("secret of the legacy corrupt entry left: %v", err)
	}
	if _, problems, _ = ob.List(ctx); len(problems) != 0 {
		t.Fatalf("legacy reported twice: %v", problems)
	}
}

func TestOutboxStaleTempRemoved(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ob := infino.NewOutbox(dir, secrets.NewMemory(), nil)
	old := filepath.Join(dir, ".tmp-123")
	fresh := filepath.Join(dir, ".tmp-456")
	os.WriteFile(old, []byte("partial"), 0o600)
	os.WriteFile(fresh, []byte("partial"), 0o600)
	past := time.Now().Add(-2 * time.Hour)
	os.Chtimes(old, past, past)
	if _, _, err := ob.List(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Error("stale temp file kept")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a temp file being written by another process was removed")
	}
}

type failingStore struct{ secrets.Store }

func (failingStore) Set(context.Context, string, string) error { return errors.New("keyring locked") }

func TestOutboxSecretFirst(t *testing.T) {
	dir := t.TempDir()
	ob := infino.NewOutbox(dir, failingStore{secrets.NewMemory()}, nil)
	err := ob.Add(context.Background(), testEntry(), infino.PasswordSecret("pw-123456"))
	if infino.KindOf(err) != infino.KindConfig {
		t.Fatalf("%v", err)
	}
	if list, _, _ := ob.List(context.Background()); len(list) != 0 {
		t.Fatal("an entry was written without its secret")
	}
}

func TestLostSecretReported(t *testing.T) {
	e := newEnv(t)
	access, _ := e.sb.Infino.Mint()
	e.opts.Tokens = &staticTokens{tok: access}
	e.svc = infino.NewService(e.opts)
	e.down.Store(true)
	out := demoSubmit(e)
	wantState(t, out, infino.StateQueued)
	e.store.Delete(e.ctx(), infino.SecretKey(out.EntryID)) // keyring cleared by the user
	e.down.Store(false)
	rep := e.svc.Flush(e.ctx(), true)
	if _, _, failed := rep.Counts(); failed != 1 || rep.Results[0].Outcome.Kind() != infino.KindConfig ||
		!strings.Contains(rep.Results[0].Outcome.Message().In("en"), "keyring") {
		t.Fatalf("%+v", rep.Results)
	}
	if e.sb.Infino.Count() != 0 {
		t.Fatal("sent without a secret")
	}
}

func TestStoreFailureSendsDirectly(t *testing.T) {
	e := newEnv(t)
	access, _ := e.sb.Infino.Mint()
	e.opts.Tokens = &staticTokens{tok: access}
	e.opts.Store = failingStore{e.store}
	svc := infino.NewService(e.opts)
	wantState(t, svc.Submit(e.ctx(), e.sb.DemoSettings(), infino.PasswordSecret("pw-123456"), time.Now()), infino.StateSent)
	e.down.Store(true)
	s2, _ := e.sb.Settings("z@kancelaria-demo.test")
	out := svc.Submit(e.ctx(), s2, infino.PasswordSecret("pw-123456"), time.Now())
	wantState(t, out, infino.StateFailed)
	if !strings.Contains(out.Message().In("en"), "keyring") {
		t.Fatalf("%+v", out.Message())
	}
}
