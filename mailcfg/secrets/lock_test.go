package secrets

import (
	"context"
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
