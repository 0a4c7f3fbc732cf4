package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var binary string

// TestMain builds the real binary once; the tests below run it as IT would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "infino-mailbox-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "infino-mailbox")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func run(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	// Never read this machine's policy: an empty one unless the test names its own.
	empty := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(empty, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(append(os.Environ(), "INFINO_MAILBOX_POLICY="+empty), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestDiscoverOfflineJSON(t *testing.T) {
	out, errOut, code := run(t, nil, "discover", "--offline", "--json", "jan@interia.pl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var s struct {
		Email    string `json:"email"`
		Incoming struct {
			Host string `json:"host"`
			Port int    `json:"port"`
		} `json:"incoming"`
		Provider struct{ ID string } `json:"provider"`
		Source   string              `json:"source"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if s.Email != "jan@interia.pl" || s.Provider.ID != "interia.pl" || s.Incoming.Port != 993 || s.Source != "bundled" {
		t.Fatalf("got %+v", s)
	}
	// Flags after the address work too.
	if _, _, code := run(t, nil, "discover", "jan@interia.pl", "--offline", "--json"); code != 0 {
		t.Fatalf("flags after the address: exit %d", code)
	}
}

func TestDiscoverUnknownAndGarbage(t *testing.T) {
	_, errOut, code := run(t, []string{"LANG=pl_PL.UTF-8"}, "discover", "--offline", "biuro@kancelaria-żółć.pl")
	if code != 1 || !strings.Contains(errOut, "Nie znamy ustawień") {
		t.Fatalf("unknown domain: exit %d, %q", code, errOut)
	}
	_, errOut, code = run(t, []string{"LANG=C"}, "discover", "--offline", "garbage")
	if code != 2 || !strings.Contains(errOut, "missing the @ sign") {
		t.Fatalf("garbage: exit %d, %q", code, errOut)
	}
	if _, _, code = run(t, nil, "discover"); code != 2 {
		t.Fatalf("no address: exit %d", code)
	}
	if _, _, code = run(t, nil, "discover", "--bogus", "a@wp.pl"); code != 2 {
		t.Fatalf("unknown flag: exit %d", code)
	}
	if _, _, code = run(t, nil, "frobnicate"); code != 2 {
		t.Fatalf("unknown command: exit %d", code)
	}
}

func TestHelpAndVersion(t *testing.T) {
	out, _, code := run(t, nil, "--help")
	if code != 0 || !strings.Contains(out, "discover") {
		t.Fatalf("--help: exit %d\n%s", code, out)
	}
	_, errOut, code := run(t, nil, "discover", "--help")
	if code != 0 || !strings.Contains(errOut, "--offline") {
		t.Fatalf("discover --help: exit %d\n%s", code, errOut)
	}
	out, _, code = run(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "Infino Mailbox ") {
		t.Fatalf("version: exit %d %q", code, out)
	}
}

func TestBadPolicyNamesKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "policy.json")
	os.WriteFile(p, []byte(`{"microsoft":{"tenant":7}}`), 0o600)
	_, errOut, code := run(t, []string{"INFINO_MAILBOX_POLICY=" + p}, "policy", "check")
	if code != 2 || !strings.Contains(errOut, `"microsoft.tenant"`) {
		t.Fatalf("policy check: exit %d %q", code, errOut)
	}
}

// IT's language choice in the policy overrides the system's on the command
// line too.
func TestPolicyLanguage(t *testing.T) {
	p := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(p, []byte(`{"language":"pl"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := run(t, []string{"LANG=C", "INFINO_MAILBOX_POLICY=" + p}, "discover", "--offline", "garbage")
	if code != 2 || !strings.Contains(errOut, "brakuje znaku @") {
		t.Fatalf("exit %d, %q", code, errOut)
	}
}
