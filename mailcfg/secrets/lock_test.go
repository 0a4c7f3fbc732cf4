package secrets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The lock excludes a second holder (flock locks are per open file, so this
// holds across goroutines as across processes) until it is released, and a
// waiter gives up with its context.
func TestLockKey(t *testing.T) {
	t.Setenv(LockDirEnv, t.TempDir())
	ctx := context.Background()
	unlock, err := LockKey(ctx, "mailbox:a@b.pl:google-refresh")
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := LockKey(short, "mailbox:a@b.pl:google-refresh"); err == nil {
		t.Fatal("second holder got the lock")
	}
	other, err := LockKey(ctx, "mailbox:c@b.pl:google-refresh")
	if err != nil {
		t.Fatal("another key is blocked:", err)
	}
	other()
	got := make(chan func(), 1)
	go func() {
		u, err := LockKey(ctx, "mailbox:a@b.pl:google-refresh")
		if err != nil {
			t.Error(err)
		}
		got <- u
	}()
	unlock()
	(<-got)()
}

// A waiter whose context never ends still gives up, after the bounded
// wait, with an error that says another process holds the lock.
func TestLockKeyWaitIsBounded(t *testing.T) {
	t.Setenv(LockDirEnv, t.TempDir())
	defer func(d time.Duration) { lockWait = d }(lockWait)
	lockWait = 20 * time.Millisecond
	unlock, err := LockKey(context.Background(), "mailbox:a@b.pl:google-refresh")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	// The context is a backstop far beyond lockWait: before the bound
	// existed, this waited for it and failed below.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = LockKey(ctx, "mailbox:a@b.pl:google-refresh")
	var se *Error
	if !errors.Is(err, ErrBusy) || !errors.As(err, &se) || ctx.Err() != nil {
		t.Fatalf("busy lock: %v", err)
	}
	if m := se.Message(); !strings.Contains(m.EN, "Another Infino Mailbox process") || m.PL == "" {
		t.Errorf("message %+v", m)
	}
}

// The lock directory is the user's alone: one with group or other access
// is closed to 0700, a symbolic link to a directory or a lock file that is
// a symbolic link is refused, and so (unix, as root) is a directory another
// user owns, such as one planted in a shared /tmp.
func TestLockDirIsPrivate(t *testing.T) {
	base := t.TempDir()
	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	t.Setenv(LockDirEnv, open)
	unlock, err := LockKey(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if fi, err := os.Stat(open); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("lock directory mode %v (%v), want 0700", fi.Mode().Perm(), err)
	}
	entries, _ := os.ReadDir(open)
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
			t.Errorf("lock file %s mode %v, want 0600", e.Name(), fi.Mode().Perm())
		}
	}

	link := filepath.Join(base, "link")
	if err := os.Symlink(open, link); err != nil {
		t.Skip("no symbolic links:", err)
	}
	t.Setenv(LockDirEnv, link)
	if u, err := LockKey(context.Background(), "k"); err == nil {
		u()
		t.Error("a symbolic link as the lock directory was used")
	}

	victim := filepath.Join(base, "victim")
	if err := os.WriteFile(victim, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("planted"))
	if err := os.Symlink(victim, filepath.Join(open, hex.EncodeToString(sum[:16])+".lock")); err != nil {
		t.Fatal(err)
	}
	t.Setenv(LockDirEnv, open)
	if u, err := LockKey(context.Background(), "planted"); err == nil {
		u()
		t.Error("a symbolic link as the lock file was followed")
	}

	if runtime.GOOS == "windows" || os.Geteuid() != 0 {
		return
	}
	foreign := filepath.Join(base, "foreign")
	if err := os.Mkdir(foreign, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(foreign, 65534, 65534); err != nil {
		t.Skip("chown:", err)
	}
	t.Setenv(LockDirEnv, foreign)
	if u, err := LockKey(context.Background(), "k"); err == nil {
		u()
		t.Error("a directory of another user was used")
	}
}
