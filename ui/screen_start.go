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
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/microsoft"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/verify"
)

// startScreen offers the two ways in: Microsoft sign-in and the manual form.
type startScreen struct {
	wz *Wizard

	email     *fieldEntry
	microsoft *widget.Button
	msNote    *widget.Label
	manual    *widget.Button
	manNote   *widget.Label
	policy    *noteBox
	// what earlier runs left in the outbox
	pending      *noteBox
	pendingRetry *widget.Button
	pendingBox   *fyne.Container
	damaged      *noteBox // outbox files a flush found unreadable (said once)
	flushing     *job
	// signing-in state
	waiting   *fyne.Container
	urlBox    *fyne.Container
	urlLbl    *widget.Label
	copyURL   *widget.Button
	activity  *widget.Activity
	cancelBtn *widget.Button
	errNote   *noteBox
	signIn    *job

	obj fyne.CanvasObject
}

func newStartScreen(wz *Wizard) *startScreen {
	s := &startScreen{wz: wz, signIn: newJob(wz), flushing: newJob(wz)}
	s.email = newFieldEntry(tr("start.email.placeholder"))
	s.email.OnChanged = func(string) { s.updateChoice() }
	s.email.OnSubmitted = func(string) { s.submit() }

	s.microsoft = widget.NewButtonWithIcon(tr("start.microsoft"), theme.LoginIcon(), s.onMicrosoft)
	s.msNote = wrapLabel(tr("start.microsoft.note"))
	s.manual = widget.NewButtonWithIcon(tr("start.manual"), theme.DocumentCreateIcon(), s.onManual)
	s.manNote = wrapLabel(tr("start.manual.note"))

	s.policy = newNote(theme.InfoIcon(), widget.MediumImportance)
	if !s.manualAllowed() {
		s.manual.Hide()
		s.manNote.Hide()
		s.policy.set(tr("start.policy.microsoftOnly"))
	}
	if !s.microsoftAllowed() {
		s.microsoft.Hide()
		s.msNote.Hide()
		s.policy.set(tr("start.policy.manualOnly"))
	}
	if wz.deps.PolicyErr != nil {
		s.policy.text.Importance = widget.WarningImportance
		s.policy.set(tr("start.policy.error"))
	}
	if m := wz.deps.NetWarning; m != nil {
		msg := wz.text(*m)
		if prev := s.policy.text.Text; prev != "" {
			msg = prev + "\n" + msg
		}
		s.policy.text.Importance = widget.WarningImportance
		s.policy.set(msg)
	}

	s.activity = widget.NewActivity()
	s.cancelBtn = widget.NewButtonWithIcon(tr("common.cancel"), theme.CancelIcon(), s.onCancel)
	s.urlLbl = widget.NewLabel("")
	s.urlLbl.Truncation = fyne.TextTruncateEllipsis
	s.copyURL = widget.NewButtonWithIcon(tr("start.microsoft.copy"), theme.ContentCopyIcon(), func() {
		if wz.deps.Clipboard != nil {
			wz.deps.Clipboard(s.urlLbl.Text)
		}
	})
	s.urlBox = container.NewBorder(wrapLabel(tr("start.microsoft.url")), nil, nil, s.copyURL, s.urlLbl)
	s.urlBox.Hide()
	s.waiting = container.NewVBox(
		container.NewHBox(s.activity, widget.NewLabel(tr("start.microsoft.waiting")), s.cancelBtn),
		s.urlBox,
	)
	s.waiting.Hide()
	s.errNote = newNote(theme.ErrorIcon(), widget.DangerImportance)
	s.pending = newNote(theme.NewWarningThemedResource(theme.HistoryIcon()), widget.MediumImportance)
	s.pending.box.Show()
	s.pendingRetry = widget.NewButtonWithIcon(tr("done.handoff.sendNow"), theme.ViewRefreshIcon(), s.onRetryPending)
	s.pendingBox = container.NewVBox(widget.NewSeparator(), s.pending.box, container.NewHBox(s.pendingRetry))
	s.pendingBox.Hide()
	s.damaged = newNote(theme.NewWarningThemedResource(theme.WarningIcon()), widget.WarningImportance)

	purpose := wrapLabel(tr("start.purpose"))
	emailLbl := widget.NewLabelWithStyle(tr("start.email"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	var ways []fyne.CanvasObject
	if s.microsoftAllowed() {
		ways = append(ways, container.NewVBox(s.microsoft, s.msNote))
	}
	if s.manualAllowed() {
		ways = append(ways, container.NewVBox(s.manual, s.manNote))
	}
	choices := container.NewGridWithColumns(2, ways...)
	body := container.NewVBox(
		heading(tr("start.title")),
		purpose,
		widget.NewSeparator(),
		emailLbl, s.email,
		widget.NewLabel(""),
		widget.NewLabelWithStyle(tr("start.choose"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		choices,
		s.waiting,
		s.errNote.box,
		s.policy.box,
		s.pendingBox,
		s.damaged.box,
	)
	s.obj, _ = page(narrow(body), nil)
	s.updateChoice()
	return s
}

func (s *startScreen) content() fyne.CanvasObject { return s.obj }
func (s *startScreen) stepKey() string            { return "step.start" }
func (s *startScreen) shown()                     { s.wz.focus(s.email) }

// isMicrosoft: the bundled table says the address's provider prefers
// Microsoft sign-in (outlook.com, hotmail.com, live.com, …).
func (s *startScreen) isMicrosoft() bool {
	a, err := mailcfg.ParseAddress(s.email.Text)
	if err != nil {
		return false
	}
	p := s.wz.table().ByDomain(a.Domain)
	return p != nil && p.OAuth == "microsoft"
}

// updateChoice highlights the choice that fits the typed address.
func (s *startScreen) updateChoice() {
	ms := s.isMicrosoft()
	typed := strings.TrimSpace(s.email.Text) != ""
	switch {
	case ms:
		s.microsoft.Importance = widget.HighImportance
		s.manual.Importance = widget.MediumImportance
		s.msNote.SetText(tr("start.microsoft.recommended"))
		s.msNote.Importance = widget.SuccessImportance
	case typed || !s.manualAllowed():
		s.microsoft.Importance = widget.MediumImportance
		s.manual.Importance = widget.HighImportance
		s.msNote.SetText(tr("start.microsoft.note"))
		s.msNote.Importance = widget.MediumImportance
	default:
		s.microsoft.Importance = widget.MediumImportance
		s.manual.Importance = widget.MediumImportance
		s.msNote.SetText(tr("start.microsoft.note"))
		s.msNote.Importance = widget.MediumImportance
	}
	if !s.manualAllowed() {
		s.microsoft.Importance = widget.HighImportance
	}
	if !s.microsoftAllowed() {
		s.manual.Importance = widget.HighImportance
	}
	s.msNote.Refresh()
	s.microsoft.Refresh()
	s.manual.Refresh()
}

// submit is Enter in the address: take the highlighted way.
func (s *startScreen) submit() {
	if s.microsoftAllowed() && (s.microsoft.Importance == widget.HighImportance || !s.manualAllowed()) {
		s.onMicrosoft()
		return
	}
	s.onManual()
}

// The ways in the policy allows (allowedMethods).
func (s *startScreen) manualAllowed() bool {
	p := s.wz.deps.Policy
	return p.AllowManual && p.Allows(policy.MethodManual)
}
func (s *startScreen) microsoftAllowed() bool {
	return s.wz.deps.Policy.Allows(policy.MethodMicrosoft)
}

func (s *startScreen) onManual() {
	if !s.manualAllowed() {
		return
	}
	s.errNote.set("")
	s.wz.manualScreen().takeEmail(s.email.Text)
	s.wz.goManual("", "")
}

// microsoftReady says whether sign-in can run: the feature is built in and
// firm IT registered the app (microsoft.clientId).
func (s *startScreen) microsoftReady() bool {
	return s.wz.deps.SignIn != nil && s.wz.deps.Policy.Microsoft.ClientID != ""
}

func (s *startScreen) onMicrosoft() {
	if !s.microsoftAllowed() {
		return
	}
	s.errNote.set("")
	if !s.microsoftReady() {
		s.errNote.text.Importance = widget.WarningImportance
		s.errNote.icon.SetResource(theme.WarningIcon())
		e := microsoft.NotConfigured(s.wz.deps.PolicyFile)
		s.errNote.set(strings.TrimSpace(s.wz.text(e.Message) + " " + s.wz.text(e.Hint)))
		return
	}
	if s.signIn.running() {
		return // already signing in
	}
	s.setBusy(true)
	hint := ""
	if a, err := mailcfg.ParseAddress(s.email.Text); err == nil {
		hint = a.String()
	}
	signIn := s.wz.deps.SignIn
	type signedIn struct {
		settings  mailcfg.Settings
		cred      verify.Credential
		err       error
		cancelled bool
	}
	startWith(s.signIn, func(ctx context.Context, deliver func(func())) signedIn {
		showURL := func(u string) {
			deliver(func() {
				if s.signIn.running() {
					s.urlLbl.SetText(u)
					s.urlBox.Show()
				}
			})
		}
		settings, cred, err := signIn(ctx, hint, showURL)
		return signedIn{settings, cred, err, ctx.Err() != nil}
	}, func(r signedIn) {
		s.setBusy(false)
		switch {
		case r.cancelled || errors.Is(r.err, context.Canceled):
			s.errNote.text.Importance = widget.MediumImportance
			s.errNote.icon.SetResource(theme.InfoIcon())
			s.errNote.set(tr("start.microsoft.cancelled"))
		case r.err != nil:
			s.errNote.text.Importance = widget.DangerImportance
			s.errNote.icon.SetResource(theme.ErrorIcon())
			msg := tr("start.microsoft.failed")
			var f *mailcfg.Failure
			if errors.As(r.err, &f) && f != nil {
				msg = strings.TrimSpace(s.wz.text(f.Message) + " " + s.wz.text(f.Hint))
			}
			s.errNote.set(msg)
		default:
			s.wz.viaMicrosoft = true
			s.wz.goVerify(r.settings, r.cred, false)
		}
	})
}

func (s *startScreen) onCancel() { s.signIn.interrupt() }

func (s *startScreen) setBusy(busy bool) {
	if busy {
		s.waiting.Show()
		s.activity.Start()
		s.microsoft.Disable()
		s.manual.Disable()
		s.email.Disable()
		return
	}
	s.activity.Stop()
	s.waiting.Hide()
	s.urlBox.Hide()
	s.microsoft.Enable()
	s.manual.Enable()
	s.email.Enable()
}

// takeEmail shows the address typed in the form when coming back to Start.
func (s *startScreen) takeEmail(t string) {
	if t != s.email.Text {
		s.email.SetText(t)
	}
}

// showPending tells what earlier runs left waiting in the outbox (after the
// start-up flush), each with the reason; nothing when nothing waits.
func (s *startScreen) showPending(entries []infino.Entry) {
	if len(entries) == 0 {
		s.pendingBox.Hide()
		return
	}
	s.pending.set(trf("start.outbox", len(entries)) + "\n" + s.wz.pendingLines(entries, ""))
	s.pendingBox.Show()
}

// onRetryPending is "Spróbuj teraz" on Start: everything waiting, now.
func (s *startScreen) onRetryPending() {
	ob := s.wz.deps.Outbox
	if ob == nil || s.flushing.running() {
		return
	}
	s.pendingRetry.Disable()
	type pending struct {
		entries []infino.Entry
		err     error
		damaged int
	}
	start(s.flushing, func(ctx context.Context) pending {
		rep := ob.Flush(ctx, true, nil)
		entries, err := ob.Pending(ctx)
		return pending{entries, err, len(rep.Problems)}
	}, func(p pending) {
		s.pendingRetry.Enable()
		if p.err == nil {
			s.showPending(p.entries)
		}
		s.showDamaged(p.damaged)
	})
}

// showDamaged says that a flush found outbox files it could not read (it
// set them aside: this is the one time they are mentioned).
func (s *startScreen) showDamaged(n int) {
	if n > 0 {
		s.damaged.set(trf("start.outbox.damaged", n))
	}
}
