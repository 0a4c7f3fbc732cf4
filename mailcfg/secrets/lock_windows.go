//go:build windows

package secrets

import (
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

func tryLock(f *os.File) (bool, error) {
	var ol windows.Overlapped
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return false, nil
	}
	return err == nil, err
}

func unlockFile(f *os.File) {
	var ol windows.Overlapped
	_ = windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, &ol)
}

// openLockFile opens (creating) a lock file. The directory is the user's
// local application data, which other users cannot enter.
func openLockFile(path string) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err == nil && !fi.Mode().IsRegular() {
		return nil, errors.New("the lock file is not a regular file")
	}
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}

// checkOwner: Windows directories under the user's profile carry the
// user's access control list; there is no owner id to compare here.
func checkOwner(fs.FileInfo) error { return nil }
