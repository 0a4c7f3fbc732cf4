package ui

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/ui/form"
)

// doneScreen sums up what was connected and, with a hand-off, what became
// of it: sent, already connected, waiting in the outbox (with the reason and
// "Spróbuj teraz"), or failed (with the fields Infino refused). Without an
// Infino address from the policy it asks for one and remembers it.
type doneScreen struct {
	wz *Wizard

	summary *widget.Form
	handoff *fyne.Container
	// the Infino address: IT's (read-only) or a field
	urlFixed *widget.Label
	urlBox   *fyne.Container
	urlEntry *fieldEntry
	urlMsg   *widget.Label
	urlSave  *widget.Button

	activity *widget.Activity
	status   *noteBox
	fields   *widget.Label  // the fields Infino refused, one a line
	fix      *widget.Button // back to the form, at the first refused field
	signBox  *fyne.Container
	signLbl  *widget.Label
	retry    *widget.Button
	next     *widget.Label  // when the background retrier tries next
	replace  *widget.Button // "Zastąp zapisane ustawienia" (already connected)
	replDlg  *dialog.ConfirmDialog
	others   *noteBox // waiting from earlier runs
	copied   *widget.Label
	closeBtn *widget.Button

	sentFor *runRecord // the hand-off ran for this verification
	last    HandOffResult
	send    *job // the hand-off, or "Spróbuj teraz"
	pending *job // what else waits in the outbox
	url     *job // reading or remembering the Infino address

	obj fyne.CanvasObject
}

func newDoneScreen(wz *Wizard) *doneScreen {
	d := &doneScreen{wz: wz, send: newJob(wz), pending: newJob(wz), url: newJob(wz)}
	d.summary = widget.NewForm()
	d.activity = widget.NewActivity()
	d.activity.Hide() // until a hand-off runs
	d.status = newNote(theme.InfoIcon(), widget.MediumImportance)
	d.retry = widget.NewButtonWithIcon(tr("done.handoff.retry"), theme.ViewRefreshIcon(), d.onRetry)
	d.retry.Hide()
	d.fields = wrapLabel("")
	d.fields.Importance = widget.DangerImportance
	d.fields.Hide()
	d.fix = widget.NewButtonWithIcon(tr("done.handoff.fix"), theme.DocumentCreateIcon(), d.onFix)
	d.fix.Hide()
	d.replace = widget.NewButtonWithIcon(tr("done.replace"), theme.ViewRefreshIcon(), d.onReplace)
	d.replace.Hide()
	d.next = wrapLabel("")
	d.next.Hide()

	d.urlFixed = wrapLabel("")
	d.urlFixed.Hide()
	d.urlEntry = newFieldEntry(tr("done.infino.placeholder"))
	d.urlEntry.OnSubmitted = func(string) { d.onSaveURL() }
	d.urlEntry.OnChanged = func(string) { d.urlMsg.Hide() }
	d.urlMsg = wrapLabel("")
	d.urlMsg.Importance = widget.DangerImportance
	d.urlMsg.Hide()
	d.urlSave = widget.NewButtonWithIcon(tr("done.infino.save"), theme.MailSendIcon(), d.onSaveURL)
	d.urlBox = container.NewVBox(
		widget.NewLabelWithStyle(tr("done.infino.label"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewBorder(nil, nil, nil, d.urlSave, d.urlEntry),
		d.urlMsg,
	)
	d.urlBox.Hide()

	d.signLbl = widget.NewLabel("")
	d.signLbl.Truncation = fyne.TextTruncateEllipsis
	copySign := widget.NewButtonWithIcon(tr("start.signin.copy"), theme.ContentCopyIcon(), func() {
		if wz.deps.Clipboard != nil {
			wz.deps.Clipboard(d.signLbl.Text)
		}
	})
	d.signBox = container.NewBorder(wrapLabel(tr("start.signin.url")), nil, nil, copySign, d.signLbl)
	d.signBox.Hide()
	d.others = newNote(theme.NewWarningThemedResource(theme.HistoryIcon()), widget.MediumImportance)

	d.handoff = container.NewVBox(
		d.urlFixed, d.urlBox,
		container.NewHBox(d.activity), d.status.box, d.next, d.signBox, d.fields,
		container.NewHBox(d.retry, d.fix, d.replace),
		d.others.box,
	)
	d.copied = widget.NewLabel(tr("report.copied"))
	d.copied.Importance = widget.SuccessImportance
	d.copied.Hide()
	report := widget.NewButtonWithIcon(tr("report.copy"), theme.ContentCopyIcon(), func() {
		if wz.deps.Clipboard != nil {
			wz.deps.Clipboard(wz.report())
			d.copied.Show()
		}
	})
	d.closeBtn = widget.NewButtonWithIcon(tr("done.close"), theme.ConfirmIcon(), func() {
		if wz.win != nil {
			wz.win.Close()
		}
	})
	d.closeBtn.Importance = widget.HighImportance

	body := container.NewVBox(
		container.NewHBox(widget.NewIcon(theme.NewSuccessThemedResource(theme.ConfirmIcon())), heading(tr("done.title"))),
		wrapLabel(tr("done.intro")),
		d.handoff, // what became of it first: the summary is for reference
		widget.NewSeparator(),
		d.summary,
		widget.NewSeparator(),
		container.NewHBox(report, d.copied),
	)
	d.obj, _ = page(narrow(body), buttonBar(nil, d.closeBtn))
	return d
}

func (d *doneScreen) content() fyne.CanvasObject { return d.obj }
func (d *doneScreen) stepKey() string            { return "step.done" }

func (d *doneScreen) shown() {
	d.copied.Hide()
	d.fillSummary()
	if d.wz.deps.HandOff == nil {
		d.handoff.Hide() // no hand-off in this build: the summary is all
		d.wz.focus(d.closeBtn)
		return
	}
	d.handoff.Show()
	ob := d.wz.deps.Outbox
	if ob == nil {
		d.proceed(true) // the hand-off knows its way
		return
	}
	// Reading the address reads a file: not on the UI goroutine.
	type address struct {
		u          string
		fromPolicy bool
		err        error
	}
	start(d.url, func(ctx context.Context) address {
		u, fromPolicy, err := ob.InfinoURL(ctx)
		return address{u, fromPolicy, err}
	}, func(a address) {
		d.proceed(d.showInfinoURL(a.u, a.fromPolicy, a.err))
	})
}

// proceed sends the hand-off once the Infino address is known (ready), or
// asks for the address.
func (d *doneScreen) proceed(ready bool) {
	switch {
	case d.sentFor == d.wz.record:
	case ready:
		d.sendHandOff()
	default:
		d.last = HandOffResult{}
		d.retry.Hide()
		d.setStatus(widget.MediumImportance, theme.InfoIcon(), tr("done.handoff.needUrl"))
	}
	if !d.send.running() {
		d.refreshPending() // else once the hand-off is done (it is in the outbox meanwhile)
	}
	if d.urlBox.Visible() && !ready {
		d.wz.focus(d.urlEntry)
		return
	}
	d.wz.focus(d.closeBtn)
}

// showInfinoURL shows where the hand-off goes: IT's address read-only, or
// the field (with the remembered address). It reports whether an address
// is known.
func (d *doneScreen) showInfinoURL(u string, fromPolicy bool, err error) bool {
	if fromPolicy {
		d.urlBox.Hide()
		if d.wz.deps.Demo != nil {
			d.urlFixed.SetText(trf("done.infino.demo", u))
		} else {
			d.urlFixed.SetText(trf("done.infino.policy", u))
		}
		d.urlFixed.Show()
		return err == nil
	}
	d.urlFixed.Hide()
	d.urlBox.Show()
	d.urlSave.Enable() // a save still under way was dropped with its job
	if strings.TrimSpace(d.urlEntry.Text) == "" && u != "" {
		d.urlEntry.SetText(u)
	}
	return err == nil && u != ""
}

// checkInfinoURL is what is wrong with a typed Infino address, in the
// window's language ("" if nothing).
func checkInfinoURL(s string) string {
	if s == "" {
		return tr("done.infino.empty")
	}
	if u, err := url.Parse(s); err != nil || !strings.EqualFold(u.Scheme, "https") {
		return tr("done.infino.https")
	}
	if _, err := infino.CheckBaseURL(s); err != nil {
		return tr("done.infino.invalid")
	}
	return ""
}

// onSaveURL remembers the typed address (off the UI goroutine: it writes a
// file) and hands the settings over to it.
func (d *doneScreen) onSaveURL() {
	ob := d.wz.deps.Outbox
	if ob == nil {
		return
	}
	t := strings.TrimSpace(d.urlEntry.Text)
	if msg := checkInfinoURL(t); msg != "" {
		d.showURLProblem(msg)
		return
	}
	d.urlSave.Disable()
	start(d.url, func(ctx context.Context) error {
		return ob.SetInfinoURL(ctx, t)
	}, func(err error) {
		d.urlSave.Enable()
		if err != nil {
			d.showURLProblem(tr("done.infino.saveFailed"))
			return
		}
		d.urlMsg.Hide()
		if !d.send.running() && (d.sentFor != d.wz.record || (d.last.State != infino.StateSent && d.last.State != infino.StateExists &&
			d.last.State != infino.StateReplaced)) {
			d.sendHandOff()
		}
	})
}

// showURLProblem says what is wrong with the typed Infino address.
func (d *doneScreen) showURLProblem(msg string) {
	d.urlMsg.SetText(msg)
	d.urlMsg.Show()
	d.wz.focus(d.urlEntry)
}

func (d *doneScreen) serverText(srv mailcfg.Server) string {
	t := fmt.Sprintf("%s · %s · %s", strings.ToUpper(string(srv.Protocol)), srv.Addr(), tr("verify.security."+string(srv.Security)))
	if srv.Username != "" {
		t += "\n" + trf("done.user", srv.Username)
	}
	if srv.CertSHA256 != "" {
		fp, _ := fingerprint(srv.CertSHA256)
		t += "\n" + trf("done.pinned", strings.ReplaceAll(fp, "\n", ""))
	}
	return t
}

func (d *doneScreen) fillSummary() {
	s := d.wz.settings
	d.summary.Items = nil
	add := func(key, val string) {
		l := widget.NewLabel(val)
		l.Wrapping = fyne.TextWrapWord
		d.summary.Items = append(d.summary.Items, widget.NewFormItem(tr(key), l))
	}
	email := s.Email
	if a, err := mailcfg.ParseAddress(s.Email); err == nil {
		email = a.Display()
	}
	add("done.email", email)
	if s.Provider != nil {
		add("done.provider", s.Provider.Name)
	}
	how := tr("done.auth.password")
	if s.Auth == mailcfg.AuthOAuth2 {
		id := d.wz.signedInWith
		if id == "" {
			id = "microsoft"
		}
		how = trf("done.auth.signin", d.wz.providerName(id))
		if s.SignedInAs != "" && !strings.EqualFold(s.SignedInAs, s.Email) {
			how = trf("done.auth.shared", d.wz.providerName(id), s.SignedInAs)
		}
	}
	add("done.auth", how)
	add("done.incoming", d.serverText(s.Incoming))
	add("done.outgoing", d.serverText(s.Outgoing))
	if r := d.wz.record; r != nil && r.Result != nil {
		add("done.checked", trf("done.checked.value", d.wz.seconds(r.Result.Elapsed.Seconds())))
	}
	d.summary.Refresh()
}

// setStatus shows one sentence about the hand-off.
func (d *doneScreen) setStatus(imp widget.Importance, icon fyne.Resource, msg string) {
	d.status.text.Importance = imp
	d.status.icon.SetResource(icon)
	d.status.set(msg)
}

// busy shows that a hand-off run starts: the activity, and no result of an
// earlier run.
func (d *doneScreen) busy() {
	d.retry.Hide()
	d.fix.Hide()
	d.replace.Hide()
	d.next.Hide()
	d.fields.Hide()
	d.activity.Show()
	d.activity.Start()
	d.setStatus(widget.MediumImportance, theme.UploadIcon(), tr("done.handoff.sending"))
}

// signInURL is the showURL of a hand-off run: it puts the Infino sign-in
// address in view while the run lasts.
func (d *doneScreen) signInURL(deliver func(func())) func(string) {
	return func(u string) {
		deliver(func() {
			if d.send.running() {
				d.setStatus(widget.MediumImportance, theme.LoginIcon(), tr("done.handoff.signin"))
				d.signLbl.SetText(u)
				d.signBox.Show()
			}
		})
	}
}

// finish shows the result of a hand-off run.
func (d *doneScreen) finish(res HandOffResult) {
	d.showHandOff(res)
	d.refreshPending()
}

// sendHandOff passes the verified settings to Infino Legal through
// deps.HandOff, off the UI goroutine.
func (d *doneScreen) sendHandOff() {
	h := d.wz.deps.HandOff
	if h == nil {
		return
	}
	d.sentFor = d.wz.record
	d.busy()
	s, cred, verifiedAt := d.wz.settings, d.wz.cred, d.verifiedAt()
	startWith(d.send, func(ctx context.Context, deliver func(func())) HandOffResult {
		return h(ctx, s, cred, verifiedAt, d.signInURL(deliver))
	}, d.finish)
}

// verifiedAt is when this run's verification succeeded.
func (d *doneScreen) verifiedAt() time.Time {
	if rec := d.wz.record; rec != nil && rec.Result != nil {
		return rec.Started.Add(rec.Result.Elapsed)
	}
	return d.wz.deps.Now()
}

// onReplace asks before the settings Infino keeps are overwritten: the
// mailbox, its state and when it was last checked, and what replacing
// means.
func (d *doneScreen) onReplace() {
	ex := d.last.Existing
	if ex == nil || d.wz.deps.Replace == nil || d.wz.win == nil {
		return
	}
	email := ex.Email
	if a, err := mailcfg.ParseAddress(email); err == nil {
		email = a.Display()
	}
	target := *ex
	msg := wrapLabel(trf("done.replace.confirm", email, existingState(ex)))
	d.replDlg = dialog.NewCustomConfirm(tr("done.replace.title"), tr("done.replace.yes"), tr("Cancel"), msg, func(ok bool) {
		if ok {
			d.sendReplace(target)
		}
	}, d.wz.win)
	d.replDlg.Resize(fyne.NewSize(520, 0))
	d.replDlg.Show()
}

// existingState is what Infino says of a mailbox it keeps: its state and
// when it was last checked, in the window's language.
func existingState(ex *infino.MailboxInfo) string {
	checked := "—"
	if !ex.LastVerifiedAt.IsZero() {
		checked = ex.LastVerifiedAt.Local().Format("2006-01-02 15:04")
	}
	state := ex.State
	switch state {
	case "active":
		state = tr("mailbox.state.active")
	case "failing":
		state = tr("mailbox.state.failing")
	case "disabled":
		state = tr("mailbox.state.disabled")
	case "":
		state = "—"
	}
	return trf("done.replace.state", state, checked)
}

// sendReplace replaces the settings Infino keeps for target with this
// run's verified ones, off the UI goroutine.
func (d *doneScreen) sendReplace(target infino.MailboxInfo) {
	r := d.wz.deps.Replace
	d.busy()
	s, cred, verifiedAt := d.wz.settings, d.wz.cred, d.verifiedAt()
	startWith(d.send, func(ctx context.Context, deliver func(func())) HandOffResult {
		return r(ctx, s, cred, verifiedAt, target, d.signInURL(deliver))
	}, d.finish)
}

// retryStatus follows the background retrier: this run's waiting
// submission delivered meanwhile, or when it is tried next, and what else
// still waits.
func (d *doneScreen) retryStatus(st infino.RetryStatus) {
	if st.Last != nil && !st.Flushing && !d.send.running() {
		d.refreshPending() // what else waits may have gone meanwhile
	}
	if d.last.State != infino.StateQueued || d.send.running() {
		d.next.Hide()
		return
	}
	if st.Last != nil {
		for _, r := range st.Last.Results {
			if r.Tried && r.Entry.ID == d.last.EntryID && r.Outcome.State != infino.StateQueued {
				d.finish(resultOf(r.Outcome))
				return
			}
		}
	}
	if st.Pending == 0 || st.Next.IsZero() || st.Flushing {
		d.next.Hide()
		return
	}
	d.next.SetText(trf("done.handoff.next", st.Next.Local().Format("15:04")))
	d.next.Show()
}

// onRetry is "Spróbuj teraz" for a submission waiting in the outbox (it and
// everything else waiting go out now, signing in if needed), and "Spróbuj
// ponownie" (a new submission) after a failure.
func (d *doneScreen) onRetry() {
	if d.wz.deps.Outbox != nil && (d.last.State == infino.StateQueued || d.others.box.Visible() && d.last.State != infino.StateFailed) {
		d.retryNow()
		return
	}
	d.sendHandOff()
}

// retryNow flushes the outbox now and shows what became of this run's entry.
func (d *doneScreen) retryNow() {
	ob := d.wz.deps.Outbox
	entry, prev := d.last.EntryID, d.last
	d.busy()
	startWith(d.send, func(ctx context.Context, deliver func(func())) HandOffResult {
		rep := ob.Flush(ctx, true, d.signInURL(deliver))
		// Not in the report: no longer in the outbox, so delivered meanwhile.
		res := HandOffResult{State: infino.StateSent}
		if entry == "" {
			res = prev // this run had nothing waiting: it stays as it was
		}
		if rep.Err != nil && entry != "" {
			res = resultOf(infino.Outcome{State: infino.StateQueued, EntryID: entry, Err: rep.Err})
		}
		for _, r := range rep.Results {
			if r.Entry.ID == entry {
				res = resultOf(r.Outcome)
			}
		}
		return res
	}, d.finish)
}

// showHandOff tells what became of the hand-off, in plain words.
func (d *doneScreen) showHandOff(res HandOffResult) {
	d.last = res
	d.activity.Stop()
	d.activity.Hide()
	d.signBox.Hide()
	d.retry.Hide() // shown again below where it applies
	d.replace.Hide()
	d.next.Hide()
	var head string
	switch res.State {
	case infino.StateSent:
		head = tr("done.handoff.sent")
		d.setStatus(widget.SuccessImportance, theme.NewSuccessThemedResource(theme.UploadIcon()), "")
	case infino.StateExists:
		head = tr("done.handoff.exists")
		d.setStatus(widget.SuccessImportance, theme.NewSuccessThemedResource(theme.InfoIcon()), "")
		if res.Existing != nil && d.wz.deps.Replace != nil {
			d.replace.Show()
		}
	case infino.StateReplaced:
		head = tr("done.handoff.replaced")
		d.setStatus(widget.SuccessImportance, theme.NewSuccessThemedResource(theme.UploadIcon()), "")
	case infino.StateQueued:
		head = tr("done.handoff.queued")
		d.setStatus(widget.WarningImportance, theme.NewWarningThemedResource(theme.HistoryIcon()), "")
		d.retry.SetText(tr("done.handoff.sendNow"))
		d.retry.Show()
		if r := d.wz.deps.Retry; r != nil {
			r.Changed() // it looks at the outbox again and says when it tries
		}
	default:
		head = tr("done.handoff.failed")
		if len(res.Fields) > 0 {
			head = tr("done.handoff.fields")
		}
		d.setStatus(widget.DangerImportance, theme.NewErrorThemedResource(theme.ErrorIcon()), "")
		d.retry.SetText(tr("done.handoff.retry"))
		d.retry.Show()
		d.sentFor = nil
	}
	msg := head
	if res.State == infino.StateExists && d.replace.Visible() {
		msg += "\n" + trf("done.handoff.exists.replace", existingState(res.Existing))
	} else if t := d.wz.text(res.Message); t != "" && t != head {
		msg += "\n" + t
	}
	if res.State == infino.StateQueued {
		if d.wz.deps.Retry != nil {
			msg += "\n" + tr("done.handoff.queued.auto")
		} else {
			msg += "\n" + tr("done.handoff.queued.when")
		}
	}
	d.status.set(msg)
	d.showFields(res.Fields)
}

// showFields lists the fields Infino refused, and offers the form at the
// first one the form has (settings typed by hand only).
func (d *doneScreen) showFields(fields mailcfg.ValidationError) {
	var lines []string
	for _, f := range fields {
		if f == nil {
			continue
		}
		lines = append(lines, "• "+fieldName(f.Field)+": "+d.wz.text(f.Message))
	}
	if len(lines) == 0 {
		d.fields.Hide()
		d.fix.Hide()
		return
	}
	d.fields.SetText(strings.Join(lines, "\n"))
	d.fields.Show()
	if _, _, ok := d.fixTarget(); ok && !d.wz.viaSignIn {
		d.fix.Show()
	} else {
		d.fix.Hide()
	}
}

// fixTarget is the first refused field the form has, with its message.
func (d *doneScreen) fixTarget() (path, msg string, ok bool) {
	for _, f := range d.last.Fields {
		if f == nil {
			continue
		}
		if p := form.FromPath(f.Field); p.OnForm() {
			return string(p), d.wz.text(f.Message), true
		}
	}
	return "", "", false
}

// onFix goes back to the form with the first refused field focused and
// Infino's message under it.
func (d *doneScreen) onFix() {
	if p, msg, ok := d.fixTarget(); ok {
		d.wz.goManual(p, msg)
	}
}

// partKeys are the translation keys of a server's fields.
var partKeys = map[form.Part]string{form.Host: "manual.host", form.Port: "manual.port", form.Username: "manual.username",
	form.Security: "manual.security", form.CertSHA256: "manual.pin"}

// fieldName names a settings field for people ("Poczta przychodząca · Serwer").
func fieldName(path string) string {
	f := form.FromPath(path)
	switch f {
	case form.Email:
		return tr("manual.email")
	case form.Password:
		return tr("manual.password")
	}
	side, ok := f.Side()
	if !ok {
		return path
	}
	name := tr("done.incoming")
	if side == form.Outgoing {
		name = tr("done.outgoing")
	}
	if part, ok := f.Part(); ok && partKeys[part] != "" {
		name += " · " + tr(partKeys[part])
	}
	return name
}

// refreshPending tells what else waits in the outbox (earlier runs, other
// mailboxes), each with its reason.
func (d *doneScreen) refreshPending() {
	ob := d.wz.deps.Outbox
	if ob == nil {
		return
	}
	type pending struct {
		entries []infino.Entry
		err     error
	}
	start(d.pending, func(ctx context.Context) pending {
		entries, err := ob.Pending(ctx)
		return pending{entries, err}
	}, func(p pending) {
		if p.err == nil {
			d.showOthers(p.entries)
		}
	})
}

func (d *doneScreen) showOthers(entries []infino.Entry) {
	skip := ""
	if d.last.State == infino.StateQueued {
		skip = d.last.EntryID
	}
	n := 0
	for _, e := range entries {
		if e.ID != skip {
			n++
		}
	}
	if n == 0 {
		d.others.set("")
		return
	}
	d.others.set(trf("done.outbox.others", n) + "\n" + d.wz.pendingLines(entries, skip))
	if !d.retry.Visible() && !d.send.running() {
		// Nothing of this run waits: the button sends the others.
		d.retry.SetText(tr("done.handoff.sendNow"))
		d.retry.Show()
	}
}

// pendingLines lists waiting entries, "• address — reason" a line, without
// skipID; at most five, then how many more.
func (wz *Wizard) pendingLines(entries []infino.Entry, skipID string) string {
	var lines []string
	more := 0
	for _, e := range entries {
		if e.ID == skipID {
			continue
		}
		if len(lines) == 5 {
			more++
			continue
		}
		email := e.Settings.Email
		if a, err := mailcfg.ParseAddress(email); err == nil {
			email = a.Display()
		}
		reason := wz.text(e.Reason())
		if reason == "" {
			reason = tr("done.outbox.notTried")
		}
		lines = append(lines, "• "+email+" — "+reason)
	}
	if more > 0 {
		lines = append(lines, trf("done.outbox.more", more))
	}
	return strings.Join(lines, "\n")
}
