package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/signin"
)

// startScreen offers the ways in: the sign-in of the address's mail
// provider ("Zaloguj przez Google", "… Microsoft"), found by the provider
// table and, for firm domains, by MX, and the manual form beside it.
type startScreen struct {
	wz *Wizard

	email *fieldEntry
	// The sign-in column: one button per offered provider, a note, what IT
	// must set for a provider that is not configured, and the shared
	// mailbox (Microsoft 365).
	signInCol   *fyne.Container
	buttons     *fyne.Container
	offered     []signin.OAuthProvider
	byAddress   bool   // offered are the typed address's provider's
	shownSig    string // which offer the buttons show
	defaults    []signin.OAuthProvider
	signNote    *widget.Label
	setup       *noteBox
	setupTitle  *widget.Label
	shared      *widget.Check
	sharedAddr  *field
	sharedEntry *fieldEntry
	sharedBox   *fyne.Container
	lookup      *job // the address's provider by MX

	manual  *widget.Button
	manNote *widget.Label
	policy  *noteBox
	// what earlier runs left in the outbox
	pending      *noteBox
	pendingRetry *widget.Button
	pendingBox   *fyne.Container
	damaged      *noteBox // outbox files a flush found unreadable (said once)
	flushing     *job
	// the sign-in under way
	wait    *signInWait
	errNote *noteBox

	obj fyne.CanvasObject
}

func newStartScreen(wz *Wizard) *startScreen {
	s := &startScreen{wz: wz, flushing: newJob(wz), lookup: newJob(wz)}
	s.email = newFieldEntry(tr("start.email.placeholder"))
	s.email.OnChanged = func(string) { s.updateChoice() }
	s.email.OnSubmitted = func(string) { s.submit() }

	s.buttons = container.NewVBox()
	s.signNote = wrapLabel(tr("start.signin.note"))
	s.setup = newNote(theme.WarningIcon(), widget.WarningImportance)
	s.sharedEntry = newFieldEntry(tr("start.shared.placeholder"))
	s.sharedEntry.OnChanged = func(string) { s.sharedAddr.setMsg("") }
	s.sharedEntry.OnSubmitted = func(string) { s.submit() }
	s.sharedAddr = newField("shared", tr("start.shared.address"), s.sharedEntry)
	s.shared = widget.NewCheck(tr("start.shared"), func(on bool) {
		if on {
			s.sharedBox.Show()
			s.wz.focus(s.sharedEntry)
		} else {
			s.sharedBox.Hide()
		}
	})
	s.sharedBox = container.NewVBox(s.sharedAddr.stacked(), wrapLabel(tr("start.shared.note")))
	s.sharedBox.Hide()
	s.shared.Hide()
	s.setupTitle = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.setupTitle.Wrapping = fyne.TextWrapWord
	s.setupTitle.Hide()
	s.signInCol = container.NewVBox(s.buttons, s.setupTitle, s.signNote, s.setup.box, s.shared, s.sharedBox)

	s.manual = widget.NewButtonWithIcon(tr("start.manual"), theme.DocumentCreateIcon(), s.onManual)
	s.manNote = wrapLabel(tr("start.manual.note"))

	s.policy = newNote(theme.InfoIcon(), widget.MediumImportance)
	if !s.manualAllowed() {
		s.manual.Hide()
		s.manNote.Hide()
		s.policy.set(tr("start.policy.signInOnly"))
	}
	if !s.signInAllowed() {
		s.signInCol.Hide()
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

	s.wait = newSignInWait(wz, s.setBusy)
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
	if s.signInAllowed() {
		ways = append(ways, s.signInCol)
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
		s.wait.box,
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

// button is the sign-in button of a provider on screen (it may be hidden:
// a provider that is not configured shows what IT must set instead), or
// nil.
func (s *startScreen) button(id string) *widget.Button {
	for i, p := range s.offered {
		if p.ID == id && i < len(s.buttons.Objects) {
			b, _ := s.buttons.Objects[i].(*widget.Button)
			return b
		}
	}
	return nil
}

// defaultOffers are the sign-ins shown before the address names its
// provider: every configured one the policy allows, or else the first the
// policy allows (Microsoft's, the usual one for firms), whose button then
// tells what IT must set.
func (s *startScreen) defaultOffers() []signin.OAuthProvider {
	if s.defaults != nil {
		return s.defaults
	}
	s.defaults = s.computeDefaults()
	return s.defaults
}

func (s *startScreen) computeDefaults() []signin.OAuthProvider {
	var configured, allowed []signin.OAuthProvider
	for _, p := range s.wz.local.All() {
		if !s.methodAllowed(p.ID) {
			continue
		}
		allowed = append(allowed, p)
		if p.Configured {
			configured = append(configured, p)
		}
	}
	if len(configured) > 0 {
		return configured
	}
	if len(allowed) > 0 {
		return allowed[:1]
	}
	return []signin.OAuthProvider{}
}

// updateChoice offers the sign-in that fits the typed address: at once by
// the provider table; for a domain the table does not know, by its MX
// hosts once typing pauses (a firm domain on Microsoft 365 or Google
// Workspace).
func (s *startScreen) updateChoice() {
	s.lookup.stop()
	text := strings.TrimSpace(s.email.Text)
	addr, err := mailcfg.ParseAddress(text)
	if err != nil {
		s.offer(nil, false)
		return
	}
	if found := s.wz.local.ProvidersFor(context.Background(), addr.String()); len(found) > 0 {
		s.offer(found, true)
		return
	}
	s.offer(nil, true)
	if s.wz.deps.Offers == nil {
		return
	}
	offers := s.wz.deps.Offers
	startAfter(s.lookup, s.wz.deps.Debounce, func(ctx context.Context) []signin.OAuthProvider {
		return offers.ProvidersFor(ctx, addr.String())
	}, func(found []signin.OAuthProvider) {
		if len(found) > 0 {
			s.offer(found, true)
		}
	})
}

// offer shows the sign-in column for found (the address's providers), or
// the default sign-ins when found is empty; typed: an address is typed.
func (s *startScreen) offer(found []signin.OAuthProvider, typed bool) {
	s.byAddress = len(found) > 0
	list := found
	if !s.byAddress {
		list = s.defaultOffers()
	}
	s.offered = list
	recommended, sharedOK := false, false
	sig := fmt.Sprint(s.byAddress)
	for _, p := range list {
		sig += "|" + p.ID + fmt.Sprint(p.Configured)
		if s.byAddress && p.Configured {
			recommended = true
			sharedOK = sharedOK || p.SharedMailbox
		}
	}
	// Typing mostly keeps the same offer: the buttons are rebuilt only
	// when it changes.
	if sig != s.shownSig {
		s.shownSig = sig
		s.buttons.RemoveAll()
		s.setup.set("")
		s.setupTitle.Hide()
		for _, p := range list {
			p := p
			b := widget.NewButtonWithIcon(s.wz.text(p.ButtonText()), theme.LoginIcon(), func() { s.onSignIn(p) })
			if s.byAddress && !p.Configured {
				// What IT must set, where the user expected the button.
				b.Hide()
				s.setupTitle.SetText(trf("start.signin.unconfigured", s.wz.text(p.Name)))
				s.setupTitle.Show()
				s.setup.set(s.wz.text(p.Setup))
			}
			if s.byAddress && p.Configured || !s.manualAllowed() {
				b.Importance = widget.HighImportance
			}
			if s.wait.running() {
				b.Disable()
			}
			s.buttons.Add(b)
		}
		s.buttons.Refresh()
	}
	note, imp := tr("start.signin.note"), widget.MediumImportance
	switch {
	case recommended && found[0].ByMX:
		a, _ := mailcfg.ParseAddress(s.email.Text)
		note, imp = trf("start.signin.byMX", a.DomainUnicode, s.wz.text(found[0].Name)), widget.SuccessImportance
	case recommended:
		note, imp = trf("start.signin.recommended", s.wz.text(found[0].Name)), widget.SuccessImportance
	case s.byAddress:
		note = ""
	}
	if note != s.signNote.Text || imp != s.signNote.Importance {
		s.signNote.Importance = imp
		s.signNote.SetText(note)
	}
	if note == "" {
		s.signNote.Hide()
	} else {
		s.signNote.Show()
	}
	if sharedOK {
		s.shared.Show()
	} else {
		s.shared.SetChecked(false)
		s.shared.Hide()
	}
	imp = widget.MediumImportance
	if !recommended && s.manualAllowed() && (typed || s.byAddress) {
		imp = widget.HighImportance
	}
	if imp != s.manual.Importance {
		s.manual.Importance = imp
		s.manual.Refresh()
	}
}

// recommended is the address's provider's sign-in when it is configured.
func (s *startScreen) recommended() (signin.OAuthProvider, bool) {
	if s.byAddress {
		for _, p := range s.offered {
			if p.Configured {
				return p, true
			}
		}
	}
	return signin.OAuthProvider{}, false
}

// submit is Enter in the address: take the highlighted way.
func (s *startScreen) submit() {
	if p, ok := s.recommended(); ok {
		s.onSignIn(p)
		return
	}
	if !s.manualAllowed() && len(s.offered) > 0 {
		s.onSignIn(s.offered[0])
		return
	}
	s.onManual()
}

// The ways in the policy allows (allowedMethods).
func (s *startScreen) manualAllowed() bool {
	p := s.wz.deps.Policy
	return p.AllowManual && p.Allows(policy.MethodManual)
}

// methodAllowed: the policy allows a provider's sign-in.
func (s *startScreen) methodAllowed(id string) bool {
	p := s.wz.deps.Policy
	return len(p.AllowedMethods) == 0 || p.Allows(id)
}

// signInAllowed: the policy allows some provider's sign-in.
func (s *startScreen) signInAllowed() bool {
	for _, p := range s.wz.local.All() {
		if s.methodAllowed(p.ID) {
			return true
		}
	}
	return false
}

func (s *startScreen) onManual() {
	if !s.manualAllowed() {
		return
	}
	s.errNote.set("")
	s.wz.manualScreen().takeEmail(s.email.Text)
	s.wz.goManual("", "")
}

// signIn starts the sign-in of a provider by id for the incoming protocol
// proto (the form's warning and a verification failure offer it, with the
// protocol chosen in the form: POP3 asks the provider for POP3's scope).
func (s *startScreen) signIn(id string, proto mailcfg.Protocol) {
	if p, ok := s.wz.local.Provider(id); ok {
		s.signInFor(p, proto)
	}
}

// onSignIn is "Zaloguj przez …" on Start, for IMAP.
func (s *startScreen) onSignIn(p signin.OAuthProvider) { s.signInFor(p, mailcfg.IMAP) }

// signInFor is the provider's sign-in in the browser with the typed
// address as the hint (and the shared mailbox, if any); a provider firm IT
// has not configured says what IT must set instead.
func (s *startScreen) signInFor(p signin.OAuthProvider, proto mailcfg.Protocol) {
	if s.wait.running() {
		return
	}
	s.errNote.set("")
	if !p.Configured || s.wz.deps.SignIn == nil {
		s.errNote.text.Importance = widget.WarningImportance
		s.errNote.icon.SetResource(theme.WarningIcon())
		setup := p.Setup
		if setup.IsZero() {
			if q, ok := s.wz.local.Provider(p.ID); ok {
				setup = q.Setup
			}
		}
		s.errNote.set(s.wz.text(setup))
		return
	}
	if proto != mailcfg.POP3 {
		proto = mailcfg.IMAP
	}
	req := SignInRequest{Provider: p.ID, Protocol: proto}
	if a, err := mailcfg.ParseAddress(s.email.Text); err == nil {
		req.LoginHint = a.String()
	}
	if s.shared.Visible() && s.shared.Checked {
		a, err := mailcfg.ParseAddress(s.sharedEntry.Text)
		if err != nil {
			s.sharedAddr.setMsg(tr("start.shared.invalid"))
			s.wz.focus(s.sharedEntry)
			return
		}
		req.Shared = a.String()
	}
	s.wait.run(req, func(r signedIn) { s.wz.afterSignIn(req, r, s.errNote) })
}

func (s *startScreen) setBusy(busy bool) {
	for _, o := range s.buttons.Objects {
		if b, ok := o.(*widget.Button); ok {
			if busy {
				b.Disable()
			} else {
				b.Enable()
			}
		}
	}
	for _, w := range []fyne.Disableable{s.manual, s.email, s.shared, s.sharedEntry} {
		if busy {
			w.Disable()
		} else {
			w.Enable()
		}
	}
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
