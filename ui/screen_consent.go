package ui

import (
	"context"
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/signin"
)

// consentScreen is the way past Microsoft 365's "Need admin approval": it
// says in plain words why the sign-in stops, copies the core's ready
// request to IT (with the admin-consent link for the user's tenant), and
// signs in again once IT has approved the app.
type consentScreen struct {
	wz *Wizard

	tenant  *widget.Label
	link    *widget.Label
	request *widget.Label
	copyReq *widget.Button
	copied  *widget.Label
	status  *noteBox
	check   *widget.Button
	back    *widget.Button
	wait    *signInWait
	prepare *job // the request, when the sign-in did not fail with one

	req SignInRequest
	ce  *signin.ConsentNeeded

	obj fyne.CanvasObject
}

func newConsentScreen(wz *Wizard) *consentScreen {
	c := &consentScreen{wz: wz, prepare: newJob(wz)}
	c.tenant = widget.NewLabel("")
	c.tenant.Wrapping = fyne.TextWrapWord
	c.link = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	c.link.Truncation = fyne.TextTruncateEllipsis
	c.request = wrapLabel("")
	c.copyReq = widget.NewButtonWithIcon(tr("consent.copy"), theme.ContentCopyIcon(), c.onCopy)
	c.copyReq.Importance = widget.HighImportance
	c.copied = widget.NewLabel(tr("consent.copied"))
	c.copied.Importance = widget.SuccessImportance
	c.copied.Wrapping = fyne.TextWrapWord
	c.copied.Hide()
	c.status = newNote(theme.InfoIcon(), widget.MediumImportance)
	c.check = widget.NewButtonWithIcon(tr("consent.check"), theme.ViewRefreshIcon(), c.onCheck)
	c.back = widget.NewButtonWithIcon(tr("common.back"), theme.NavigateBackIcon(), c.onBack)
	c.wait = newSignInWait(wz, c.setBusy)

	preview := widget.NewAccordion(widget.NewAccordionItem(tr("consent.preview"), c.request))
	body := container.NewVBox(
		heading(tr("consent.title")),
		wrapLabel(tr("consent.explain")),
		widget.NewSeparator(),
		wrapLabel(tr("consent.steps")),
		c.tenant,
		container.NewBorder(nil, nil, widget.NewLabelWithStyle(tr("consent.link"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), nil, c.link),
		container.NewHBox(c.copyReq),
		c.copied,
		preview,
		c.wait.box,
		c.status.box,
	)
	c.obj, _ = page(narrow(body), buttonBar([]fyne.CanvasObject{c.back}, c.check))
	return c
}

func (c *consentScreen) content() fyne.CanvasObject { return c.obj }
func (c *consentScreen) stepKey() string            { return "step.start" }
func (c *consentScreen) shown()                     { c.wz.focus(c.copyReq) }

// open shows the approval for req's sign-in: ce from the failed sign-in,
// or, when nil, built for the address (off the UI goroutine: a replaced
// authority may need its discovery document).
func (c *consentScreen) open(req SignInRequest, ce *signin.ConsentNeeded) {
	c.req = req
	c.copied.Hide()
	c.status.set("")
	if ce != nil {
		c.show(ce)
		return
	}
	c.show(nil)
	c.status.icon.SetResource(theme.InfoIcon())
	c.status.text.Importance = widget.MediumImportance
	c.status.set(tr("consent.preparing"))
	offers, addr := c.wz.offers(), req.LoginHint
	if req.Shared != "" && addr == "" {
		addr = req.Shared
	}
	type built struct {
		ce  *signin.ConsentNeeded
		err error
	}
	start(c.prepare, func(context.Context) built {
		ce, err := offers.ConsentFor(req.Provider, "", addr)
		return built{ce, err}
	}, func(b built) {
		if b.err != nil {
			c.fail(b.err)
			return
		}
		c.status.set("")
		c.show(b.ce)
	})
}

// show fills the screen with a request (nil: none yet).
func (c *consentScreen) show(ce *signin.ConsentNeeded) {
	c.ce = ce
	if ce == nil {
		c.tenant.SetText("")
		c.tenant.Hide()
		c.link.SetText("")
		c.request.SetText("")
		c.copyReq.Disable()
		return
	}
	c.tenant.SetText(trf("consent.tenant", ce.Tenant))
	c.tenant.Show()
	c.link.SetText(ce.URL)
	c.request.SetText(c.wz.text(ce.Request))
	c.copyReq.Enable()
}

// fail says what went wrong in the core's words.
func (c *consentScreen) fail(err error) {
	c.status.icon.SetResource(theme.ErrorIcon())
	c.status.text.Importance = widget.DangerImportance
	msg := tr("consent.failed")
	var f *mailcfg.Failure
	if errors.As(err, &f) && f != nil {
		msg = c.wz.text(f.Message) + " " + c.wz.text(f.Hint)
	}
	c.status.set(msg)
}

// onCopy is „Skopiuj prośbę do działu IT”: the ready message with the link.
func (c *consentScreen) onCopy() {
	if c.ce == nil || c.wz.deps.Clipboard == nil {
		return
	}
	c.wz.deps.Clipboard(c.wz.text(c.ce.Request))
	c.copied.Show()
}

// onCheck is „Sprawdź ponownie”: the same sign-in again. Approved: on to
// verification; still waiting for the approval: the screen stays and says
// so; anything else in the core's words.
func (c *consentScreen) onCheck() {
	c.status.set("")
	req := c.req
	c.wait.run(req, func(r signedIn) {
		var ce *signin.ConsentNeeded
		if r.err != nil && errors.As(r.err, &ce) && ce != nil {
			c.show(ce)
			c.status.icon.SetResource(theme.WarningIcon())
			c.status.text.Importance = widget.WarningImportance
			c.status.set(tr("consent.still"))
			return
		}
		c.wz.afterSignIn(req, r, c.status)
	})
}

func (c *consentScreen) onBack() {
	c.wait.stop()
	c.prepare.stop()
	c.wz.show(c.wz.start)
}

func (c *consentScreen) setBusy(busy bool) {
	for _, b := range []*widget.Button{c.check, c.back} {
		if busy {
			b.Disable()
		} else {
			b.Enable()
		}
	}
	// While the browser waits, the question leads here already.
	c.wait.consent.Hide()
}
