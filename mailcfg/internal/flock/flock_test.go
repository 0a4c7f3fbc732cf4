package flock

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

const poll = 5 * time.Millisecond

// The lock excludes a second holder (the lock belongs to the open file, so
// this holds across goroutines as across processes) until it is released,
// a waiter gives up with its context, and another file is not blocked.
func TestLockExcludesUntilUnlocked(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.lock")
	ctx := context.Background()
	unlock, err := Lock(ctx, path, poll)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := Lock(short, path, poll); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second holder: %v, want the context's end", err)
	}
	other, err := Lock(ctx, filepath.Join(dir, "b.lock"), poll)
	if err != nil {
		t.Fatal("another file is blocked:", err)
	}
	other()
	got := make(chan func(), 1)
	go func() {
		u, err := Lock(ctx, path, poll)
		if err != nil {
			t.Error(err)
		}
		got <- u
	}()
	unlock()
	if u := <-got; u != nil {
		u()
	}
}

// A file that cannot be created is an error at once, not a wait.
func TestLockUnopenableFile(t *testing.T) {
	if _, err := Lock(context.Background(), filepath.Join(t.TempDir(), "missing", "x.lock"), poll); err == nil {
		t.Fatal("locked a file in a directory that does not exist")
	}
}

// helperEnv names the lock file a child process of this test binary holds
// until it is killed.
const helperEnv = "FLOCK_TEST_HOLD"

// A lock held by another process excludes this one, and the OS drops it
// when that process is killed, without an unlock.
func TestLockAcrossProcessesReleasedWhenTheHolderDies(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldLock$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// The child waits on its stdin, which stays open until it is killed.
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("child: %q, %v", line, err)
	}
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Lock(short, path, poll); err == nil {
		t.Fatal("got the lock another process holds")
	}
	cmd.Process.Kill()
	cmd.Wait()
	ctx, cancel2 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel2()
	unlock, err := Lock(ctx, path, poll)
	if err != nil {
		t.Fatal("the dead holder's lock was not released:", err)
	}
	unlock()
}

// TestHelperHoldLock is the child of the test above: it takes the lock,
// says so and waits (on its stdin) to be killed.
func TestHelperHoldLock(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("only as the child of TestLockAcrossProcessesReleasedWhenTheHolderDies")
	}
	if _, err := Lock(context.Background(), path, poll); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin)
	os.Exit(1) // the parent closed stdin without killing: not a pass
}
