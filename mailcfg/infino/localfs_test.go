package infino_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"infino.legal/mailbox/internal/sandbox"
	"infino.legal/mailbox/mailcfg/infino"
)

// outboxFiles lists what is in the outbox directory besides the lock file.
func outboxFiles(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(filepath.Join(dir, "outbox"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		if de.Name() != ".lock" {
			out = append(out, de.Name())
		}
	}
	return out
}

// fullDiskAfter makes every file write after the first n fail with ENOSPC
// half-way through (half the bytes reach the file).
func fullDiskAfter(t *testing.T, n int32) {
	var writes atomic.Int32
	restore := infino.SetWriteData(func(f *os.File, data []byte) (int, error) {
		if writes.Add(1) <= n {
			return f.Write(data)
		}
		k, _ := f.Write(data[:len(data)/2])
		return k, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	})
	t.Cleanup(restore)
}

// No space for the entry: it is not half-written, its secret is not left
// in the keyring, and the message says that it could not be kept — not that
// the keyring failed, not that Infino refused.
func TestDiskFullNoEntry(t *testing.T) {
	e := newEnv(t)
	access, _ := e.sb.Infino.Mint()
	e.opts.Tokens = &staticTokens{tok: access}
	e.svc = infino.NewService(e.opts)
	fullDiskAfter(t, 0)
	e.down.Store(true)
	out := demoSubmit(e)
	wantState(t, out, infino.StateFailed)
	if out.Kind() != infino.KindLocalStorage || !strings.Contains(out.Message().In("en"), "not enough disk space") ||
		!strings.Contains(out.Message().In("pl"), "dość miejsca") {
		t.Fatalf("%s %+v (%v)", out.Kind(), out.Message(), out.Err)
	}
	if f := outboxFiles(t, e.dir); len(f) != 0 {
		t.Fatalf("left in the outbox: %v", f)
	}
	if k := outboxKeys(e.store); len(k) != 0 {
		t.Fatalf("secrets left: %v", k)
	}
	// Infino reachable: sent directly, nothing kept anywhere.
	e.down.Store(false)
	wantState(t, demoSubmit(e), infino.StateSent)
	if f, k := outboxFiles(t, e.dir), outboxKeys(e.store); len(f) != 0 || len(k) != 0 || e.sb.Infino.Count() != 1 {
		t.Fatalf("files %v, secrets %v, %d mailboxes", f, k, e.sb.Infino.Count())
	}
}

// Space for the entry but not for its bookkeeping: the entry is kept and
// sent, and the outcome says what really happened.
func TestDiskFullAfterTheEntry(t *testing.T) {
	e := newEnv(t)
	access, _ := e.sb.Infino.Mint()
	e.opts.Tokens = &staticTokens{tok: access}
	e.svc = infino.NewService(e.opts)
	fullDiskAfter(t, 2) // the marker and the entry fit
	out := demoSubmit(e)
	wantState(t, out, infino.StateSent)
	if f := outboxFiles(t, e.dir); len(f) != 0 || e.sb.Infino.Count() != 1 {
		t.Fatalf("left %v, %d mailboxes", f, e.sb.Infino.Count())
	}

	fullDiskAfter(t, 2)
	e.down.Store(true)
	s2, _ := e.sb.Settings("pelny@" + sandbox.DemoDomain)
	out = e.svc.Submit(e.ctx(), s2, infino.PasswordSecret("pw-pelny-1"), time.Now())
	wantState(t, out, infino.StateQueued)
	if out.Kind() != infino.KindUnavailable {
		t.Fatalf("%s (%v)", out.Kind(), out.Err)
	}
	e.down.Store(false)
	if s, _, _ := e.svc.Flush(e.ctx(), true).Counts(); s != 1 || e.sb.Infino.Count() != 2 {
		t.Fatalf("not delivered exactly once: %d mailboxes", e.sb.Infino.Count())
	}
}

// A real full disk: the config directory on a 64 KiB tmpfs filled up.
func TestDiskFullTmpfs(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("needs root on Linux to mount a tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	e := newEnv(t)
	access, _ := e.sb.Infino.Mint()
	e.opts.Tokens = &staticTokens{tok: access}
	e.opts.ConfigDir = dir
	e.svc = infino.NewService(e.opts)
	if err := os.MkdirAll(filepath.Join(dir, "outbox"), 0o700); err != nil {
		t.Fatal(err)
	}
	filler, _ := os.Create(filepath.Join(dir, "filler"))
	for {
		if _, err := filler.Write(make([]byte, 4096)); err != nil {
			break
		}
	}
	filler.Close()
	e.down.Store(true)
	out := demoSubmit(e)
	wantState(t, out, infino.StateFailed)
	if out.Kind() != infino.KindLocalStorage || !strings.Contains(out.Message().In("en"), "not enough disk space") {
		t.Fatalf("%s %+v (%v)", out.Kind(), out.Message(), out.Err)
	}
	if f := outboxFiles(t, dir); len(f) != 0 {
		t.Fatalf("half an entry left: %v", f)
	}
	if k := outboxKeys(e.store); len(k) != 0 {
		t.Fatalf("secrets left: %v", k)
	}
	t.Logf("tmpfs full: %v", out.Err)
}

// A kill between storing the secret and writing the entry (here the
// sending goroutine ends at the entry's write) leaves the secret in the
// keyring; the next flush (as at start-up) removes it under the lock.
func TestInterruptedAddSecretSwept(t *testing.T) {
	e := newEnv(t)
	access, _ := e.sb.Infino.Mint()
	e.opts.Tokens = &staticTokens{tok: access}
	e.svc = infino.NewService(e.opts)
	var writes atomic.Int32
	restore := infino.SetWriteData(func(f *os.File, data []byte) (int, error) {
		if writes.Add(1) == 2 { // the marker went through; the entry "crashes"
			runtime.Goexit()
		}
		return f.Write(data)
	})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		demoSubmit(e)
	}()
	wg.Wait()
	restore()
	if k := outboxKeys(e.store); len(k) != 1 {
		t.Fatalf("secrets after the crash: %v", k)
	}
	rep := infino.NewService(e.opts).Flush(e.ctx(), false)
	if rep.Swept != 1 || len(rep.Results) != 0 || len(rep.Problems) != 0 {
		t.Fatalf("%+v", rep)
	}
	if k, f := outboxKeys(e.store), outboxFiles(t, e.dir); len(k) != 0 || len(f) != 0 {
		t.Fatalf("left: secrets %v, files %v", k, f)
	}
	if e.sb.Infino.Count() != 0 {
		t.Fatal("sent")
	}
}

// A corrupt entry is reported by one flush, its secret removed; later
// flushes and lists are clean.
func TestCorruptEntryReportedOnce(t *testing.T) {
	e := newEnv(t)
	access, _ := e.sb.Infino.Mint()
	e.opts.Tokens = &staticTokens{tok: access}
	e.svc = infino.NewService(e.opts)
	e.down.Store(true)
	out := demoSubmit(e)
	wantState(t, out, infino.StateQueued)
	path := filepath.Join(e.dir, "outbox", out.EntryID+".json")
	if err := os.WriteFile(path, []byte(`{"v":1,"id":"`), 0o600); err != nil {
		t.Fatal(err)
	}
	e.down.Store(false)
	rep := e.svc.Flush(e.ctx(), true)
	if len(rep.Problems) != 1 || len(rep.Results) != 0 || rep.Err != nil {
		t.Fatalf("%+v", rep)
	}
	if k := outboxKeys(e.store); len(k) != 0 {
		t.Fatalf("secret of the corrupt entry left: %v", k)
	}
	rep = e.svc.Flush(e.ctx(), true)
	if len(rep.Problems) != 0 || rep.Err != nil {
		t.Fatalf("reported again: %+v", rep)
	}
	if _, p, err := e.svc.Pending(e.ctx()); len(p) != 0 || err != nil {
		t.Fatalf("%v %v", p, err)
	}
}

// A read-only config directory (a read-only mount: root ignores modes).
func TestReadOnlyConfigDir(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("needs root on Linux to mount a read-only tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	e := newEnv(t)
	access, _ := e.sb.Infino.Mint()
	e.opts.Tokens = &staticTokens{tok: access}
	e.opts.ConfigDir = dir
	e.svc = infino.NewService(e.opts)
	out := demoSubmit(e)
	wantState(t, out, infino.StateFailed)
	if out.Kind() != infino.KindLocalStorage || !strings.Contains(out.Message().In("en"), "read-only") || e.sb.Infino.Count() != 0 {
		t.Fatalf("%s %+v (%v)", out.Kind(), out.Message(), out.Err)
	}
	if rep := e.svc.Flush(e.ctx(), false); rep.Err != nil || len(rep.Results) != 0 {
		t.Fatalf("flush of a read-only, empty outbox: %+v", rep)
	}
}
