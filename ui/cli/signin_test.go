package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"infino.legal/mailbox/internal/microsofttest"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/signin"
	"infino.legal/mailbox/mailcfg/world"
)

// syncBuffer is a bytes.Buffer that the sign-in goroutines and the test may
// use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// msWorld is a fake Microsoft identity platform and a memory keyring wired
// into the command line for one test.
type msWorld struct {
	t     *testing.T
	as    *microsofttest.Server
	store *secrets.Memory
	pol   policy.Policy
	// opener replaces the fake browser (nil: as.Browser()).
	opener func(context.Context, string) error
}

func newMSWorld(t *testing.T) *msWorld {
	t.Helper()
	w := &msWorld{t: t, as: microsofttest.NewServer(t), store: secrets.NewMemory(), pol: policy.Default()}
	w.pol.Microsoft = w.as.Policy()
	return w
}

func (w *msWorld) env(lang string, stdout, stderr *syncBuffer) *Env {
	opener := w.opener
	if opener == nil {
		opener = w.as.Browser().Open
	}
	return &Env{
		Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr, Lang: lang,
		World: &world.World{Policy: w.pol, PolicyFile: "/srv/kancelaria/policy.json", Lang: lang,
			Store: w.store, HTTP: w.as.HTTPClient(), Opener: opener},
		Getenv: func(string) string { return "" },
	}
}

func (w *msWorld) run(lang string, args ...string) (int, string, string) {
	w.t.Helper()
	var out, errOut syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := Main(ctx, w.env(lang, &out, &errOut), args)
	return code, out.String(), errOut.String()
}

func TestSigninMicrosoftJSONWorkAccount(t *testing.T) {
	w := newMSWorld(t)
	code, out, errOut := w.run("en", "signin", "microsoft", "--json")
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	// stdout is exactly the settings JSON; the URL went to stderr.
	s, err := mailcfg.DecodeSettings(strings.NewReader(out))
	if err != nil {
		t.Fatalf("stdout is not settings JSON: %v\n%s", err, out)
	}
	if s.Email != microsofttest.Work.PreferredUsername || s.Auth != mailcfg.AuthOAuth2 || s.Source != mailcfg.SourceMicrosoft ||
		s.Incoming.Host != "outlook.office365.com" || s.Incoming.Port != 993 || s.Incoming.Security != mailcfg.SecurityTLS ||
		s.Outgoing.Host != "smtp.office365.com" || s.Outgoing.Port != 587 || s.Outgoing.Security != mailcfg.SecurityStartTLS ||
		s.Incoming.Username != s.Email || s.Outgoing.Username != s.Email || s.Provider == nil || s.Provider.ID != "microsoft365" {
		t.Fatalf("settings %+v", s)
	}
	if err := s.Validate(mailcfg.ValidateOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, w.as.URL+"/common/oauth2/v2.0/authorize?") || !strings.Contains(errOut, "Signed in as "+s.Email) {
		t.Fatalf("stderr %s", errOut)
	}
	if strings.Contains(out, "authorize") {
		t.Fatal("the sign-in URL leaked to stdout")
	}
	rt, err := w.store.Get(context.Background(), secrets.MicrosoftRefreshKey(s.Email))
	if err != nil || !w.as.ValidRefreshToken(rt) {
		t.Fatalf("refresh token not stored: %v", err)
	}
	if keys := w.store.Keys(); len(keys) != 1 {
		t.Fatalf("stored %v (only the refresh token may be kept)", keys)
	}
	if strings.Contains(out+errOut, rt) {
		t.Fatal("a token was printed")
	}
}

func TestSigninMicrosoftPersonalHuman(t *testing.T) {
	w := newMSWorld(t)
	w.as.SetAccount(microsofttest.Personal)
	code, out, errOut := w.run("pl", "signin", "microsoft")
	if code != ExitOK {
		t.Fatalf("exit %d %s %s", code, out, errOut)
	}
	for _, want := range []string{"jan.kowalski@outlook.com", "smtp-mail.outlook.com:587", "outlook.office365.com:993", "Outlook.com"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "Zalogowano jako jan.kowalski@outlook.com") || !strings.Contains(errOut, "Zaloguj się przez Microsoft") {
		t.Errorf("stderr not Polish: %s", errOut)
	}
}

var urlRE = regexp.MustCompile(`https://\S+/oauth2/v2\.0/authorize\?\S+`)

func TestSigninMicrosoftNoBrowser(t *testing.T) {
	w := newMSWorld(t)
	w.opener = func(context.Context, string) error {
		t.Error("--no-browser opened a browser")
		return nil
	}
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(context.Background(), w.env("en", &out, &errOut), []string{"signin", "microsoft", "--no-browser", "--json", "--timeout", "30s"})
	}()
	// The user copies the address from the terminal into a browser.
	var u string
	for deadline := time.Now().Add(10 * time.Second); u == ""; {
		if time.Now().After(deadline) {
			t.Fatalf("no address on stderr: %s", errOut.String())
		}
		u = urlRE.FindString(errOut.String())
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(errOut.String(), "Open this address in a browser") {
		t.Fatalf("stderr %s", errOut.String())
	}
	if err := w.as.Browser().Visit(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != ExitOK {
		t.Fatalf("exit %d %s %s", code, out.String(), errOut.String())
	}
	if _, err := mailcfg.DecodeSettings(strings.NewReader(out.String())); err != nil {
		t.Fatal(err)
	}
}

func TestSigninMicrosoftNotConfigured(t *testing.T) {
	w := newMSWorld(t)
	w.pol.Microsoft.ClientID = ""
	code, out, errOut := w.run("pl", "signin", "microsoft")
	if code != ExitUsage || out != "" {
		t.Fatalf("exit %d stdout %q", code, out)
	}
	for _, want := range []string{"microsoft.clientId", "/srv/kancelaria/policy.json", "Dział IT", "nie jest jeszcze skonfigurowane"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q: %s", want, errOut)
		}
	}
	code, out, _ = w.run("en", "signin", "microsoft", "--json")
	var j struct {
		Error struct {
			Kind, Code, Message, Hint string
		}
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != ExitUsage {
		t.Fatalf("exit %d %v %s", code, err, out)
	}
	if j.Error.Code != "not_configured" || j.Error.Kind != string(mailcfg.KindAuthDisabled) || !strings.Contains(j.Error.Hint, "microsoft.clientId") {
		t.Fatalf("json %+v", j)
	}
	if w.as.Counts().Authorize != 0 {
		t.Fatal("the sign-in page was opened")
	}

	w.pol.Microsoft.ClientID = w.as.ClientID
	w.pol.AllowedMethods = []string{policy.MethodManual}
	if code, _, errOut := w.run("en", "signin", "microsoft"); code != ExitUsage || !strings.Contains(errOut, "allowedMethods") {
		t.Fatalf("allowedMethods: %d %s", code, errOut)
	}
}

func TestSigninMicrosoftAADSTS(t *testing.T) {
	w := newMSWorld(t)
	w.as.SetTokenError(&microsofttest.ErrorResponse{Error: "invalid_grant",
		Description: "AADSTS65001: The user or administrator has not consented to use the application.", Codes: []int{65001}})
	code, out, errOut := w.run("pl", "signin", "microsoft", "--json")
	if code != ExitFailed {
		t.Fatalf("exit %d %s %s", code, out, errOut)
	}
	var j struct {
		Error struct {
			Kind, Code, Message, Hint, Detail, TraceID string
			AADSTS                                     int
		}
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err, out)
	}
	if j.Error.Code != string(signin.CodeAdminConsent) || j.Error.AADSTS != 65001 || j.Error.TraceID == "" ||
		!strings.Contains(j.Error.Message, "administratora") || !strings.Contains(j.Error.Detail, "AADSTS65001") {
		t.Fatalf("json %+v", j.Error)
	}
	if !strings.Contains(errOut, "AADSTS65001") || !strings.Contains(errOut, "zgody administratora") {
		t.Fatalf("stderr %s", errOut)
	}
	if len(w.store.Keys()) != 0 {
		t.Fatal("stored a token for a failed sign-in")
	}

	w.as.SetTokenError(nil)
	w.as.SetAuthorizeError(&microsofttest.ErrorResponse{Error: "access_denied", Description: "AADSTS65004: User declined to consent to access the app."})
	if code, _, errOut := w.run("en", "signin", "microsoft"); code != ExitFailed || !strings.Contains(errOut, "cancelled") {
		t.Fatalf("declined: %d %s", code, errOut)
	}
}

func TestSigninUsage(t *testing.T) {
	w := newMSWorld(t)
	for _, args := range [][]string{{"signin"}, {"signin", "google"}, {"signin", "microsoft", "extra"}, {"signin", "microsoft", "--bogus"},
		{"signin", "microsoft", "--timeout", "0s"}} {
		if code, _, _ := w.run("en", args...); code != ExitUsage {
			t.Errorf("%v: exit %d", args, code)
		}
	}
	if code, out, _ := w.run("en", "signin", "--help"); code != ExitOK || !strings.Contains(out, "signin microsoft") {
		t.Errorf("help: %d %s", code, out)
	}
	if code, _, errOut := w.run("en", "signin", "microsoft", "--help"); code != ExitOK || !strings.Contains(errOut, "--no-browser") {
		t.Errorf("microsoft help: %d %s", code, errOut)
	}
	if w.as.Counts().Authorize != 0 {
		t.Fatal("a usage error started a sign-in")
	}
}
