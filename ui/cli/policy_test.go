package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/world"
)

func runPolicyCmd(t *testing.T, p policy.Policy, perr error, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &errb, Lang: "en", World: &world.World{Policy: p, PolicyErr: perr},
		Getenv: func(k string) string { return map[string]string{"HTTPS_PROXY": "http://env.proxy:3128"}[k] }}
	code := Main(context.Background(), env, append([]string{"policy"}, args...))
	return code, out.String(), errb.String()
}

func TestPolicyShowOrigins(t *testing.T) {
	const hklm = `HKLM\SOFTWARE\Policies\Infino\Mailbox`
	p, err := policy.LoadSources([]policy.Source{
		{Name: "/etc/infino-mailbox/policy.json", Scope: "machine", Read: func() (map[string]any, error) { return nil, os.ErrNotExist }},
		{Name: hklm, Scope: "machine", Read: func() (map[string]any, error) {
			return map[string]any{"infinoUrl": "https://kancelaria.infino.legal", "lockServerSettings": true, "allowedMethods": []any{"microsoft"}}, nil
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runPolicyCmd(t, p, nil, "show")
	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"/etc/infino-mailbox/policy.json", "not present", hklm + "  ", "4 value(s) in effect",
		"infinoUrl            https://kancelaria.infino.legal", "(" + hklm + ")",
		"allowedMethods       microsoft", "microsoft.tenant     common", "(default)",
		"proxyUrl             (not set)", "proxy for https://kancelaria.infino.legal: http://env.proxy:3128",
		"locked for the user: infinoUrl, allowedMethods, allowManual",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = runPolicyCmd(t, p, nil, "show", "--json")
	var doc struct {
		Policy  policy.Policy       `json:"policy"`
		Origin  map[string]string   `json:"origin"`
		Sources []policy.SourceInfo `json:"sources"`
		Network struct{ Proxy string }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != ExitOK {
		t.Fatalf("json: %v %d\n%s", err, code, out)
	}
	if doc.Origin["infinoUrl"] != hklm || !doc.Policy.LockServerSettings || len(doc.Sources) != 2 || doc.Network.Proxy != "http://env.proxy:3128" {
		t.Errorf("json: %+v", doc)
	}
}

func TestPolicyCheck(t *testing.T) {
	code, out, _ := runPolicyCmd(t, policy.Default(), nil, "check")
	if code != ExitOK || strings.TrimSpace(out) != "policy OK" {
		t.Errorf("good policy: %d %q", code, out)
	}
	// A CA file that cannot be read is caught by check, not at the first connection.
	p := policy.Default()
	missing := filepath.Join(t.TempDir(), "ca.pem")
	if err := p.Set("f", map[string]any{"extraCaFile": missing}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runPolicyCmd(t, p, nil, "check")
	if code != ExitUsage || out != "" || !strings.Contains(errOut, "extraCaFile "+missing+": cannot be read") {
		t.Errorf("missing CA file: %d %q %q", code, out, errOut)
	}
	code, _, errOut = runPolicyCmd(t, policy.Default(), &policy.Error{Source: "x", Key: "language", Problem: "bad"}, "check")
	if code != ExitUsage || !strings.Contains(errOut, `key "language": bad`) {
		t.Errorf("policy error: exit %d, %q", code, errOut)
	}
}

func TestPolicyKeys(t *testing.T) {
	code, out, _ := runPolicyCmd(t, policy.Default(), nil, "keys")
	if code != ExitOK {
		t.Fatal(code)
	}
	for _, k := range policy.KeyInfos() {
		if !strings.Contains(out, k.Name) || !strings.Contains(out, k.MSIProperty) {
			t.Errorf("keys lacks %s/%s", k.Name, k.MSIProperty)
		}
	}
	code, out, _ = runPolicyCmd(t, policy.Default(), nil, "keys", "--json")
	var ks []policy.KeyInfo
	if json.Unmarshal([]byte(out), &ks) != nil || len(ks) != len(policy.Keys()) || code != ExitOK {
		t.Errorf("keys --json: %s", out)
	}
	if code, _, _ := runPolicyCmd(t, policy.Default(), nil, "frobnicate"); code != ExitUsage {
		t.Errorf("bad subcommand: %d", code)
	}
}

// policy check validates the firm's server entry as a whole and by key.
func TestPolicyCheckFirmProvider(t *testing.T) {
	load := func(values map[string]any) (policy.Policy, error) {
		return policy.LoadSources([]policy.Source{{Name: "gpo", Scope: "machine", Read: func() (map[string]any, error) { return values, nil }}})
	}
	p, err := load(map[string]any{"firmProvider.domains": []any{"kancelaria.pl"}, "firmProvider.incoming": []any{"imaps://mail.kancelaria.pl"}})
	code, _, errOut := runPolicyCmd(t, p, err, "check")
	if code != ExitUsage || !strings.Contains(errOut, `key "firmProvider": incomplete: set firmProvider.outgoing`) {
		t.Errorf("incomplete entry: %d %q", code, errOut)
	}
	p, err = load(map[string]any{"firmProvider.domains": []any{"kancelaria.pl"}, "firmProvider.incoming": []any{"imaps://mail.kancelaria.pl"},
		"firmProvider.outgoing": []any{"submissions://mail.kancelaria.pl"}, "lockServerSettings": true})
	code, out, errOut := runPolicyCmd(t, p, err, "check")
	if code != ExitOK || strings.TrimSpace(out) != "policy OK" {
		t.Errorf("good entry: %d %q %q", code, out, errOut)
	}
	_, out, _ = runPolicyCmd(t, p, err, "show")
	if !strings.Contains(out, "firmProvider.incoming") || !strings.Contains(out, "imaps://mail.kancelaria.pl") ||
		!strings.Contains(out, "firmProvider.domains, firmProvider.incoming, firmProvider.outgoing") {
		t.Errorf("show:\n%s", out)
	}
}

// A provider's client secret is shown as set, never as its value, in both
// forms of policy show: people paste this output into tickets.
func TestPolicyShowHidesClientSecrets(t *testing.T) {
	const secret = "GOCSPX-do-not-print"
	p := policy.Default()
	if err := p.Set("/etc/infino-mailbox/policy.json", map[string]any{
		"oauth.google.clientId": "1-abc.apps.googleusercontent.com", "oauth.google.clientSecret": secret}); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"show"}, {"show", "--json"}} {
		code, out, errOut := runPolicyCmd(t, p, nil, args...)
		if code != ExitOK || strings.Contains(out+errOut, secret) || !strings.Contains(out, "(set)") {
			t.Errorf("policy %s: exit %d, secret shown or not said to be set:\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
	}
	if got := p.Client("google").ClientSecret; got != secret {
		t.Errorf("showing the policy changed the secret in use: %q", got)
	}
}
