//go:build screenshots

package ui

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"infino.legal/mailbox/internal/sandbox"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/discover"
)

// These tests open every screen of the screenshot harness; they run with
// -tags screenshots (.ci/screenshots.sh runs them before shooting).

// No English on a Polish screen: every screen the screenshot hook opens is
// drawn in Polish and checked against every English translation and the
// English texts of mailcfg the window shows.
func TestNoEnglishOnPolishScreens(t *testing.T) {
	en, pl := readTranslations(t, "en"), readTranslations(t, "pl")
	english := map[string]bool{}
	for k, v := range en {
		if v != pl[k] && len(v) > 3 {
			english[v] = true
		}
	}
	english[mailcfg.NotFoundMessage.EN] = true
	english[discover.NoteExchangeOnly.Message().EN] = true
	for _, p := range mailcfg.Bundled().Providers {
		english[p.Help.EN] = true
	}
	for _, shot := range screenshots {
		h := newHarness(t, "pl_PL.UTF-8", func(d *Deps) { *d = screenshotDeps(*d, shot) })
		h.wz.openForScreenshot(shot)
		h.q.settle()
		waitForShot(t, h, shot)
		for _, line := range strings.Split(h.screenText(), "\n") {
			for e := range english {
				if line == e || len(e) > 12 && strings.Contains(line, e) {
					t.Errorf("%s: English on a Polish screen: %q", shot, line)
				}
			}
		}
		if shot == "start" || shot == "manual-filled" || shot == "done" {
			// Fyne's own placeholder and button literals never show.
			for _, lit := range []string{"(Select one)", "Submit"} {
				h.mustNotShow(lit)
			}
		}
	}
}

// Every screen fits the window: nothing needs more width than a 1366×768
// laptop gives (height scrolls), in both languages.
func TestScreensFitTheWindow(t *testing.T) {
	for _, locale := range []string{"pl_PL.UTF-8", "en_GB.UTF-8"} {
		for _, shot := range screenshots {
			h := newHarness(t, locale, func(d *Deps) { *d = screenshotDeps(*d, shot) })
			h.wz.openForScreenshot(shot)
			h.q.settle()
			waitForShot(t, h, shot)
			if min := h.wz.root.MinSize(); min.Width > WindowSize.Width || min.Height > WindowSize.Height {
				t.Errorf("%s %s: needs %v, window is %v", locale, shot, min, WindowSize)
			}
		}
	}
	if WindowSize.Width > 1366 || WindowSize.Height > 768-60 {
		t.Errorf("window %v does not fit a 1366×768 screen with a task bar", WindowSize)
	}
}

// waitForShot waits until what a shot shows has arrived: a dialog, or what
// discovery or verification sends from their own goroutines.
func waitForShot(t *testing.T, h *harness, shot string) {
	t.Helper()
	switch shot {
	case "verify-cert-confirm":
		h.q.until(t, "the dialog", func() bool { return h.wz.verify.trustDlg != nil })
	case "manual-redirect":
		h.q.until(t, "the question", func() bool { return h.wz.manualScreen().redirectDlg != nil })
	case "manual-exchange-only":
		h.q.until(t, "the note", func() bool { return h.wz.manualScreen().discNote == discover.NoteExchangeOnly })
	case "verify-cert-host":
		h.q.until(t, "the offer", func() bool { return h.wz.verify.useHost.Visible() })
	}
}

// The screenshot script shoots exactly the screens the hook knows.
func TestScreenshotScriptListsEveryScreen(t *testing.T) {
	b, err := os.ReadFile("../.ci/screenshots.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)ALL=\(([^)]*)\)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no ALL=(…) in .ci/screenshots.sh")
	}
	if got, want := strings.Fields(string(m[1])), screenshots; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("script shoots %v, hook knows %v", got, want)
	}
}

// The screenshot of the demo's Start screen names the sandbox's accounts.
func TestScreenshotDemoIsTheSandboxs(t *testing.T) {
	if d := screenshotDemo; d.Email != sandbox.DemoEmail || d.Password != sandbox.DemoPassword || d.MicrosoftEmail != sandbox.MicrosoftEmail ||
		d.GoogleEmail != sandbox.DemoGoogleAddress || d.ConsentEmail != sandbox.DemoConsentAddress {
		t.Errorf("screenshot demo %+v", d)
	}
}
