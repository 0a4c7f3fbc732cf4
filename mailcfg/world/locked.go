package world

import (
	"strings"

	"infino.legal/mailbox/mailcfg"
)

// LockedServers checks settings against the firm's own servers when IT preset
// them by policy and locked them (lockServerSettings): for an address of the
// preset's domains every server field must be the preset's, whichever face
// the settings come from. It returns a mailcfg.ValidationError naming each
// field that differs, or nil (nothing preset or locked for the address, or
// the settings agree).
func (w *World) LockedServers(s mailcfg.Settings) error {
	if !w.Policy.LockServerSettings {
		return nil
	}
	_, domain, ok := strings.Cut(s.Email, "@")
	if !ok {
		return nil
	}
	t := w.ProviderTable()
	if t == nil {
		return nil
	}
	if p := t.ByDomain(strings.ToLower(domain)); p == nil || p.ID != mailcfg.PresetProviderID {
		return nil
	}
	want, err := t.Autofill(s.Email, s.Incoming.Protocol)
	if err != nil {
		return nil
	}
	var bad mailcfg.ValidationError
	check := func(side string, got, want mailcfg.Server) {
		for _, f := range []struct {
			name string
			same bool
		}{
			{"protocol", got.Protocol == want.Protocol},
			{"host", strings.EqualFold(strings.TrimSuffix(got.Host, "."), want.Host)},
			{"port", got.Port == want.Port},
			{"security", got.Security == want.Security},
			{"username", strings.EqualFold(got.Username, want.Username)},
		} {
			if !f.same {
				bad = append(bad, &mailcfg.FieldError{Field: side + "." + f.name, Code: "locked", Message: lockedText})
			}
		}
	}
	check("incoming", s.Incoming, want.Incoming)
	check("outgoing", s.Outgoing, want.Outgoing)
	if len(bad) == 0 {
		return nil
	}
	return bad
}

var lockedText = mailcfg.Text{
	PL: "Dział IT kancelarii ustalił serwery poczty dla tej domeny i zablokował ich zmianę; to pole musi mieć wartość z ustawień działu IT.",
	EN: "Your firm's IT set the mail servers for this domain and locked them; this field must keep the value IT set.",
}
