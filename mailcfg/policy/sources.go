package policy

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Source is one place a policy can come from.
type Source struct {
	// Name is shown as the origin of the values it sets: a file path or a
	// registry key.
	Name string
	// Scope is "machine" or "user" (for people; the order of the sources is
	// what decides).
	Scope string
	// Required: a missing source is an error (a file named by
	// INFINO_MAILBOX_POLICY), not just skipped.
	Required bool
	// Read returns the source's flat key/value pairs; an error matching
	// fs.ErrNotExist when the source is absent.
	Read func() (map[string]any, error)
}

// SourceInfo records what Load found in one source.
type SourceInfo struct {
	Name   string `json:"name"`
	Scope  string `json:"scope"`
	Found  bool   `json:"found"`
	Values int    `json:"values"` // how many keys it set
}

// Load reads the policy from this OS's sources, lowest priority first (see
// Sources). On error the returned policy still holds the defaults and every
// good value.
func Load() (Policy, error) {
	return LoadSources(Sources())
}

// Sources lists this OS's policy sources, lowest priority first:
//
//  1. the JSON file: the one named by INFINO_MAILBOX_POLICY (which must
//     exist), else MachinePath() if present;
//  2. the user's managed policy: HKCU\SOFTWARE\Policies\Infino\Mailbox on
//     Windows, /Library/Managed Preferences/<user>/legal.infino.mailbox.plist
//     on macOS;
//  3. the machine's managed policy: HKLM\SOFTWARE\Policies\Infino\Mailbox on
//     Windows, /Library/Managed Preferences/legal.infino.mailbox.plist on
//     macOS.
//
// The managed sources (writable only by administrators and MDM/GPO) come
// last so that they win over the file, which on Windows lives under
// %ProgramData% where users can create files.
func Sources() []Source {
	return append([]Source{FileSource()}, osSources()...)
}

// osSources is systemSources; the tests replace it so that they never read
// the policy of the machine they run on.
var osSources = systemSources

// FileSource is the JSON policy file: INFINO_MAILBOX_POLICY or MachinePath.
func FileSource() Source {
	path, explicit := os.LookupEnv(EnvPath)
	if !explicit || path == "" {
		path, explicit = MachinePath(), false
	}
	return JSONFileSource(path, explicit)
}

// JSONFileSource reads one JSON policy file.
func JSONFileSource(path string, required bool) Source {
	return Source{Name: path, Scope: "machine", Required: required,
		Read: func() (map[string]any, error) { return readJSONFile(path) }}
}

// LoadSources applies the sources in order over the defaults: a later
// source wins over an earlier one, key by key.
func LoadSources(srcs []Source) (Policy, error) {
	p := Default()
	var errs []error
	for _, s := range srcs {
		info := SourceInfo{Name: s.Name, Scope: s.Scope}
		values, err := s.Read()
		if err != nil && errors.Is(err, fs.ErrNotExist) && !s.Required {
			p.Sources = append(p.Sources, info)
			continue
		}
		if err != nil {
			errs = append(errs, err)
		}
		if values != nil {
			info.Found = true
			if err := p.Set(s.Name, values); err != nil {
				errs = append(errs, err)
			}
			for _, o := range p.Origin {
				if o == s.Name {
					info.Values++
				}
			}
		}
		p.Sources = append(p.Sources, info)
	}
	return p, errors.Join(errs...)
}

// PlistID is the preference domain (bundle id) of macOS managed preferences.
const PlistID = "legal.infino.mailbox"

// ManagedPrefsDir is where macOS writes the preferences MDM profiles manage.
const ManagedPrefsDir = "/Library/Managed Preferences"

// ManagedPrefsSources are macOS's managed preference files under root
// (ManagedPrefsDir in production, a test directory in tests): the user's
// (root/<user>/legal.infino.mailbox.plist) then the device's
// (root/legal.infino.mailbox.plist), so the device wins.
func ManagedPrefsSources(root, user string) []Source {
	var out []Source
	if user != "" {
		out = append(out, PlistSource(filepath.Join(root, user, PlistID+".plist"), "user"))
	}
	return append(out, PlistSource(filepath.Join(root, PlistID+".plist"), "machine"))
}

// PlistSource reads one property list file (XML, binary or OpenStep).
func PlistSource(path, scope string) Source {
	return Source{Name: path, Scope: scope, Read: func() (map[string]any, error) {
		data, err := readFile(path)
		if err != nil {
			return nil, err
		}
		return ParsePlist(path, data)
	}}
}

// errNotExist marks an absent source.
var errNotExist = fs.ErrNotExist

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
