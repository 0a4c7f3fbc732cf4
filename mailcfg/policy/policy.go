// Package policy reads the settings firm IT presets for Infino Mailbox: the
// Infino URL, the Microsoft sign-in registration and what users may do. Every
// source (the JSON policy file now; the Windows registry and macOS managed
// preferences later) feeds the same keys, and every unknown key or bad value is
// reported by name rather than ignored.
package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
)

// EnvPath names the environment variable that points at a policy file,
// overriding the machine-wide location.
const EnvPath = "INFINO_MAILBOX_POLICY"

// Policy is the merged configuration. The zero value is not useful; start
// from Default().
type Policy struct {
	InfinoURL     string    `json:"infinoUrl,omitempty"`
	Infino        Infino    `json:"infino"`
	Microsoft     Microsoft `json:"microsoft"`
	AllowManual   bool      `json:"allowManual"`
	AllowInsecure bool      `json:"allowInsecure"`

	// Origin tells, per key, where its value came from ("default" or a
	// source name such as a file path).
	Origin map[string]string `json:"-"`
}

// Microsoft is the app registration used for "Sign in with Microsoft".
type Microsoft struct {
	ClientID  string `json:"clientId,omitempty"`
	Tenant    string `json:"tenant"`
	Authority string `json:"authority"`
}

// Infino is the app's registration at the Infino authorization server.
type Infino struct {
	ClientID string `json:"clientId"`
}

// Default is the policy when IT set nothing.
func Default() Policy {
	p := Policy{
		Infino:      Infino{ClientID: "infino-mailbox"},
		Microsoft:   Microsoft{Tenant: "common", Authority: "https://login.microsoftonline.com"},
		AllowManual: true,
		Origin:      map[string]string{},
	}
	for _, k := range keys {
		p.Origin[k.name] = "default"
	}
	return p
}

type kind int

const (
	kString kind = iota
	kBool
)

type key struct {
	name  string
	kind  kind
	check func(string) error // for strings; nil: any non-empty value
	set   func(*Policy, any)
	get   func(*Policy) any
}

// keys is the one list of everything a policy may say.
var keys = []key{
	{"infinoUrl", kString, checkInfinoURL,
		func(p *Policy, v any) { p.InfinoURL = strings.TrimRight(v.(string), "/") }, func(p *Policy) any { return p.InfinoURL }},
	{"infino.clientId", kString, checkClientID,
		func(p *Policy, v any) { p.Infino.ClientID = v.(string) }, func(p *Policy) any { return p.Infino.ClientID }},
	{"microsoft.clientId", kString, checkClientID,
		func(p *Policy, v any) { p.Microsoft.ClientID = v.(string) }, func(p *Policy) any { return p.Microsoft.ClientID }},
	{"microsoft.tenant", kString, checkTenant,
		func(p *Policy, v any) { p.Microsoft.Tenant = v.(string) }, func(p *Policy) any { return p.Microsoft.Tenant }},
	{"microsoft.authority", kString, checkHTTPSURL,
		func(p *Policy, v any) { p.Microsoft.Authority = strings.TrimRight(v.(string), "/") }, func(p *Policy) any { return p.Microsoft.Authority }},
	{"allowManual", kBool, nil,
		func(p *Policy, v any) { p.AllowManual = v.(bool) }, func(p *Policy) any { return p.AllowManual }},
	{"allowInsecure", kBool, nil,
		func(p *Policy, v any) { p.AllowInsecure = v.(bool) }, func(p *Policy) any { return p.AllowInsecure }},
}

// Keys lists the names of every policy key.
func Keys() []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.name
	}
	return out
}

// Error is one problem with one key of one policy source.
type Error struct {
	Source  string // file path or other source name
	Key     string
	Problem string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("policy %s: %s", e.Source, e.Problem)
	}
	return fmt.Sprintf("policy %s: key %q: %s", e.Source, e.Key, e.Problem)
}

// Set applies flat key/value pairs from one source. Values are strings or
// bools as the key wants them; every bad key or value is returned, and the good
// ones are applied.
func (p *Policy) Set(source string, values map[string]any) error {
	if p.Origin == nil {
		p.Origin = map[string]string{}
	}
	var errs []error
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := values[n]
		k, ok := lookup(n)
		if !ok {
			errs = append(errs, &Error{source, n, "unknown key (known keys: " + strings.Join(Keys(), ", ") + ")"})
			continue
		}
		switch k.kind {
		case kBool:
			b, ok := v.(bool)
			if !ok {
				errs = append(errs, &Error{source, n, fmt.Sprintf("must be true or false, not %s", describe(v))})
				continue
			}
			k.set(p, b)
		case kString:
			s, ok := v.(string)
			if !ok {
				errs = append(errs, &Error{source, n, fmt.Sprintf("must be a string, not %s", describe(v))})
				continue
			}
			s = strings.TrimSpace(s)
			if s == "" {
				errs = append(errs, &Error{source, n, "must not be empty"})
				continue
			}
			if k.check != nil {
				if err := k.check(s); err != nil {
					errs = append(errs, &Error{source, n, err.Error()})
					continue
				}
			}
			k.set(p, s)
		}
		p.Origin[n] = source
	}
	return errors.Join(errs...)
}

// Value returns the current value of a key (nil for an unknown key).
func (p *Policy) Value(name string) any {
	if k, ok := lookup(name); ok {
		return k.get(p)
	}
	return nil
}

func lookup(name string) (key, bool) {
	for _, k := range keys {
		if k.name == name {
			return k, true
		}
	}
	return key{}, false
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a true/false value"
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

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
	if dec.More() {
		return nil, &Error{Source: source, Problem: "unexpected data after the JSON object"}
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, &Error{Source: source, Problem: "must be a JSON object"}
	}
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
	return flat, nil
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

// Load reads the policy: the file named by INFINO_MAILBOX_POLICY if set (it
// must exist), else the machine-wide file if present, over the defaults. On
// error the returned policy still holds the defaults and every good value.
func Load() (Policy, error) {
	p := Default()
	path, explicit := os.LookupEnv(EnvPath)
	if !explicit || path == "" {
		path, explicit = MachinePath(), false
	}
	err := p.LoadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return p, nil
	}
	return p, err
}

// LoadFile applies one JSON policy file.
func (p *Policy) LoadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxFileSize+1)); err != nil {
		return &Error{Source: path, Problem: err.Error()}
	}
	if buf.Len() > MaxFileSize {
		return &Error{Source: path, Problem: "file is larger than 1 MiB"}
	}
	flat, err := ParseJSON(path, buf.Bytes())
	if err != nil {
		return err
	}
	return p.Set(path, flat)
}

var (
	tenantRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]{0,254}$`)
	clientIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,254}$`)
)

func checkTenant(s string) error {
	if !tenantRE.MatchString(s) {
		return errors.New(`must be "common", "organizations", "consumers", a tenant id or a domain`)
	}
	return nil
}

func checkClientID(s string) error {
	if !clientIDRE.MatchString(s) {
		return errors.New("must be an application (client) id such as 00000000-0000-0000-0000-000000000000")
	}
	return nil
}

func checkHTTPSURL(s string) error {
	return CheckURL(s, false)
}

func checkInfinoURL(s string) error {
	return CheckURL(s, true)
}

// CheckURL accepts an absolute https URL without credentials, query or
// fragment; with loopbackHTTP, plain http is accepted only to a loopback
// address (tests and the demo).
func CheckURL(s string, loopbackHTTP bool) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return errors.New("must be an absolute URL such as https://example.com")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("must not contain a user name, query or fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if loopbackHTTP && IsLoopbackHost(u.Hostname()) {
			return nil
		}
	}
	return errors.New("must use https://")
}

// IsLoopbackHost reports whether a host name or address is this machine.
func IsLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
