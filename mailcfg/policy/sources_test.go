package policy

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// The tests never read the policy of the machine they run on.
func TestMain(m *testing.M) {
	osSources = func() []Source { return nil }
	os.Exit(m.Run())
}

// tempDir is t.TempDir, but a failed clean-up is not a test failure: under
// Wine 8, Go's RemoveAll fails with "Invalid function".
func tempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "policy-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func TestNewKeysDefaults(t *testing.T) {
	p := Default()
	if p.LockServerSettings || p.ProxyURL != "" || p.ExtraCAFile != "" || p.Language != "" {
		t.Fatalf("defaults: %+v", p)
	}
	if !reflect.DeepEqual(p.AllowedMethods, Methods) || !p.Allows(MethodManual) || !p.Allows(MethodMicrosoft) || !p.Allows(MethodGoogle) {
		t.Fatalf("allowedMethods default: %v", p.AllowedMethods)
	}
	if p.Display("proxyUrl") != "(not set)" || p.Display("allowedMethods") != "microsoft,google,yahoo,aol,fastmail,manual" || p.Display("allowManual") != "true" {
		t.Fatalf("display: %q %q", p.Display("proxyUrl"), p.Display("allowedMethods"))
	}
	for _, k := range KeyInfos() {
		if k.MSIProperty == "" || k.Example == "" || k.Type == "" {
			t.Errorf("key %s lacks documentation: %+v", k.Name, k)
		}
		// Every example must be accepted.
		q := Default()
		var v any = k.Example
		switch k.Type {
		case "bool":
			v = k.Example == "true"
		case "list":
			v = []any{k.Example}
		}
		if err := q.Set("doc", map[string]any{k.Name: v}); err != nil {
			t.Errorf("the documented example of %s is rejected: %v", k.Name, err)
		}
	}
}

func TestNewKeysValidation(t *testing.T) {
	good := map[string]any{
		"lockServerSettings": true,
		"allowedMethods":     []any{"Microsoft", "microsoft"},
		"proxyUrl":           "http://proxy.kancelaria.local:3128/",
		"extraCaFile":        `C:\ProgramData\Kancelaria\ca.pem`,
		"language":           "PL",
	}
	p := Default()
	if err := p.Set("src", good); err != nil {
		t.Fatal(err)
	}
	if !p.LockServerSettings || !reflect.DeepEqual(p.AllowedMethods, []string{"microsoft"}) || p.AllowManual ||
		p.ProxyURL != "http://proxy.kancelaria.local:3128" || p.Language != "pl" {
		t.Fatalf("set: %+v", p)
	}
	// allowedMethods moved allowManual, and its origin with it.
	if p.Origin["allowManual"] != "src" || !p.Locked("allowedMethods") || p.Locked("infinoUrl") {
		t.Fatalf("origin/locked: %v", p.Origin)
	}
	for _, s := range []string{"direct", "DIRECT", "socks5://127.0.0.1:1080", "https://proxy:8443"} {
		q := Default()
		if err := q.Set("s", map[string]any{"proxyUrl": s}); err != nil {
			t.Errorf("proxyUrl %q rejected: %v", s, err)
		}
	}
	if q := Default(); q.Set("s", map[string]any{"extraCaFile": "/etc/ssl/firm.pem"}) != nil || q.ExtraCAFile != "/etc/ssl/firm.pem" {
		t.Error("a Unix path was rejected")
	}
	bad := map[string]map[string]any{
		"allowedMethods": {"allowedMethods": []any{"manual", "pigeon"}},
		"empty list":     {"allowedMethods": []any{}},
		"list type":      {"allowedMethods": "manual"},
		"list element":   {"allowedMethods": []any{"manual", 3.0}},
		"proxy creds":    {"proxyUrl": "http://jan:haslo@proxy:3128"},
		"proxy scheme":   {"proxyUrl": "ftp://proxy:21"},
		"proxy path":     {"proxyUrl": "http://proxy:3128/wpad.dat"},
		"proxy no host":  {"proxyUrl": "proxy.kancelaria.local:3128"},
		"relative ca":    {"extraCaFile": `ca.pem`},
		"language":       {"language": "de"},
		"lock":           {"lockServerSettings": "yes"},
		"contradiction":  {"allowManual": true, "allowedMethods": []any{"microsoft"}},
	}
	for name, v := range bad {
		q := Default()
		if err := q.Set("s", v); err == nil {
			t.Errorf("%s: accepted %v", name, v)
		}
	}
}

func TestAllowManualShorthand(t *testing.T) {
	p := Default()
	if err := p.Set("file", map[string]any{"allowManual": false}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.AllowedMethods, Methods[:len(Methods)-1]) || p.Origin["allowedMethods"] != "file" {
		t.Fatalf("allowManual=false: %v %v", p.AllowedMethods, p.Origin)
	}
	// A later (machine) source puts manual back.
	if err := p.Set("HKLM", map[string]any{"allowManual": true}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.AllowedMethods, Methods) {
		t.Fatalf("allowManual=true: %v", p.AllowedMethods)
	}
	// Agreeing values in one source are fine.
	if err := p.Set("s", map[string]any{"allowManual": true, "allowedMethods": []string{"manual"}}); err != nil || p.Allows(MethodMicrosoft) {
		t.Fatalf("agreeing: %v %v", err, p.AllowedMethods)
	}
}

// The Windows registry reader's parsing, with the values a silent msiexec
// install and a GPO would write.
func TestParseRegistry(t *testing.T) {
	src := `HKLM\` + RegistryPath
	vals := []RegValue{
		{Name: "", Type: RegSZ, Str: "the default value is ignored"},
		{Name: "InfinoURL", Type: RegSZ, Str: "https://kancelaria.infino.legal"},
		{Name: "microsoft.clientId", Type: RegSZ, Str: "11111111-2222-3333-4444-555555555555"},
		{Name: "microsoft.tenant", Type: RegSZ, Str: ""}, // MSI property not given
		{Name: "lockServerSettings", Type: RegSZ, Str: "1"},
		{Name: "allowInsecure", Type: RegDWord, Int: 0},
		{Name: "allowedMethods", Type: RegSZ, Str: "microsoft; manual"},
		{Name: "extraCaFile", Type: RegExpandSZ, Str: `C:\ProgramData\Kancelaria\ca.pem`},
		{Name: "language", Type: RegMultiSZ, Strs: []string{"pl"}},
	}
	flat, err := ParseRegistry(src, vals)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"infinoUrl":          "https://kancelaria.infino.legal",
		"microsoft.clientId": "11111111-2222-3333-4444-555555555555",
		"lockServerSettings": true,
		"allowInsecure":      false,
		"allowedMethods":     []any{"microsoft", "manual"},
		"extraCaFile":        `C:\ProgramData\Kancelaria\ca.pem`,
		"language":           "pl",
	}
	if !reflect.DeepEqual(flat, want) {
		t.Fatalf("parsed\n%#v\nwant\n%#v", flat, want)
	}
	p := Default()
	if err := p.Set(src, flat); err != nil {
		t.Fatal(err)
	}
	if p.Origin["infinoUrl"] != src || p.Origin["microsoft.tenant"] != "default" || !p.LockServerSettings {
		t.Fatalf("applied: %+v", p)
	}

	// Bad values name the key; the good ones still parse.
	flat, err = ParseRegistry(src, []RegValue{
		{Name: "allowManual", Type: RegDWord, Int: 2},
		{Name: "lockServerSettings", Type: RegSZ, Str: "maybe"},
		{Name: "proxyUrl", Type: RegBinary},
		{Name: "allowedMethods", Type: RegMultiSZ, Strs: []string{"microsoft", ""}},
		{Name: "infinoUrl", Type: RegDWord, Int: 1},
	})
	for _, w := range []string{`"allowManual": must be 1 or 0`, `"lockServerSettings": must be 1 or 0`, `"proxyUrl": has registry type REG_BINARY`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error does not say %q: %v", w, err)
		}
	}
	if !reflect.DeepEqual(flat["allowedMethods"], []any{"microsoft"}) {
		t.Errorf("multi-string: %#v", flat["allowedMethods"])
	}
	q := Default()
	if err := q.Set(src, flat); err == nil || !strings.Contains(err.Error(), `"infinoUrl": must be a string, not a number`) {
		t.Errorf("a DWORD for a string key: %v", err)
	}
}

func TestParsePlistFixtures(t *testing.T) {
	// testdata/managed: the device file is a binary plist, the user's
	// (jan) an XML one, both written by Python's plistlib as macOS would.
	srcs := ManagedPrefsSources(filepath.Join("testdata", "managed"), "jan")
	p, err := LoadSources(srcs)
	if err != nil {
		t.Fatal(err)
	}
	device := filepath.Join("testdata", "managed", "legal.infino.mailbox.plist")
	user := filepath.Join("testdata", "managed", "jan", "legal.infino.mailbox.plist")
	// The device wins where both speak; the user's values fill the rest.
	if p.InfinoURL != "https://kancelaria.infino.legal" || p.Origin["infinoUrl"] != device {
		t.Errorf("infinoUrl %q from %q", p.InfinoURL, p.Origin["infinoUrl"])
	}
	if p.Microsoft.ClientID != "11111111-2222-3333-4444-555555555555" || p.Microsoft.Tenant != "kancelaria.onmicrosoft.com" ||
		!p.LockServerSettings || !reflect.DeepEqual(p.AllowedMethods, []string{"microsoft"}) || p.ProxyURL != "http://proxy.kancelaria.local:3128" {
		t.Errorf("device values: %+v", p)
	}
	if p.Language != "en" || p.Origin["language"] != user || p.ExtraCAFile != "/Library/Kancelaria/ca.pem" || !p.AllowInsecure {
		t.Errorf("user values: %+v %v", p, p.Origin)
	}
	if len(p.Sources) != 2 || !p.Sources[0].Found || p.Sources[0].Scope != "user" || p.Sources[1].Values != 7 {
		t.Errorf("sources: %+v", p.Sources)
	}

	// No user directory: only the device file.
	p, err = LoadSources(ManagedPrefsSources(filepath.Join("testdata", "managed"), "ewa"))
	if err != nil || p.Language != "" || p.Sources[0].Found {
		t.Errorf("missing user file: %v %+v", err, p.Sources)
	}

	// Bad values in a binary plist name their key.
	p, err = LoadSources([]Source{PlistSource(filepath.Join("testdata", "bad.plist"), "machine")})
	for _, w := range []string{`"allowManual": must be true or false, not a number`, `"language": must be "pl" or "en"`,
		`"colour": unknown key`, `"allowedMethods": element "pigeon" must be one of microsoft, google, yahoo, aol, fastmail, manual`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error does not say %q: %v", w, err)
		}
	}
	if p.Infino.ClientID != "ok-client" {
		t.Error("the good key of a bad plist was not applied")
	}

	for name, body := range map[string]string{"garbage": "\x00\x01not a plist", "array": `<plist><array><string>x</string></array></plist>`} {
		if _, err := ParsePlist(name, []byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestMergeOrderMachineOverUser(t *testing.T) {
	fake := func(name, scope string, v map[string]any, err error) Source {
		return Source{Name: name, Scope: scope, Read: func() (map[string]any, error) { return v, err }}
	}
	file := write(t, `{"infinoUrl":"https://file.infino.legal","language":"pl","proxyUrl":"direct"}`)
	p, err := LoadSources([]Source{
		JSONFileSource(file, false),
		fake(`HKCU\`+RegistryPath, "user", map[string]any{"infinoUrl": "https://user.infino.legal", "language": "en"}, nil),
		fake(`HKLM\`+RegistryPath, "machine", map[string]any{"infinoUrl": "https://machine.infino.legal"}, nil),
		fake("absent", "machine", nil, errNotExist),
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.InfinoURL != "https://machine.infino.legal" || p.Origin["infinoUrl"] != `HKLM\`+RegistryPath ||
		p.Language != "en" || p.Origin["language"] != `HKCU\`+RegistryPath || p.ProxyURL != "direct" || p.Origin["proxyUrl"] != file {
		t.Fatalf("merge: %+v", p)
	}
	if len(p.Sources) != 4 || p.Sources[3].Found || p.Sources[2].Values != 1 {
		t.Fatalf("sources: %+v", p.Sources)
	}
	// A missing JSON file that was not asked for is skipped; one named by
	// INFINO_MAILBOX_POLICY is an error.
	missing := filepath.Join(tempDir(t), "none.json")
	if _, err := LoadSources([]Source{JSONFileSource(missing, false)}); err != nil {
		t.Errorf("optional missing file: %v", err)
	}
	if _, err := LoadSources([]Source{JSONFileSource(missing, true)}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("required missing file: %v", err)
	}
	// A failing source is reported and the others still apply.
	p, err = LoadSources([]Source{fake("broken", "user", nil, os.ErrPermission), JSONFileSource(file, true)})
	if !errors.Is(err, os.ErrPermission) || p.Language != "pl" {
		t.Errorf("broken source: %v %+v", err, p)
	}
}

// The installer and the documentation cover every key.
func TestInstallerAndDocsCoverEveryKey(t *testing.T) {
	wxs, err := os.ReadFile(filepath.Join("..", "..", ".ci", "windows", "infino-mailbox.wxs"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "deployment.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range KeyInfos() {
		reg := `Name="` + k.Name + `" Type="string" Value="[` + k.MSIProperty + `]"`
		if !strings.Contains(string(wxs), reg) {
			t.Errorf("infino-mailbox.wxs lacks %s", reg)
		}
		if !strings.Contains(string(wxs), `<Property Id="`+k.MSIProperty+`"`) {
			t.Errorf("infino-mailbox.wxs lacks the property %s", k.MSIProperty)
		}
		// No default of the installer's own: an unset property writes an
		// empty value, which reads as "not set", so the code's default
		// (the one docs/deployment.md states) applies.
		if !strings.Contains(string(wxs), `<Property Id="`+k.MSIProperty+`" />`) {
			t.Errorf("infino-mailbox.wxs gives the property %s a value of its own", k.MSIProperty)
		}
		for _, w := range []string{"`" + k.Name + "`", "`" + k.MSIProperty + "`"} {
			if !strings.Contains(string(doc), w) {
				t.Errorf("docs/deployment.md does not mention %s", w)
			}
		}
	}
}

func FuzzParsePlist(f *testing.F) {
	for _, p := range []string{"testdata/bad.plist", "testdata/managed/legal.infino.mailbox.plist", "testdata/managed/jan/legal.infino.mailbox.plist"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		flat, err := ParsePlist("fuzz", data)
		if err != nil {
			return
		}
		p := Default()
		_ = p.Set("fuzz", flat)
		if len(p.AllowedMethods) == 0 {
			t.Fatal("allowedMethods became empty")
		}
		if p.ProxyURL != "" {
			if _, err := checkProxyURL(p.ProxyURL); err != nil {
				t.Fatalf("accepted bad proxyUrl %q", p.ProxyURL)
			}
		}
	})
}

// The policy file is the one the variable names, else the machine's; the
// source Load reads and the name messages give are that same file.
func TestFilePath(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if p, explicit := FilePath(getenv); p != MachinePath() || explicit {
		t.Errorf("unset: %q %v", p, explicit)
	}
	env[EnvPath] = ""
	if p, explicit := FilePath(getenv); p != MachinePath() || explicit {
		t.Errorf("empty: %q %v", p, explicit)
	}
	env[EnvPath] = "/srv/kancelaria/policy.json"
	if p, explicit := FilePath(getenv); p != "/srv/kancelaria/policy.json" || !explicit {
		t.Errorf("set: %q %v", p, explicit)
	}
	t.Setenv(EnvPath, "/srv/other.json")
	if p, _ := FilePath(nil); p != "/srv/other.json" {
		t.Errorf("nil getenv: %q", p)
	}
	if s := FileSource(); s.Name != "/srv/other.json" || !s.Required {
		t.Errorf("FileSource: %+v", s)
	}
}

// The provider registrations: oauth.<id>.* fill OAuth, nested or dotted;
// oauth.microsoft.* are other names for microsoft.*; authorities are https
// (http to loopback only) and secrets printable.
func TestOAuthKeys(t *testing.T) {
	flat, err := ParseJSON("f.json", []byte(`{"oauth": {"google": {"clientId": "1-abc.apps.googleusercontent.com", "clientSecret": "GOCSPX-x_y", "authority": "https://127.0.0.1:8443/"},
		"microsoft": {"clientId": "11111111-2222-3333-4444-555555555555"}}, "oauth.fastmail.clientId": "35c941ae"}`))
	if err != nil {
		t.Fatal(err)
	}
	p := Default()
	if err := p.Set("f.json", flat); err != nil {
		t.Fatal(err)
	}
	g := p.Client("google")
	if g.ClientID != "1-abc.apps.googleusercontent.com" || g.ClientSecret != "GOCSPX-x_y" || g.Authority != "https://127.0.0.1:8443" {
		t.Fatalf("google %+v", g)
	}
	if m := p.Client("microsoft"); m.ClientID != "11111111-2222-3333-4444-555555555555" || m.Tenant != "common" || p.Microsoft.ClientID != m.ClientID {
		t.Fatalf("microsoft %+v", m)
	}
	if p.Origin["microsoft.clientId"] != "f.json" || p.Client("fastmail").ClientID != "35c941ae" || p.Client("yahoo").ClientID != "" {
		t.Fatalf("origins %v %+v", p.Origin, p.OAuth)
	}
	for k, v := range map[string]any{
		"oauth.google.authority":      "http://accounts.google.com",
		"oauth.google.clientSecret":   "has space",
		"oauth.google.clientId":       "bad id!",
		"oauth.fastmail.clientSecret": "x",
		"oauth.nobody.clientId":       "x",
	} {
		q := Default()
		if err := q.Set("s", map[string]any{k: v}); err == nil {
			t.Errorf("%s=%v accepted", k, v)
		}
	}
	q := Default()
	if err := q.Set("s", map[string]any{"oauth.google.authority": "http://127.0.0.1:9"}); err != nil {
		t.Errorf("loopback http authority refused: %v", err)
	}
}

// The documented default of every key with a default value is the one the
// code applies (docs/deployment.md, section 1's table, third column), so
// that IT reads what the app does when a key is not set.
func TestDocsStateEveryDefault(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "deployment.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 5 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[1]), "`")
		if _, seen := rows[name]; !seen {
			rows[name] = strings.Trim(strings.TrimSpace(cells[3]), "`")
		}
	}
	for _, k := range KeyInfos() {
		var want string
		switch d := k.Default.(type) {
		case string:
			want = d
		case []string:
			want = strings.Join(d, ",")
		case bool:
			want = strconv.FormatBool(d)
		default:
			continue
		}
		got, ok := rows[k.Name]
		if !ok {
			t.Errorf("docs/deployment.md has no table row for %s", k.Name)
			continue
		}
		if want == "" {
			continue // "not set" or a described default
		}
		if got != want {
			t.Errorf("docs/deployment.md: %s defaults to %q, the code to %q", k.Name, got, want)
		}
	}
}
