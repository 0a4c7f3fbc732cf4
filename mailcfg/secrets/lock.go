package secrets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"infino.legal/mailbox/mailcfg/internal/flock"
)

// LockDirEnv names a directory for the cross-process locks instead of the
// user's cache directory (tests, sandboxed demos).
const LockDirEnv = "INFINO_MAILBOX_LOCK_DIR"

// lockPoll is how often a held lock is tried again.
const lockPoll = 10 * time.Millisecond

// LockKey takes the lock that every process of the app (the window, the
// command line, a second window) shares for one keyring key, waiting until
// it is free or ctx ends. Refresh-token rotation needs it: read the keyring,
// redeem, write the new token back, all under the lock, so that no process
// presents a token another one has already spent. The lock is an OS file
// lock (released by the OS if the process dies) on a file named after a
// hash of the key in the user's cache directory; the file holds nothing.
func LockKey(ctx context.Context, key string) (unlock func(), err error) {
	dir := os.Getenv(LockDirEnv)
	if dir == "" {
		if c, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(c, "infino-mailbox", "locks")
		} else {
			// No home directory (a service account): a per-user
			// directory in the system's temporary directory.
			dir = filepath.Join(os.TempDir(), "infino-mailbox-locks-"+strconv.Itoa(os.Getuid()))
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("secrets: lock directory: %w", err)
	}
	sum := sha256.Sum256([]byte(key))
	unlock, err = flock.Lock(ctx, filepath.Join(dir, hex.EncodeToString(sum[:16])+".lock"), lockPoll)
	if err != nil {
		if ctx.Err() != nil {
			return nil, errors.Join(errors.New("secrets: waiting for another process of the app"), err)
		}
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return unlock, nil
}
