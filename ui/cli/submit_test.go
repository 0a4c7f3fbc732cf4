package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"infino.legal/mailbox/internal/sandbox"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/world"
)

// handOffWorld is a sandbox, a config dir and a memory store wired into
// HandOff for one test.
type handOffWorld struct {
	t     *testing.T
	sb    *sandbox.Sandbox
	dir   string
	store *secrets.Memory
	down  atomic.Bool // connections to the sandbox HTTP port are refused
	hc    *http.Client
}

func newHandOffWorld(t *testing.T) *handOffWorld {
	t.Helper()
	sb, err := sandbox.Start(context.Background(), sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	w := &handOffWorld{t: t, sb: sb, dir: t.TempDir(), store: secrets.NewMemory()}
	closed := closedAddr(t)
	host := strings.TrimPrefix(sb.InfinoURL, "https://")
	var d net.Dialer
	hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   sb.TLSConfig(),
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if w.down.Load() && addr == host {
				addr = closed
			}
			return d.DialContext(ctx, network, addr)
		},
	}}
	w.hc = hc
	return w
}

// world is the commands' world on the sandbox with pol.
func (w *handOffWorld) world(pol policy.Policy) *world.World {
	return &world.World{
		Policy:    pol,
		Lang:      "en",
		ConfigDir: w.dir,
		Store:     w.store,
		HTTP:      w.hc,
		Opener:    w.sb.Browser().Open,
		RootCAs:   w.sb.RootCAs,
		Table:     w.sb.Table(),
		Infino: infino.ClientOptions{
			Sleep:  func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
			Jitter: func(time.Duration) time.Duration { return 0 },
		},
	}
}

func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := l.Addr().String()
	l.Close()
	return a
}

func (w *handOffWorld) run(stdin string, args ...string) (int, string, string) {
	w.t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Lang: "en",
		World: w.world(w.sb.Policy()), Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := Main(ctx, env, args)
	return code, out.String(), errb.String()
}

func (w *handOffWorld) settingsFile(s mailcfg.Settings) string {
	data, _ := json.Marshal(s)
	p := filepath.Join(w.t.TempDir(), "settings.json")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		w.t.Fatal(err)
	}
	return p
}

func scanForSecrets(t *testing.T, dir string, list ...string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, _ := os.ReadFile(p)
		for _, s := range list {
			if len(s) >= 6 && bytes.Contains(data, []byte(s)) {
				t.Errorf("%s contains a secret (%.6s…)", p, s)
			}
		}
		return nil
	})
}

// secretFields are the fields of a stored JSON value that hold a secret
// (the others, such as "type": "password", are plain words).
var secretFields = []string{"password", "refreshToken", "accessToken", "clientSecret"}

// storedSecrets are the values the store holds (not their keys): each
// value, and each secret field of a value that is a JSON object (the
// refresh token inside a stored sign-in), so a scan finds a token that
// leaked on its own.
func storedSecrets(t *testing.T, store *secrets.Memory) []string {
	t.Helper()
	var out []string
	for _, k := range store.Keys() {
		v, err := store.Get(context.Background(), k)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		out = append(out, v)
		var fields map[string]any
		if json.Unmarshal([]byte(v), &fields) == nil {
			for _, name := range secretFields {
				if s, ok := fields[name].(string); ok {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// secretsIn fails when any of list (at least 6 characters) is in text.
func secretsIn(t *testing.T, what, text string, list ...string) {
	t.Helper()
	for _, s := range list {
		if len(s) >= 6 && strings.Contains(text, s) {
			t.Errorf("%s contains a secret (%.6s…)", what, s)
		}
	}
}

func TestSubmitVerifiesAndSends(t *testing.T) {
	w := newHandOffWorld(t)
	f := w.settingsFile(w.sb.DemoSettings())
	code, out, errOut := w.run(sandbox.DemoPassword+"\n", "submit", "--json", "--password-stdin", f)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	var j submitJSON
	if err := json.Unmarshal([]byte(out), &j); err != nil || j.State != infino.StateSent || j.ID == "" || j.Email != sandbox.DemoEmail {
		t.Fatalf("%s %v", out, err)
	}
	// Verification really signed in to both sandbox servers first.
	var ok int
	for _, l := range w.sb.Mail.Logins() {
		if l.OK && l.User == sandbox.DemoEmail {
			ok++
		}
	}
	if ok != 2 || w.sb.Infino.Count() != 1 || w.sb.Infino.Mailboxes()[0].Password != sandbox.DemoPassword {
		t.Fatalf("logins %+v, mailboxes %d", w.sb.Mail.Logins(), w.sb.Infino.Count())
	}
	code, out, _ = w.run("", "outbox", "list")
	if code != ExitOK || !strings.Contains(out, "The outbox is empty.") {
		t.Fatalf("outbox list: %d %s", code, out)
	}
	scanForSecrets(t, w.dir, sandbox.DemoPassword)

	// Plain output, with the password from the keyring (the window keeps it
	// under secrets.PasswordKey).
	s2, _ := w.sb.Settings("ola@" + sandbox.DemoDomain)
	w.sb.Mail.AddUser(s2.Email, "haslo-oli-123")
	w.store.Set(context.Background(), secrets.PasswordKey(s2.Email), "haslo-oli-123")
	code, out, errOut = w.run("", "submit", w.settingsFile(s2))
	if code != ExitOK || !strings.Contains(out, "Done: the mailbox ola@kancelaria-demo.test has been handed to Infino.") {
		t.Fatalf("%d\n%s\n%s", code, out, errOut)
	}
}

func TestSubmitVerificationFailsNothingSent(t *testing.T) {
	w := newHandOffWorld(t)
	code, out, _ := w.run("wrong-password\n", "submit", "--json", "--password-stdin", w.settingsFile(w.sb.DemoSettings()))
	var j submitJSON
	json.Unmarshal([]byte(out), &j)
	if code != ExitFailed || j.Kind != "verification" || len(j.Failures) != 2 || j.Failures[0].Kind != mailcfg.KindAuthFailed {
		t.Fatalf("exit %d %s", code, out)
	}
	if len(w.sb.Infino.Requests()) != 0 {
		t.Fatal("sent to Infino after a failed verification")
	}
}

func TestSubmitBadInput(t *testing.T) {
	w := newHandOffWorld(t)
	good := w.settingsFile(w.sb.DemoSettings())
	bad := w.sb.DemoSettings()
	bad.Incoming.Port = 0
	junk := filepath.Join(t.TempDir(), "junk.json")
	os.WriteFile(junk, []byte(`{"email": "a@b.pl", "extra": 1}`), 0o600)
	for name, c := range map[string]struct {
		stdin string
		args  []string
	}{
		"no file":        {"pw\n", []string{"submit", "--password-stdin", filepath.Join(t.TempDir(), "missing.json")}},
		"junk":           {"pw\n", []string{"submit", "--password-stdin", junk}},
		"invalid":        {"pw\n", []string{"submit", "--password-stdin", w.settingsFile(bad)}},
		"no password":    {"", []string{"submit", good}},
		"empty password": {"\n", []string{"submit", "--password-stdin", good}},
		"two files":      {"pw\n", []string{"submit", "--password-stdin", good, good}},
		"bad flag":       {"pw\n", []string{"submit", "--nope", good}},
		"outbox verb":    {"", []string{"outbox", "drop"}},
	} {
		if code, _, errOut := w.run(c.stdin, c.args...); code != ExitUsage {
			t.Errorf("%s: exit %d (%s)", name, code, errOut)
		}
	}
	if len(w.sb.Mail.Logins()) != 0 || len(w.sb.Infino.Requests()) != 0 {
		t.Fatal("bad input reached a server")
	}
}

func TestSubmitQueuedThenOutboxFlush(t *testing.T) {
	w := newHandOffWorld(t)
	// Sign in first, while Infino is reachable.
	if code, out, errOut := w.run(sandbox.DemoPassword+"\n", "submit", "--password-stdin", w.settingsFile(w.sb.DemoSettings())); code != ExitOK {
		t.Fatalf("%d %s %s", code, out, errOut)
	}
	w.down.Store(true)
	s2, _ := w.sb.Settings("kasia@" + sandbox.DemoDomain)
	w.sb.Mail.AddUser(s2.Email, "haslo-kasi-99")
	code, out, errOut := w.run("haslo-kasi-99\n", "submit", "--json", "--password-stdin", w.settingsFile(s2))
	var j submitJSON
	json.Unmarshal([]byte(out), &j)
	if code != ExitQueued || j.State != infino.StateQueued || j.EntryID == "" || j.Kind != string(infino.KindUnavailable) || j.NextAttempt == nil {
		t.Fatalf("exit %d %s %s", code, out, errOut)
	}
	code, out, _ = w.run("", "outbox", "list", "--json")
	var list struct {
		Entries []outboxEntryJSON `json:"entries"`
	}
	json.Unmarshal([]byte(out), &list)
	if code != ExitOK || len(list.Entries) != 1 || list.Entries[0].ID != j.EntryID || list.Entries[0].Reason == "" {
		t.Fatalf("list %d %s", code, out)
	}
	scanForSecrets(t, w.dir, "haslo-kasi-99", sandbox.DemoPassword)

	code, _, _ = w.run("", "outbox", "flush") // still offline
	if code != ExitQueued {
		t.Fatalf("offline flush exit %d", code)
	}
	w.down.Store(false)
	n := w.sb.Infino.Count()
	code, out, _ = w.run("", "outbox", "flush")
	if code != ExitOK || !strings.Contains(out, "kasia@") || w.sb.Infino.Count() != n+1 {
		t.Fatalf("flush %d %s (%d mailboxes)", code, out, w.sb.Infino.Count())
	}
	code, out, _ = w.run("", "outbox", "flush")
	if code != ExitOK || !strings.Contains(out, "empty") || w.sb.Infino.Count() != n+1 {
		t.Fatalf("second flush %d %s", code, out)
	}
	scanForSecrets(t, w.dir, "haslo-kasi-99", sandbox.DemoPassword)
}

func TestSubmitExistsAndRejected(t *testing.T) {
	w := newHandOffWorld(t)
	w.sb.Infino.AddMailbox(sandbox.DemoEmail)
	code, out, _ := w.run(sandbox.DemoPassword+"\n", "submit", "--password-stdin", w.settingsFile(w.sb.DemoSettings()))
	if code != ExitOK || !strings.Contains(out, "already connected") {
		t.Fatalf("409: %d %s", code, out)
	}
	w.sb.Infino.Inject(sandbox.Fault{Status: 400, Body: `{"error":"invalid_settings","errors":[{"field":"outgoing.host","message":"Infino cannot reach it."}]}`})
	s2, _ := w.sb.Settings("jan2@" + sandbox.DemoDomain)
	w.sb.Mail.AddUser(s2.Email, "pw-jan2-123")
	code, out, errOut := w.run("pw-jan2-123\n", "submit", "--json", "--password-stdin", w.settingsFile(s2))
	var j submitJSON
	json.Unmarshal([]byte(out), &j)
	if code != ExitFailed || j.Kind != string(infino.KindInvalid) || len(j.Fields) != 1 || j.Fields[0].Field != "outgoing.host" {
		t.Fatalf("400: %d %s %s", code, out, errOut)
	}
}

func TestSubmitMicrosoftAccount(t *testing.T) {
	w := newHandOffWorld(t)
	_, rt := w.sb.Microsoft.Mint(sandbox.MicrosoftEmail)
	w.store.Set(context.Background(), secrets.MicrosoftRefreshKey(sandbox.MicrosoftEmail), rt)
	s, _ := w.sb.MicrosoftSettings(sandbox.MicrosoftEmail)
	code, out, errOut := w.run("", "submit", "--json", w.settingsFile(s))
	if code != ExitOK {
		t.Fatalf("%d %s %s", code, out, errOut)
	}
	mb := w.sb.Infino.Mailboxes()
	if len(mb) != 1 || mb[0].SecretType != "oauth2" {
		t.Fatalf("%+v", mb)
	}
	var body struct {
		Secret infino.Secret `json:"secret"`
	}
	json.Unmarshal(mb[0].Body, &body)
	rotated, _ := w.store.Get(context.Background(), secrets.MicrosoftRefreshKey(sandbox.MicrosoftEmail))
	if body.Secret.Provider != "microsoft" || body.Secret.ClientID != sandbox.MicrosoftClientID || body.Secret.RefreshToken != rotated ||
		body.Secret.Tenant != "common" || len(body.Secret.Scopes) == 0 {
		t.Fatalf("secret sent: %+v", body.Secret)
	}
	// Not signed in with Microsoft: bad input, nothing checked.
	s2, _ := w.sb.MicrosoftSettings("nobody@" + sandbox.MicrosoftDomain)
	if code, _, errOut := w.run("", "submit", w.settingsFile(s2)); code != ExitUsage || !strings.Contains(errOut, "signin microsoft") {
		t.Fatalf("%d %s", code, errOut)
	}
}

func TestOutboxReportsCorruptFile(t *testing.T) {
	w := newHandOffWorld(t)
	ob := filepath.Join(w.dir, "outbox")
	os.MkdirAll(ob, 0o700)
	os.WriteFile(filepath.Join(ob, infino.NewUUID()+".json"), []byte("{\"v\":1,"), 0o600)
	code, _, errOut := w.run("", "outbox", "list")
	if code != ExitFailed || !strings.Contains(errOut, "quarantined") {
		t.Fatalf("%d %s", code, errOut)
	}
	// Reported once: later commands are clean.
	code, out, _ := w.run("", "outbox", "list", "--json")
	if code != ExitOK || !strings.Contains(out, `"problems": []`) {
		t.Fatalf("%d %s", code, out)
	}
	if code, out, errOut := w.run("", "outbox", "flush"); code != ExitOK {
		t.Fatalf("flush after the report: %d %s %s", code, out, errOut)
	}
}

func TestSigninInfino(t *testing.T) {
	w := newHandOffWorld(t)
	var out, errb bytes.Buffer
	pol := w.sb.Policy()
	pol.InfinoURL = ""
	env := &Env{Stdout: &out, Stderr: &errb, Lang: "en", World: w.world(pol), Getenv: func(string) string { return "" }}
	ctx := context.Background()
	if code := runSigninInfino(ctx, env, nil); code != ExitUsage || !strings.Contains(errb.String(), "--url") {
		t.Fatalf("no URL: %d %s", code, errb.String())
	}
	if code := runSigninInfino(ctx, env, []string{"--url", "http://infino.example.com"}); code != ExitUsage {
		t.Fatalf("http URL accepted: %d", code)
	}
	if code := runSigninInfino(ctx, env, []string{"--url", w.sb.InfinoURL}); code != ExitOK || !strings.Contains(out.String(), "Signed in to Infino") {
		t.Fatalf("%d %s %s", code, out.String(), errb.String())
	}
	if _, err := w.store.Get(ctx, infino.TokenKey(w.sb.InfinoURL)); err != nil {
		t.Fatal("sign-in not kept:", err)
	}
	// The URL is remembered: the next sign-in needs no --url.
	if code := runSigninInfino(ctx, env, nil); code != ExitOK {
		t.Fatalf("remembered URL: %d %s", code, errb.String())
	}
	// The refresh token Infino issued is in the keyring only: in no file
	// of the config dir and nowhere in what the command printed.
	kept := storedSecrets(t, w.store)
	if len(kept) < 2 {
		t.Fatalf("stored sign-in has no refresh token to look for: %q", kept)
	}
	scanForSecrets(t, w.dir, kept...)
	secretsIn(t, "signin infino's output", out.String()+errb.String(), kept...)
}
