package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"infino.legal/mailbox/internal/mailpeers"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/microsoft"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/signin"
	"infino.legal/mailbox/mailcfg/verify"
	"infino.legal/mailbox/mailcfg/world"
)

const cliPassword = "Tajne-Haslo-987"

// testSeams are one test's replacements for the network check and the
// OAuth credential (Env.Verify, Env.OAuthCredential).
type testSeams struct {
	verify func(ctx context.Context, s mailcfg.Settings, cred verify.Credential, opt verify.Options) verify.Result
	oauth  func(ctx context.Context, s mailcfg.Settings) (verify.Credential, error)
}

var seamsByTest sync.Map // *testing.T → *testSeams

// seamsFor are t's seams, which runVerifyCmd puts into its Env.
func seamsFor(t *testing.T) *testSeams {
	v, loaded := seamsByTest.LoadOrStore(t, &testSeams{})
	if !loaded {
		t.Cleanup(func() { seamsByTest.Delete(t) })
	}
	return v.(*testSeams)
}

func runVerifyCmd(t *testing.T, lang, stdin string, pol policy.Policy, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	sm := seamsFor(t)
	env := &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Lang: lang, World: &world.World{Policy: pol},
		Getenv: func(string) string { return "" }, Verify: sm.verify, OAuthCredential: sm.oauth}
	code := Main(context.Background(), env, append([]string{"verify"}, args...))
	for _, s := range []string{out.String(), errb.String()} {
		if strings.Contains(s, cliPassword) {
			t.Fatalf("the password appears in the output:\n%s", s)
		}
	}
	return code, out.String(), errb.String()
}

func writeSettings(t *testing.T, s any) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "s.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func goodSettings() mailcfg.Settings {
	return mailcfg.Settings{
		Email: "jan@kancelaria.example", Auth: mailcfg.AuthPassword,
		Incoming: mailcfg.Server{Protocol: mailcfg.IMAP, Host: "imap.kancelaria.example", Port: 993, Security: mailcfg.SecurityTLS, Username: "jan@kancelaria.example"},
		Outgoing: mailcfg.Server{Protocol: mailcfg.SMTP, Host: "smtp.kancelaria.example", Port: 465, Security: mailcfg.SecurityTLS, Username: "jan@kancelaria.example"},
	}
}

// stubVerifier replaces the network check with a canned result and records
// what it was given.
func stubVerifier(t *testing.T, res verify.Result) (got *verify.Credential, opts *verify.Options) {
	t.Helper()
	got, opts = new(verify.Credential), new(verify.Options)
	seamsFor(t).verify = func(ctx context.Context, s mailcfg.Settings, cred verify.Credential, opt verify.Options) verify.Result {
		*got, *opts = cred, opt
		if opt.Progress != nil {
			for _, e := range append(append([]verify.Event{}, res.Incoming.Steps...), res.Outgoing.Steps...) {
				opt.Progress(e)
			}
		}
		return res
	}
	return got, opts
}

func TestVerifyBadInput(t *testing.T) {
	t.Parallel()
	stubVerifier(t, verify.Result{OK: true})
	good := writeSettings(t, goodSettings())
	bad := goodSettings()
	bad.Incoming.Port = 0
	bad.Outgoing.Security = mailcfg.SecurityNone
	bad.Email = "jan"
	badPath := writeSettings(t, bad)
	garbage := filepath.Join(t.TempDir(), "g.json")
	os.WriteFile(garbage, []byte(`{"email": "a@b.pl", "extra": 1}`), 0o600)
	oauth := goodSettings()
	oauth.Auth = mailcfg.AuthOAuth2
	oauthPath := writeSettings(t, oauth)

	cases := []struct {
		name  string
		stdin string
		args  []string
		want  []string // in stderr
	}{
		{"no file", cliPassword + "\n", []string{"--password-stdin"}, []string{"usage"}},
		{"two files", cliPassword + "\n", []string{"--password-stdin", good, good}, []string{"usage"}},
		{"missing file", cliPassword + "\n", []string{"--password-stdin", filepath.Join(t.TempDir(), "nope.json")}, nil},
		{"unknown key", cliPassword + "\n", []string{"--password-stdin", garbage}, []string{"extra"}},
		{"every field problem, in Polish", cliPassword + "\n", []string{"--password-stdin", badPath},
			[]string{"email: W adresie brakuje znaku @", "incoming.port: Port musi", "outgoing.security: Połączenie bez szyfrowania"}},
		{"no --password-stdin", "", []string{good}, []string{"--password-stdin"}},
		{"empty password", "\n", []string{"--password-stdin", good}, []string{"puste"}},
		{"oauth2 and a password", cliPassword + "\n", []string{"--password-stdin", oauthPath}, []string{"OAuth2"}},
		{"bad CA file", cliPassword + "\n", []string{"--password-stdin", "--ca", good, good}, []string{"--ca"}},
		{"bad timeout", cliPassword + "\n", []string{"--password-stdin", "--timeout", "0s", good}, []string{"--timeout"}},
		{"password as a flag", "", []string{"--password", cliPassword, good}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := runVerifyCmd(t, "pl", c.stdin, policy.Default(), c.args...)
			if code != ExitUsage {
				t.Fatalf("exit %d, want 2; stderr:\n%s", code, errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
	// security "none" passes validation only with the policy and the flag.
	insecure := goodSettings()
	insecure.Incoming.Security = mailcfg.SecurityNone
	p := writeSettings(t, insecure)
	if code, _, e := runVerifyCmd(t, "en", cliPassword+"\n", policy.Default(), "--password-stdin", "--allow-insecure", p); code != ExitUsage {
		t.Errorf("insecure without the policy: %d %s", code, e)
	}
	pol := policy.Default()
	pol.AllowInsecure = true
	if code, _, e := runVerifyCmd(t, "en", cliPassword+"\n", pol, "--password-stdin", p); code != ExitUsage {
		t.Errorf("insecure without the flag: %d %s", code, e)
	}
	_, opts := stubVerifier(t, verify.Result{OK: true})
	if code, _, e := runVerifyCmd(t, "en", cliPassword+"\n", pol, "--password-stdin", "--allow-insecure", p); code != ExitOK {
		t.Errorf("insecure with both: %d %s", code, e)
	}
	if !opts.AllowInsecure || !opts.InsecureOverride {
		t.Errorf("options %+v", opts)
	}
}

func TestVerifyPasswordFromStdin(t *testing.T) {
	t.Parallel()
	good := writeSettings(t, goodSettings())
	for stdin, want := range map[string]string{
		cliPassword + "\n":   cliPassword,
		cliPassword + "\r\n": cliPassword,
		cliPassword:          cliPassword,
		" spaced pw \nnext":  " spaced pw ",
	} {
		got, _ := stubVerifier(t, verify.Result{OK: true})
		if code, _, e := runVerifyCmd(t, "en", stdin, policy.Default(), "--password-stdin", good); code != ExitOK {
			t.Fatalf("%q: exit %d %s", stdin, code, e)
		}
		if pw, ok := (*got).(verify.Password); !ok || string(pw) != want {
			t.Errorf("%q: credential %T", stdin, *got)
		}
	}
}

func TestVerifyOAuthSeam(t *testing.T) {
	t.Parallel()
	sm := seamsFor(t)
	sm.oauth = func(ctx context.Context, s mailcfg.Settings) (verify.Credential, error) {
		return verify.OAuth2Token{Username: s.Email, AccessToken: "tok"}, nil
	}
	got, _ := stubVerifier(t, verify.Result{OK: true})
	s := goodSettings()
	s.Auth = mailcfg.AuthOAuth2
	if code, _, e := runVerifyCmd(t, "en", "", policy.Default(), writeSettings(t, s)); code != ExitOK {
		t.Fatalf("exit %d %s", code, e)
	}
	if _, ok := (*got).(verify.OAuth2Token); !ok {
		t.Errorf("credential %T", *got)
	}
	sm.oauth = func(context.Context, mailcfg.Settings) (verify.Credential, error) {
		return nil, mailcfg.NewFailure(mailcfg.KindAuthDisabled, "", nil)
	}
	code, out, _ := runVerifyCmd(t, "en", "", policy.Default(), "--json", writeSettings(t, s))
	var j verifyResultJSON
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != ExitFailed || j.OK ||
		j.Incoming.Error == nil || j.Incoming.Error.Kind != mailcfg.KindAuthDisabled || j.Outgoing.Error == nil {
		t.Errorf("failed sign-in: exit %d\n%s", code, out)
	}
	sm.oauth = func(context.Context, mailcfg.Settings) (verify.Credential, error) {
		return nil, &signin.Error{Provider: "microsoft", Code: signin.CodeNotConfigured, Hint: microsoft.SetupHint("/etc/infino-mailbox/policy.json")}
	}
	if code, _, errOut := runVerifyCmd(t, "en", "", policy.Default(), writeSettings(t, s)); code != ExitFailed || !strings.Contains(errOut, "microsoft.clientId") {
		t.Errorf("not configured: exit %d %s", code, errOut)
	}
}

func cannedFailure() verify.Result {
	cert := verify.Classify(&mailcfg.CertificateError{Reason: mailcfg.CertUnknownAuthority}, "incoming", nil)
	cert.Certificate.SHA256 = "ab:cd"
	cert.Certificate.Names = []string{"mail.kancelaria.example"}
	auth := mailcfg.NewFailure(mailcfg.KindAuthFailed, "outgoing", nil)
	return verify.Result{
		Incoming: verify.SideResult{Elapsed: 30 * time.Millisecond, Failure: cert, Steps: []verify.Event{
			{Side: verify.Incoming, Step: verify.StepResolve, Elapsed: time.Millisecond},
			{Side: verify.Incoming, Step: verify.StepConnect, Elapsed: 12 * time.Millisecond},
			{Side: verify.Incoming, Step: verify.StepTLS, Elapsed: 17 * time.Millisecond, Failure: cert}}},
		Outgoing: verify.SideResult{Elapsed: 40 * time.Millisecond, Failure: auth},
	}
}

func TestVerifyJSON(t *testing.T) {
	good := writeSettings(t, goodSettings())
	stubVerifier(t, cannedFailure())
	code, out, _ := runVerifyCmd(t, "pl", cliPassword+"\n", policy.Default(), "--json", "--password-stdin", good)
	if code != ExitFailed {
		t.Fatalf("exit %d", code)
	}
	var j map[string]any
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if j["ok"] != false {
		t.Errorf("ok %v", j["ok"])
	}
	in := j["incoming"].(map[string]any)
	if in["ok"] != false || in["elapsedMs"] != float64(30) {
		t.Errorf("incoming %v", in)
	}
	e := in["error"].(map[string]any)
	if e["kind"] != "tls_certificate" || !strings.Contains(e["message"].(string), "Serwer poczty przychodzącej") || e["hint"] == "" {
		t.Errorf("error %v", e)
	}
	if c := e["certificate"].(map[string]any); c["sha256"] != "ab:cd" || c["reason"] != "unknown_authority" {
		t.Errorf("certificate %v", c)
	}
	if o := j["outgoing"].(map[string]any)["error"].(map[string]any); o["kind"] != "auth_failed" {
		t.Errorf("outgoing %v", o)
	}

	stubVerifier(t, verify.Result{OK: true, Incoming: verify.SideResult{OK: true, Elapsed: time.Second}, Outgoing: verify.SideResult{OK: true}})
	code, out, _ = runVerifyCmd(t, "en", cliPassword+"\n", policy.Default(), "--json", "--password-stdin", good)
	if code != ExitOK || strings.Contains(out, `"error"`) || !strings.Contains(out, `"elapsedMs": 1000`) {
		t.Errorf("exit %d\n%s", code, out)
	}
}

func TestVerifyHuman(t *testing.T) {
	good := writeSettings(t, goodSettings())
	stubVerifier(t, cannedFailure())
	code, out, _ := runVerifyCmd(t, "en", cliPassword+"\n", policy.Default(), "--password-stdin", good)
	if code != ExitFailed {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"incoming      connect         12 ms",
		"incoming      tls             17 ms  tls_certificate",
		"incoming      FAILED  IMAP imap.kancelaria.example:993 TLS",
		"SHA-256 fingerprint: ab:cd",
		"Issued to: mail.kancelaria.example",
		"outgoing      FAILED",
		"did not accept the user name or password",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// Against the real Dovecot and Postfix (testdata/mailpeers/up.sh): verify
// logs in to both servers through cli.Main, trusting their CA with --ca,
// and a wrong password fails on both as an authentication failure.
func TestVerifyPeers(t *testing.T) {
	peers := mailpeers.Require(t)
	s := mailcfg.Settings{
		Email: peers.User, Auth: mailcfg.AuthPassword,
		Incoming: mailcfg.Server{Protocol: mailcfg.IMAP, Host: peers.StrictHost, Port: peers.IMAPSPort,
			Security: mailcfg.SecurityTLS, Username: peers.User},
		Outgoing: mailcfg.Server{Protocol: mailcfg.SMTP, Host: peers.StrictHost, Port: peers.SubmissionPort,
			Security: mailcfg.SecurityStartTLS, Username: peers.User},
	}
	path := writeSettings(t, s)
	ca := peers.CAFile
	pw := peers.Password

	code, out, errOut := runVerifyCmd(t, "en", pw+"\n", policy.Default(), "--json", "--password-stdin", "--ca", ca, path)
	var j verifyResultJSON
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != ExitOK || !j.OK {
		t.Fatalf("right password: exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out, pw) {
		t.Fatal("password in output")
	}

	code, out, _ = runVerifyCmd(t, "en", cliPassword+"\n", policy.Default(), "--json", "--password-stdin", "--ca", ca, path)
	j = verifyResultJSON{}
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != ExitFailed || j.OK ||
		j.Incoming.Error == nil || j.Incoming.Error.Kind != mailcfg.KindAuthFailed ||
		j.Outgoing.Error == nil || j.Outgoing.Error.Kind != mailcfg.KindAuthFailed {
		t.Fatalf("wrong password: exit %d\n%s", code, out)
	}

	// Without --ca the peers' private CA is unknown: the fingerprint shows.
	code, out, _ = runVerifyCmd(t, "pl", pw+"\n", policy.Default(), "--password-stdin", path)
	fp, _ := mailcfg.ParseFingerprint(peers.CertSHA256)
	if code != ExitFailed || !strings.Contains(out, mailcfg.FormatFingerprint(fp)) || !strings.Contains(out, "BŁĄD") {
		t.Fatalf("no CA: exit %d\n%s", code, out)
	}

	// The firm's CA preset by IT (policy extraCaFile) is trusted without --ca,
	// as in the window.
	firm := policy.Default()
	firm.ExtraCAFile = ca
	code, out, errOut = runVerifyCmd(t, "en", pw+"\n", firm, "--json", "--password-stdin", path)
	j = verifyResultJSON{}
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != ExitOK || !j.OK {
		t.Fatalf("policy extraCaFile: exit %d\n%s\n%s", code, out, errOut)
	}

	// Human progress on success.
	code, out, _ = runVerifyCmd(t, "en", pw+"\n", policy.Default(), "--password-stdin", "--ca", ca, path)
	if code != ExitOK || strings.Count(out, " OK ") != 2 || !strings.Contains(out, "outgoing      tls") {
		t.Fatalf("human: exit %d\n%s", code, out)
	}
}
