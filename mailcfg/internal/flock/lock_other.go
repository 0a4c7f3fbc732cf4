//go:build !unix && !windows

package flock

import "os"

// tryLock: without OS file locks only one process is assumed to use a
// locked file.
func tryLock(*os.File) (bool, error) { return true, nil }

func unlockFile(*os.File) error { return nil }

func openLockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}
