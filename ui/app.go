// Package ui is the window of Infino Mailbox: one small struct per screen, and
// every fyne.Do of the app. The core it shows lives in package mailcfg.
package ui

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"infino.legal/mailbox/assets"
	"infino.legal/mailbox/internal/probe"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/world"
)

// WindowSize fits a 1366×768 laptop screen with room for a task bar.
var WindowSize = fyne.NewSize(940, 680)

// NewWorld makes the process's world: the machine's, or with demo the
// sandbox's (--demo). closeWorld runs once when the window has closed and
// everything is stopped (the demo closes its sandbox there); it may be nil.
type NewWorld func(ctx context.Context, demo bool) (w *world.World, closeWorld func(), err error)

// Run opens the window and blocks until it is closed. args are the window's
// flags (cli.WindowFlags): --demo asks newWorld for the demo's world, whose
// servers run in this process, so that the whole flow works offline.
func Run(args []string, newWorld NewWorld) {
	demo, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "infino-mailbox: %v\n", err)
		os.Exit(2)
	}
	a := app.NewWithID(mailcfg.AppID)
	declareFyneDo(a)
	a.SetIcon(assets.Icon)
	a.Settings().SetTheme(newAppTheme())
	wld, closeWorld, err := newWorld(context.Background(), demo)
	if err != nil {
		fmt.Fprintf(os.Stderr, "infino-mailbox: %v\n", err)
		os.Exit(1)
	}
	deps := newWiring(wld, LoadTranslationsFor(wld.Policy.Language)).deps()
	deps.Close = closeWorld
	title := mailcfg.AppName
	if deps.Demo != nil {
		title += " — " + tr("demo.badge")
	}
	w := a.NewWindow(title)
	w.SetIcon(assets.Icon)

	w.Resize(WindowSize)
	w.CenterOnScreen()

	shot := screenshotRequested()
	if shot != "" {
		deps = screenshotDeps(deps, shot)
	}

	// Creating the window (GLFW, the GL context) takes the UI goroutine
	// tens of milliseconds, mostly in C; building the wizard (mostly
	// parsing the fonts its text needs, and measuring that text) takes
	// about as long in Go. They overlap: the wizard is built on another
	// goroutine without touching the window, while the first Show creates
	// the window, which paints nothing while it has no content. The second
	// Show paints the first frame with the Start screen in it.
	built := make(chan *Wizard, 1)
	go func() { built <- buildWizard(deps, w) }()
	probe.Start(a, w)
	w.Show()
	wz := <-built
	w.SetOnClosed(wz.Shutdown)
	wz.attach()
	if shot != "" {
		wz.openForScreenshot(shot)
	}
	closeOnSignal(w)
	w.Show()
	a.Run()
	wz.Shutdown() // closed another way (the app quit): still stop everything
}

// closeOnSignal closes the window on Ctrl+C or SIGTERM as if the user had:
// running work stops, the outbox keeps what was not sent, the demo's sandbox
// closes and removes its directory.
func closeOnSignal(w fyne.Window) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		signal.Stop(sig) // a second signal ends the process at once
		fyne.Do(w.Close)
	}()
}

// parseArgs reads the window's flags.
func parseArgs(args []string) (demo bool, err error) {
	fs := flag.NewFlagSet("infino-mailbox", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&demo, "demo", false, "")
	if err := fs.Parse(args); err != nil {
		return false, err
	}
	if fs.NArg() > 0 {
		return false, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return demo, nil
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
