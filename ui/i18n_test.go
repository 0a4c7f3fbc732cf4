package ui

import (
	"bytes"
	"encoding/json"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"

	"infino.legal/mailbox/assets"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/verify"
)

func readTranslations(t *testing.T, name string) map[string]string {
	t.Helper()
	b, err := assets.Translations.ReadFile(assets.TranslationsDir + "/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s.json: %v", name, err)
	}
	return m
}

// keysInCode finds every translation key the window asks for: literal tr/trf
// keys, and the keys it builds from the kinds, steps, sides, sources and
// security modes. literals are the code's other string literals, which
// count as a use of a key they spell (a key handed to a helper, or kept in
// a table).
func keysInCode(t *testing.T) (keys, literals map[string]bool) {
	t.Helper()
	keys, literals = map[string]bool{}, map[string]bool{}
	files, _ := filepath.Glob("*.go")
	lit := regexp.MustCompile(`\btrf?\("([^"]+)"`)
	str := regexp.MustCompile(`"([A-Za-z][A-Za-z0-9_.]*)"`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			if !strings.HasSuffix(m[1], ".") {
				keys[m[1]] = true
			}
		}
		for _, m := range str.FindAllStringSubmatch(string(b), -1) {
			literals[m[1]] = true
		}
	}
	for _, k := range mailcfg.Kinds {
		keys["kind."+string(k)] = true
		keys["kind."+string(k)+".explain"] = true
	}
	for _, s := range []verify.Step{verify.StepResolve, verify.StepConnect, verify.StepTLS, verify.StepGreeting, verify.StepLogin} {
		keys["verify.step."+string(s)] = true
	}
	for _, side := range []string{"incoming", "outgoing"} {
		keys["verify.side."+side] = true
		keys["verify.sidename."+side] = true
	}
	for _, s := range []mailcfg.Security{mailcfg.SecurityTLS, mailcfg.SecurityStartTLS, mailcfg.SecurityNone} {
		keys["verify.security."+string(s)] = true
	}
	for _, s := range []mailcfg.Source{mailcfg.SourceBundled, mailcfg.SourceAutoconfig, mailcfg.SourceISPDB, mailcfg.SourceSRV,
		mailcfg.SourceMX, mailcfg.SourceGuess, mailcfg.SourceManual, mailcfg.SourceMicrosoft, mailcfg.SourceAutodiscover, mailcfg.SourcePolicy, mailcfg.SourceOAuth} {
		keys["source."+string(s)] = true
	}
	return keys, literals
}

// fyneKeys are Fyne's own strings the window can show (entry menu, dialogs).
var fyneKeys = []string{"Cancel", "Confirm", "Copy", "Cut", "Error", "No", "OK", "Paste", "Redo", "Select all", "Undo", "Yes", "Advanced", "Quit"}

func TestTranslationsAreComplete(t *testing.T) {
	pl, en := readTranslations(t, "pl"), readTranslations(t, "en")
	for k := range pl {
		if _, ok := en[k]; !ok {
			t.Errorf("%q is in pl.json but not en.json", k)
		}
	}
	for k := range en {
		if _, ok := pl[k]; !ok {
			t.Errorf("%q is in en.json but not pl.json", k)
		}
	}
	used, literals := keysInCode(t)
	for _, k := range fyneKeys {
		used[k] = true
	}
	var missing, unused []string
	for k := range used {
		if _, ok := pl[k]; !ok {
			missing = append(missing, k)
		}
	}
	for k := range pl {
		if !used[k] && !literals[k] {
			unused = append(unused, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(unused)
	if len(missing) > 0 {
		t.Errorf("keys used but not translated: %v", missing)
	}
	if len(unused) > 0 {
		t.Errorf("translations nobody uses: %v", unused)
	}
	// Polish is really Polish: only names and formats may read the same.
	same := map[string]bool{"OK": true, "manual.port": true, "verify.problem.side": true}
	for k, v := range pl {
		if v == en[k] && !same[k] && !strings.HasPrefix(k, "Select") {
			t.Errorf("%q is the same in Polish and English: %q", k, v)
		}
		if strings.Count(v, "%") != strings.Count(en[k], "%") {
			t.Errorf("%q: placeholders differ between pl and en", k)
		}
	}
}

// captureLog collects what Fyne (and anything else) logs while f runs.
func captureLog(f func()) string {
	var buf bytes.Buffer
	prev := log.Writer()
	log.SetOutput(&buf)
	defer log.SetOutput(prev)
	f()
	return buf.String()
}

func TestLanguageFromTheOS(t *testing.T) {
	test.NewTempApp(t)
	for _, tc := range []struct {
		locale, want, cancel, title string
	}{
		{"pl_PL.UTF-8", "pl", "Anuluj", "Połącz skrzynkę pocztową z Infino Legal"},
		{"pl", "pl", "Anuluj", "Połącz skrzynkę pocztową z Infino Legal"},
		{"C", "en", "Cancel", "Connect your mailbox to Infino Legal"},
		{"C.UTF-8", "en", "Cancel", "Connect your mailbox to Infino Legal"},
		{"POSIX", "en", "Cancel", "Connect your mailbox to Infino Legal"},
		{"en_US.UTF-8", "en", "Cancel", "Connect your mailbox to Infino Legal"},
		// Fyne knows German, we do not: all English, no German buttons.
		{"de_DE.UTF-8", "en", "Cancel", "Connect your mailbox to Infino Legal"},
		{"fr_FR.UTF-8", "en", "Cancel", "Connect your mailbox to Infino Legal"},
		{"sw_KE.UTF-8", "en", "Cancel", "Connect your mailbox to Infino Legal"},
		// Not a language at all: English, read as C from then on.
		{"xx_YY.UTF-8", "en", "Cancel", "Connect your mailbox to Infino Legal"},
	} {
		var got string
		logged := captureLog(func() {
			got = setLang(t, tc.locale)
			if tr("start.title") != tc.title || lang.L("Cancel") != tc.cancel || tr("Cancel") != tc.cancel {
				t.Errorf("%s: title %q, Cancel %q", tc.locale, tr("start.title"), lang.L("Cancel"))
			}
			_ = newHarness(t, tc.locale, nil).screenText()
		})
		if got != tc.want {
			t.Errorf("LANG=%s: language %q, want %q", tc.locale, got, tc.want)
		}
		if want := map[bool]string{true: "C", false: tc.locale}[strings.HasPrefix(tc.locale, "xx")]; os.Getenv("LC_ALL") != want {
			t.Errorf("LANG=%s: LC_ALL left as %q", tc.locale, os.Getenv("LC_ALL"))
		}
		if logged != "" {
			t.Errorf("LANG=%s logged:\n%s", tc.locale, logged)
		}
	}
	if setLang(t, "pl_PL.UTF-8"); lang.L("Select all") != "Zaznacz wszystko" || lang.L("Confirm") != "Potwierdź" {
		t.Errorf("Fyne's Polish strings not overridden: %q %q", lang.L("Select all"), lang.L("Confirm"))
	}
}
