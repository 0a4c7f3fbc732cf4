package ui

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/discover"
	"infino.legal/mailbox/mailcfg/signin"
	"infino.legal/mailbox/mailcfg/verify"
	"infino.legal/mailbox/ui/form"
)

// serverBlock is the group of fields for one server.
type serverBlock struct {
	side  form.Side
	proto *widget.RadioGroup
	host  *fieldEntry
	port  *fieldEntry
	user  *fieldEntry
	sec   *widget.Select
	pin   *fieldEntry
	box   fyne.CanvasObject
	adv   fyne.CanvasObject
}

// manualScreen is the form's widgets: address, password, the two servers,
// TLS. What the form holds and its rules are form.Model; the widgets feed
// the user's changes into it and show it.
type manualScreen struct {
	wz   *Wizard
	form *form.Model

	email    *fieldEntry
	password *fieldEntry
	in, out  *serverBlock
	tls      *widget.Check
	tlsWarn  *noteBox
	insecure *widget.Check
	lowNote  *noteBox
	lowOK    *widget.Check
	advanced *widget.Accordion

	source   *noteBox
	help     *noteBox
	helpLink *widget.Hyperlink
	// signInWarn: the address's provider refuses passwords (Microsoft 365,
	// Outlook.com); signInBtn offers its sign-in instead.
	signInWarn *noteBox
	signInBtn  *widget.Button
	signInBox  *fyne.Container
	signInID   string
	lookup     *job // the address's provider by MX

	back       *widget.Button
	next       *widget.Button
	incomplete *widget.Label

	fields map[form.Field]*field
	order  []*fieldEntry // Enter moves along this
	// filling is set while the screen shows the model in the widgets: the
	// widgets' change callbacks then report the screen's own change, not
	// the user's.
	filling bool
	// submitted: the user tried to continue; every problem shows.
	submitted bool

	typing    *job // waits for typing to pause, then autofills
	discovery *job // only the latest discovery may fill
	// discNote is what the latest discovery learnt that is not settings
	// (an Exchange without IMAP), shown when nothing better is found.
	discNote discover.Note
	// redirectDlg asks whether Exchange Autodiscover may follow a redirect
	// out of the address's domain; it goes when the discovery does.
	redirectDlg *dialog.ConfirmDialog

	obj    fyne.CanvasObject
	scroll *container.Scroll
}

var securityKeys = map[mailcfg.Security]string{
	mailcfg.SecurityTLS:      "manual.security.tls",
	mailcfg.SecurityStartTLS: "manual.security.starttls",
}

func newManualScreen(wz *Wizard) *manualScreen {
	m := &manualScreen{wz: wz, form: form.New(), fields: map[form.Field]*field{}, typing: newJob(wz), discovery: newJob(wz), lookup: newJob(wz)}

	m.email = newFieldEntry(tr("start.email.placeholder"))
	m.password = newSecretEntry(tr("manual.password.placeholder"))
	m.addField(form.Email, tr("manual.email"), m.email)
	m.addField(form.Password, tr("manual.password"), m.password)
	m.email.OnChanged = func(t string) {
		m.form.Edit(form.Email, t)
		m.onEmailChanged()
	}
	m.password.OnChanged = func(t string) {
		m.form.Edit(form.Password, t)
		m.fields[form.Password].server = ""
		m.validate()
	}

	m.in = m.newServerBlock(form.Incoming)
	m.out = m.newServerBlock(form.Outgoing)
	m.order = []*fieldEntry{m.email, m.password, m.in.host, m.in.port, m.in.user, m.out.host, m.out.port, m.out.user}
	for i, e := range m.order {
		e.OnSubmitted = func(string) { m.onEnter(i) }
		path := m.pathOf(e)
		e.onFocusLost = func() {
			// A field's problems show once the user has typed in it and left.
			if f := m.fields[path]; f != nil && strings.TrimSpace(e.Text) != "" {
				f.shown = true
			}
			m.validate()
		}
	}
	passwordLeft := m.password.onFocusLost
	m.password.onFocusLost = func() {
		passwordLeft()
		m.retryAutodiscoverSignedIn()
	}

	m.tls = widget.NewCheck(tr("manual.tls"), func(bool) { m.onTLSChanged() })
	m.tls.Checked = true
	tlsHint := wrapLabel(tr("manual.tls.hint"))
	if p := wz.deps.Policy; p.Locked("allowInsecure") && !p.AllowInsecure {
		// IT preset "no unencrypted servers" and locked it: the switch is
		// read-only, and says why.
		m.tls.Disable()
		tlsHint.SetText(tr("manual.tls.locked"))
	}
	m.tlsWarn = newNote(theme.WarningIcon(), widget.DangerImportance)
	m.insecure = widget.NewCheck(tr("manual.insecure.ok"), func(bool) { m.validate() })
	m.insecure.Hide()

	m.lowNote = newNote(theme.WarningIcon(), widget.WarningImportance)
	m.lowOK = widget.NewCheck(tr("manual.lowtrust.ok"), func(bool) { m.validate() })
	m.lowOK.Hide()

	m.source = newNote(theme.InfoIcon(), widget.MediumImportance)
	m.help = newNote(theme.HelpIcon(), widget.MediumImportance)
	m.helpLink = widget.NewHyperlink(tr("manual.help.link"), nil)
	m.helpLink.Hide()
	m.signInWarn = newNote(theme.WarningIcon(), widget.WarningImportance)
	m.signInWarn.box.Show()
	m.signInBtn = widget.NewButtonWithIcon("", theme.LoginIcon(), func() {
		m.stopDiscovery()
		m.wz.signInWith(m.signInID, m.email.Text, m.proto())
	})
	m.signInBtn.Importance = widget.HighImportance
	m.signInBox = container.NewVBox(m.signInWarn.box, container.NewHBox(m.signInBtn))
	m.signInBox.Hide()

	m.advanced = widget.NewAccordion(widget.NewAccordionItem(tr("manual.advanced"),
		container.NewVBox(
			wrapLabel(tr("manual.advanced.intro")),
			container.NewGridWithColumns(2, m.in.adv, m.out.adv),
		)))

	m.back = widget.NewButtonWithIcon(tr("common.back"), theme.NavigateBackIcon(), func() {
		m.stopDiscovery()
		m.wz.start.takeEmail(m.email.Text)
		m.wz.show(m.wz.start)
	})
	m.next = widget.NewButtonWithIcon(tr("manual.next"), theme.ConfirmIcon(), m.onNext)
	m.next.Importance = widget.HighImportance
	m.incomplete = widget.NewLabel(tr("manual.incomplete"))

	if !wz.deps.Policy.AllowInsecure {
		m.insecure.Disable()
	}

	body := container.NewVBox(
		heading(tr("manual.title")),
		container.NewGridWithColumns(2, m.fields["email"].stacked(), m.fields["password"].stacked()),
		m.signInBox,
		m.help.box,
		widget.NewSeparator(),
		container.NewBorder(nil, nil, nil, m.helpLink, m.source.box),
		container.NewGridWithColumns(2, m.in.box, m.out.box),
		container.NewBorder(nil, nil, m.tls, nil, tlsHint),
		m.tlsWarn.box,
		m.insecure,
		m.lowNote.box,
		m.lowOK,
		m.advanced,
	)
	m.obj, m.scroll = page(body, buttonBar([]fyne.CanvasObject{m.back}, m.incomplete, m.next))
	m.showModel()
	m.validate()
	return m
}

func (m *manualScreen) addField(path form.Field, label string, input fyne.CanvasObject) *field {
	f := newField(string(path), label, input)
	m.fields[path] = f
	return f
}

func (m *manualScreen) pathOf(e *fieldEntry) form.Field {
	for p, f := range m.fields {
		if f.input == e {
			return p
		}
	}
	return ""
}

// sideKeys are the translation keys of a side's texts.
var sideKeys = [2]struct{ host, title string }{
	{"manual.incoming.host.placeholder", "manual.incoming.title"},
	{"manual.outgoing.host.placeholder", "manual.outgoing.title"},
}

func (m *manualScreen) newServerBlock(side form.Side) *serverBlock {
	b := &serverBlock{side: side}
	b.host = newFieldEntry(tr(sideKeys[side].host))
	b.port = newFieldEntry("")
	b.user = newFieldEntry(tr("manual.username.placeholder"))
	b.pin = newFieldEntry(tr("manual.pin.placeholder"))
	host := m.addField(side.Field(form.Host), tr("manual.host"), b.host)
	port := m.addField(side.Field(form.Port), tr("manual.port"), b.port)
	user := m.addField(side.Field(form.Username), tr("manual.username"), b.user)
	pin := m.addField(side.Field(form.CertSHA256), tr("manual.pin"), b.pin)
	for _, x := range []struct {
		path form.Field
		e    *fieldEntry
	}{{side.Field(form.Host), b.host}, {side.Field(form.Port), b.port}, {side.Field(form.Username), b.user}, {side.Field(form.CertSHA256), b.pin}} {
		x.e.OnChanged = func(t string) { m.onServerEdited(x.path, t) }
	}
	b.pin.onFocusLost = func() {
		if b.pin.Text != "" {
			pin.shown = true
		}
		m.validate()
	}

	b.sec = widget.NewSelect([]string{tr(securityKeys[mailcfg.SecurityTLS]), tr(securityKeys[mailcfg.SecurityStartTLS])}, func(string) {
		m.fields[side.Field(form.Security)].server = ""
		if m.filling {
			return
		}
		m.form.EditSecurity(side, m.selectedSecurity(b))
		m.showModel()
		m.validate()
	})
	b.sec.PlaceHolder = tr("common.select")
	sec := m.addField(side.Field(form.Security), tr("manual.security"), b.sec)

	protoLbl := widget.NewLabelWithStyle(tr("manual.protocol"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	var proto fyne.CanvasObject = widget.NewLabel("SMTP")
	if side == form.Incoming {
		b.proto = widget.NewRadioGroup([]string{"IMAP", "POP3"}, func(string) { m.onProtoChanged() })
		b.proto.Horizontal = true
		b.proto.Required = true
		proto = b.proto
	}
	title := widget.NewLabelWithStyle(tr(sideKeys[side].title), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	b.box = container.NewVBox(title, container.New(layout.NewFormLayout(),
		protoLbl, proto,
		host.label, host.inputBox,
		port.label, port.inputBox,
		user.label, user.inputBox,
	))

	b.adv = container.NewVBox(
		widget.NewLabelWithStyle(tr(sideKeys[side].title), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		sec.stacked(),
		pin.stacked(),
	)
	return b
}

func (m *manualScreen) content() fyne.CanvasObject { return m.obj }
func (m *manualScreen) stepKey() string            { return "step.manual" }
func (m *manualScreen) shown() {
	if strings.TrimSpace(m.email.Text) == "" {
		m.wz.focus(m.email)
	} else {
		m.wz.focus(m.password)
	}
	m.validate()
}

// takeEmail carries the address typed on Start into the form.
func (m *manualScreen) takeEmail(s string) {
	if strings.TrimSpace(s) == "" || s == m.email.Text {
		return
	}
	m.email.SetText(s)
}

// proto is the chosen incoming protocol.
func (m *manualScreen) proto() mailcfg.Protocol { return m.form.Protocol }

// selectedSecurity is what a side's encryption choice shows.
func (m *manualScreen) selectedSecurity(b *serverBlock) mailcfg.Security {
	if b.sec.Selected == tr(securityKeys[mailcfg.SecurityStartTLS]) {
		return mailcfg.SecurityStartTLS
	}
	return mailcfg.SecurityTLS
}

// showModel puts the form's values into the widgets, without counting them
// as the user's edits.
func (m *manualScreen) showModel() {
	was := m.filling
	m.filling = true
	defer func() { m.filling = was }()
	proto := "IMAP"
	if m.form.Protocol == mailcfg.POP3 {
		proto = "POP3"
	}
	if m.in.proto.Selected != proto {
		m.in.proto.SetSelected(proto)
	}
	for _, b := range []*serverBlock{m.in, m.out} {
		v := m.form.Servers[b.side]
		setText(b.host, v.Host)
		setText(b.port, v.Port)
		setText(b.user, v.Username)
		setText(b.pin, v.CertSHA256)
		if k, ok := securityKeys[v.Security]; ok && b.sec.Selected != tr(k) {
			b.sec.SetSelected(tr(k))
		}
	}
}

// setText changes an entry's text if it differs.
func setText(e *fieldEntry, s string) {
	if e.Text != s {
		e.SetText(s)
	}
}

// settings is the form as a settings value.
func (m *manualScreen) settings() mailcfg.Settings { return m.form.Settings() }

func (m *manualScreen) validateOptions() mailcfg.ValidateOptions {
	return mailcfg.ValidateOptions{AllowInsecure: m.wz.deps.Policy.AllowInsecure, InsecureOverride: m.insecure.Checked}
}

// problems lists what is wrong, per field, in the window's language.
func (m *manualScreen) problems() map[form.Field]string {
	out := map[form.Field]string{}
	if err := m.settings().Validate(m.validateOptions()); err != nil {
		var ve mailcfg.ValidationError
		if errors.As(err, &ve) {
			for _, e := range ve {
				if _, dup := out[form.Field(e.Field)]; !dup {
					out[form.Field(e.Field)] = m.wz.text(e.Message)
				}
			}
		}
	}
	if m.form.Password == "" {
		out[form.Password] = tr("manual.password.empty")
	}
	return out
}

// validate shows the problems of the fields the user is done with, and
// enables Continue only when there are none.
func (m *manualScreen) validate() bool {
	probs := m.problems()
	needConfirm := m.form.LowTrust && !m.form.EditedServers() && !m.lowOK.Checked
	for path, f := range m.fields {
		msg := probs[path]
		show := f.shown || m.submitted
		part, _ := path.Part()
		if part == form.Security {
			show = false // the TLS warning says it, next to the checkbox
		}
		if part == form.Port && strings.TrimSpace(m.form.Value(path)) != "" {
			show = true // a wrong port is wrong at once
		}
		if !show {
			msg = ""
		}
		if msg == "" {
			msg = f.server
		}
		f.setMsg(msg)
	}
	ok := len(probs) == 0 && !needConfirm
	if ok {
		m.next.Enable()
		m.incomplete.Hide()
		return true
	}
	m.next.Disable()
	onlyTLS := !m.tls.Checked
	for path := range probs {
		if part, ok := path.Part(); !ok || part != form.Security {
			onlyTLS = false
		}
	}
	switch {
	case onlyTLS && !m.wz.deps.Policy.AllowInsecure:
		m.incomplete.SetText(tr("manual.incomplete.tls"))
	case onlyTLS:
		m.incomplete.SetText(tr("manual.incomplete.insecure"))
	case len(probs) == 0 && needConfirm:
		m.incomplete.SetText(tr("manual.incomplete.lowtrust"))
	default:
		m.incomplete.SetText(tr("manual.incomplete"))
	}
	m.incomplete.Show()
	return false
}

// onServerEdited is a server field's text changing: the user's edit,
// unless the screen is showing the model.
func (m *manualScreen) onServerEdited(path form.Field, text string) {
	if f := m.fields[path]; f != nil {
		f.server = ""
	}
	if m.filling {
		return
	}
	m.form.Edit(path, text)
	m.validate()
}

func (m *manualScreen) onEnter(i int) {
	cur := m.order[i]
	if f := m.fields[m.pathOf(cur)]; f != nil {
		f.shown = true
	}
	if i+1 < len(m.order) {
		m.wz.focus(m.order[i+1])
		m.validate()
		return
	}
	m.onNext()
}

func (m *manualScreen) onNext() {
	if !m.validate() {
		m.submitted = true
		m.validate()
		m.focusFirstProblem()
		return
	}
	m.stopDiscovery()
	s := m.settings().Normalized()
	m.wz.goVerify(s, verify.Password(m.form.Password), !m.tls.Checked && m.insecure.Checked)
}

func (m *manualScreen) focusFirstProblem() {
	probs := m.problems()
	for _, e := range m.order {
		if _, bad := probs[m.pathOf(e)]; bad {
			m.wz.focus(e)
			return
		}
	}
	for _, b := range []*serverBlock{m.in, m.out} {
		if _, bad := probs[b.side.Field(form.CertSHA256)]; bad {
			m.openAdvanced()
			m.wz.focus(b.pin)
			return
		}
	}
}

// markServerProblem focuses the field a verification failure named and
// shows the servers' message under it.
func (m *manualScreen) markServerProblem(path, msg string) {
	fld := form.FromPath(path)
	f := m.fields[fld]
	if f == nil {
		return
	}
	f.server = msg
	if part, ok := fld.Part(); ok && (part == form.CertSHA256 || part == form.Security) {
		m.openAdvanced()
	}
	m.validate()
	if e, ok := f.input.(fyne.Focusable); ok {
		m.wz.focus(e)
	}
}

// openAdvanced opens the Advanced section and scrolls it into view.
func (m *manualScreen) openAdvanced() {
	m.advanced.Open(0)
	m.scroll.Refresh()
	m.scroll.ScrollToBottom()
}

// pin stores a trusted certificate fingerprint for a side.
func (m *manualScreen) pin(side verify.Side, sha string) {
	s := form.Incoming
	if side == verify.Outgoing {
		s = form.Outgoing
	}
	m.form.Pin(s, sha)
	m.showModel()
	m.validate()
}

func (m *manualScreen) onTLSChanged() {
	if m.tls.Checked {
		m.tlsWarn.set("")
		m.insecure.Hide()
		m.insecure.SetChecked(false)
		m.in.sec.Enable()
		m.out.sec.Enable()
	} else {
		if m.wz.deps.Policy.AllowInsecure {
			m.tlsWarn.set(tr("manual.tls.warning") + " " + tr("manual.tls.warning.allowed"))
			m.insecure.Show()
		} else {
			m.tlsWarn.set(tr("manual.tls.warning") + " " + tr("manual.tls.warning.forbidden"))
		}
		m.in.sec.Disable()
		m.out.sec.Disable()
	}
	m.form.SetEncrypted(m.tls.Checked)
	m.showModel()
	m.validate()
}

func (m *manualScreen) onProtoChanged() {
	if m.filling {
		return
	}
	p := mailcfg.IMAP
	if m.in.proto.Selected == "POP3" {
		p = mailcfg.POP3
	}
	found, ok := m.form.ChooseProtocol(p)
	m.showModel()
	if ok {
		m.showFound(found, m.form.Provider)
	}
	m.validate()
}

// onEmailChanged schedules autofill once typing pauses.
func (m *manualScreen) onEmailChanged() {
	m.fields["email"].server = ""
	text := m.email.Text
	if d := m.wz.deps.Debounce; d > 0 {
		startAfter(m.typing, d, func(context.Context) struct{} { return struct{}{} },
			func(struct{}) { m.autofill(text) })
	} else {
		m.typing.stop()
		m.autofill(text)
	}
	m.validate()
}

// autofill fills the server block from the bundled table, then asks
// discovery (if present) for better answers.
func (m *manualScreen) autofill(email string) {
	m.stopDiscovery()
	addr, err := mailcfg.ParseAddress(email)
	if err != nil {
		// An unfinished address changes nothing but the warning about it.
		m.lookup.stop()
		m.showPasswordRefused(nil)
		return
	}
	if strings.TrimSpace(email) != "" {
		m.fields["email"].shown = true
	}
	s, err := m.wz.table().Autofill(email, m.proto())
	switch {
	case err == nil:
		m.apply(s, m.wz.table().ByID(s.Provider.ID), false)
	default:
		m.form.Reset(&addr)
		m.lockServers(false)
		m.showModel()
		m.lowNote.set("")
		m.lowOK.Hide()
		m.showHelp()
		if m.wz.deps.Discover != nil {
			m.source.icon.SetResource(theme.SearchIcon())
			m.source.set(tr("manual.source.searching"))
		} else {
			m.source.icon.SetResource(theme.InfoIcon())
			m.source.set(m.wz.text(mailcfg.NotFoundMessage))
		}
	}
	m.validate()
	m.warnPasswordRefused(addr)
	if m.wz.deps.Discover != nil {
		m.discover(addr)
	}
}

// warnPasswordRefused warns, before any verification, when the address's
// provider refuses passwords (Microsoft 365, Outlook.com: found by the
// table at once, or for a firm domain by its MX hosts), and offers the
// provider's sign-in instead — or says what IT must set for it.
func (m *manualScreen) warnPasswordRefused(addr mailcfg.Address) {
	m.lookup.stop()
	if found := m.wz.local.ProvidersFor(context.Background(), addr.String()); len(found) > 0 {
		m.showPasswordRefused(found)
		return
	}
	m.showPasswordRefused(nil)
	offers := m.wz.deps.Offers
	if offers == nil {
		return
	}
	email := addr.String()
	start(m.lookup, func(ctx context.Context) []signin.OAuthProvider {
		return offers.ProvidersFor(ctx, email)
	}, m.showPasswordRefused)
}

func (m *manualScreen) showPasswordRefused(found []signin.OAuthProvider) {
	for _, p := range found {
		if !p.PasswordRefused {
			continue
		}
		m.signInID = p.ID
		msg := m.wz.text(p.PasswordWarning)
		if msg == "" {
			msg = trf("manual.signin.warning", m.wz.text(p.Name))
		}
		if p.Configured && m.wz.deps.SignIn != nil {
			m.signInBtn.SetText(m.wz.text(p.ButtonText()))
			m.signInBtn.Show()
		} else {
			msg += " " + m.wz.text(p.Setup)
			m.signInBtn.Hide()
		}
		m.signInWarn.set(msg)
		m.signInBox.Show()
		return
	}
	m.signInID = ""
	m.signInBox.Hide()
}

func (m *manualScreen) discover(addr mailcfg.Address) { m.discoverWith(addr, "") }

// discoverWith streams discovery's answers into the form; password is what
// the user typed, for an Exchange that answers only signed-in requests.
func (m *manualScreen) discoverWith(addr mailcfg.Address, password string) {
	stream := m.wz.deps.Discover
	email, proto := addr.String(), m.proto()
	m.discNote = ""
	startWith(m.discovery, func(ctx context.Context, deliver func(func())) struct{} {
		for r := range stream(ctx, email, proto, password) {
			if r.Question != nil {
				// Unanswered (the discovery was dropped) counts as no.
				q := r.Question
				context.AfterFunc(ctx, func() { q.Answer(false) })
			}
			deliver(func() {
				switch {
				case r.Question != nil:
					m.askRedirect(r.Question)
				case r.Settings.Email == "":
					if r.Note != "" && m.form.Source == "" {
						m.discNote = r.Note
						m.source.icon.SetResource(theme.WarningIcon())
						m.source.set(m.wz.text(r.Note.Message()))
					}
				default:
					m.apply(r.Settings, r.Provider, false)
				}
			})
		}
		return struct{}{}
	}, func(struct{}) {
		m.closeRedirectQuestion()
		if password == "" && m.form.Password != "" && m.retryAutodiscoverSignedIn() {
			return // the password was typed while this discovery ran
		}
		if m.form.Source == "" && m.discNote == "" {
			m.source.icon.SetResource(theme.InfoIcon())
			m.source.set(m.wz.text(mailcfg.NotFoundMessage))
		}
	})
}

// retryAutodiscoverSignedIn asks discovery again, now with the password the
// user typed, when all it found was an Exchange that answers only signed-in
// requests; the password goes only to that server, only over https. It
// reports whether it started.
func (m *manualScreen) retryAutodiscoverSignedIn() bool {
	if m.discNote != discover.NoteAutodiscoverPassword || m.form.Source != "" || m.discovery.running() || m.form.Password == "" {
		return false
	}
	addr, err := mailcfg.ParseAddress(m.form.Email)
	if err != nil {
		return false
	}
	m.source.icon.SetResource(theme.SearchIcon())
	m.source.set(tr("manual.source.searching"))
	m.discoverWith(addr, m.form.Password)
	return true
}

// askRedirect asks the person whether the firm's Exchange may send the
// discovery on to a host outside the address's domain (where the address,
// and later the password, would go), as Thunderbird does.
func (m *manualScreen) askRedirect(q *discover.RedirectQuestion) {
	m.closeRedirectQuestion()
	if m.wz.win == nil {
		q.Answer(false)
		return
	}
	d := dialog.NewConfirm(tr("manual.redirect.title"), trf("manual.redirect.ask", q.Domain, q.Host), q.Answer, m.wz.win)
	d.SetConfirmText(trf("manual.redirect.yes", q.Host))
	d.SetDismissText(tr("manual.redirect.no"))
	m.redirectDlg = d
	d.Show()
}

func (m *manualScreen) closeRedirectQuestion() {
	if m.redirectDlg != nil {
		m.redirectDlg.Hide()
		m.redirectDlg = nil
	}
}

// stopDiscovery cancels a running discovery and ignores what it still sends.
func (m *manualScreen) stopDiscovery() {
	m.discovery.stop()
	m.closeRedirectQuestion()
}

// apply puts found settings into every server field the user has not typed
// in (see form.Model.Apply) and says where they came from. keepProto leaves
// the protocol choice alone.
func (m *manualScreen) apply(s mailcfg.Settings, p *mailcfg.Provider, keepProto bool) {
	// The firm's servers that IT preset and locked are not the user's to
	// change: they replace whatever was typed, and the fields go read-only.
	locked := s.Source == mailcfg.SourcePolicy && m.wz.deps.Policy.FirmServersLocked()
	if locked {
		m.form.ApplyLocked(s, p)
	} else {
		m.form.Apply(s, p, keepProto)
	}
	m.lockServers(locked)
	m.showModel()
	m.showFound(s, p)
	m.validate()
}

// showFound tells where found settings came from and asks to confirm those
// that could have been tampered with.
func (m *manualScreen) showFound(s mailcfg.Settings, p *mailcfg.Provider) {
	name := ""
	if p != nil {
		name = p.Name
	} else if s.Provider != nil {
		name = s.Provider.Name
	}
	srcKind := s.Source
	if srcKind == "" {
		srcKind = mailcfg.SourceBundled
	}
	src := tr("source." + string(srcKind))
	m.source.icon.SetResource(theme.ConfirmIcon())
	if name != "" {
		m.source.set(trf("manual.source.found", name, src))
	} else {
		m.source.set(trf("manual.source.foundNoName", src))
	}
	if s.LowTrust {
		m.lowNote.set(tr("manual.lowtrust"))
		m.lowOK.SetChecked(false)
		m.lowOK.Show()
	} else {
		m.lowNote.set("")
		m.lowOK.Hide()
	}
	m.showHelp()
}

// showHelp shows the provider's help text before the first failure.
func (m *manualScreen) showHelp() {
	p := m.form.Provider
	if p == nil || p.Help.IsZero() {
		m.help.set("")
		m.helpLink.Hide()
		return
	}
	m.help.set(displayText(m.wz.text(p.Help)))
	if u, err := url.Parse(p.HelpURL); err == nil && p.HelpURL != "" {
		m.helpLink.SetURL(u)
		m.helpLink.Show()
	} else {
		m.helpLink.Hide()
	}
}

// lockServers makes the server fields read-only (the firm's preset, locked
// servers) or editable again.
func (m *manualScreen) lockServers(on bool) {
	set := func(w fyne.Disableable) {
		if on {
			w.Disable()
		} else {
			w.Enable()
		}
	}
	for _, b := range []*serverBlock{m.in, m.out} {
		set(b.host)
		set(b.port)
		set(b.user)
		set(b.pin)
		if m.tls.Checked {
			set(b.sec)
		}
	}
	set(m.in.proto)
	if p := m.wz.deps.Policy; !(p.Locked("allowInsecure") && !p.AllowInsecure) {
		set(m.tls)
	}
}

// useHost puts the server a certificate named into a side's host field, as
// the user's choice (the Verify screen's "Use server X").
func (m *manualScreen) useHost(side verify.Side, host string) {
	s := form.Incoming
	if side == verify.Outgoing {
		s = form.Outgoing
	}
	m.form.Edit(s.Field(form.Host), host)
	m.showModel()
	m.validate()
}
