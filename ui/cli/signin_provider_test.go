package cli

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/internal/googletest"
	"infino.legal/mailbox/internal/microsofttest"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/world"
)

func runIn(t *testing.T, w *world.World, lang string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Lang: lang, World: w, Getenv: func(string) string { return "" }}
	code := Main(ctx, env, args)
	return code, out.String(), errOut.String()
}

// "signin google" signs in at a strict Google and prints Gmail's settings;
// a second provider id is just another argument.
func TestSigninGoogleJSON(t *testing.T) {
	t.Setenv(secrets.LockDirEnv, t.TempDir())
	g := googletest.NewServer(t)
	pol := policy.Default()
	if err := pol.Set("test", g.Policy()); err != nil {
		t.Fatal(err)
	}
	store := secrets.NewMemory()
	w := &world.World{Policy: pol, Lang: "en", Store: store, HTTP: g.HTTPClient(), Opener: g.Browser().Open}
	code, out, errOut := runIn(t, w, "en", "signin", "google", "--json", "--login-hint", googletest.Gmail.Email)
	if code != ExitOK {
		t.Fatalf("exit %d %s %s", code, out, errOut)
	}
	s, err := mailcfg.DecodeSettings(strings.NewReader(out))
	if err != nil || s.Email != googletest.Gmail.Email || s.Incoming.Host != "imap.gmail.com" || s.Auth != mailcfg.AuthOAuth2 {
		t.Fatalf("%+v %v", s, err)
	}
	if !strings.Contains(errOut, "Sign in with Google in the browser") || !strings.Contains(errOut, g.URL+"/o/oauth2/v2/auth?") {
		t.Fatalf("stderr %s", errOut)
	}
	if rt, err := store.Get(context.Background(), secrets.RefreshKey(s.Email, "google")); err != nil || strings.Contains(out+errOut, rt) {
		t.Fatalf("refresh token: %v", err)
	}
	// "verify" of those settings (pointed at Gmail's fake servers) refreshes
	// the stored sign-in under the lock and logs in to both with XOAUTH2.
	mail := g.StartMail(t)
	wv := &world.World{Policy: pol, Lang: "en", Store: store, HTTP: g.HTTPClient(), RootCAs: mail.RootCAs}
	code, out, errOut = runIn(t, wv, "en", "verify", "--json", writeSettings(t, mail.Settings(s)))
	if code != ExitOK || len(mail.XOAUTH2Logins()) != 2 || g.Stats().RefreshGrants != 1 {
		t.Fatalf("verify: %d %s %s %+v", code, out, errOut, mail.Logins())
	}
	// Not configured: exit 2 and what IT must set.
	w2 := &world.World{Policy: policy.Default(), PolicyFile: "/srv/kancelaria/policy.json", Lang: "pl", Store: store}
	code, _, errOut = runIn(t, w2, "pl", "signin", "yahoo")
	if code != ExitUsage || !strings.Contains(errOut, "oauth.yahoo.clientId") || !strings.Contains(errOut, "/srv/kancelaria/policy.json") {
		t.Fatalf("not configured: %d %s", code, errOut)
	}
	if code, _, _ := runIn(t, w2, "en", "signin", "nobody"); code != ExitUsage {
		t.Fatalf("unknown provider: %d", code)
	}
}

// The IT consent path on the command line: the sign-in says an
// administrator must approve (with the link and the request), IT runs
// "admin-consent microsoft", and the sign-in succeeds.
func TestSigninMicrosoftAdminConsentCLI(t *testing.T) {
	t.Setenv(secrets.LockDirEnv, t.TempDir())
	w := newMSWorld(t)
	w.as.RequireAdminConsent(microsofttest.Work.TenantID)
	code, out, errOut := w.run("en", "signin", "microsoft", "--json", "--login-hint", microsofttest.Work.Email)
	var j struct {
		Error struct {
			Code, Kind string
			AADSTS     int
			Consent    struct{ Tenant, URL, Request string }
		}
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != ExitFailed {
		t.Fatalf("exit %d %v %s %s", code, err, out, errOut)
	}
	c := j.Error.Consent
	u, _ := url.Parse(c.URL)
	if j.Error.Code != "admin_consent" || j.Error.AADSTS != 90094 || c.Tenant != "kancelaria.example" || u.Query().Get("client_id") != w.as.ClientID ||
		!strings.Contains(c.Request, c.URL) {
		t.Fatalf("json %+v", j.Error)
	}
	code, _, errOut = w.run("pl", "signin", "microsoft", "--login-hint", microsofttest.Work.Email)
	if code != ExitFailed || !strings.Contains(errOut, "Prośba do działu IT") || !strings.Contains(errOut, "adminconsent?") {
		t.Fatalf("human: %d %s", code, errOut)
	}

	code, out, errOut = w.run("en", "admin-consent", "microsoft", "--tenant", microsofttest.Work.TenantID, "--json")
	var r adminConsentJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != ExitOK || !r.Granted || r.Tenant != microsofttest.Work.TenantID ||
		!strings.Contains(errOut, "Admin consent granted") {
		t.Fatalf("admin-consent: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := w.run("en", "signin", "microsoft", "--json", "--login-hint", microsofttest.Work.Email); code != ExitOK {
		t.Fatalf("after consent: %d %s %s", code, out, errOut)
	}
	for _, args := range [][]string{{"admin-consent"}, {"admin-consent", "google"}, {"admin-consent", "microsoft", "extra"}} {
		if code, _, _ := w.run("en", args...); code != ExitUsage {
			t.Errorf("%v: exit %d", args, code)
		}
	}
}

// "--shared" connects a shared mailbox with the user's own sign-in.
func TestSigninMicrosoftShared(t *testing.T) {
	t.Setenv(secrets.LockDirEnv, t.TempDir())
	w := newMSWorld(t)
	code, out, errOut := w.run("en", "signin", "microsoft", "--json", "--shared", "biuro@kancelaria.example", "--protocol", "pop3")
	if code != ExitOK {
		t.Fatalf("exit %d %s %s", code, out, errOut)
	}
	s, err := mailcfg.DecodeSettings(strings.NewReader(out))
	if err != nil || s.Email != "biuro@kancelaria.example" || s.Incoming.Username != s.Email || s.Outgoing.Username != microsofttest.Work.Email ||
		s.SignedInAs != microsofttest.Work.Email || s.Incoming.Protocol != mailcfg.POP3 || !strings.Contains(errOut, "shared mailbox biuro@kancelaria.example") {
		t.Fatalf("%+v %v %s", s, err, errOut)
	}
	if code, _, _ := w.run("en", "signin", "microsoft", "--protocol", "smtp"); code != ExitUsage {
		t.Fatalf("--protocol smtp: %d", code)
	}
}
