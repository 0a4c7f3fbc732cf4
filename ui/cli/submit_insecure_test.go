package cli

import (
	"bytes"
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"infino.legal/mailbox/internal/localca"
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
	t.Parallel()
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

// submit takes --ca like verify: a file that cannot be used is bad input
// (nothing is checked), a good one is added to the roots of the check; a
// policy CA file that cannot be used is said once and the check goes on.
func TestSubmitCA(t *testing.T) {
	t.Parallel()
	ca, err := localca.New(localca.Subject{CommonName: "Kancelaria CA"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "ca.pem")
	os.WriteFile(good, ca.PEM, 0o600)
	path := writeSettings(t, goodSettings())
	var got *x509.CertPool
	calls := 0
	check := func(_ context.Context, _ mailcfg.Settings, _ verify.Credential, o verify.Options) verify.Result {
		calls++
		got = o.RootCAs
		f := mailcfg.NewFailure(mailcfg.KindConnect, "incoming", nil)
		return verify.Result{Incoming: verify.SideResult{Failure: f}, Outgoing: verify.SideResult{OK: true}}
	}
	run := func(pol policy.Policy, args ...string) (int, string) {
		var out, errb bytes.Buffer
		env := &Env{Stdin: strings.NewReader(cliPassword + "\n"), Stdout: &out, Stderr: &errb, Lang: "en",
			World:  &world.World{Policy: pol, ConfigDir: dir, Store: secrets.NewMemory()},
			Getenv: func(string) string { return "" }, Verify: check}
		code := Main(context.Background(), env, append([]string{"submit", "--password-stdin"}, args...))
		return code, errb.String()
	}
	if code, e := run(policy.Default(), "--ca", path, path); code != ExitUsage || calls != 0 || !strings.Contains(e, "--ca "+path) {
		t.Fatalf("bad --ca: exit %d, %d checks; stderr:\n%s", code, calls, e)
	}
	if code, e := run(policy.Default(), "--ca", good, path); code != ExitFailed || calls != 1 || got == nil {
		t.Fatalf("good --ca: exit %d, %d checks, roots %v; stderr:\n%s", code, calls, got, e)
	}
	leaf, err := ca.Issue(localca.Subject{CommonName: "imap.kancelaria.example"}, "imap.kancelaria.example")
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(leaf.Certificate[0])
	if _, err := cert.Verify(x509.VerifyOptions{Roots: got, DNSName: "imap.kancelaria.example"}); err != nil {
		t.Errorf("--ca not in the roots: %v", err)
	}
	pol := policy.Default()
	pol.ExtraCAFile = filepath.Join(dir, "missing.pem")
	code, e := run(pol, "--ca", good, path)
	if code != ExitFailed || calls != 2 || strings.Count(e, pol.ExtraCAFile) != 1 {
		t.Fatalf("broken policy CA file: exit %d, %d checks; stderr:\n%s", code, calls, e)
	}
}
