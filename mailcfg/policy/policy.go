// Package policy reads the settings firm IT presets for Infino Mailbox: the
// Infino URL, the Microsoft sign-in registration, what users may do, and how
// the app reaches the network (proxy, extra CA). Every source — the JSON policy
// file, the Windows registry (HKCU and HKLM Policies keys) and macOS managed
// preferences (user and device) — feeds the same keys, merged machine over
// user, and every unknown key or bad value is reported by name rather than
// ignored.
package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"infino.legal/mailbox/mailcfg/urlcheck"
)

// Policy is the merged configuration. The zero value is not useful; start
// from Default().
type Policy struct {
	InfinoURL string    `json:"infinoUrl,omitempty"`
	Infino    Infino    `json:"infino"`
	Microsoft Microsoft `json:"microsoft"`
	// OAuth is the registration of the app at each other mail provider
	// whose sign-in it offers (oauth.<id>.clientId, …), by OAuth provider
	// id ("google", "yahoo", "aol", "fastmail"). Microsoft's lives in
	// Microsoft (oauth.microsoft.* are other names for microsoft.*); use
	// Client to read either.
	OAuth map[string]OAuthClient `json:"oauth,omitempty"`
	// AllowManual is true when "manual" is in AllowedMethods; the key
	// allowManual is kept as a shorthand for adding or removing it.
	AllowManual   bool `json:"allowManual"`
	AllowInsecure bool `json:"allowInsecure"`
	// LockServerSettings: what IT preset (every key whose origin is not
	// "default", see Locked) cannot be changed in the app.
	LockServerSettings bool `json:"lockServerSettings"`
	// AllowedMethods are the ways in the app offers: MethodMicrosoft,
	// MethodManual. Never empty.
	AllowedMethods []string `json:"allowedMethods"`
	// ProxyURL is the proxy for the app's HTTP(S) requests: an http://,
	// https:// or socks5:// URL, or "direct" for none; empty: the environment
	// (HTTPS_PROXY, NO_PROXY) and then the system proxy. See mailcfg/netconf.
	ProxyURL string `json:"proxyUrl,omitempty"`
	// ExtraCAFile is a PEM file of CA certificates trusted in addition to
	// the system roots.
	ExtraCAFile string `json:"extraCaFile,omitempty"`
	// Language is "pl" or "en"; empty: follow the system.
	Language string `json:"language,omitempty"`
	// Firm is the firm's own provider entry (see FirmProvider).
	Firm FirmProvider `json:"firmProvider"`

	// Origin tells, per key, where its value came from ("default" or a
	// source name such as a file path or a registry key).
	Origin map[string]string `json:"-"`
	// Sources lists the sources Load consulted, lowest priority first.
	Sources []SourceInfo `json:"-"`
}

// Microsoft is the app registration used for "Sign in with Microsoft".
type Microsoft struct {
	ClientID  string `json:"clientId,omitempty"`
	Tenant    string `json:"tenant"`
	Authority string `json:"authority"`
}

// OAuthClient is the app's registration at one mail provider.
type OAuthClient struct {
	ClientID string `json:"clientId,omitempty"`
	// ClientSecret is the non-confidential secret some providers give
	// desktop clients (Google "Desktop app" clients). It identifies the app,
	// not a person, and ships in every installed copy.
	ClientSecret string `json:"clientSecret,omitempty"`
	// Authority replaces the provider's sign-in server (a staging or test
	// identity provider): https, or http to loopback only.
	Authority string `json:"authority,omitempty"`
	// Tenant is Microsoft's tenant (microsoft.tenant).
	Tenant string `json:"tenant,omitempty"`
}

// Client is the registration at an OAuth provider: Microsoft's from the
// microsoft section, the others' from OAuth.
func (p *Policy) Client(id string) OAuthClient {
	if id == MethodMicrosoft {
		return OAuthClient{ClientID: p.Microsoft.ClientID, Authority: p.Microsoft.Authority, Tenant: p.Microsoft.Tenant}
	}
	return p.OAuth[id]
}

// Infino is the app's registration at the Infino authorization server.
type Infino struct {
	ClientID string `json:"clientId"`
}

// The ways in that allowedMethods can list: the sign-in of each OAuth
// provider by its id, and the manual form.
const (
	MethodMicrosoft = "microsoft"
	MethodGoogle    = "google"
	MethodManual    = "manual"
)

// Methods lists every method allowedMethods accepts, in display order.
var Methods = []string{MethodMicrosoft, MethodGoogle, "yahoo", "aol", "fastmail", MethodManual}

// ProxyDirect is the proxyUrl value that turns every proxy off.
const ProxyDirect = "direct"

// Default is the policy when IT set nothing.
func Default() Policy {
	p := Policy{
		Infino:         Infino{ClientID: "infino-mailbox"},
		Microsoft:      Microsoft{Tenant: "common", Authority: "https://login.microsoftonline.com"},
		AllowManual:    true,
		AllowedMethods: append([]string(nil), Methods...),
		Origin:         map[string]string{},
	}
	for _, k := range keys {
		p.Origin[k.name] = "default"
	}
	return p
}

// Allows reports whether the policy lets the user take a way in
// (MethodMicrosoft or MethodManual).
func (p *Policy) Allows(method string) bool {
	return contains(p.AllowedMethods, method)
}

// Preset reports whether a key was set by a policy source (not left at its
// default).
func (p *Policy) Preset(name string) bool {
	o, ok := p.Origin[name]
	return ok && o != "default"
}

// Locked reports whether the user may not change the setting behind a key:
// lockServerSettings is on and IT preset the key.
func (p *Policy) Locked(name string) bool {
	return p.LockServerSettings && p.Preset(name)
}

type kind int

const (
	kString kind = iota
	kBool
	kList // a list of strings
)

func (k kind) String() string {
	switch k {
	case kBool:
		return "bool"
	case kList:
		return "list"
	}
	return "string"
}

type key struct {
	name string
	kind kind
	// check validates a string, or one element of a list (nil: any
	// non-empty value); it may return the value normalised.
	check func(string) (string, error)
	set   func(*Policy, any)
	get   func(*Policy) any
	// linked names a key whose value this one changes too (their origins
	// move together).
	linked string
	// For the documentation and the installer: the MSI public property
	// that writes this key, and an example value.
	msi     string
	example string
	// secret: Display never shows the value (a client secret, even a
	// non-confidential one, stays out of output people paste into tickets).
	secret bool
}

// keys is the one list of everything a policy may say.
var keys = []key{
	{name: "infinoUrl", kind: kString, check: checkInfinoURL, msi: "INFINOURL", example: "https://kancelaria.infino.legal",
		set: func(p *Policy, v any) { p.InfinoURL = strings.TrimRight(v.(string), "/") }, get: func(p *Policy) any { return p.InfinoURL }},
	{name: "infino.clientId", kind: kString, check: checkClientID, msi: "INFINOCLIENTID", example: "infino-mailbox",
		set: func(p *Policy, v any) { p.Infino.ClientID = v.(string) }, get: func(p *Policy) any { return p.Infino.ClientID }},
	{name: "microsoft.clientId", kind: kString, check: checkClientID, msi: "MSCLIENTID", example: "11111111-2222-3333-4444-555555555555",
		set: func(p *Policy, v any) { p.Microsoft.ClientID = v.(string) }, get: func(p *Policy) any { return p.Microsoft.ClientID }},
	{name: "microsoft.tenant", kind: kString, check: checkTenant, msi: "MSTENANT", example: "kancelaria.onmicrosoft.com",
		set: func(p *Policy, v any) { p.Microsoft.Tenant = v.(string) }, get: func(p *Policy) any { return p.Microsoft.Tenant }},
	{name: "microsoft.authority", kind: kString, check: checkHTTPSURL, msi: "MSAUTHORITY", example: "https://login.microsoftonline.com",
		set: func(p *Policy, v any) { p.Microsoft.Authority = strings.TrimRight(v.(string), "/") }, get: func(p *Policy) any { return p.Microsoft.Authority }},
	{name: "oauth.microsoft.clientId", kind: kString, check: checkClientID, linked: "microsoft.clientId", msi: "OAUTHMICROSOFTCLIENTID", example: "11111111-2222-3333-4444-555555555555",
		set: func(p *Policy, v any) { p.Microsoft.ClientID = v.(string) }, get: func(p *Policy) any { return p.Microsoft.ClientID }},
	{name: "oauth.microsoft.authority", kind: kString, check: checkHTTPSURL, linked: "microsoft.authority", msi: "OAUTHMICROSOFTAUTHORITY", example: "https://login.microsoftonline.com",
		set: func(p *Policy, v any) { p.Microsoft.Authority = strings.TrimRight(v.(string), "/") }, get: func(p *Policy) any { return p.Microsoft.Authority }},
	oauthKey("google", "clientId", "123456789012-abcdefghijklmnopqrstuvwxyz012345.apps.googleusercontent.com"),
	oauthKey("google", "clientSecret", "GOCSPX-AbCdEfGhIjKlMnOpQrStUvWxYz01"),
	oauthKey("google", "authority", "https://accounts.google.com"),
	oauthKey("yahoo", "clientId", "dj0yJmk9QWJDZEVmR2hJaktsJmQ9WVdrOWNtRnVaRzl0Sm5BOU1BLS0-"),
	oauthKey("yahoo", "clientSecret", "0123456789abcdef0123456789abcdef01234567"),
	oauthKey("yahoo", "authority", "https://api.login.yahoo.com"),
	oauthKey("aol", "clientId", "dj0yJmk9QWJDZEVmR2hJaktsJmQ9WVdrOWNtRnVaRzl0Sm5BOU1BLS0-"),
	oauthKey("aol", "clientSecret", "0123456789abcdef0123456789abcdef01234567"),
	oauthKey("aol", "authority", "https://api.login.aol.com"),
	oauthKey("fastmail", "clientId", "35c941ae"),
	oauthKey("fastmail", "authority", "https://api.fastmail.com"),
	{name: "allowedMethods", kind: kList, check: checkMethod, linked: "allowManual", msi: "ALLOWEDMETHODS", example: "microsoft",
		set: func(p *Policy, v any) {
			p.AllowedMethods = v.([]string)
			p.AllowManual = contains(p.AllowedMethods, MethodManual)
		}, get: func(p *Policy) any { return p.AllowedMethods }},
	{name: "allowManual", kind: kBool, linked: "allowedMethods", msi: "ALLOWMANUAL", example: "false",
		set: func(p *Policy, v any) {
			p.AllowManual = v.(bool)
			var m []string
			for _, x := range Methods {
				if (x == MethodManual && p.AllowManual) || (x != MethodManual && contains(p.AllowedMethods, x)) {
					m = append(m, x)
				}
			}
			if len(m) == 0 {
				// A weaker source allowed only "manual" and a stronger one
				// (the machine over the user) now forbids it: the stronger
				// one said nothing against the other ways in, and the app
				// must always offer one.
				for _, x := range Methods {
					if x != MethodManual {
						m = append(m, x)
					}
				}
			}
			p.AllowedMethods = m
		}, get: func(p *Policy) any { return p.AllowManual }},
	{name: "allowInsecure", kind: kBool, msi: "ALLOWINSECURE", example: "false",
		set: func(p *Policy, v any) { p.AllowInsecure = v.(bool) }, get: func(p *Policy) any { return p.AllowInsecure }},
	{name: "lockServerSettings", kind: kBool, msi: "LOCKSERVERSETTINGS", example: "true",
		set: func(p *Policy, v any) { p.LockServerSettings = v.(bool) }, get: func(p *Policy) any { return p.LockServerSettings }},
	{name: "proxyUrl", kind: kString, check: checkProxyURL, msi: "PROXYURL", example: "http://proxy.kancelaria.local:3128",
		set: func(p *Policy, v any) { p.ProxyURL = v.(string) }, get: func(p *Policy) any { return p.ProxyURL }},
	{name: "extraCaFile", kind: kString, check: checkAbsPath, msi: "EXTRACAFILE", example: `C:\ProgramData\Kancelaria\ca.pem`,
		set: func(p *Policy, v any) { p.ExtraCAFile = v.(string) }, get: func(p *Policy) any { return p.ExtraCAFile }},
	{name: "language", kind: kString, check: checkLanguage, msi: "LANGUAGE", example: "pl",
		set: func(p *Policy, v any) { p.Language = v.(string) }, get: func(p *Policy) any { return p.Language }},
	// The firm's own provider entry (firm.go).
	{name: "firmProvider.name", kind: kString, msi: "FIRMNAME", example: "Kancelaria Kowalski",
		set: func(p *Policy, v any) { p.Firm.Name = v.(string) }, get: func(p *Policy) any { return p.Firm.Name }},
	{name: "firmProvider.domains", kind: kList, check: checkDomain, msi: "FIRMDOMAINS", example: "kancelaria.pl",
		set: func(p *Policy, v any) { p.Firm.Domains = v.([]string) }, get: func(p *Policy) any { return p.Firm.Domains }},
	{name: "firmProvider.incoming", kind: kList, check: checkServerURL, msi: "FIRMINCOMING", example: "imaps://mail.kancelaria.pl:993",
		set: func(p *Policy, v any) { p.Firm.Incoming = v.([]string) }, get: func(p *Policy) any { return p.Firm.Incoming }},
	{name: "firmProvider.outgoing", kind: kList, check: checkServerURL, msi: "FIRMOUTGOING", example: "submissions://mail.kancelaria.pl:465",
		set: func(p *Policy, v any) { p.Firm.Outgoing = v.([]string) }, get: func(p *Policy) any { return p.Firm.Outgoing }},
	{name: "firmProvider.username", kind: kString, check: checkUsernameForm, msi: "FIRMUSERNAME", example: "address",
		set: func(p *Policy, v any) { p.Firm.Username = v.(string) }, get: func(p *Policy) any { return p.Firm.Username }},
	{name: "firmProvider.help.pl", kind: kString, msi: "FIRMHELPPL", example: "Login to adres e-mail; w razie problemów: it@kancelaria.pl",
		set: func(p *Policy, v any) { p.Firm.HelpPL = v.(string) }, get: func(p *Policy) any { return p.Firm.HelpPL }},
	{name: "firmProvider.help.en", kind: kString, msi: "FIRMHELPEN", example: "The login is your e-mail address; for help: it@kancelaria.pl",
		set: func(p *Policy, v any) { p.Firm.HelpEN = v.(string) }, get: func(p *Policy) any { return p.Firm.HelpEN }},
	{name: "firmProvider.helpUrl", kind: kString, check: checkHTTPSURL, msi: "FIRMHELPURL", example: "https://intranet.kancelaria.pl/poczta",
		set: func(p *Policy, v any) { p.Firm.HelpURL = v.(string) }, get: func(p *Policy) any { return p.Firm.HelpURL }},
}

// oauthKey is oauth.<id>.<field> of a provider other than Microsoft.
func oauthKey(id, field, example string) key {
	k := key{name: "oauth." + id + "." + field, kind: kString, example: example,
		msi: "OAUTH" + strings.ToUpper(id) + strings.ToUpper(field)}
	edit := func(p *Policy, f func(*OAuthClient)) {
		if p.OAuth == nil {
			p.OAuth = map[string]OAuthClient{}
		}
		c := p.OAuth[id]
		f(&c)
		p.OAuth[id] = c
	}
	switch field {
	case "clientId":
		k.check = checkClientID
		k.set = func(p *Policy, v any) { edit(p, func(c *OAuthClient) { c.ClientID = v.(string) }) }
		k.get = func(p *Policy) any { return p.OAuth[id].ClientID }
	case "clientSecret":
		k.secret = true
		k.check = checkClientSecret
		k.set = func(p *Policy, v any) { edit(p, func(c *OAuthClient) { c.ClientSecret = v.(string) }) }
		k.get = func(p *Policy) any { return p.OAuth[id].ClientSecret }
	case "authority":
		k.check = checkAuthority
		k.set = func(p *Policy, v any) {
			edit(p, func(c *OAuthClient) { c.Authority = strings.TrimRight(v.(string), "/") })
		}
		k.get = func(p *Policy) any { return p.OAuth[id].Authority }
	}
	return k
}

// Keys lists the names of every policy key.
func Keys() []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.name
	}
	return out
}

// KeyInfo describes one key for documentation, installers and tools.
type KeyInfo struct {
	Name        string `json:"name"`
	Type        string `json:"type"` // "string", "bool" or "list"
	Default     any    `json:"default"`
	Example     string `json:"example"`
	MSIProperty string `json:"msiProperty"`
}

// KeyInfos describes every key, in the order of Keys.
func KeyInfos() []KeyInfo {
	d := Default()
	out := make([]KeyInfo, len(keys))
	for i, k := range keys {
		out[i] = KeyInfo{Name: k.name, Type: k.kind.String(), Default: k.get(&d), Example: k.example, MSIProperty: k.msi}
	}
	return out
}

// Error is one problem with one key of one policy source.
type Error struct {
	Source  string // file path, registry key or other source name
	Key     string
	Problem string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("policy %s: %s", e.Source, e.Problem)
	}
	return fmt.Sprintf("policy %s: key %q: %s", e.Source, e.Key, e.Problem)
}

// Set applies flat key/value pairs from one source. Values are strings,
// bools or lists of strings ([]any or []string) as the key wants them; every
// bad key or value is returned, and the good ones are applied.
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
	bad := func(n, problem string) { errs = append(errs, &Error{source, n, problem}) }
	for _, n := range names {
		v := values[n]
		k, ok := lookup(n)
		if !ok {
			bad(n, "unknown key (known keys: "+strings.Join(Keys(), ", ")+")")
			continue
		}
		switch k.kind {
		case kBool:
			b, ok := v.(bool)
			if !ok {
				bad(n, fmt.Sprintf("must be true or false, not %s", describe(v)))
				continue
			}
			k.set(p, b)
		case kString:
			s, ok := v.(string)
			if !ok {
				bad(n, fmt.Sprintf("must be a string, not %s", describe(v)))
				continue
			}
			s, err := checkString(k, s)
			if err != nil {
				bad(n, err.Error())
				continue
			}
			k.set(p, s)
		case kList:
			list, err := checkList(k, v)
			if err != nil {
				bad(n, err.Error())
				continue
			}
			k.set(p, list)
		}
		p.Origin[n] = source
		if k.linked != "" {
			p.Origin[k.linked] = source
		}
	}
	// allowManual and allowedMethods say the same thing twice; one source
	// must not contradict itself.
	if b, ok := values["allowManual"].(bool); ok {
		if _, listed := values["allowedMethods"]; listed && p.Origin["allowedMethods"] == source && b != p.Allows(MethodManual) {
			bad("allowManual", fmt.Sprintf("contradicts allowedMethods %q; set only allowedMethods", strings.Join(p.AllowedMethods, ",")))
		}
	}
	return errors.Join(errs...)
}

func checkString(k key, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("must not be empty")
	}
	if k.check != nil {
		return k.check(s)
	}
	return s, nil
}

func checkList(k key, v any) ([]string, error) {
	var items []string
	switch l := v.(type) {
	case []string:
		items = l
	case []any:
		for _, e := range l {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("must be a list of strings, and one element is %s", describe(e))
			}
			items = append(items, s)
		}
	default:
		return nil, fmt.Errorf("must be a list of strings, not %s", describe(v))
	}
	var out []string
	for _, e := range items {
		s, err := checkString(k, e)
		if err != nil {
			return nil, fmt.Errorf("element %q %v", strings.TrimSpace(e), err)
		}
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("must not be empty")
	}
	return out, nil
}

// Value returns the current value of a key (nil for an unknown key).
func (p *Policy) Value(name string) any {
	if k, ok := lookup(name); ok {
		return k.get(p)
	}
	return nil
}

// Display formats the value of a key for people: lists joined by commas,
// "(not set)" for an empty string, "(set)" for a client secret.
func (p *Policy) Display(name string) string {
	switch v := p.Value(name).(type) {
	case nil:
		return ""
	case string:
		if v == "" {
			return "(not set)"
		}
		if k, ok := lookup(canonical(name)); ok && k.secret {
			return "(set)"
		}
		return v
	case []string:
		return strings.Join(v, ",")
	default:
		return fmt.Sprint(v)
	}
}

// Shown is the policy as it may be printed (policy show --json): a copy in
// which every secret key that is set reads "(set)", as in Display, never
// its value. The policy itself is unchanged.
func (p Policy) Shown() Policy {
	q := p
	q.OAuth = maps.Clone(p.OAuth)
	for _, k := range keys {
		if !k.secret {
			continue
		}
		if s, ok := k.get(&q).(string); ok && s != "" {
			k.set(&q, "(set)")
		}
	}
	return q
}

func lookup(name string) (key, bool) {
	for _, k := range keys {
		if k.name == name {
			return k, true
		}
	}
	return key{}, false
}

// canonical returns the key name matching name case-insensitively, or name.
func canonical(name string) string {
	for _, k := range keys {
		if strings.EqualFold(k.name, name) {
			return k.name
		}
	}
	return name
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a true/false value"
	case string:
		return "a string"
	case float64, float32, json.Number, int, int64, uint64, int32, uint32:
		return "a number"
	case []any, []string:
		return "a list"
	case map[string]any:
		return "an object"
	case []byte:
		return "binary data"
	}
	return fmt.Sprintf("%T", v)
}

// The policy's patterns are compiled when a policy first needs them, not
// at start-up: a bounded repeat such as {0,254} compiles to hundreds of
// instructions (the three below take most of a millisecond and over half a
// megabyte that would stay in the heap of every process).
var (
	tenantRE   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]{0,254}$`) })
	clientIDRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,254}$`) })
)

func checkTenant(s string) (string, error) {
	if !tenantRE().MatchString(s) {
		return "", errors.New(`must be "common", "organizations", "consumers", a tenant id or a domain`)
	}
	return s, nil
}

func checkClientID(s string) (string, error) {
	if !clientIDRE().MatchString(s) {
		return "", errors.New("must be an application (client) id such as 00000000-0000-0000-0000-000000000000")
	}
	return s, nil
}

func checkHTTPSURL(s string) (string, error) {
	return s, urlcheck.Check(s, false)
}

// checkAuthority accepts an https URL, or http to loopback (a test
// identity provider on this machine).
func checkAuthority(s string) (string, error) {
	return s, urlcheck.Check(s, true)
}

var clientSecretRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\x21-\x7e]{1,255}$`) })

func checkClientSecret(s string) (string, error) {
	if !clientSecretRE().MatchString(s) {
		return "", errors.New("must be the client secret shown with the client id (printable characters, no spaces)")
	}
	return s, nil
}

func checkInfinoURL(s string) (string, error) {
	return s, urlcheck.Check(s, true)
}

func checkMethod(s string) (string, error) {
	s = strings.ToLower(s)
	if !contains(Methods, s) {
		return "", fmt.Errorf("must be one of %s", strings.Join(Methods, ", "))
	}
	return s, nil
}

func checkLanguage(s string) (string, error) {
	s = strings.ToLower(s)
	if s != "pl" && s != "en" {
		return "", errors.New(`must be "pl" or "en"`)
	}
	return s, nil
}

// checkAbsPath accepts an absolute path, in the syntax of Windows (C:\…,
// \\server\share\…) or of Unix (/…) whichever OS reads it, so that a policy
// can be checked anywhere.
func checkAbsPath(s string) (string, error) {
	if filepath.IsAbs(s) || strings.HasPrefix(s, "/") || winAbsRE().MatchString(s) {
		return s, nil
	}
	return "", errors.New(`must be an absolute path such as C:\ProgramData\Kancelaria\ca.pem or /etc/ssl/kancelaria-ca.pem`)
}

var winAbsRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([A-Za-z]:[\\/]|\\\\[^\\]+\\[^\\]+)`) })

// checkProxyURL accepts "direct" or an http, https or socks5 proxy URL
// without credentials (authenticating proxies are not supported), path,
// query or fragment.
func checkProxyURL(s string) (string, error) {
	if strings.EqualFold(s, ProxyDirect) {
		return ProxyDirect, nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", errors.New(`must be "direct" or a proxy URL such as http://proxy.kancelaria.local:3128`)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "socks5", "socks5h":
	default:
		return "", errors.New("must use http://, https:// or socks5://")
	}
	if u.User != nil {
		return "", errors.New("must not contain a user name or password (proxies that ask for credentials are not supported)")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("must be only scheme://host:port")
	}
	return strings.TrimRight(s, "/"), nil
}
