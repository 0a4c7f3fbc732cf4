//go:build darwin

package policy

import (
	"os"
	"os/user"
)

// systemSources on macOS: the user's managed preferences, then the device's.
func systemSources() []Source {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	} else {
		name = os.Getenv("USER")
	}
	return ManagedPrefsSources(ManagedPrefsDir, name)
}
