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
)

// doneScreen sums up what was connected and, with a hand-off, what was sent
// to Infino.
type doneScreen struct {
	wz *Wizard

	summary  *widget.Form
	handoff  *fyne.Container
	activity *widget.Activity
	status   *noteBox
	retry    *widget.Button
	copied   *widget.Label
	closeBtn *widget.Button

	sentFor *runRecord // the hand-off ran for this verification
	runID   int
	stop    context.CancelFunc

	obj fyne.CanvasObject
}

func newDoneScreen(wz *Wizard) *doneScreen {
	d := &doneScreen{wz: wz}
	d.summary = widget.NewForm()
	d.activity = widget.NewActivity()
	d.status = newNote(theme.InfoIcon(), widget.MediumImportance)
	d.retry = widget.NewButtonWithIcon(tr("done.handoff.retry"), theme.ViewRefreshIcon(), d.sendHandOff)
	d.retry.Hide()
	d.handoff = container.NewVBox(container.NewHBox(d.activity), d.status.box, container.NewHBox(d.retry))
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
		widget.NewSeparator(),
		d.summary,
		widget.NewSeparator(),
		d.handoff,
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
		d.handoff.Hide() // until the hand-off lands: the summary is all
	} else if d.sentFor != d.wz.record {
		d.sendHandOff()
	}
	d.wz.focus(d.closeBtn)
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
		how = tr("done.auth.microsoft")
	}
	add("done.auth", how)
	add("done.incoming", d.serverText(s.Incoming))
	add("done.outgoing", d.serverText(s.Outgoing))
	if r := d.wz.record; r != nil && r.Result != nil {
		add("done.checked", trf("done.checked.value", d.wz.seconds(r.Result.Elapsed.Seconds())))
	}
	d.summary.Refresh()
}

// sendHandOff passes the verified settings to Infino (issue 6).
func (d *doneScreen) sendHandOff() {
	h := d.wz.deps.HandOff
	if h == nil {
		return
	}
	if d.stop != nil {
		d.stop()
	}
	d.runID++
	id := d.runID
	rec := d.wz.record
	d.sentFor = rec
	ctx, stop := context.WithCancel(context.Background())
	d.stop = stop
	d.retry.Hide()
	d.activity.Show()
	d.activity.Start()
	d.status.text.Importance = widget.MediumImportance
	d.status.icon.SetResource(theme.UploadIcon())
	d.status.set(tr("done.handoff.sending"))
	s, cred, do := d.wz.settings, d.wz.cred, d.wz.deps.Do
	verifiedAt := d.wz.deps.Now()
	if rec != nil && rec.Result != nil {
		verifiedAt = rec.Started.Add(rec.Result.Elapsed)
	}
	go func() {
		res := h(ctx, s, cred, verifiedAt)
		stop()
		do(func() {
			if id == d.runID {
				d.stop = nil
				d.showHandOff(res)
			}
		})
	}()
}

// showHandOff tells what became of the hand-off.
func (d *doneScreen) showHandOff(res HandOffResult) {
	d.activity.Stop()
	d.activity.Hide()
	var head string
	switch res.State {
	case infino.StateSent:
		head = tr("done.handoff.sent")
		d.status.text.Importance = widget.SuccessImportance
		d.status.icon.SetResource(theme.NewSuccessThemedResource(theme.UploadIcon()))
	case infino.StateExists:
		head = tr("done.handoff.exists")
		d.status.text.Importance = widget.SuccessImportance
		d.status.icon.SetResource(theme.NewSuccessThemedResource(theme.InfoIcon()))
	case infino.StateQueued:
		head = tr("done.handoff.queued")
		d.status.text.Importance = widget.WarningImportance
		d.status.icon.SetResource(theme.NewWarningThemedResource(theme.HistoryIcon()))
		d.retry.SetText(tr("done.handoff.sendNow"))
		d.retry.Show()
	default:
		head = tr("done.handoff.failed")
		d.status.text.Importance = widget.DangerImportance
		d.status.icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
		d.retry.SetText(tr("done.handoff.retry"))
		d.retry.Show()
		d.sentFor = nil
	}
	msg := head
	if t := d.wz.text(res.Message); t != "" {
		msg += "\n" + t
	}
	d.status.set(msg)
}
