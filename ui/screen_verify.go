package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/verify"
)

type rowState int

const (
	rowPending rowState = iota
	rowOK
	rowFailed
	rowCancelled
)

// serverRow shows one server's live progress.
type serverRow struct {
	side     verify.Side
	icon     *widget.Icon
	activity *widget.Activity
	title    *widget.Label
	addr     *widget.Label
	step     *widget.Label
	state    rowState
	box      fyne.CanvasObject
}

func newServerRow(side verify.Side) *serverRow {
	r := &serverRow{side: side, icon: widget.NewIcon(nil), activity: widget.NewActivity()}
	r.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.addr = widget.NewLabel("")
	r.addr.Truncation = fyne.TextTruncateEllipsis
	r.step = wrapLabel("")
	iconBox := container.New(&fixedWidth{w: 40}, container.NewCenter(container.NewStack(r.activity, r.icon)))
	r.box = container.NewBorder(nil, nil, iconBox, nil,
		container.NewVBox(container.NewBorder(nil, nil, r.title, nil, r.addr), r.step))
	return r
}

func (r *serverRow) set(state rowState, text string) {
	r.state = state
	switch state {
	case rowPending:
		r.icon.SetResource(nil)
		r.activity.Show()
		r.activity.Start()
		r.step.Importance = widget.MediumImportance
	case rowOK:
		r.activity.Stop()
		r.activity.Hide()
		r.icon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		r.step.Importance = widget.SuccessImportance
	case rowFailed:
		r.activity.Stop()
		r.activity.Hide()
		r.icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
		r.step.Importance = widget.DangerImportance
	case rowCancelled:
		r.activity.Stop()
		r.activity.Hide()
		r.icon.SetResource(theme.CancelIcon())
		r.step.Importance = widget.MediumImportance
	}
	r.step.SetText(text)
}

// verifyScreen runs the check and explains the outcome.
type verifyScreen struct {
	wz *Wizard

	in, out  *serverRow
	summary  *widget.Label
	problems *fyne.Container
	cert     *fyne.Container
	trustSHA string
	// otherHost is the server a valid, trusted certificate named instead of
	// the one asked for: offered as "Use server …".
	otherHost string
	copied    *widget.Label

	back     *widget.Button
	fix      *widget.Button
	cancel   *widget.Button
	retry    *widget.Button
	trust    *widget.Button
	useHost  *widget.Button
	report   *widget.Button
	next     *widget.Button
	trustDlg *dialog.ConfirmDialog
	// signInBtn is the provider's sign-in a failure offers, or nil.
	signInBtn *widget.Button

	job       *job
	fixField  string
	fixMsg    string
	lastFails []*sideFailure

	obj fyne.CanvasObject
}

type sideFailure struct {
	side verify.Side
	f    *mailcfg.Failure
}

func newVerifyScreen(wz *Wizard) *verifyScreen {
	v := &verifyScreen{wz: wz, job: newJob(wz)}
	v.in = newServerRow(verify.Incoming)
	v.out = newServerRow(verify.Outgoing)
	v.summary = heading("")
	v.problems = container.NewVBox()
	v.cert = container.NewVBox()
	v.copied = widget.NewLabel(tr("report.copied"))
	v.copied.Importance = widget.SuccessImportance
	v.copied.Hide()

	v.back = widget.NewButtonWithIcon(tr("common.back"), theme.NavigateBackIcon(), func() {
		v.abort()
		v.wz.goBackFromVerify()
	})
	v.fix = widget.NewButtonWithIcon(tr("verify.fix"), theme.DocumentCreateIcon(), v.onFix)
	v.fix.Importance = widget.HighImportance
	v.cancel = widget.NewButtonWithIcon(tr("Cancel"), theme.CancelIcon(), v.onCancel)
	v.retry = widget.NewButtonWithIcon(tr("verify.retry"), theme.ViewRefreshIcon(), v.run)
	v.trust = widget.NewButtonWithIcon(tr("verify.cert.trust"), theme.ConfirmIcon(), v.onTrust)
	v.trust.Importance = widget.WarningImportance
	v.useHost = widget.NewButtonWithIcon("", theme.ConfirmIcon(), v.onUseHost)
	v.useHost.Importance = widget.HighImportance
	v.report = widget.NewButtonWithIcon(tr("report.copy"), theme.ContentCopyIcon(), v.onReport)
	v.next = widget.NewButtonWithIcon(tr("verify.next"), theme.NavigateNextIcon(), func() { v.wz.goDone() })
	v.next.Importance = widget.HighImportance

	body := container.NewVBox(
		heading(tr("verify.title")),
		wrapLabel(tr("verify.intro")),
		widget.NewSeparator(),
		v.in.box,
		widget.NewSeparator(),
		v.out.box,
		widget.NewSeparator(),
		v.summary,
		v.problems,
		v.cert,
		container.NewHBox(v.report, v.copied),
	)
	v.obj, _ = page(body, buttonBar([]fyne.CanvasObject{v.back}, v.cancel, v.retry, v.trust, v.useHost, v.fix, v.next))
	return v
}

func (v *verifyScreen) content() fyne.CanvasObject { return v.obj }
func (v *verifyScreen) stepKey() string            { return "step.verify" }
func (v *verifyScreen) shown()                     {}

func sideTitle(side verify.Side, p mailcfg.Protocol) string {
	return trf("verify.side."+string(side), strings.ToUpper(string(p)))
}

func (v *verifyScreen) serverLine(srv mailcfg.Server) string {
	sec := tr("verify.security." + string(srv.Security))
	line := fmt.Sprintf("%s · %s", srv.Addr(), sec)
	if srv.CertSHA256 != "" {
		line += " · " + tr("verify.pinned")
	}
	return line
}

// run starts a verification of the wizard's settings.
func (v *verifyScreen) run() {
	v.abort()
	s, cred := v.wz.settings, v.wz.cred
	rec := &runRecord{Settings: s, Started: v.wz.deps.Now()}
	if v.wz.viaSignIn {
		rec.SignIn = v.wz.providerNameEN(v.wz.signedInWith)
	}
	v.wz.record = rec

	v.in.title.SetText(sideTitle(verify.Incoming, s.Incoming.Protocol))
	v.in.addr.SetText(v.serverLine(s.Incoming))
	v.out.title.SetText(sideTitle(verify.Outgoing, s.Outgoing.Protocol))
	v.out.addr.SetText(v.serverLine(s.Outgoing))
	v.in.set(rowPending, tr("verify.step.resolve"))
	v.out.set(rowPending, tr("verify.step.resolve"))
	v.problems.RemoveAll()
	v.signInBtn = nil
	v.fix.Importance = widget.HighImportance
	v.cert.RemoveAll()
	v.copied.Hide()
	v.lastFails = nil
	v.trustSHA = ""
	v.otherHost = ""
	v.fixField, v.fixMsg = "", ""
	v.summary.SetText(tr("verify.running"))
	v.summary.Importance = widget.MediumImportance
	v.buttons(true, false)

	check := v.wz.deps.Verify
	if check == nil {
		v.in.set(rowCancelled, "")
		v.out.set(rowCancelled, "")
		v.summary.SetText(tr("verify.unavailable"))
		v.buttons(false, false)
		return
	}
	insecure := VerifyOptions{AllowInsecure: v.wz.deps.Policy.AllowInsecure, InsecureOverride: v.wz.insecureOK}
	startWith(v.job, func(ctx context.Context, deliver func(func())) verify.Result {
		opt := insecure
		opt.Progress = func(e verify.Event) { deliver(func() { v.onEvent(rec, e) }) }
		return check(ctx, s, cred, opt)
	}, func(res verify.Result) { v.finish(rec, res) })
	v.wz.focus(v.cancel)
}

// abort cancels a running check, if any, and ignores whatever it still says.
func (v *verifyScreen) abort() { v.job.stop() }

func (v *verifyScreen) row(side verify.Side) *serverRow {
	if side == verify.Outgoing {
		return v.out
	}
	return v.in
}

func (v *verifyScreen) onEvent(rec *runRecord, e verify.Event) {
	rec.Events = append(rec.Events, e)
	r := v.row(e.Side)
	switch {
	case e.Failure != nil:
		r.set(rowFailed, kindTitle(e.Failure))
	case e.Step == verify.StepDone:
		r.set(rowOK, trf("verify.ok", v.wz.seconds(e.Elapsed.Seconds())))
	default:
		// Events report finished steps; the next one is under way.
		srv := rec.Settings.Incoming
		if e.Side == verify.Outgoing {
			srv = rec.Settings.Outgoing
		}
		next := nextStep(e.Step, srv.Security)
		if next == verify.StepDone {
			r.set(rowPending, tr("verify.step.signout"))
		} else {
			r.set(rowPending, tr("verify.step."+string(next)))
		}
	}
}

func (v *verifyScreen) onCancel() {
	if !v.job.running() {
		return
	}
	v.abort()
	if v.wz.record != nil {
		v.wz.record.Cancelled = true
	}
	for _, r := range []*serverRow{v.in, v.out} {
		if r.state == rowPending {
			r.set(rowCancelled, tr("verify.cancelled.row"))
		}
	}
	v.summary.SetText(tr("verify.cancelled"))
	v.summary.Importance = widget.MediumImportance
	v.summary.Refresh()
	v.buttons(false, false)
	v.wz.focus(v.retry)
}

// buttons shows the bar for running, success or failure.
func (v *verifyScreen) buttons(running, ok bool) {
	show := func(b *widget.Button, on bool) {
		if on {
			b.Show()
		} else {
			b.Hide()
		}
	}
	show(v.cancel, running)
	show(v.retry, !running && !ok)
	show(v.fix, !running && !ok && v.fixField != "")
	show(v.next, !running && ok)
	show(v.trust, !running && !ok && v.trustSHA != "")
	show(v.useHost, !running && !ok && v.otherHost != "")
	if running {
		v.report.Disable()
	} else {
		v.report.Enable()
	}
	if !running && !ok && v.fixField == "" {
		v.retry.Importance = widget.HighImportance
	} else {
		v.retry.Importance = widget.MediumImportance
	}
	v.retry.Refresh()
}

func (v *verifyScreen) finish(rec *runRecord, res verify.Result) {
	rec.Result = &res
	var fails []*sideFailure
	for _, x := range []struct {
		side verify.Side
		sr   verify.SideResult
	}{{verify.Incoming, res.Incoming}, {verify.Outgoing, res.Outgoing}} {
		r := v.row(x.side)
		switch {
		case x.sr.OK:
			r.set(rowOK, trf("verify.ok", v.wz.seconds(x.sr.Elapsed.Seconds())))
		case x.sr.Failure != nil && x.sr.Failure.Kind == mailcfg.KindCancelled:
			r.set(rowCancelled, tr("verify.cancelled.row"))
			rec.Cancelled = true
		case x.sr.Failure != nil:
			r.set(rowFailed, kindTitle(x.sr.Failure))
			fails = append(fails, &sideFailure{x.side, x.sr.Failure})
		default:
			r.set(rowFailed, tr("kind.protocol"))
			fails = append(fails, &sideFailure{x.side, &mailcfg.Failure{Kind: mailcfg.KindProtocol}})
		}
	}
	v.lastFails = fails
	switch {
	case res.OK:
		v.summary.SetText(tr("verify.success"))
		v.summary.Importance = widget.SuccessImportance
		v.summary.Refresh()
		v.buttons(false, true)
		v.wz.focus(v.next)
		return
	case len(fails) == 0:
		v.summary.SetText(tr("verify.cancelled"))
		v.summary.Importance = widget.MediumImportance
		v.summary.Refresh()
		v.buttons(false, false)
		return
	}
	v.summary.SetText(tr("verify.failed"))
	v.summary.Importance = widget.DangerImportance
	v.summary.Refresh()
	// A trusted certificate that names another server offers that server
	// (unless IT locked the servers); showProblems then leaves pinning out.
	v.otherHost = ""
	for _, sf := range fails {
		if c := sf.f.Certificate; c != nil && c.SuggestedHost != "" && !v.wz.serversLocked() {
			v.otherHost = c.SuggestedHost
			v.useHost.SetText(trf("verify.cert.usehost", c.SuggestedHost))
			break
		}
	}
	v.showProblems(fails)
	v.offerSignIn(fails)
	first := fails[0].f
	v.fixField = first.Field
	v.fixMsg = v.wz.text(first.Message)
	if v.fixField == "" && !v.wz.viaSignIn {
		v.fixField = "-" // still offer to go back and change things
	}
	v.buttons(false, false)
	switch {
	case v.signInBtn != nil:
		// The provider's sign-in is the way forward, not the form.
		v.fix.Importance = widget.MediumImportance
		v.fix.Refresh()
		v.wz.focus(v.signInBtn)
	case v.useHost.Visible():
		v.wz.focus(v.useHost)
	case v.fix.Visible():
		v.wz.focus(v.fix)
	default:
		v.wz.focus(v.retry)
	}
}

// showProblems explains each failure: what happened, what to do, and the
// provider's help. Two sides that failed the same way get one headline, and
// no sentence is told twice.
func (v *verifyScreen) showProblems(fails []*sideFailure) {
	sameKind := len(fails) == 2 && fails[0].f.Kind == fails[1].f.Kind
	told := map[string]bool{}
	certShown := false
	for i, sf := range fails {
		f := sf.f
		if !sameKind || i == 0 {
			title := kindTitle(f)
			if sameKind {
				title = trf("verify.problem.both", title)
			} else {
				title = trf("verify.problem.side", tr("verify.sidename."+string(sf.side)), title)
			}
			t := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			t.Wrapping = fyne.TextWrapWord
			t.Importance = widget.DangerImportance
			v.problems.Add(t)
		}
		msg := v.wz.text(f.Message)
		if msg == "" {
			msg = tr("kind." + string(f.Kind) + ".explain")
		}
		if !told[msg] {
			told[msg] = true
			v.problems.Add(wrapLabel(msg))
		}
		// Verification attaches the provider's help where it helps.
		hint := v.wz.text(f.Hint)
		if hint != "" && !told[hint] {
			told[hint] = true
			n := newNote(theme.HelpIcon(), widget.MediumImportance)
			n.set(displayText(hint))
			v.problems.Add(n.box)
		}
		if f.Certificate != nil && !certShown {
			v.showCert(f.Certificate)
			certShown = true
		}
	}
}

// offerSignIn offers the provider's sign-in where a failure says it gets
// past it (Microsoft refusing passwords with 5.7.30 or 5.7.3, Gmail asking
// for an app password): its button when firm IT configured it, else what
// IT must set.
func (v *verifyScreen) offerSignIn(fails []*sideFailure) {
	for _, sf := range fails {
		id := sf.f.SignIn
		if id == "" {
			continue
		}
		p, ok := v.wz.local.Provider(id)
		if !ok {
			continue
		}
		if p.Configured && v.wz.deps.SignIn != nil {
			email, proto := v.wz.settings.Email, v.wz.settings.Incoming.Protocol
			b := widget.NewButtonWithIcon(v.wz.text(p.ButtonText()), theme.LoginIcon(), func() {
				v.abort()
				v.wz.signInWith(id, email, proto)
			})
			b.Importance = widget.HighImportance
			v.signInBtn = b
			v.problems.Add(container.NewHBox(b))
		} else {
			n := newNote(theme.WarningIcon(), widget.WarningImportance)
			n.set(v.wz.text(p.Setup))
			v.problems.Add(n.box)
		}
		return
	}
}

// fingerprint formats a SHA-256 as colon-separated hex in two lines.
func fingerprint(sha string) (string, bool) {
	b, err := mailcfg.ParseFingerprint(sha)
	if err != nil {
		return sha, false
	}
	return mailcfg.FormatFingerprint(b[:16]) + ":\n" + mailcfg.FormatFingerprint(b[16:]), true
}

func (v *verifyScreen) showCert(c *mailcfg.CertInfo) {
	fp, ok := fingerprint(c.SHA256)
	v.cert.RemoveAll()
	rows := container.New(layout.NewFormLayout())
	add := func(k string, val fyne.CanvasObject) {
		rows.Add(widget.NewLabelWithStyle(tr(k), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		rows.Add(val)
	}
	text := func(k, val string) {
		if val != "" {
			l := widget.NewLabel(val)
			l.Wrapping = fyne.TextWrapWord
			add(k, l)
		}
	}
	text("verify.cert.subject", c.Subject)
	text("verify.cert.issuer", c.Issuer)
	if names := strings.Join(c.Names, ", "); names != "" && "CN="+names != c.Subject {
		text("verify.cert.names", names)
	}
	if !c.NotBefore.IsZero() || !c.NotAfter.IsZero() {
		text("verify.cert.valid", c.NotBefore.Format("2006-01-02")+" – "+c.NotAfter.Format("2006-01-02"))
	}
	add("verify.cert.fingerprint", widget.NewLabelWithStyle(fp, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true}))
	title := widget.NewLabelWithStyle(tr("verify.cert.title"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	// A valid, trusted certificate for the server offered instead is not
	// pinned: switching to the name it carries is the way forward, and a
	// pin would break at the certificate's next renewal.
	offered := c.SuggestedHost != "" && c.SuggestedHost == v.otherHost
	box := container.NewVBox(widget.NewSeparator(), title, rows)
	if !offered {
		box.Add(wrapLabel(tr("verify.cert.explain")))
	}
	v.cert.Add(box)
	v.trustSHA = ""
	if ok && !offered {
		v.trustSHA = c.SHA256
	}
}

// onTrust asks a second time before pinning the certificate.
func (v *verifyScreen) onTrust() {
	fp, _ := fingerprint(v.trustSHA)
	msg := wrapLabel(tr("verify.cert.confirm"))
	fpl := widget.NewLabelWithStyle(fp, fyne.TextAlignCenter, fyne.TextStyle{Monospace: true})
	content := container.NewVBox(msg, fpl)
	v.trustDlg = dialog.NewCustomConfirm(tr("verify.cert.confirm.title"), tr("verify.cert.confirm.yes"), tr("Cancel"), content, func(ok bool) {
		if ok {
			v.pinAndRetry()
		}
	}, v.wz.win)
	v.trustDlg.Resize(fyne.NewSize(560, 0))
	v.trustDlg.Show()
}

// pinAndRetry trusts exactly the shown certificate on every side that
// presented it, keeps the pin in the form, and verifies again.
func (v *verifyScreen) pinAndRetry() {
	sha := v.trustSHA
	b, err := mailcfg.ParseFingerprint(sha)
	if err != nil {
		return
	}
	norm := fmt.Sprintf("%x", b)
	v.fixCertSides(func(c *mailcfg.CertInfo) bool { return sameFingerprint(c.SHA256, norm) },
		func(s *mailcfg.Server) { s.CertSHA256 = norm },
		func(m *manualScreen, side verify.Side) { m.pin(side, norm) })
}

// onUseHost switches every side whose trusted certificate named the other
// server to that server, keeps it in the form, and verifies again. Nothing
// is trusted on the way: the new name is checked like any other.
func (v *verifyScreen) onUseHost() {
	host := v.otherHost
	if host == "" || v.wz.serversLocked() {
		return // IT's locked servers are never switched
	}
	v.fixCertSides(func(c *mailcfg.CertInfo) bool { return c.SuggestedHost == host },
		func(s *mailcfg.Server) { s.Host = host },
		func(m *manualScreen, side verify.Side) { m.useHost(side, host) })
}

// fixCertSides applies a fix the user chose for a certificate failure to
// every side whose last failure had a certificate that match accepts: fix
// changes that side's server in the settings being verified, and form the
// manual form (unless the settings came from a sign-in, which has no
// form); then it verifies again.
func (v *verifyScreen) fixCertSides(match func(*mailcfg.CertInfo) bool, fix func(*mailcfg.Server),
	form func(m *manualScreen, side verify.Side)) {
	for _, sf := range v.lastFails {
		if sf.f.Certificate == nil || !match(sf.f.Certificate) {
			continue
		}
		if sf.side == verify.Incoming {
			fix(&v.wz.settings.Incoming)
		} else {
			fix(&v.wz.settings.Outgoing)
		}
		if !v.wz.viaSignIn {
			form(v.wz.manualScreen(), sf.side)
		}
	}
	v.run()
}

// kindTitle names a failure in a row and a headline. A certificate that
// names another server is not "unknown": it is said what it is.
func kindTitle(f *mailcfg.Failure) string {
	if f.Kind == mailcfg.KindTLSCertificate && f.Certificate != nil && f.Certificate.Reason == mailcfg.CertWrongHost {
		return tr("kind.tls_certificate.wronghost")
	}
	return tr("kind." + string(f.Kind))
}

func sameFingerprint(a, b string) bool {
	x, err1 := mailcfg.ParseFingerprint(a)
	y, err2 := mailcfg.ParseFingerprint(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

func (v *verifyScreen) onFix() {
	if v.wz.viaSignIn {
		v.wz.show(v.wz.start)
		return
	}
	field := v.fixField
	if field == "-" {
		field = ""
	}
	v.wz.goManual(field, v.fixMsg)
}

func (v *verifyScreen) onReport() {
	if v.wz.deps.Clipboard == nil {
		return
	}
	v.wz.deps.Clipboard(v.wz.report())
	v.copied.Show()
}

// nextStep is the step that starts when a verify.Event reports step done:
// events report finished steps, and the window shows the next one as in
// progress. With STARTTLS (or none) the greeting comes before TLS.
func nextStep(done verify.Step, sec mailcfg.Security) verify.Step {
	implicit := sec == mailcfg.SecurityTLS
	switch done {
	case verify.StepResolve:
		return verify.StepConnect
	case verify.StepConnect:
		if implicit {
			return verify.StepTLS
		}
		return verify.StepGreeting
	case verify.StepTLS:
		if implicit {
			return verify.StepGreeting
		}
		return verify.StepLogin
	case verify.StepGreeting:
		if sec == mailcfg.SecurityStartTLS {
			return verify.StepTLS
		}
		return verify.StepLogin
	}
	return verify.StepDone
}
