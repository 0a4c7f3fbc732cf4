package ui

import (
	"fmt"
	"os"
	"strings"

	"github.com/jeandeaual/go-locale"
	"golang.org/x/text/language"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"

	"infino.legal/mailbox/assets"
	"infino.legal/mailbox/mailcfg"
)

// forcedUnder is the locale LoadTranslationsFor last registered a file under
// (so that a later call can put the OS language back there).
var forcedUnder fyne.Locale

// LoadTranslationsFor adds the embedded pl.json or en.json to Fyne's lang
// bundle and returns the language it picked: "pl" or "en". policyLang (the
// policy's "pl" or "en") overrides the OS; "" follows the OS locale, where
// any locale that is not Polish gets English (LANG=C included), quietly:
// for a locale Fyne itself knows (say de-DE) the English file is
// registered under that locale too, so that no key is ever missing — a
// missing key would make lang log an error on stderr and would mix German
// dialog buttons into an English window. Fyne's lang always follows the OS
// locale, so a chosen file is registered under that locale. The app's
// files hold Fyne's own strings the window shows (entry menu, dialog
// buttons), so the whole window speaks the chosen language.
func LoadTranslationsFor(policyLang string) string {
	settleLocale()
	loc := lang.SystemLocale()
	natural := "en"
	l := loc.LanguageString()
	if mailcfg.IsPolish(l) {
		natural = "pl"
	}
	want := natural
	if policyLang == "pl" || policyLang == "en" {
		want = policyLang
	}
	register := func(name string, under fyne.Locale) {
		data, err := assets.Translations.ReadFile(assets.TranslationsDir + "/" + name + ".json")
		if err == nil {
			err = lang.AddTranslationsForLocale(data, under)
		}
		if err != nil {
			fyne.LogError("loading translations", err)
		}
	}
	// Only the chosen language's file is read, under its own language
	// (go-i18n's parse of a file costs over a megabyte at start-up), and
	// where the OS locale needs it:
	register(want, fyne.Locale(want))
	switch {
	case want != natural:
		register(want, loc)
		forcedUnder = loc
	case forcedUnder == loc:
		register(want, loc) // an earlier call forced the other language here
		forcedUnder = ""
	case want == "en" && l != "en" && l != "":
		register("en", loc)
	}
	return want
}

// settleLocale makes the process's locale one Fyne can parse. A locale that
// is not a language at all (LANG=xx_YY) would make Fyne log "Error parsing
// user locale" whenever it asks for the locale (when loading translations,
// and when it loads fonts and lays out text); it means nothing to anybody,
// so the process treats it as what it falls back to: C, English. (Fyne's
// own package init has logged it once already; nothing can run before
// that.)
func settleLocale() {
	if !localeParses() {
		os.Setenv("LC_ALL", "C")
	}
}

// localeParses reports whether every locale the OS names is a language tag.
func localeParses() bool {
	locs, err := locale.GetLocales()
	if err != nil {
		return false
	}
	for _, l := range locs {
		if l == "C" || l == "POSIX" {
			continue
		}
		if _, err := language.Parse(l); err != nil {
			return false
		}
	}
	return true
}

// tr is the window's one way to a visible string: a key of pl.json/en.json.
func tr(key string) string { return lang.X(key, key) }

// trf is tr with fmt.Sprintf arguments for the %s/%d in the translation.
func trf(key string, a ...any) string { return fmt.Sprintf(tr(key), a...) }

// textIn picks the language of a mailcfg.Text for the window.
func (w *Wizard) text(t mailcfg.Text) string { return t.In(w.deps.Lang) }

// seconds formats a duration like "0,4 s" (Polish) or "0.4 s".
func (w *Wizard) seconds(d float64) string {
	s := fmt.Sprintf("%.1f s", d)
	if w.deps.Lang == "pl" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}
