package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/verify"
	"infino.legal/mailbox/mailcfg/world"
	"infino.legal/mailbox/ui/cli"
)

// TestPolicyCAFileWarning: a policy CA file that cannot be used is one
// sentence, naming the file, that the Start screen shows and the command
// line prints on stderr, in both languages.
func TestPolicyCAFileWarning(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "firma-ca.pem")
	pol := policy.Default()
	pol.ExtraCAFile = missing
	for _, tc := range []struct{ locale, lang string }{{"pl_PL.UTF-8", "pl"}, {"en_GB.UTF-8", "en"}} {
		w := newWiring(&world.World{Policy: pol, ConfigDir: t.TempDir()}, tc.lang)
		d := w.deps()
		if d.NetWarning == nil {
			t.Fatalf("%s: no warning in Deps", tc.lang)
		}
		want := d.NetWarning.In(tc.lang)
		if !strings.Contains(want, missing) {
			t.Fatalf("%s: the warning does not name the file: %q", tc.lang, want)
		}
		h := newHarness(t, tc.locale, useDeps(d))
		if n := h.wz.start.policy; !n.box.Visible() || n.text.Text != want {
			t.Errorf("%s: Start shows %q (visible %v), want %q", tc.lang, n.text.Text, n.box.Visible(), want)
		}

		var out, errb bytes.Buffer
		env := &cli.Env{Stdin: strings.NewReader("haslo\n"), Stdout: &out, Stderr: &errb, Lang: tc.lang,
			World: &world.World{Policy: pol}, Getenv: func(string) string { return "" },
			Verify: func(context.Context, mailcfg.Settings, verify.Credential, verify.Options) verify.Result {
				return verify.Result{OK: true}
			}}
		if code := cli.Main(context.Background(), env, []string{"verify", "--json", "--password-stdin", settingsFile(t)}); code != cli.ExitOK {
			t.Fatalf("%s: verify exit %d: %s", tc.lang, code, errb.String())
		}
		if got := errb.String(); got != "infino-mailbox: "+want+"\n" {
			t.Errorf("%s: the command line says %q, the window %q", tc.lang, got, want)
		}
	}
}

func settingsFile(t *testing.T) string {
	s := mailcfg.Settings{
		Email: "jan@kancelaria.example", Auth: mailcfg.AuthPassword,
		Incoming: mailcfg.Server{Protocol: mailcfg.IMAP, Host: "imap.kancelaria.example", Port: 993, Security: mailcfg.SecurityTLS, Username: "jan@kancelaria.example"},
		Outgoing: mailcfg.Server{Protocol: mailcfg.SMTP, Host: "smtp.kancelaria.example", Port: 465, Security: mailcfg.SecurityTLS, Username: "jan@kancelaria.example"},
	}
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
