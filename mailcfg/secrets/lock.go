package secrets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// LockDirEnv names a directory for the cross-process locks instead of the
// user's cache directory (tests, sandboxed demos).
const LockDirEnv = "INFINO_MAILBOX_LOCK_DIR"

// lockPoll is how often a held lock is tried again.
const lockPoll = 10 * time.Millisecond

// DefaultLockWait bounds how long LockKey waits for another process. A
// holder does one refresh: a token request (30 s at most) and a keyring
// read and write, each bounded too; a lock held longer belongs to a process
// that hangs.
const DefaultLockWait = 2 * time.Minute

// lockWait is DefaultLockWait; tests shorten it.
var lockWait = DefaultLockWait

// ErrBusy: another process of the app held the lock of a secret for longer
// than DefaultLockWait.
var ErrBusy = errors.New("another process of the app keeps the secret locked")

// LockKey takes the lock that every process of the app (the window, the
// command line, a second window) shares for one keyring key, waiting until
// it is free, ctx ends or DefaultLockWait passes (an *Error of kind
// ErrBusy). Refresh-token rotation needs it: read the keyring, redeem, write
// the new token back, all under the lock, so that no process presents a
// token another one has already spent. The lock is an OS file lock
// (released by the OS if the process dies) on a file named after a hash of
// the key, in a directory only this user may enter (0700, owned by the
// user, not a symbolic link): the user's cache directory, else the
// per-user runtime directory, else one in the system's temporary
// directory. The file holds nothing.
func LockKey(ctx context.Context, key string) (unlock func(), err error) {
	dir, err := lockDir()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(key))
	f, err := openLockFile(filepath.Join(dir, hex.EncodeToString(sum[:16])+".lock"))
	if err != nil {
		return nil, fmt.Errorf("secrets: lock file: %w", err)
	}
	limit := time.NewTimer(lockWait)
	defer limit.Stop()
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("secrets: lock: %w", err)
		}
		if ok {
			return func() { unlockFile(f); f.Close() }, nil
		}
		t := time.NewTimer(lockPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, errors.Join(errors.New("secrets: waiting for another process of the app"), ctx.Err())
		case <-limit.C:
			t.Stop()
			f.Close()
			return nil, &Error{Op: "lock", Key: key, Kind: ErrBusy, Timeout: lockWait}
		case <-t.C:
		}
	}
}

// lockDir is the directory of the lock files, created 0700 and checked.
func lockDir() (string, error) {
	dir := os.Getenv(LockDirEnv)
	if dir == "" {
		if c, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(c, "infino-mailbox", "locks")
		} else if r := os.Getenv("XDG_RUNTIME_DIR"); r != "" && filepath.IsAbs(r) {
			// No home directory (a service account): the per-user runtime
			// directory, which only the user can enter.
			dir = filepath.Join(r, "infino-mailbox-locks")
		} else {
			// Nor that: a per-user directory in the shared temporary
			// directory, which another user may have created first;
			// secureDir refuses it then.
			dir = filepath.Join(os.TempDir(), "infino-mailbox-locks-"+strconv.Itoa(os.Getuid()))
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("secrets: lock directory: %w", err)
	}
	if err := secureDir(dir); err != nil {
		return "", fmt.Errorf("secrets: lock directory %s: %w", dir, err)
	}
	return dir, nil
}

// secureDir checks that dir is a directory of this user's, not a symbolic
// link, and takes group and other access away from it.
func secureDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 || !fi.IsDir() {
		return errors.New("is not a plain directory")
	}
	if err := checkOwner(fi); err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return os.Chmod(dir, 0o700)
	}
	return nil
}
