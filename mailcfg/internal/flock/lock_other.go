//go:build !unix && !windows

package flock

import "os"

// tryLock: without OS file locks only one process is assumed to use a
// locked file.
func tryLock(*os.File) (bool, error) { return true, nil }

func unlockFile(*os.File) error { return nil }
