package ui

import (
	"context"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"infino.legal/mailbox/assets"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/signin"
	"infino.legal/mailbox/mailcfg/verify"
)

// screen is one page of the wizard.
type screen interface {
	content() fyne.CanvasObject
	// stepKey names the screen in the header (a translation key).
	stepKey() string
	// shown runs each time the screen becomes visible.
	shown()
}

// Wizard is the window's content: a header and one screen at a time. Screens
// are built once and kept, so nothing typed is lost when going back and forth.
type Wizard struct {
	deps Deps
	win  fyne.Window

	root    *fyne.Container
	body    *fyne.Container
	stepLbl *widget.Label
	current screen

	start   *startScreen
	manual  *manualScreen
	verify  *verifyScreen
	done    *doneScreen
	consent *consentScreen

	// local says which sign-in fits an address by the provider table and
	// the policy alone, at once (Deps.Offers may also ask DNS).
	local *signin.Service

	// What flows between the screens.
	settings mailcfg.Settings
	cred     verify.Credential
	// viaSignIn: the settings came from a provider's sign-in (signedInWith,
	// its OAuth id), not from the form.
	viaSignIn    bool
	signedInWith string
	insecureOK   bool
	// record is the last verification, for the report and the Done screen.
	record *runRecord

	demo *fyne.Container // the demo-mode strip under the header
	// ctx is the parent of every background job; Shutdown cancels it.
	ctx      context.Context
	shutdown context.CancelFunc
	flush    *job
	closed   bool
	retrying bool // the background retrier runs
	// background counts goroutines that outlive every job (the retrier);
	// they end soon after Shutdown.
	background sync.WaitGroup
}

// prepareTable parses the bundled provider table in the background, so that
// the first keystroke that forms an address does not pay for it on the UI
// goroutine (Bundled is a sync.OnceValues). The window calls it once its
// first frame is painted, which does not need the table.
func (wz *Wizard) prepareTable() {
	if wz.deps.Table == nil {
		go mailcfg.Bundled()
	}
}

// buildWizard builds the wizard and its Start screen for a window of a (nil
// without one) before that window exists, so that it may run on another
// goroutine while the UI goroutine creates the window (see Run); attach
// then puts it into the window, on the UI goroutine. With size (the
// window's content size) the Start screen is laid out once, at that size:
// laid out first at its minimum width, every wrapping text would be broken
// into words and each word measured.
func buildWizard(deps Deps, a fyne.App, size fyne.Size) *Wizard {
	deps.fill(a)
	wz := &Wizard{deps: deps}
	wz.local = signin.New(signin.Config{Policy: deps.Policy, PolicyFile: deps.PolicyFile, Table: deps.Table})
	wz.ctx, wz.shutdown = context.WithCancel(context.Background())
	wz.flush = newJob(wz)
	wz.start = newStartScreen(wz)

	icon := canvas.NewImageFromResource(assets.IconSmall)
	icon.FillMode = canvas.ImageFillContain
	icon.SetMinSize(fyne.NewSize(28, 28))
	name := widget.NewLabelWithStyle(mailcfg.AppName, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	wz.stepLbl = widget.NewLabel("")
	top := container.NewHBox(icon, name)
	header := container.NewVBox(container.NewPadded(top))
	if d := deps.Demo; d != nil {
		badge := widget.NewLabelWithStyle(tr("demo.badge"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		badge.Importance = widget.WarningImportance
		top.Add(widget.NewIcon(theme.NewWarningThemedResource(theme.InfoIcon())))
		top.Add(badge)
		hint := wrapLabel(demoHint(d))
		wz.demo = container.NewBorder(nil, nil, widget.NewIcon(theme.HelpIcon()), nil, hint)
		header.Add(container.NewPadded(wz.demo))
	}
	top.Add(layout.NewSpacer())
	top.Add(wz.stepLbl)
	header.Add(widget.NewSeparator())
	wz.body = container.NewStack()
	wz.root = container.NewBorder(header, nil, nil, nil, wz.body)
	if size.IsZero() {
		wz.put(wz.start)
		return wz
	}
	// The Start screen goes in before the one layout at the window's size.
	// Nothing was drawn yet, so nothing needs put's refresh, which would
	// also redo every hidden part (their icons parsed and coloured: most of
	// the build).
	wz.place(wz.start)
	wz.root.Resize(size)
	return wz
}

// attach puts the built wizard into w (nil: no window) and starts its work:
// on the UI goroutine.
func (wz *Wizard) attach(w fyne.Window) {
	wz.win = w
	if w != nil {
		w.SetContent(wz.root)
	}
	wz.current.shown()
	if wz.deps.Outbox != nil {
		wz.startUpFlush()
	}
}

// startUpFlush sends what earlier runs left in the outbox and is due (never
// through the browser), off the UI goroutine, then tells Start what still
// waits.
func (wz *Wizard) startUpFlush() {
	ob := wz.deps.Outbox
	type pending struct {
		entries []infino.Entry
		err     error
		damaged int
	}
	start(wz.flush, func(ctx context.Context) pending {
		rep := ob.Flush(ctx, false, nil)
		entries, err := ob.Pending(ctx)
		return pending{entries, err, len(rep.Problems)}
	}, func(p pending) {
		if p.err == nil {
			wz.start.showPending(p.entries)
		}
		wz.start.showDamaged(p.damaged)
		wz.startRetry() // after the start-up flush, so that the two never try one entry twice
	})
}

// startRetry runs the background retrier (Deps.Retry) until the window
// closes; its statuses reach the Done screen on the UI goroutine.
func (wz *Wizard) startRetry() {
	r := wz.deps.Retry
	if r == nil || wz.retrying {
		return
	}
	wz.retrying = true
	ctx, do := wz.ctx, wz.deps.Do
	wz.background.Add(1)
	go func() {
		defer wz.background.Done()
		r.Run(ctx, func(st infino.RetryStatus) {
			do(func() {
				if ctx.Err() != nil {
					return
				}
				wz.start.showDamaged(len(st.Problems))
				if wz.done != nil {
					wz.done.retryStatus(st)
				}
			})
		})
	}()
}

// The other screens are built when first needed: building one makes Fyne
// decode its icons and lay it out, which would only delay the first frame.
func (wz *Wizard) manualScreen() *manualScreen {
	if wz.manual == nil {
		wz.manual = newManualScreen(wz)
	}
	return wz.manual
}

func (wz *Wizard) verifyScreen() *verifyScreen {
	if wz.verify == nil {
		wz.verify = newVerifyScreen(wz)
	}
	return wz.verify
}

func (wz *Wizard) consentScreen() *consentScreen {
	if wz.consent == nil {
		wz.consent = newConsentScreen(wz)
	}
	return wz.consent
}

func (wz *Wizard) doneScreen() *doneScreen {
	if wz.done == nil {
		wz.done = newDoneScreen(wz)
	}
	return wz.done
}

// Shutdown stops whatever still runs (verification, discovery, sign-in,
// hand-off) when the window closes: every job's context derives from the
// wizard's, and nothing a job still sends reaches the screens. The outbox
// keeps an unsent hand-off.
func (wz *Wizard) Shutdown() {
	if wz.closed {
		return
	}
	wz.closed = true
	wz.shutdown()
	if wz.deps.Close != nil {
		wz.deps.Close()
	}
}

// table is the provider table, parsed on first use.
func (wz *Wizard) table() *mailcfg.Table {
	if wz.deps.Table == nil {
		wz.deps.Table = mailcfg.Bundled()
	}
	return wz.deps.Table
}

// content is the wizard's root object.
func (wz *Wizard) content() fyne.CanvasObject { return wz.root }

func (wz *Wizard) show(s screen) {
	wz.put(s)
	s.shown()
}

// put makes s the screen in the body.
func (wz *Wizard) put(s screen) {
	wz.place(s)
	wz.body.Refresh()
}

// place makes s the current screen, in the body and the header's step,
// without laying the body out again.
func (wz *Wizard) place(s screen) {
	wz.current = s
	wz.body.Objects = []fyne.CanvasObject{s.content()}
	wz.stepLbl.SetText(tr(s.stepKey()))
}

func (wz *Wizard) focus(o fyne.Focusable) {
	if wz.win != nil && o != nil {
		wz.win.Canvas().Focus(o)
	}
}

func (wz *Wizard) canvas() fyne.Canvas {
	if wz.win == nil {
		return nil
	}
	return wz.win.Canvas()
}

// goManual opens the form; fixField, if set, is focused and shows msg.
func (wz *Wizard) goManual(fixField, msg string) {
	wz.viaSignIn, wz.signedInWith = false, ""
	wz.show(wz.manualScreen())
	if fixField != "" {
		wz.manual.markServerProblem(fixField, msg)
	}
}

// goVerify checks s with cred.
func (wz *Wizard) goVerify(s mailcfg.Settings, cred verify.Credential, insecureOK bool) {
	wz.settings, wz.cred, wz.insecureOK = s, cred, insecureOK
	wz.show(wz.verifyScreen())
	wz.verify.run()
}

// goBackFromVerify returns to where the settings came from.
func (wz *Wizard) goBackFromVerify() {
	if wz.viaSignIn {
		wz.show(wz.start)
		return
	}
	wz.show(wz.manualScreen())
}

func (wz *Wizard) goDone() { wz.show(wz.doneScreen()) }

// offers answers which sign-in fits an address and builds admin-consent
// requests: Deps.Offers, or the table and policy alone.
func (wz *Wizard) offers() SignInOffers {
	if wz.deps.Offers != nil {
		return wz.deps.Offers
	}
	return wz.local
}

// goConsent opens the screen about the administrator's approval for req's
// sign-in; ce is the failed sign-in's link and request, or nil to build
// them for the address (the user asked while the browser waited).
func (wz *Wizard) goConsent(req SignInRequest, ce *signin.ConsentNeeded) {
	c := wz.consentScreen()
	wz.show(c)
	c.open(req, ce)
}

// signInWith goes to Start and signs in with a provider for email and the
// incoming protocol (the form's warning and a verification failure offer
// it).
func (wz *Wizard) signInWith(provider, email string, proto mailcfg.Protocol) {
	wz.start.takeEmail(email)
	wz.show(wz.start)
	wz.start.signIn(provider, proto)
}

// demoHint names the demo's accounts, each with the way to try it.
func demoHint(d *DemoInfo) string {
	ways := []string{trf("demo.hint.password", d.Email, d.Password)}
	if d.MicrosoftEmail != "" {
		ways = append(ways, trf("demo.hint.microsoft", d.MicrosoftEmail))
	}
	if d.GoogleEmail != "" {
		ways = append(ways, trf("demo.hint.google", d.GoogleEmail))
	}
	if d.ConsentEmail != "" {
		ways = append(ways, trf("demo.hint.consent", d.ConsentEmail))
	}
	return tr("demo.hint") + " " + strings.Join(ways, "; ") + "."
}

// serversLocked reports whether the settings are the firm's servers that IT
// preset and locked, which the user may not change.
func (wz *Wizard) serversLocked() bool {
	return wz.settings.Source == mailcfg.SourcePolicy && wz.deps.Policy.FirmServersLocked()
}
