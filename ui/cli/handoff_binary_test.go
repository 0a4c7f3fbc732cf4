package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/internal/sandbox"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/secrets"
)

// envSecretService is set to 1 by testdata/keyring/run-with-secret-service.sh
// once an unlocked GNOME Keyring runs on a private session bus (the
// convention of package secrets' real-keyring test).
const envSecretService = "INFINO_SECRET_SERVICE"

// requireKeyring: the binary keeps the outbox secret in the OS keyring, so a
// test across processes needs a real one. It runs when
// INFINO_SECRET_SERVICE=1; in CI on Linux it must (it fails otherwise).
func requireKeyring(t *testing.T) *secrets.Keyring {
	t.Helper()
	enabled := os.Getenv(envSecretService) == "1"
	if !enabled {
		if os.Getenv("CI") != "" && runtime.GOOS == "linux" {
			t.Fatalf("%s is not set: in CI this test must run through "+
				"`bash testdata/keyring/run-with-secret-service.sh go test ./...`", envSecretService)
		}
		t.Skip("needs a real keyring: bash testdata/keyring/run-with-secret-service.sh go test -run Killed ./ui/cli/")
	}
	k := secrets.NewKeyring(secrets.Options{Timeout: 10 * time.Second})
	probe := "probe:handoff-" + infino.NewUUID()
	if err := k.Set(context.Background(), probe, "probe"); err != nil {
		t.Fatalf("%s=1 but the keyring does not work: %v", envSecretService, err)
	}
	k.Delete(context.Background(), probe)
	return k
}

// buildBinary builds the real program from the repository root.
func buildBinary(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "infino-mailbox")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// binaryWorld is the sandbox, a keyring signed in to its Infino, and the
// files and environment the real binary runs with against both.
type binaryWorld struct {
	sb           *sandbox.Sandbox
	env          []string
	settingsFile string // the demo account's mailbox settings
	configHome   string // XDG_CONFIG_HOME of the binary
}

// startBinaryWorld starts the sandbox and signs in to its Infino in this
// process, into the same keyring and config directory the binary uses. The
// sign-in and the sandbox end with the test.
func startBinaryWorld(ctx context.Context, t *testing.T, store *secrets.Keyring) *binaryWorld {
	t.Helper()
	sb, err := sandbox.Start(ctx, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	tmp := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caFile := write("ca.pem", sb.CA.PEM)
	policyFile := write("policy.json", sb.PolicyJSON())
	settings, _ := json.Marshal(sb.DemoSettings())
	w := &binaryWorld{sb: sb, settingsFile: write("settings.json", settings), configHome: filepath.Join(tmp, "config")}
	certDir := filepath.Join(tmp, "certs")
	os.MkdirAll(certDir, 0o700)

	svc := infino.NewService(infino.Options{ConfigDir: filepath.Join(w.configHome, infino.DirName), Store: store, Policy: sb.Policy(),
		ClientOptions: infino.ClientOptions{HTTP: sb.HTTPClient()}, Browser: &infino.Browser{Opener: sb.Browser().Open}})
	if err := svc.SignIn(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Delete(context.Background(), infino.TokenKey(sb.InfinoURL)) })

	w.env = append(os.Environ(),
		"XDG_CONFIG_HOME="+w.configHome, // os.UserConfigDir on Linux/BSD
		"SSL_CERT_FILE="+caFile,         // the sandbox CA is the system's only root
		"SSL_CERT_DIR="+certDir,
		"INFINO_MAILBOX_POLICY="+policyFile,
		"LANG=C", "LC_ALL=C",
		"BROWSER=false",
	)
	return w
}

// TestKilledBetweenSentAndResponse runs the real binary: "submit" verifies
// against the sandbox mail servers, writes the outbox entry, sends it, and is
// killed (SIGKILL) after Infino has created the mailbox but before the answer
// arrives. "outbox flush" then delivers the same submission again with the
// same Idempotency-Key: Infino answers from its record and there is still
// exactly one mailbox.
func TestKilledBetweenSentAndResponse(t *testing.T) {
	store := requireKeyring(t)
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	w := startBinaryWorld(ctx, t, store)
	sb, env, settingsFile, configHome := w.sb, w.env, w.settingsFile, w.configHome
	run := func(stdin string, args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("%v: %v", args, err)
		}
		return cmd.ProcessState.ExitCode(), out.String(), errb.String()
	}

	// 1. submit, killed between "sent" and "response received".
	committed := sb.Infino.HoldNext()
	cmd := exec.CommandContext(ctx, bin, "submit", "--password-stdin", settingsFile)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(sandbox.DemoPassword + "\n")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-committed:
	case err := <-exited:
		t.Fatalf("submit ended before its request was committed: %v\n%s\n%s", err, out.String(), errb.String())
	case <-ctx.Done():
		cmd.Process.Kill()
		t.Fatal("timed out waiting for the submission")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	if n := sb.Infino.Count(); n != 1 {
		t.Fatalf("%d mailboxes after the kill, want 1", n)
	}
	first := sb.Infino.Mailboxes()[0]

	// 2. The entry survived the kill, with its secret in the keyring.
	code, listOut, listErr := run("", "outbox", "list", "--json")
	var list struct {
		Entries []outboxEntryJSON `json:"entries"`
	}
	if err := json.Unmarshal([]byte(listOut), &list); err != nil || code != ExitOK || len(list.Entries) != 1 {
		t.Fatalf("outbox list: %d %s %s", code, listOut, listErr)
	}
	id := list.Entries[0].ID
	if _, err := store.Get(ctx, infino.SecretKey(id)); err != nil {
		t.Fatalf("the entry's secret is not in the keyring: %v", err)
	}

	// 3. flush: delivered again with the same key, answered from Infino's
	// record; still one mailbox.
	code, flushOut, flushErr := run("", "outbox", "flush", "--json")
	if code != ExitOK {
		t.Fatalf("outbox flush: %d\n%s\n%s", code, flushOut, flushErr)
	}
	var rep struct {
		Results []submitJSON `json:"results"`
	}
	json.Unmarshal([]byte(flushOut), &rep)
	if len(rep.Results) != 1 || rep.Results[0].ID != first.ID || !rep.Results[0].Replayed {
		t.Fatalf("flush result %s", flushOut)
	}
	if n := sb.Infino.Count(); n != 1 {
		t.Fatalf("%d mailboxes after the flush, want exactly 1", n)
	}
	reqs := sb.Infino.Requests()
	for _, r := range reqs {
		if r.Header.Get("Idempotency-Key") != first.IdempotencyKey {
			t.Fatalf("a request with another Idempotency-Key: %v", r.Header)
		}
	}
	if last := reqs[len(reqs)-1]; last.Status != http.StatusCreated {
		t.Fatalf("last answer %d", last.Status)
	}

	// 4. Nothing left: no entry, no outbox secret, and no secret in any file.
	if code, out, _ := run("", "outbox", "list"); code != ExitOK || !strings.Contains(out, "empty") {
		t.Fatalf("after flush: %d %s", code, out)
	}
	if _, err := store.Get(ctx, infino.SecretKey(id)); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("outbox secret still in the keyring: %v", err)
	}
	stored, err := store.Get(ctx, infino.TokenKey(sb.InfinoURL))
	if err != nil {
		t.Fatalf("Infino sign-in lost: %v", err)
	}
	var tok struct {
		RefreshToken string `json:"refreshToken"`
	}
	json.Unmarshal([]byte(stored), &tok)
	scanForSecrets(t, configHome, sandbox.DemoPassword, tok.RefreshToken)
	files := 0
	filepath.WalkDir(configHome, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files++
		}
		return nil
	})
	t.Logf("killed after commit, flushed: 1 mailbox, %d requests, %d files under the config dir scanned", len(reqs), files)

	// 5. The mailbox password changes. submit --replace meets 409 (which
	// names the mailbox) and replaces it with PUT; it is killed after
	// Infino has committed the replacement, before the answer arrives.
	const newPassword = "Nowe-Haslo-po-zmianie-2026"
	sb.Mail.AddUser(sandbox.DemoEmail, newPassword)
	n0 := len(sb.Infino.Requests())
	committed = sb.Infino.HoldNext()
	cmd = exec.CommandContext(ctx, bin, "submit", "--replace", "--password-stdin", settingsFile)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(newPassword + "\n")
	out.Reset()
	errb.Reset()
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited = make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-committed:
	case err := <-exited:
		t.Fatalf("submit --replace ended before its replacement was committed: %v\n%s\n%s", err, out.String(), errb.String())
	case <-ctx.Done():
		cmd.Process.Kill()
		t.Fatal("timed out waiting for the replacement")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	mb := sb.Infino.Mailboxes()
	if len(mb) != 1 || mb[0].Version != 2 || mb[0].Password != newPassword {
		t.Fatalf("after the kill: %d mailboxes, version %d", len(mb), mb[0].Version)
	}

	// 6. The replacement survived the kill; the flush repeats it with the
	// same key and If-Match, Infino answers from its record: still one
	// replacement (version 2), not two.
	code, listOut, listErr = run("", "outbox", "list", "--json")
	list.Entries = nil
	if err := json.Unmarshal([]byte(listOut), &list); err != nil || code != ExitOK || len(list.Entries) != 1 ||
		list.Entries[0].Op != infino.OpReplace || list.Entries[0].MailboxID != first.ID {
		t.Fatalf("outbox list after the second kill: %d %s %s", code, listOut, listErr)
	}
	code, flushOut, flushErr = run("", "outbox", "flush", "--json")
	rep.Results = nil
	json.Unmarshal([]byte(flushOut), &rep)
	if code != ExitOK || len(rep.Results) != 1 || rep.Results[0].State != "replaced" || !rep.Results[0].Replayed {
		t.Fatalf("flush of the replacement: %d\n%s\n%s", code, flushOut, flushErr)
	}
	mb = sb.Infino.Mailboxes()
	if len(mb) != 1 || mb[0].Version != 2 || mb[0].Password != newPassword || mb[0].ID != first.ID {
		t.Fatalf("after the flush: %+v", mb)
	}
	puts, keys := 0, map[string]bool{}
	for _, r := range sb.Infino.Requests()[n0:] {
		if r.Method == http.MethodPut {
			puts++
			keys[r.Header.Get("Idempotency-Key")] = true
		}
	}
	if puts != 2 || len(keys) != 1 {
		t.Fatalf("%d PUTs with %d keys, want 2 with one key", puts, len(keys))
	}
	if code, out, _ := run("", "outbox", "list"); code != ExitOK || !strings.Contains(out, "empty") {
		t.Fatalf("after the second flush: %d %s", code, out)
	}
	scanForSecrets(t, configHome, sandbox.DemoPassword, newPassword, tok.RefreshToken)
	t.Logf("replacement killed after commit, flushed: 1 mailbox at version %d, %d requests in all (%d PUT, one key)",
		mb[0].Version, len(sb.Infino.Requests()), puts)
	_ = fmt.Sprint
}
