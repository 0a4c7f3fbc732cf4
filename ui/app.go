// Package ui is the window of Infino Mailbox: one small struct per screen, and
// every fyne.Do of the app. The core it shows lives in package mailcfg.
package ui

import (
	"bufio"
	"os"
	"runtime"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"infino.legal/mailbox/assets"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/discover"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/verify"
	"infino.legal/mailbox/ui/internal/probe"
)

// WindowSize fits a 1366×768 laptop screen with room for a task bar.
var WindowSize = fyne.NewSize(940, 680)

// Run opens the window and blocks until it is closed.
func Run(args []string) {
	a := app.NewWithID(mailcfg.AppID)
	declareFyneDo(a)
	a.SetIcon(assets.Icon)
	a.Settings().SetTheme(newAppTheme())
	deps := RealDeps(a)
	w := a.NewWindow(mailcfg.AppName)
	w.SetIcon(assets.Icon)

	shot := os.Getenv(ScreenshotEnv)
	if shot != "" {
		deps = screenshotDeps(deps, shot)
	}
	wz := NewWizard(deps, w)
	w.SetOnClosed(wz.Shutdown)
	w.Resize(WindowSize)
	w.CenterOnScreen()
	if shot != "" {
		wz.openForScreenshot(shot)
	}
	probe.Start(a, w)
	w.ShowAndRun()
}

// declareFyneDo tells Fyne that every goroutine of this app reaches the UI
// through fyne.Do (all of them are in this package), whatever FyneApp.toml
// says, so Fyne neither warns at start nor guesses at threads.
func declareFyneDo(a fyne.App) {
	m := a.Metadata()
	mig := map[string]bool{}
	for k, v := range m.Migrations {
		mig[k] = v
	}
	mig["fyneDo"] = true
	m.Migrations = mig
	app.SetMetadata(m)
}

// RealDeps is what the shipped window uses. Verification, discovery,
// Microsoft sign-in and the hand-off plug in here as their packages land.
func RealDeps(a fyne.App) Deps {
	pol, perr := policy.Load()
	return Deps{
		Policy:    pol,
		PolicyErr: perr,
		Lang:      LoadTranslations(),
		Debounce:  300 * time.Millisecond,
		OS:        osDescription(),
		Verify:    realVerify,
		Discover:  realDiscover,
		SignIn:    realSignIn,
		HandOff:   realHandOff,
	}
}

// The real implementations. Microsoft sign-in (issue 4) and the hand-off
// (issue 6) set theirs when they land; nil keeps their seams closed.
var (
	realVerify   = VerifyWith(verify.Options{})
	realDiscover = DiscoverWith(discover.Options{})
	realSignIn   SignInFunc
	realHandOff  HandOffFunc
)

// osDescription names the system for the diagnostic report.
func osDescription() string {
	d := runtime.GOOS + "/" + runtime.GOARCH
	if f, err := os.Open("/etc/os-release"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "PRETTY_NAME="); ok {
				d += ", " + strings.Trim(v, `"`)
			}
		}
	}
	return d
}
