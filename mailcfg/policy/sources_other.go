//go:build !windows && !darwin

package policy

// systemSources: Linux and the rest have only the JSON file.
func systemSources() []Source { return nil }
