package ui

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"infino.legal/mailbox/mailcfg"
)

// serverBlock is the group of fields for one server.
type serverBlock struct {
	side  string // "incoming" or "outgoing"
	proto *widget.RadioGroup
	host  *fieldEntry
	port  *fieldEntry
	user  *fieldEntry
	sec   *widget.Select
	pin   *fieldEntry
	box   fyne.CanvasObject
	adv   fyne.CanvasObject
}

// manualScreen is the form: address, password, the two servers, TLS.
type manualScreen struct {
	wz *Wizard

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

	back       *widget.Button
	next       *widget.Button
	incomplete *widget.Label

	fields  map[string]*field
	order   []*fieldEntry // Enter moves along this
	touched map[string]bool
	filling bool
	// submitted: the user tried to continue; every problem shows.
	submitted bool

	provider *mailcfg.Provider
	srcKind  mailcfg.Source
	lowTrust bool

	typing    *job // waits for typing to pause, then autofills
	discovery *job // only the latest discovery may fill

	obj    fyne.CanvasObject
	scroll *container.Scroll
}

var securityKeys = map[mailcfg.Security]string{
	mailcfg.SecurityTLS:      "manual.security.tls",
	mailcfg.SecurityStartTLS: "manual.security.starttls",
}

func newManualScreen(wz *Wizard) *manualScreen {
	m := &manualScreen{wz: wz, fields: map[string]*field{}, touched: map[string]bool{}, typing: newJob(wz), discovery: newJob(wz)}

	m.email = newFieldEntry(tr("start.email.placeholder"))
	m.password = newSecretEntry(tr("manual.password.placeholder"))
	m.addField("email", tr("manual.email"), m.email)
	m.addField("password", tr("manual.password"), m.password)
	m.email.OnChanged = func(string) { m.onEmailChanged() }
	m.password.OnChanged = func(string) {
		m.fields["password"].server = ""
		m.validate()
	}

	m.in = m.newServerBlock("incoming")
	m.out = m.newServerBlock("outgoing")
	m.order = []*fieldEntry{m.email, m.password, m.in.host, m.in.port, m.in.user, m.out.host, m.out.port, m.out.user}
	for i, e := range m.order {
		i, e := i, e
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
	m.resetServers(nil)
	m.validate()
	return m
}

func (m *manualScreen) addField(path, label string, input fyne.CanvasObject) *field {
	f := newField(path, label, input)
	m.fields[path] = f
	return f
}

func (m *manualScreen) pathOf(e *fieldEntry) string {
	for p, f := range m.fields {
		if f.input == e {
			return p
		}
	}
	return ""
}

func (m *manualScreen) newServerBlock(side string) *serverBlock {
	b := &serverBlock{side: side}
	b.host = newFieldEntry(tr("manual." + side + ".host.placeholder"))
	b.port = newFieldEntry("")
	b.user = newFieldEntry(tr("manual.username.placeholder"))
	b.pin = newFieldEntry(tr("manual.pin.placeholder"))
	host := m.addField(side+".host", tr("manual.host"), b.host)
	port := m.addField(side+".port", tr("manual.port"), b.port)
	user := m.addField(side+".username", tr("manual.username"), b.user)
	pin := m.addField(side+".certSha256", tr("manual.pin"), b.pin)
	for _, x := range []struct {
		path string
		e    *fieldEntry
	}{{side + ".host", b.host}, {side + ".port", b.port}, {side + ".username", b.user}, {side + ".certSha256", b.pin}} {
		x := x
		x.e.OnChanged = func(string) { m.onServerEdited(x.path) }
	}
	b.pin.onFocusLost = func() {
		if b.pin.Text != "" {
			pin.shown = true
		}
		m.validate()
	}

	b.sec = widget.NewSelect([]string{tr(securityKeys[mailcfg.SecurityTLS]), tr(securityKeys[mailcfg.SecurityStartTLS])}, func(string) {
		m.fields[side+".security"].server = ""
		if m.filling {
			return
		}
		m.touched[side+".security"] = true
		m.defaultPort(b)
		m.validate()
	})
	b.sec.PlaceHolder = tr("common.select")
	sec := m.addField(side+".security", tr("manual.security"), b.sec)

	protoLbl := widget.NewLabelWithStyle(tr("manual.protocol"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	var proto fyne.CanvasObject = widget.NewLabel("SMTP")
	if side == "incoming" {
		b.proto = widget.NewRadioGroup([]string{"IMAP", "POP3"}, func(string) { m.onProtoChanged() })
		b.proto.Horizontal = true
		b.proto.Required = true
		proto = b.proto
	}
	title := widget.NewLabelWithStyle(tr("manual."+side+".title"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	b.box = container.NewVBox(title, container.New(layout.NewFormLayout(),
		protoLbl, proto,
		host.label, host.inputBox,
		port.label, port.inputBox,
		user.label, user.inputBox,
	))

	b.adv = container.NewVBox(
		widget.NewLabelWithStyle(tr("manual."+side+".title"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
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
func (m *manualScreen) proto() mailcfg.Protocol {
	if m.in.proto.Selected == "POP3" {
		return mailcfg.POP3
	}
	return mailcfg.IMAP
}

func (m *manualScreen) security(b *serverBlock) mailcfg.Security {
	if !m.tls.Checked {
		return mailcfg.SecurityNone
	}
	if b.sec.Selected == tr(securityKeys[mailcfg.SecurityStartTLS]) {
		return mailcfg.SecurityStartTLS
	}
	return mailcfg.SecurityTLS
}

func (m *manualScreen) setSecurity(b *serverBlock, s mailcfg.Security) {
	if k, ok := securityKeys[s]; ok {
		b.sec.SetSelected(tr(k))
	}
}

func defaultPort(p mailcfg.Protocol, s mailcfg.Security) int {
	tls := s == mailcfg.SecurityTLS
	switch p {
	case mailcfg.POP3:
		if tls {
			return 995
		}
		return 110
	case mailcfg.SMTP:
		if tls {
			return 465
		}
		return 587
	}
	if tls {
		return 993
	}
	return 143
}

// defaultPort sets a port the user has not typed to the usual one for the
// protocol and encryption.
func (m *manualScreen) defaultPort(b *serverBlock) {
	if m.touched[b.side+".port"] {
		return
	}
	p := mailcfg.SMTP
	if b.side == "incoming" {
		p = m.proto()
	}
	m.setText(b.port, strconv.Itoa(defaultPort(p, m.security(b))))
}

// setText changes a field without counting it as the user's edit.
func (m *manualScreen) setText(e *fieldEntry, s string) {
	if e.Text == s {
		return
	}
	was := m.filling
	m.filling = true
	e.SetText(s)
	m.filling = was
}

// settings is the form as a settings value.
func (m *manualScreen) settings() mailcfg.Settings {
	srv := func(b *serverBlock, p mailcfg.Protocol) mailcfg.Server {
		port, err := strconv.Atoi(strings.TrimSpace(b.port.Text))
		if err != nil {
			port = 0
		}
		return mailcfg.Server{
			Protocol: p, Host: strings.TrimSpace(b.host.Text), Port: port,
			Security: m.security(b), Username: strings.TrimSpace(b.user.Text),
			CertSHA256: strings.TrimSpace(b.pin.Text),
		}
	}
	s := mailcfg.Settings{
		Email:    strings.TrimSpace(m.email.Text),
		Auth:     mailcfg.AuthPassword,
		Incoming: srv(m.in, m.proto()),
		Outgoing: srv(m.out, mailcfg.SMTP),
		Source:   m.srcKind,
		LowTrust: m.lowTrust,
	}
	if m.provider != nil {
		s.Provider = &mailcfg.ProviderRef{ID: m.provider.ID, Name: m.provider.Name}
	}
	if m.userEditedServers() {
		s.Source = mailcfg.SourceManual
		s.LowTrust = false
	}
	if s.Source == "" {
		s.Source = mailcfg.SourceManual
	}
	return s
}

func (m *manualScreen) userEditedServers() bool {
	for k, v := range m.touched {
		if v && (strings.HasPrefix(k, "incoming.") || strings.HasPrefix(k, "outgoing.")) && !strings.HasSuffix(k, ".certSha256") {
			return true
		}
	}
	return false
}

func (m *manualScreen) validateOptions() mailcfg.ValidateOptions {
	return mailcfg.ValidateOptions{AllowInsecure: m.wz.deps.Policy.AllowInsecure, InsecureOverride: m.insecure.Checked}
}

// problems lists what is wrong, per field path, in the window's language.
func (m *manualScreen) problems() map[string]string {
	out := map[string]string{}
	if err := m.settings().Validate(m.validateOptions()); err != nil {
		var ve mailcfg.ValidationError
		if errors.As(err, &ve) {
			for _, e := range ve {
				if _, dup := out[e.Field]; !dup {
					out[e.Field] = m.wz.text(e.Message)
				}
			}
		}
	}
	if m.password.Text == "" {
		out["password"] = tr("manual.password.empty")
	}
	return out
}

// validate shows the problems of the fields the user is done with, and
// enables Continue only when there are none.
func (m *manualScreen) validate() bool {
	probs := m.problems()
	needConfirm := m.lowTrust && !m.userEditedServers() && !m.lowOK.Checked
	for path, f := range m.fields {
		msg := probs[path]
		show := f.shown || m.submitted
		if strings.HasSuffix(path, ".security") {
			show = false // the TLS warning says it, next to the checkbox
		}
		if strings.HasSuffix(path, ".port") && strings.TrimSpace(m.entryOf(path).Text) != "" {
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
		if !strings.HasSuffix(path, ".security") {
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

func (m *manualScreen) entryOf(path string) *fieldEntry {
	if f := m.fields[path]; f != nil {
		e, _ := f.input.(*fieldEntry)
		return e
	}
	return nil
}

func (m *manualScreen) onServerEdited(path string) {
	if f := m.fields[path]; f != nil {
		f.server = ""
	}
	if m.filling {
		return
	}
	m.touched[path] = true
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
	m.wz.goVerify(s, Password(m.password.Text), !m.tls.Checked && m.insecure.Checked)
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
		if _, bad := probs[b.side+".certSha256"]; bad {
			m.openAdvanced()
			m.wz.focus(b.pin)
			return
		}
	}
}

// markServerProblem focuses the field a verification failure named and
// shows the servers' message under it.
func (m *manualScreen) markServerProblem(path, msg string) {
	f := m.fields[path]
	if f == nil && path == "username" {
		f = m.fields["incoming.username"]
	}
	if f == nil {
		return
	}
	f.server = msg
	if strings.HasSuffix(path, ".certSha256") || strings.HasSuffix(path, ".security") {
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
func (m *manualScreen) pin(side, sha string) {
	b := m.in
	if side == string(SideOutgoing) {
		b = m.out
	}
	m.touched[side+".certSha256"] = true
	m.setText(b.pin, sha)
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
	m.defaultPort(m.in)
	m.defaultPort(m.out)
	m.validate()
}

func (m *manualScreen) onProtoChanged() {
	if m.filling {
		return
	}
	m.touched["incoming.protocol"] = true
	if a, err := mailcfg.ParseAddress(m.email.Text); err == nil && m.provider != nil && m.provider.Offers(m.proto()) {
		s := m.provider.Settings(a, m.proto())
		s.Source = m.srcKind
		m.apply(s, m.provider, true)
	} else {
		m.defaultPort(m.in)
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
		return // an unfinished address changes nothing
	}
	if strings.TrimSpace(email) != "" {
		m.fields["email"].shown = true
	}
	s, err := m.wz.table().Autofill(email, m.proto())
	switch {
	case err == nil:
		m.apply(s, m.wz.table().ByID(s.Provider.ID), false)
	default:
		m.resetServers(&addr)
		m.provider, m.srcKind, m.lowTrust = nil, "", false
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
	if m.wz.deps.Discover != nil {
		m.discover(addr)
	}
}

func (m *manualScreen) discover(addr mailcfg.Address) {
	stream := m.wz.deps.Discover
	email, proto := addr.String(), m.proto()
	startWith(m.discovery, func(ctx context.Context, deliver func(func())) struct{} {
		for r := range stream(ctx, email, proto) {
			deliver(func() { m.apply(r.Settings, r.Provider, false) })
		}
		return struct{}{}
	}, func(struct{}) {
		if m.srcKind == "" {
			m.source.icon.SetResource(theme.InfoIcon())
			m.source.set(m.wz.text(mailcfg.NotFoundMessage))
		}
	})
}

// stopDiscovery cancels a running discovery and ignores what it still sends.
func (m *manualScreen) stopDiscovery() { m.discovery.stop() }

// apply puts found settings into every server field the user has not typed
// in. keepProto leaves the protocol choice alone.
func (m *manualScreen) apply(s mailcfg.Settings, p *mailcfg.Provider, keepProto bool) {
	was := m.filling
	m.filling = true
	defer func() { m.filling = was }()
	if !keepProto && !m.touched["incoming.protocol"] && s.Incoming.Protocol != "" {
		if s.Incoming.Protocol == mailcfg.POP3 {
			m.in.proto.SetSelected("POP3")
		} else {
			m.in.proto.SetSelected("IMAP")
		}
	}
	for _, x := range []struct {
		b   *serverBlock
		srv mailcfg.Server
	}{{m.in, s.Incoming}, {m.out, s.Outgoing}} {
		side := x.b.side
		if !m.touched[side+".host"] {
			x.b.host.SetText(x.srv.Host)
		}
		if !m.touched[side+".security"] && x.srv.Security != mailcfg.SecurityNone {
			m.setSecurity(x.b, x.srv.Security)
		}
		if !m.touched[side+".port"] && x.srv.Port > 0 {
			if m.tls.Checked {
				x.b.port.SetText(strconv.Itoa(x.srv.Port))
			} else {
				x.b.port.SetText(strconv.Itoa(defaultPort(x.srv.Protocol, mailcfg.SecurityNone)))
			}
		}
		if !m.touched[side+".username"] {
			x.b.user.SetText(x.srv.Username)
		}
		if !m.touched[side+".certSha256"] && x.srv.CertSHA256 != "" {
			x.b.pin.SetText(x.srv.CertSHA256)
		}
	}
	m.provider = p
	m.srcKind = s.Source
	m.lowTrust = s.LowTrust
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
	m.validate()
}

// resetServers clears what autofill put in the server fields (never what the
// user typed), for an address nobody knows.
func (m *manualScreen) resetServers(addr *mailcfg.Address) {
	was := m.filling
	m.filling = true
	defer func() { m.filling = was }()
	if m.in.proto.Selected == "" {
		m.in.proto.SetSelected("IMAP")
	}
	for _, b := range []*serverBlock{m.in, m.out} {
		side := b.side
		if !m.touched[side+".host"] {
			b.host.SetText("")
		}
		if !m.touched[side+".security"] {
			m.setSecurity(b, mailcfg.SecurityTLS)
		}
		m.defaultPort(b)
		if !m.touched[side+".username"] {
			u := ""
			if addr != nil {
				u = addr.String()
			}
			b.user.SetText(u)
		}
		if !m.touched[side+".certSha256"] {
			b.pin.SetText("")
		}
	}
	m.lowNote.set("")
	m.lowOK.Hide()
}

// showHelp shows the provider's help text before the first failure.
func (m *manualScreen) showHelp() {
	if m.provider == nil || m.provider.Help.IsZero() {
		m.help.set("")
		m.helpLink.Hide()
		return
	}
	m.help.set(displayText(m.wz.text(m.provider.Help)))
	if u, err := url.Parse(m.provider.HelpURL); err == nil && m.provider.HelpURL != "" {
		m.helpLink.SetURL(u)
		m.helpLink.Show()
	} else {
		m.helpLink.Hide()
	}
}

// fixedWidth lays out one object at a fixed width (and its own height).
type fixedWidth struct{ w float32 }

func (l *fixedWidth) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
}

func (l *fixedWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	h := float32(0)
	for _, o := range objs {
		if m := o.MinSize(); m.Height > h {
			h = m.Height
		}
	}
	return fyne.NewSize(l.w, h)
}
