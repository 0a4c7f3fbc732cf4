package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/secrets"
)

// "Sign in with Microsoft" end to end through the command line: "signin
// microsoft" against a local identity platform, then "verify" with the
// printed settings (pointed at in-process IMAP/SMTP servers that accept
// only XOAUTH2 with a token that platform issued) using the stored refresh
// token, which rotates and is stored again.
func TestSigninThenVerifyXOAUTH2(t *testing.T) {
	w := newMSWorld(t)
	mail := w.as.StartMail(t)
	code, out, errOut := w.run("en", "signin", "microsoft", "--json")
	if code != ExitOK {
		t.Fatalf("signin: exit %d %s %s", code, out, errOut)
	}
	s, err := mailcfg.DecodeSettings(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, mail.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	path := writeSettings(t, mail.Settings(s))
	key := secrets.MicrosoftRefreshKey(s.Email)
	rt1, _ := w.store.Get(context.Background(), key)

	// A new process: no access token in memory, so it refreshes first.
	w.as.SetAccessTokenTTL(time.Minute)
	code, out, errOut = w.run("en", "verify", "--json", "--ca", ca, path)
	if code != ExitOK {
		t.Fatalf("verify: exit %d\n%s\n%s", code, out, errOut)
	}
	var j struct{ OK bool }
	if err := json.Unmarshal([]byte(out), &j); err != nil || !j.OK {
		t.Fatalf("verify JSON %s (%v)", out, err)
	}
	logins := mail.Logins()
	if len(logins) != 2 {
		t.Fatalf("logins %+v", logins)
	}
	for _, l := range logins {
		if l.Mechanism != "XOAUTH2" || !l.OK || l.User != s.Email {
			t.Fatalf("login %+v", l)
		}
	}
	rt2, _ := w.store.Get(context.Background(), key)
	if rt2 == rt1 || !w.as.ValidRefreshToken(rt2) || w.as.Counts().Refreshed != 1 {
		t.Fatalf("the rotated refresh token was not stored (%+v)", w.as.Counts())
	}
	if strings.Contains(out+errOut, rt2) {
		t.Fatal("verify printed a token")
	}

	// Human output, Polish, after another rotation.
	if code, out, errOut := w.run("pl", "verify", "--ca", ca, path); code != ExitOK {
		t.Fatalf("verify (pl): exit %d\n%s\n%s", code, out, errOut)
	}

	// SMTP AUTH switched off for the tenant: the outgoing side fails.
	mail.SetSMTPAuthDisabled(true)
	code, out, _ = w.run("en", "verify", "--json", "--ca", ca, path)
	if code != ExitFailed || !strings.Contains(out, "auth_disabled") || !strings.Contains(out, "5.7.139") {
		t.Fatalf("SMTP AUTH disabled: exit %d %s", code, out)
	}
}

func TestVerifyOAuthErrors(t *testing.T) {
	w := newMSWorld(t)
	mail := w.as.StartMail(t)
	s := mail.Settings(mailcfg.Settings{
		Email: "nobody@kancelaria.example", Auth: mailcfg.AuthOAuth2, Source: mailcfg.SourceMicrosoft,
		Incoming: mailcfg.Server{Protocol: mailcfg.IMAP, Security: mailcfg.SecurityTLS, Username: "nobody@kancelaria.example"},
		Outgoing: mailcfg.Server{Protocol: mailcfg.SMTP, Security: mailcfg.SecurityStartTLS, Username: "nobody@kancelaria.example"},
	})
	path := writeSettings(t, s)

	// Never signed in: said so before any server is contacted.
	code, _, errOut := w.run("en", "verify", path)
	if code != ExitFailed || !strings.Contains(errOut, "No Microsoft sign-in is stored") || !strings.Contains(errOut, "signin microsoft") {
		t.Fatalf("not signed in: %d %s", code, errOut)
	}
	if len(mail.Logins()) != 0 {
		t.Fatal("a server was contacted without a token")
	}

	// The stored sign-in was revoked: sign in again (Polish).
	w.store.Set(context.Background(), secrets.MicrosoftRefreshKey(s.Email), "revoked")
	code, _, errOut = w.run("pl", "verify", path)
	if code != ExitFailed || !strings.Contains(errOut, "Zaloguj się ponownie") {
		t.Fatalf("revoked: %d %s", code, errOut)
	}

	// No client id in the policy.
	w.pol.Microsoft.ClientID = ""
	code, _, errOut = w.run("en", "verify", path)
	if code != ExitFailed || !strings.Contains(errOut, "microsoft.clientId") {
		t.Fatalf("not configured: %d %s", code, errOut)
	}

	// OAuth2 settings of Gmail: Google's sign-in, not set up here.
	g := s
	g.Source, g.Email = mailcfg.SourceManual, "jan@gmail.com"
	g.Incoming.Host, g.Outgoing.Host = "imap.gmail.com", "smtp.gmail.com"
	code, _, errOut = w.run("en", "verify", writeSettings(t, g))
	if code != ExitFailed || !strings.Contains(errOut, "oauth.google.clientId") {
		t.Fatalf("google not configured: %d %s", code, errOut)
	}
	// OAuth2 settings of a provider without a sign-in of its own.
	g.Email = "jan@wp.pl"
	g.Incoming.Host, g.Outgoing.Host = "imap.wp.pl", "smtp.wp.pl"
	code, _, errOut = w.run("en", "verify", writeSettings(t, g))
	if code != ExitFailed || !strings.Contains(errOut, "only for providers with their own sign-in page") {
		t.Fatalf("no sign-in provider: %d %s", code, errOut)
	}
}
