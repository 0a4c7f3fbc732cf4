package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"infino.legal/mailbox/mailcfg"
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

// EnvPath names the environment variable that points at a policy file,
// overriding the machine-wide location.
const EnvPath = "INFINO_MAILBOX_POLICY"

// FilePath is the one answer to "which policy file": the file EnvPath names
// when getenv gives a non-empty value (explicit: it must exist), else
// MachinePath(). getenv nil means os.Getenv. Load reads this file, and
// messages that tell IT where to put a setting name it.
func FilePath(getenv func(string) string) (path string, explicit bool) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if p := getenv(EnvPath); p != "" {
		return p, true
	}
	return MachinePath(), false
}

// FileSource is the JSON policy file of FilePath(os.Getenv).
func FileSource() Source {
	return JSONFileSource(FilePath(os.Getenv))
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
	// The firm's provider entry spans several keys, possibly from several
	// sources: check it as a whole once they are merged.
	if _, err := p.FirmProvider(); err != nil {
		errs = append(errs, err)
	}
	return p, errors.Join(errs...)
}

// PlistID is the preference domain of macOS managed preferences: the app's
// bundle id, which MDM profiles name.
const PlistID = mailcfg.AppID

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

// MaxFileSize bounds a policy file.
const MaxFileSize = 1 << 20

// ParseJSON flattens a JSON policy document into dotted keys. Nested objects
// ({"microsoft": {"clientId": …}}) and dotted names ("microsoft.clientId")
// are both accepted.
func ParseJSON(source string, data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, &Error{Source: source, Problem: "not valid JSON: " + err.Error()}
	}
	// More() is false before a stray "}" or "]", so ask for the end itself.
	if _, err := dec.Token(); err != io.EOF {
		return nil, &Error{Source: source, Problem: "unexpected data after the JSON object"}
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, &Error{Source: source, Problem: "must be a JSON object"}
	}
	return flatten(obj), nil
}

// flatten turns nested objects into dotted names.
func flatten(obj map[string]any) map[string]any {
	flat := map[string]any{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			name := prefix + k
			if sub, ok := v.(map[string]any); ok {
				walk(name+".", sub)
				continue
			}
			flat[name] = v
		}
	}
	walk("", obj)
	return flat
}

// MachinePath is the machine-wide policy file for this OS.
func MachinePath() string {
	switch runtime.GOOS {
	case "windows":
		pd := os.Getenv("ProgramData")
		if pd == "" {
			pd = `C:\ProgramData`
		}
		return filepath.Join(pd, "Infino", "Mailbox", "policy.json")
	case "darwin":
		return "/Library/Application Support/Infino/Mailbox/policy.json"
	default:
		return "/etc/infino-mailbox/policy.json"
	}
}

func readJSONFile(path string) (map[string]any, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return ParseJSON(path, data)
}

// readFile reads a policy file of at most MaxFileSize bytes; a missing file
// is an error that matches os.ErrNotExist.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxFileSize+1)); err != nil {
		return nil, &Error{Source: path, Problem: err.Error()}
	}
	if buf.Len() > MaxFileSize {
		return nil, &Error{Source: path, Problem: "file is larger than 1 MiB"}
	}
	return buf.Bytes(), nil
}
