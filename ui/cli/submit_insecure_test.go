package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/verify"
	"infino.legal/mailbox/mailcfg/world"
)

// TestSubmitInsecureNeedsConsent: security "none" sends the password in
// clear text; like verify, submit needs the policy AND the user's explicit
// --allow-insecure, not the policy alone.
func TestSubmitInsecureNeedsConsent(t *testing.T) {
	insecure := goodSettings()
	insecure.Incoming.Security = mailcfg.SecurityNone
	path := writeSettings(t, insecure)
	pol := policy.Default()
	pol.AllowInsecure = true

	var calls int
	var got verify.Options
	dir := t.TempDir()
	check := func(_ context.Context, _ mailcfg.Settings, _ verify.Credential, o verify.Options) verify.Result {
		calls++
		got = o
		f := mailcfg.NewFailure(mailcfg.KindConnect, "incoming", nil)
		return verify.Result{Incoming: verify.SideResult{Failure: f}, Outgoing: verify.SideResult{OK: true}}
	}
	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		env := &Env{Stdin: strings.NewReader(cliPassword + "\n"), Stdout: &out, Stderr: &errb, Lang: "en",
			World:  &world.World{Policy: pol, ConfigDir: dir, Store: secrets.NewMemory()},
			Getenv: func(string) string { return "" }, Verify: check}
		code := Main(context.Background(), env, append([]string{"submit"}, args...))
		return code, errb.String()
	}
	if code, e := run("--password-stdin", path); code != ExitUsage || calls != 0 {
		t.Fatalf("without --allow-insecure: exit %d, %d checks (the password went out unencrypted); stderr:\n%s", code, calls, e)
	}
	if code, e := run("--password-stdin", "--allow-insecure", path); code != ExitFailed || calls != 1 {
		t.Fatalf("with --allow-insecure: exit %d, %d checks; stderr:\n%s", code, calls, e)
	}
	if !got.AllowInsecure || !got.InsecureOverride {
		t.Errorf("verify options %+v", got)
	}
	// The flag alone is not enough.
	pol.AllowInsecure = false
	if code, e := run("--password-stdin", "--allow-insecure", path); code != ExitUsage || calls != 1 {
		t.Fatalf("flag without the policy: exit %d, %d checks; stderr:\n%s", code, calls, e)
	}
}
