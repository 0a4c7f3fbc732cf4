// Package form is the manual settings form's state and rules, without
// widgets: the values, which fields the user typed in, how found settings
// merge into it (never over what the user typed), how the text becomes
// mailcfg.Settings, and which form field a settings path names. The window
// binds its widgets to a Model; this package knows no Fyne.
package form

import (
	"strconv"
	"strings"

	"infino.legal/mailbox/mailcfg"
)

// Side is one of the two servers.
type Side int

const (
	Incoming Side = iota
	Outgoing
)

// Sides lists both servers, incoming first.
var Sides = [...]Side{Incoming, Outgoing}

// String is the side's name in settings paths.
func (s Side) String() string {
	if s == Outgoing {
		return "outgoing"
	}
	return "incoming"
}

// Part is one field of a server.
type Part int

const (
	Protocol Part = iota
	Host
	Port
	Username
	Security
	CertSHA256
	nParts
)

// Field names one field of the form by its path in the settings JSON
// ("incoming.port"), the names mailcfg.ValidationError and Infino use.
// A Field that is none of the constants is a path the form does not have.
type Field string

const (
	Email    Field = "email"
	Password Field = "password"

	InProtocol   Field = "incoming.protocol"
	InHost       Field = "incoming.host"
	InPort       Field = "incoming.port"
	InUsername   Field = "incoming.username"
	InSecurity   Field = "incoming.security"
	InCertSHA256 Field = "incoming.certSha256"

	OutProtocol   Field = "outgoing.protocol"
	OutHost       Field = "outgoing.host"
	OutPort       Field = "outgoing.port"
	OutUsername   Field = "outgoing.username"
	OutSecurity   Field = "outgoing.security"
	OutCertSHA256 Field = "outgoing.certSha256"
)

var serverFields = [2][nParts]Field{
	{InProtocol, InHost, InPort, InUsername, InSecurity, InCertSHA256},
	{OutProtocol, OutHost, OutPort, OutUsername, OutSecurity, OutCertSHA256},
}

// Field is the side's field for part.
func (s Side) Field(p Part) Field { return serverFields[s][p] }

// Server tells which server field f is.
func (f Field) Server() (Side, Part, bool) {
	for _, s := range Sides {
		for p := Part(0); p < nParts; p++ {
			if serverFields[s][p] == f {
				return s, p, true
			}
		}
	}
	return 0, 0, false
}

// Side is the server a path is under, known field or not
// ("outgoing.whatever" is under Outgoing).
func (f Field) Side() (Side, bool) {
	switch {
	case strings.HasPrefix(string(f), "incoming."):
		return Incoming, true
	case strings.HasPrefix(string(f), "outgoing."):
		return Outgoing, true
	}
	return 0, false
}

// Part is the server part f is, if it is a server field.
func (f Field) Part() (Part, bool) {
	_, p, ok := f.Server()
	return p, ok
}

// OnForm tells whether the form shows f as a field of its own (the
// protocols are a choice, not a field that can show a message).
func (f Field) OnForm() bool {
	if f == Email || f == Password {
		return true
	}
	_, p, ok := f.Server()
	return ok && p != Protocol
}

// FromPath is the form field a settings path names, as verification and
// Infino's refusals name them: the secret is the password, a whole server
// is its host, and a bare "username" is the incoming one.
func FromPath(p string) Field {
	switch p {
	case "secret", "secret.password":
		return Password
	case "incoming":
		return InHost
	case "outgoing":
		return OutHost
	case "username":
		return InUsername
	}
	return Field(p)
}

// defaultPort is the core's usual port (mailcfg.DefaultPort); a side whose
// protocol is not known yet is taken as IMAP, the form's default.
func defaultPort(p mailcfg.Protocol, s mailcfg.Security) int {
	if n := mailcfg.DefaultPort(p, s); n != 0 {
		return n
	}
	return mailcfg.DefaultPort(mailcfg.IMAP, s)
}

// Server is what the form holds for one server, as typed.
type Server struct {
	Host, Port, Username, CertSHA256 string
	// Security is the chosen encryption, TLS or STARTTLS; the Model's
	// Encrypted switch decides whether it applies.
	Security mailcfg.Security
}

// Model is the form's state. The zero value is not ready: use New.
//
// Two kinds of change reach it: the user's (Edit, EditSecurity,
// ChooseProtocol, Pin), which mark the field as the user's, and what was
// found (Apply, Reset, SetEncrypted's port), which change only the fields
// the user has not touched. The window must feed widget changes it made
// itself back as neither (they are echoes of the Model), which is what its
// filling guard is for.
type Model struct {
	Email, Password string
	// Protocol is the incoming protocol, IMAP or POP3.
	Protocol mailcfg.Protocol
	// Encrypted is the "use encryption" switch; off, both servers are
	// used without encryption.
	Encrypted bool
	Servers   [2]Server

	// Provider is the provider the settings were found for (nil: none).
	Provider *mailcfg.Provider
	// Source and LowTrust are where the found settings came from.
	Source   mailcfg.Source
	LowTrust bool

	touched map[Field]bool
}

// New is an empty form: IMAP, encrypted with TLS, the usual ports.
func New() *Model {
	m := &Model{Protocol: mailcfg.IMAP, Encrypted: true, touched: map[Field]bool{}}
	m.Reset(nil)
	return m
}

// Touched tells whether the user typed in f.
func (m *Model) Touched(f Field) bool { return m.touched[f] }

// EditedServers tells whether the user changed a server field (a pinned
// certificate does not count: it confirms, it does not change, the server).
func (m *Model) EditedServers() bool {
	for f, on := range m.touched {
		if _, p, ok := f.Server(); on && ok && p != CertSHA256 {
			return true
		}
	}
	return false
}

// Value is the text of a text field ("" for others).
func (m *Model) Value(f Field) string {
	switch f {
	case Email:
		return m.Email
	case Password:
		return m.Password
	}
	s, p, ok := f.Server()
	if !ok {
		return ""
	}
	srv := &m.Servers[s]
	switch p {
	case Host:
		return srv.Host
	case Port:
		return srv.Port
	case Username:
		return srv.Username
	case CertSHA256:
		return srv.CertSHA256
	}
	return ""
}

// Edit is the user typing text into a text field: the field is theirs from
// now on.
func (m *Model) Edit(f Field, text string) {
	if m.set(f, text) {
		m.touched[f] = true
	}
}

// set changes a text field; false if f is not one.
func (m *Model) set(f Field, text string) bool {
	switch f {
	case Email:
		m.Email = text
		return true
	case Password:
		m.Password = text
		return true
	}
	s, p, ok := f.Server()
	if !ok {
		return false
	}
	srv := &m.Servers[s]
	switch p {
	case Host:
		srv.Host = text
	case Port:
		srv.Port = text
	case Username:
		srv.Username = text
	case CertSHA256:
		srv.CertSHA256 = text
	default:
		return false
	}
	return true
}

// EditSecurity is the user choosing a side's encryption; a port they have
// not typed follows it.
func (m *Model) EditSecurity(s Side, sec mailcfg.Security) {
	m.Servers[s].Security = sec
	m.touched[s.Field(Security)] = true
	m.fillDefaultPort(s)
}

// Pin is the user trusting a certificate for a side.
func (m *Model) Pin(s Side, sha string) {
	m.Servers[s].CertSHA256 = sha
	m.touched[s.Field(CertSHA256)] = true
}

// SetEncrypted is the "use encryption" switch; ports the user has not
// typed follow it.
func (m *Model) SetEncrypted(on bool) {
	m.Encrypted = on
	m.fillDefaultPort(Incoming)
	m.fillDefaultPort(Outgoing)
}

// ChooseProtocol is the user choosing the incoming protocol. If the
// provider found for the address offers it, its settings for that protocol
// fill the fields the user has not typed, and ChooseProtocol returns them;
// otherwise the incoming port follows (if not typed).
func (m *Model) ChooseProtocol(p mailcfg.Protocol) (found mailcfg.Settings, ok bool) {
	m.Protocol = p
	m.touched[InProtocol] = true
	if a, err := mailcfg.ParseAddress(m.Email); err == nil && m.Provider != nil && m.Provider.Offers(p) {
		s := m.Provider.Settings(a, p)
		s.Source = m.Source
		m.Apply(s, m.Provider, true)
		return s, true
	}
	m.fillDefaultPort(Incoming)
	return mailcfg.Settings{}, false
}

// protocol is the side's protocol.
func (m *Model) protocol(s Side) mailcfg.Protocol {
	if s == Outgoing {
		return mailcfg.SMTP
	}
	if m.Protocol == mailcfg.POP3 {
		return mailcfg.POP3
	}
	return mailcfg.IMAP
}

// security is the side's encryption as it will be used.
func (m *Model) security(s Side) mailcfg.Security {
	if !m.Encrypted {
		return mailcfg.SecurityNone
	}
	if m.Servers[s].Security == mailcfg.SecurityStartTLS {
		return mailcfg.SecurityStartTLS
	}
	return mailcfg.SecurityTLS
}

// fillDefaultPort sets a port the user has not typed to the usual one for the
// side's protocol and encryption.
func (m *Model) fillDefaultPort(s Side) {
	if m.touched[s.Field(Port)] {
		return
	}
	m.Servers[s].Port = strconv.Itoa(defaultPort(m.protocol(s), m.security(s)))
}

// Apply merges found settings (the bundled table, discovery, a provider's
// other protocol) into every server field the user has not typed in, and
// remembers where they came from. keepProto leaves the protocol choice
// alone. With encryption off, a found port becomes the unencrypted one.
func (m *Model) Apply(s mailcfg.Settings, p *mailcfg.Provider, keepProto bool) {
	if !keepProto && !m.touched[InProtocol] && s.Incoming.Protocol != "" {
		if s.Incoming.Protocol == mailcfg.POP3 {
			m.Protocol = mailcfg.POP3
		} else {
			m.Protocol = mailcfg.IMAP
		}
	}
	for _, side := range Sides {
		found := s.Incoming
		if side == Outgoing {
			found = s.Outgoing
		}
		srv := &m.Servers[side]
		if !m.touched[side.Field(Host)] {
			srv.Host = found.Host
		}
		if !m.touched[side.Field(Security)] && (found.Security == mailcfg.SecurityTLS || found.Security == mailcfg.SecurityStartTLS) {
			srv.Security = found.Security
		}
		if !m.touched[side.Field(Port)] && found.Port > 0 {
			if m.Encrypted {
				srv.Port = strconv.Itoa(found.Port)
			} else {
				srv.Port = strconv.Itoa(defaultPort(found.Protocol, mailcfg.SecurityNone))
			}
		}
		if !m.touched[side.Field(Username)] {
			srv.Username = found.Username
		}
		if !m.touched[side.Field(CertSHA256)] && found.CertSHA256 != "" {
			srv.CertSHA256 = found.CertSHA256
		}
	}
	m.Provider = p
	m.Source = s.Source
	m.LowTrust = s.LowTrust
}

// ApplyLocked is Apply for servers the user may not change (the firm's
// servers that IT preset and locked): they replace whatever the user typed,
// and the server fields are no longer the user's.
func (m *Model) ApplyLocked(s mailcfg.Settings, p *mailcfg.Provider) {
	for f := range m.touched {
		if _, _, ok := f.Server(); ok || f == InProtocol {
			delete(m.touched, f)
		}
	}
	m.Apply(s, p, false)
}

// Reset clears what was found in the server fields (never what the user
// typed), for an address nobody knows: no host, TLS, the usual ports, the
// address (if any) as user name, no pinned certificate, and no provider.
func (m *Model) Reset(addr *mailcfg.Address) {
	for _, side := range Sides {
		srv := &m.Servers[side]
		if !m.touched[side.Field(Host)] {
			srv.Host = ""
		}
		if !m.touched[side.Field(Security)] {
			srv.Security = mailcfg.SecurityTLS
		}
		m.fillDefaultPort(side)
		if !m.touched[side.Field(Username)] {
			srv.Username = ""
			if addr != nil {
				srv.Username = addr.String()
			}
		}
		if !m.touched[side.Field(CertSHA256)] {
			srv.CertSHA256 = ""
		}
	}
	m.Provider, m.Source, m.LowTrust = nil, "", false
}

// Settings is the form as settings: text trimmed, a port that is not a
// number is 0. Once the user changed a server, the settings are theirs
// (source manual, nothing to confirm).
func (m *Model) Settings() mailcfg.Settings {
	srv := func(side Side) mailcfg.Server {
		v := m.Servers[side]
		port, err := strconv.Atoi(strings.TrimSpace(v.Port))
		if err != nil {
			port = 0
		}
		return mailcfg.Server{
			Protocol: m.protocol(side), Host: strings.TrimSpace(v.Host), Port: port,
			Security: m.security(side), Username: strings.TrimSpace(v.Username),
			CertSHA256: strings.TrimSpace(v.CertSHA256),
		}
	}
	s := mailcfg.Settings{
		Email:    strings.TrimSpace(m.Email),
		Auth:     mailcfg.AuthPassword,
		Incoming: srv(Incoming),
		Outgoing: srv(Outgoing),
		Source:   m.Source,
		LowTrust: m.LowTrust,
	}
	if m.Provider != nil {
		s.Provider = &mailcfg.ProviderRef{ID: m.Provider.ID, Name: m.Provider.Name}
	}
	if m.EditedServers() {
		s.Source = mailcfg.SourceManual
		s.LowTrust = false
	}
	if s.Source == "" {
		s.Source = mailcfg.SourceManual
	}
	return s
}
