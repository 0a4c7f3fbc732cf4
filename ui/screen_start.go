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
	"infino.legal/mailbox/mailcfg/policy"
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
	flushing     context.CancelFunc
	// signing-in state
	waiting   *fyne.Container
	urlBox    *fyne.Container
	urlLbl    *widget.Label
	copyURL   *widget.Button
	activity  *widget.Activity
	cancelBtn *widget.Button
	errNote   *noteBox
	cancel    context.CancelFunc
	signID    int

	obj fyne.CanvasObject
}

func newStartScreen(wz *Wizard) *startScreen {
	s := &startScreen{wz: wz}
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
		s.errNote.set(tr("start.microsoft.unavailable"))
		return
	}
	if s.cancel != nil {
		return // already signing in
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.signID++
	id := s.signID
	s.setBusy(true)
	hint := ""
	if a, err := mailcfg.ParseAddress(s.email.Text); err == nil {
		hint = a.String()
	}
	signIn, do := s.wz.deps.SignIn, s.wz.deps.Do
	showURL := func(u string) {
		do(func() {
			if id == s.signID && s.cancel != nil {
				s.urlLbl.SetText(u)
				s.urlBox.Show()
			}
		})
	}
	go func() {
		settings, cred, err := signIn(ctx, hint, showURL)
		cancelled := ctx.Err() != nil
		cancel()
		do(func() {
			if id != s.signID {
				return
			}
			s.cancel = nil
			s.setBusy(false)
			switch {
			case cancelled || errors.Is(err, context.Canceled):
				s.errNote.text.Importance = widget.MediumImportance
				s.errNote.icon.SetResource(theme.InfoIcon())
				s.errNote.set(tr("start.microsoft.cancelled"))
			case err != nil:
				s.errNote.text.Importance = widget.DangerImportance
				s.errNote.icon.SetResource(theme.ErrorIcon())
				msg := tr("start.microsoft.failed")
				var ff interface{ Failure() *mailcfg.Failure }
				if errors.As(err, &ff) && ff.Failure() != nil {
					f := ff.Failure()
					msg = strings.TrimSpace(s.wz.text(f.Message) + " " + s.wz.text(f.Hint))
				}
				s.errNote.set(msg)
			default:
				s.wz.viaMicrosoft = true
				s.wz.goVerify(settings, cred, false)
			}
		})
	}()
}

func (s *startScreen) onCancel() {
	if s.cancel != nil {
		s.cancel()
	}
}

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
	ob, do := s.wz.deps.Outbox, s.wz.deps.Do
	if ob == nil || s.flushing != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.flushing = cancel
	s.pendingRetry.Disable()
	go func() {
		ob.Flush(ctx, true, nil)
		entries, err := ob.Pending(ctx)
		cancel()
		do(func() {
			s.flushing = nil
			s.pendingRetry.Enable()
			if err == nil {
				s.showPending(entries)
			}
		})
	}()
}
