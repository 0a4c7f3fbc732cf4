package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"infino.legal/mailbox/mailcfg/urlcheck"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(tempDir(t), "policy.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	p := Default()
	if p.Microsoft.Tenant != "common" || p.Microsoft.Authority != "https://login.microsoftonline.com" ||
		!p.AllowManual || p.AllowInsecure || p.Infino.ClientID != "infino-mailbox" || p.Microsoft.ClientID != "" {
		t.Fatalf("defaults: %+v", p)
	}
	if p.Origin["microsoft.tenant"] != "default" {
		t.Fatalf("origin: %v", p.Origin)
	}
}

func TestLoadNestedAndDotted(t *testing.T) {
	path := write(t, `{"infinoUrl":"https://kancelaria.infino.legal/","microsoft":{"clientId":"11111111-2222-3333-4444-555555555555","tenant":"kancelaria.pl"},
		"microsoft.authority":"https://login.microsoftonline.us","allowManual":false,"allowInsecure":true}`)
	t.Setenv(EnvPath, path)
	p, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if p.InfinoURL != "https://kancelaria.infino.legal" || p.Microsoft.ClientID != "11111111-2222-3333-4444-555555555555" ||
		p.Microsoft.Tenant != "kancelaria.pl" || p.Microsoft.Authority != "https://login.microsoftonline.us" ||
		p.AllowManual || !p.AllowInsecure {
		t.Fatalf("loaded %+v", p)
	}
	if p.Origin["microsoft.clientId"] != path || p.Origin["infino.clientId"] != "default" {
		t.Fatalf("origin %v", p.Origin)
	}
}

// A bad policy is reported by key, every problem at once, and good keys still apply.
func TestBadPolicyNamesTheKey(t *testing.T) {
	path := write(t, `{"infinoUrl":"http://infino.example.com","microsoft":{"tenant":"", "clientid":"x"},"allowManual":"yes","allowInsecure":false,"proxy":1}`)
	t.Setenv(EnvPath, path)
	p, err := Load()
	if err == nil {
		t.Fatal("bad policy accepted")
	}
	msg := err.Error()
	for _, want := range []string{`"infinoUrl": must use https://`, `"microsoft.tenant": must not be empty`, `"microsoft.clientid": unknown key`,
		`"allowManual": must be true or false`, `"proxy": unknown key`, path} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not say %q:\n%s", want, msg)
		}
	}
	var pe *Error
	if !errors.As(err, &pe) {
		t.Errorf("not a *policy.Error: %T", err)
	}
	if p.Origin["allowInsecure"] != path {
		t.Errorf("the good key was not applied")
	}
}

func TestBrokenFiles(t *testing.T) {
	for name, body := range map[string]string{
		"not json":   `{"infinoUrl": `,
		"array":      `[]`,
		"two values": `{} {}`,
		"stray }":    `{"allowManual":true}}`,
		"stray ]":    `{"allowManual":true}]`,
	} {
		t.Setenv(EnvPath, write(t, body))
		if _, err := Load(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	t.Setenv(EnvPath, filepath.Join(tempDir(t), "missing.json"))
	if _, err := Load(); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an explicitly named missing file must be an error, got %v", err)
	}
}

func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`{"infinoUrl":"https://x.pl","microsoft":{"clientId":"a"}}`))
	f.Add([]byte(`{"a":{"b":{"c":[1,2,{"d":null}]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		flat, err := ParseJSON("fuzz", data)
		if err != nil {
			return
		}
		p := Default()
		_ = p.Set("fuzz", flat)
		if p.InfinoURL != "" && urlcheck.Check(p.InfinoURL, true) != nil {
			t.Fatalf("accepted bad infinoUrl %q", p.InfinoURL)
		}
	})
}

// The user's policy allows only manual set-up, the machine's forbids it: the
// machine wins, and the app still offers a way in.
func TestMachineForbidsTheOnlyMethodTheUserAllowed(t *testing.T) {
	p := Default()
	if err := p.Set("user", map[string]any{"allowedMethods": []string{"manual"}}); err != nil {
		t.Fatal(err)
	}
	if err := p.Set("machine", map[string]any{"allowManual": false}); err != nil {
		t.Fatal(err)
	}
	if p.Allows(MethodManual) || !p.Allows(MethodMicrosoft) || p.AllowManual {
		t.Fatalf("allowedMethods %v, allowManual %v", p.AllowedMethods, p.AllowManual)
	}
}

// A client secret is shown as set, never as its value (policy show).
func TestDisplayHidesClientSecrets(t *testing.T) {
	p := Default()
	if err := p.Set("test", map[string]any{"oauth.google.clientSecret": "GOCSPX-do-not-print", "oauth.google.clientId": "1-x.apps.googleusercontent.com"}); err != nil {
		t.Fatal(err)
	}
	if d := p.Display("oauth.google.clientSecret"); d != "(set)" {
		t.Errorf("clientSecret shown as %q", d)
	}
	if d := p.Display("oauth.yahoo.clientSecret"); d != "(not set)" {
		t.Errorf("unset clientSecret shown as %q", d)
	}
	if d := p.Display("oauth.google.clientId"); d != "1-x.apps.googleusercontent.com" {
		t.Errorf("clientId shown as %q", d)
	}
}
