package ui

import (
	"context"
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/signin"
	"infino.legal/mailbox/mailcfg/verify"
)

// signInWait is a running "Zaloguj przez …" on the screen that started it
// (Start, or the administrator's-approval screen): the activity, "finish in
// the browser", Cancel, the sign-in address with Copy in case the browser
// did not open, and, for Microsoft, „Microsoft prosi o zgodę
// administratora?”, since Microsoft's approval page never comes back.
type signInWait struct {
	wz  *Wizard
	job *job

	box      *fyne.Container
	activity *widget.Activity
	label    *widget.Label
	cancel   *widget.Button
	urlBox   *fyne.Container
	urlLbl   *widget.Label
	copyURL  *widget.Button
	consent  *widget.Button

	// req is the sign-in under way (or the last one).
	req SignInRequest
	// busy tells the screen to lock or unlock its own controls.
	busy func(bool)
}

// signedIn is what a sign-in run ends with.
type signedIn struct {
	settings  mailcfg.Settings
	cred      verify.Credential
	err       error
	cancelled bool
}

func newSignInWait(wz *Wizard, busy func(bool)) *signInWait {
	w := &signInWait{wz: wz, job: newJob(wz), busy: busy}
	w.activity = widget.NewActivity()
	w.label = widget.NewLabel(tr("start.signin.waiting"))
	w.cancel = widget.NewButtonWithIcon(tr("Cancel"), theme.CancelIcon(), w.onCancel)
	w.urlLbl = widget.NewLabel("")
	w.urlLbl.Truncation = fyne.TextTruncateEllipsis
	w.copyURL = widget.NewButtonWithIcon(tr("start.signin.copy"), theme.ContentCopyIcon(), func() {
		if wz.deps.Clipboard != nil {
			wz.deps.Clipboard(w.urlLbl.Text)
		}
	})
	w.urlBox = container.NewBorder(wrapLabel(tr("start.signin.url")), nil, nil, w.copyURL, w.urlLbl)
	w.urlBox.Hide()
	w.consent = widget.NewButtonWithIcon(tr("consent.question"), theme.QuestionIcon(), w.onConsentQuestion)
	w.consent.Importance = widget.LowImportance
	w.consent.Hide()
	w.box = container.NewVBox(
		container.NewHBox(w.activity, w.label, w.cancel),
		w.urlBox,
		container.NewHBox(w.consent),
	)
	w.box.Hide()
	return w
}

// running tells whether a sign-in is under way.
func (w *signInWait) running() bool { return w.job.running() }

// run signs in with req; done gets the outcome on the UI goroutine unless
// the run was stopped meanwhile.
func (w *signInWait) run(req SignInRequest, done func(signedIn)) {
	signIn := w.wz.deps.SignIn
	if signIn == nil || w.running() {
		return
	}
	w.req = req
	w.setBusy(true)
	startWith(w.job, func(ctx context.Context, deliver func(func())) signedIn {
		showURL := func(u string) {
			deliver(func() {
				if w.running() {
					w.urlLbl.SetText(u)
					w.urlBox.Show()
				}
			})
		}
		s, cred, err := signIn(ctx, req, showURL)
		return signedIn{s, cred, err, ctx.Err() != nil}
	}, func(r signedIn) {
		w.setBusy(false)
		done(r)
	})
}

func (w *signInWait) setBusy(busy bool) {
	if busy {
		if w.wz.consentPossible(w.req.Provider) {
			w.consent.Show()
		} else {
			w.consent.Hide()
		}
		w.box.Show()
		w.activity.Start()
	} else {
		w.activity.Stop()
		w.box.Hide()
		w.urlBox.Hide()
	}
	if w.busy != nil {
		w.busy(busy)
	}
}

// onCancel is Cancel: the sign-in stops and the screen says so.
func (w *signInWait) onCancel() { w.job.interrupt() }

// stop ends the sign-in without a word (the screen is left).
func (w *signInWait) stop() {
	if w.running() {
		w.job.stop()
		w.setBusy(false)
	}
}

// onConsentQuestion is „Microsoft prosi o zgodę administratora?”: the
// browser shows "Need admin approval" and will never come back, so the
// sign-in stops and the screen about the approval opens.
func (w *signInWait) onConsentQuestion() {
	req := w.req
	w.stop()
	w.wz.goConsent(req, nil)
}

// consentPossible: the provider has an administrator's approval to ask for
// (the OAuth table gives it an admin-consent endpoint: Microsoft's tenants).
func (wz *Wizard) consentPossible(provider string) bool {
	p := mailcfg.BundledOAuth().ByID(provider)
	return p != nil && p.AdminConsentEndpoint != ""
}

// providerName is a provider's display name in the window's language.
func (wz *Wizard) providerName(id string) string {
	if p, ok := wz.offers().Provider(id); ok {
		return wz.text(p.Name)
	}
	return id
}

// providerNameEN is a provider's English name, for the report.
func (wz *Wizard) providerNameEN(id string) string {
	if p, ok := wz.offers().Provider(id); ok {
		return p.Name.EN
	}
	return id
}

// afterSignIn acts on a finished sign-in for the screen that ran it: on to
// verification, to the administrator's-approval screen, or a sentence in
// note.
func (wz *Wizard) afterSignIn(req SignInRequest, r signedIn, note *noteBox) {
	name := wz.providerName(req.Provider)
	var ce *signin.ConsentNeeded
	switch {
	case r.cancelled || errors.Is(r.err, context.Canceled):
		note.text.Importance = widget.MediumImportance
		note.icon.SetResource(theme.InfoIcon())
		note.set(trf("start.signin.cancelled", name))
	case errors.As(r.err, &ce) && ce != nil:
		note.set("")
		wz.goConsent(req, ce)
	case r.err != nil:
		note.text.Importance = widget.DangerImportance
		note.icon.SetResource(theme.ErrorIcon())
		msg := trf("start.signin.failed", name)
		var f *mailcfg.Failure
		if errors.As(r.err, &f) && f != nil {
			msg = strings.TrimSpace(wz.text(f.Message) + " " + wz.text(f.Hint))
		}
		note.set(msg)
	default:
		note.set("")
		wz.viaSignIn, wz.signedInWith = true, req.Provider
		wz.goVerify(r.settings, r.cred, false)
	}
}
