// Package flock is the app's one cross-process file lock: an exclusive OS
// lock on a file (flock on Unix, LockFileEx on Windows) that the OS drops
// when the process ends, however it ends. The outbox and the keyring's
// refresh-token locks are both made of it.
package flock

import (
	"context"
	"fmt"
	"time"
)

// Lock opens (creating, mode 0600; never through a symbolic link) the file at path and takes an exclusive
// lock on it, trying again every poll until it is free or ctx ends; then
// the error is ctx.Err(). unlock releases the lock and closes the file.
// The lock belongs to the open file, so it excludes other goroutines of
// the same process that take it through Lock as it excludes other
// processes. The file holds nothing.
func Lock(ctx context.Context, path string, poll time.Duration) (unlock func(), err error) {
	f, err := openLockFile(path)
	if err != nil {
		return nil, err
	}
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if ok {
			return func() {
				_ = unlockFile(f)
				f.Close()
			}, nil
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}
