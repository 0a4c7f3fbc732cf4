package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"infino.legal/mailbox/internal/sandbox"
	"infino.legal/mailbox/mailcfg/infino"
)

// The lawyer changed the mailbox password: submit says it is already
// there and names it; submit --replace replaces the settings Infino keeps.
func TestSubmitReplace(t *testing.T) {
	w := newHandOffWorld(t)
	f := w.settingsFile(w.sb.DemoSettings())
	if code, out, errOut := w.run(sandbox.DemoPassword+"\n", "submit", "--password-stdin", f); code != ExitOK {
		t.Fatalf("%d %s %s", code, out, errOut)
	}
	w.sb.Mail.AddUser(sandbox.DemoEmail, "nowe-haslo-2026")
	code, out, errOut := w.run("nowe-haslo-2026\n", "submit", "--json", "--password-stdin", f)
	var j submitJSON
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != ExitOK || j.State != infino.StateExists ||
		j.Existing == nil || j.Existing.ID == "" || !strings.Contains(j.Message, "replace") {
		t.Fatalf("%d %s %s", code, out, errOut)
	}
	if w.sb.Infino.Mailboxes()[0].Password != sandbox.DemoPassword {
		t.Fatal("replaced without --replace")
	}
	if code, out, _ := w.run("nowe-haslo-2026\n", "submit", "--password-stdin", f); code != ExitOK || !strings.Contains(out, "submit --replace") {
		t.Fatalf("no hint: %d %s", code, out)
	}
	code, out, errOut = w.run("nowe-haslo-2026\n", "submit", "--json", "--replace", "--password-stdin", f)
	j = submitJSON{}
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != ExitOK || j.State != infino.StateReplaced {
		t.Fatalf("%d %s %s", code, out, errOut)
	}
	mb := w.sb.Infino.Mailboxes()
	if len(mb) != 1 || mb[0].Password != "nowe-haslo-2026" || mb[0].Version != 2 {
		t.Fatalf("%+v", mb)
	}
	// --replace on a new address just adds it.
	s2, _ := w.sb.Settings("nowa@" + sandbox.DemoDomain)
	w.sb.Mail.AddUser(s2.Email, "haslo-nowej-1")
	if code, out, errOut := w.run("haslo-nowej-1\n", "submit", "--replace", "--password-stdin", w.settingsFile(s2)); code != ExitOK ||
		!strings.Contains(out, "handed to Infino") {
		t.Fatalf("%d %s %s", code, out, errOut)
	}
	scanForSecrets(t, w.dir, "nowe-haslo-2026", sandbox.DemoPassword)

	// mailboxes list shows both, verified and active.
	code, out, errOut = w.run("", "mailboxes", "list", "--json")
	var list struct {
		Mailboxes []mailboxJSON `json:"mailboxes"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || code != ExitOK || len(list.Mailboxes) != 2 ||
		list.Mailboxes[0].Email != sandbox.DemoEmail || list.Mailboxes[0].State != "active" || list.Mailboxes[0].LastVerifiedAt == nil ||
		list.Mailboxes[0].UpdatedAt == nil {
		t.Fatalf("%d %s %s", code, out, errOut)
	}
	code, out, _ = w.run("", "mailboxes", "list")
	if code != ExitOK || !strings.Contains(out, "nowa@"+sandbox.DemoDomain) || !strings.Contains(out, "active") {
		t.Fatalf("%d %s", code, out)
	}
	if code, _, _ := w.run("", "mailboxes", "drop"); code != ExitUsage {
		t.Fatalf("bad verb: %d", code)
	}
}

// A server that signs in without a refresh token: signin infino fails with
// a message for IT, never "Signed in".
func TestSigninInfinoWithoutRefreshToken(t *testing.T) {
	w := newHandOffWorld(t)
	w.sb.Infino.SetProfile(sandbox.AuthProfile{NeverRefresh: true})
	var out, errb bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &errb, Lang: "en", World: w.world(w.sb.Policy()), Getenv: func(string) string { return "" }}
	code := runSigninInfino(context.Background(), env, nil)
	if code != ExitFailed || strings.Contains(out.String(), "Signed in") || !strings.Contains(errb.String(), "refresh token") ||
		strings.Contains(errb.String(), "outbox") {
		t.Fatalf("%d\n%s\n%s", code, out.String(), errb.String())
	}
	if _, err := w.store.Get(context.Background(), infino.TokenKey(w.sb.InfinoURL)); err == nil {
		t.Fatal("a sign-in was kept")
	}
}
