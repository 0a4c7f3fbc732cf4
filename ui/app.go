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
	"fyne.io/fyne/v2/theme"

	"infino.legal/mailbox/assets"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/world"
	"infino.legal/mailbox/ui/probe"
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
	declareMetadata()
	a := app.NewWithID(mailcfg.AppID)
	a.Settings().SetTheme(newAppTheme())

	// Until the first frame, the window's work runs on two goroutines.
	// This one reads the world and the translations and creates the
	// window; the other first has Fyne parse the faces of the Start
	// screen's text (see warmFonts), then builds the wizard and lays it out
	// at the window's size. The wizard waits for the faces, so that the
	// two never parse one face twice, and never touches the window, which
	// it meets in attach, back on this goroutine. Nothing here measures
	// text before the wizard is built: Fyne shapes all text with one
	// shaper, which is not safe for two goroutines at once.
	depsc := make(chan Deps, 1)
	built := make(chan *Wizard, 1)
	settleLocale() // before Fyne asks for the locale on the other goroutine
	go func() {
		warmFonts()
		built <- buildWizard(<-depsc, a, contentSize(WindowSize))
	}()

	wld, closeWorld, err := newWorld(context.Background(), demo)
	if err != nil {
		fmt.Fprintf(os.Stderr, "infino-mailbox: %v\n", err)
		os.Exit(1)
	}
	deps := newWiring(wld, LoadTranslationsFor(wld.Policy.Language)).deps()
	deps.Close = closeWorld
	shot := screenshotRequested()
	if shot != "" {
		deps = screenshotDeps(deps, shot)
	}
	depsc <- deps
	title := mailcfg.AppName
	if deps.Demo != nil {
		title += " — " + tr("demo.badge")
	}
	w := a.NewWindow(title)
	w.SetIcon(assets.WindowIcon)

	w.Resize(WindowSize) // first: the wizard is laid out at this size already
	w.CenterOnScreen()
	wz := <-built
	wz.attach(w)
	w.SetOnClosed(wz.Shutdown)
	if shot != "" {
		wz.openForScreenshot(shot)
	}
	closeOnSignal(w)
	a.Lifecycle().SetOnStarted(wz.prepareTable) // after the first frame
	probe.Start(a, w)
	w.ShowAndRun()
	wz.Shutdown() // closed another way (the app quit): still stop everything
}

// warmFonts has Fyne load the faces of the regular and the bold text (every
// button's), which Fyne otherwise does the first time it measures text of
// that style: it parses the bundled face, its emoji and symbol fallbacks,
// and the system's face for the language.
func warmFonts() {
	for _, st := range []fyne.TextStyle{{}, {Bold: true}} {
		fyne.MeasureText("M", theme.TextSize(), st)
	}
}

// contentSize is the size of the content of a window of size s: Fyne's
// window pads its content by the theme's padding. (The wizard is laid out
// at this size before it is put into the window, which then has nothing
// to lay out again; a wrong guess costs only that.)
func contentSize(s fyne.Size) fyne.Size {
	return s.Subtract(fyne.NewSquareSize(2 * theme.Padding()))
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

// declareMetadata gives Fyne the app's metadata: its id, name, version
// and icon, and that every goroutine of this app reaches the UI through
// fyne.Do (all of them are in this package), so Fyne neither warns at start
// nor guesses at threads. Without it, a binary built by go build (as ours
// are) asks for FyneApp.toml in its own directory or, run from a temporary
// one, in the working directory, and would take its id, migrations and icon
// from whatever file it found there (decoding a 512 px icon, 4 ms, on the way).
func declareMetadata() {
	app.SetMetadata(fyne.AppMetadata{
		ID:         mailcfg.AppID,
		Name:       mailcfg.AppName,
		Version:    mailcfg.Version,
		Icon:       assets.Icon,
		Migrations: map[string]bool{"fyneDo": true},
	})
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
