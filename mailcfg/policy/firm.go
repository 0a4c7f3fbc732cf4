package policy

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"infino.legal/mailbox/mailcfg"
)

// FirmProvider is the firm's own provider entry that IT presets: which
// address domains it covers, its servers and the help its users see. For
// those domains it wins over the bundled table and every discovery source,
// and with lockServerSettings the user cannot change the servers.
type FirmProvider struct {
	Name    string   `json:"name,omitempty"`
	Domains []string `json:"domains,omitempty"`
	// Incoming and Outgoing are server URLs (see ParseServerURL), in order
	// of preference.
	Incoming []string `json:"incoming,omitempty"`
	Outgoing []string `json:"outgoing,omitempty"`
	// Username is "address" (the default) or "localpart".
	Username string `json:"username,omitempty"`
	HelpPL   string `json:"helpPl,omitempty"`
	HelpEN   string `json:"helpEn,omitempty"`
	HelpURL  string `json:"helpUrl,omitempty"`
}

// firmKeys are the policy keys of the firm's provider entry.
var firmKeys = []string{"firmProvider.name", "firmProvider.domains", "firmProvider.incoming", "firmProvider.outgoing",
	"firmProvider.username", "firmProvider.help.pl", "firmProvider.help.en", "firmProvider.helpUrl"}

// serverSchemes maps a server URL scheme to its protocol and security; the
// default port is mailcfg.DefaultPort's. A scheme without "s" is STARTTLS,
// never unencrypted.
var serverSchemes = map[string]struct {
	proto mailcfg.Protocol
	sec   mailcfg.Security
}{
	"imaps":       {mailcfg.IMAP, mailcfg.SecurityTLS},
	"imap":        {mailcfg.IMAP, mailcfg.SecurityStartTLS},
	"pop3s":       {mailcfg.POP3, mailcfg.SecurityTLS},
	"pop3":        {mailcfg.POP3, mailcfg.SecurityStartTLS},
	"submissions": {mailcfg.SMTP, mailcfg.SecurityTLS},
	"smtps":       {mailcfg.SMTP, mailcfg.SecurityTLS},
	"submission":  {mailcfg.SMTP, mailcfg.SecurityStartTLS},
	"smtp":        {mailcfg.SMTP, mailcfg.SecurityStartTLS},
}

// ParseServerURL reads one server of the firm's entry: scheme://host[:port]
// where the scheme says protocol and security — imaps (993) and imap
// (STARTTLS, 143); pop3s (995) and pop3 (STARTTLS, 110); submissions or
// smtps (465) and submission or smtp (STARTTLS, 587). There is no
// unencrypted form.
func ParseServerURL(s string) (mailcfg.ServerTemplate, error) {
	bad := func(why string) (mailcfg.ServerTemplate, error) {
		return mailcfg.ServerTemplate{}, fmt.Errorf("server %q: %s (e.g. imaps://mail.kancelaria.pl:993 or submission://mail.kancelaria.pl:587)", s, why)
	}
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" || u.Opaque != "" {
		return bad("not scheme://host:port")
	}
	sc, ok := serverSchemes[strings.ToLower(u.Scheme)]
	if !ok {
		return bad("the scheme must be imaps, imap, pop3s, pop3, submissions or submission")
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return bad("only scheme://host:port")
	}
	port := mailcfg.DefaultPort(sc.proto, sc.sec)
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return bad("port must be 1–65535")
		}
		port = n
	}
	host, ok := mailcfg.NormalizeHost(u.Hostname())
	if !ok {
		return bad("not a valid host name")
	}
	return mailcfg.ServerTemplate{Protocol: sc.proto, Host: host, Port: port, Security: sc.sec}, nil
}

func checkServerURL(s string) (string, error) {
	_, err := ParseServerURL(s)
	return strings.TrimSpace(s), err
}

func checkDomain(s string) (string, error) {
	a, err := mailcfg.ParseAddress("x@" + strings.TrimPrefix(strings.TrimSpace(s), "@"))
	if err != nil {
		return "", errors.New("must be an address domain such as kancelaria.pl")
	}
	return a.Domain, nil
}

func checkUsernameForm(s string) (string, error) {
	s = strings.ToLower(s)
	if s != string(mailcfg.UsernameAddress) && s != string(mailcfg.UsernameLocalPart) {
		return "", errors.New(`must be "address" (the full address) or "localpart" (the part before @)`)
	}
	return s, nil
}

// Preset help when IT gives none.
var defaultFirmHelp = mailcfg.Text{
	PL: "Ustawienia serwerów tej skrzynki przygotował dział IT kancelarii. Login to Twój adres e-mail (lub nazwa podana przez dział IT), hasło – hasło do poczty. W razie problemów skontaktuj się z działem IT.",
	EN: "Your firm's IT department has preset the servers for this mailbox. The login is your e-mail address (or the name IT gave you), the password your mail password. If anything fails, contact your IT department.",
}

// FirmProvider returns the firm's preset provider entry, or nil when IT set
// none. An entry that is incomplete (domains without servers, servers
// without domains, no SMTP server) or not usable is an error naming the
// keys.
func (p *Policy) FirmProvider() (*mailcfg.Provider, error) {
	f := p.Firm
	set := false
	for _, k := range firmKeys {
		set = set || p.Preset(k)
	}
	if !set {
		return nil, nil
	}
	var missing []string
	if len(f.Domains) == 0 {
		missing = append(missing, "firmProvider.domains")
	}
	if len(f.Incoming) == 0 {
		missing = append(missing, "firmProvider.incoming")
	}
	if len(f.Outgoing) == 0 {
		missing = append(missing, "firmProvider.outgoing")
	}
	if len(missing) > 0 {
		return nil, &Error{Source: p.firmSource(), Key: "firmProvider", Problem: "incomplete: set " + strings.Join(missing, ", ")}
	}
	user := mailcfg.UsernameAddress
	if f.Username != "" {
		user = mailcfg.UsernameForm(f.Username)
	}
	prov := &mailcfg.Provider{
		ID: mailcfg.PresetProviderID, Name: f.Name, Domains: append([]string{}, f.Domains...), MX: []string{},
		Help: mailcfg.Text{PL: f.HelpPL, EN: f.HelpEN}, HelpURL: f.HelpURL,
		Sources: []string{"policy: " + p.firmSource()},
	}
	if prov.Name == "" {
		prov.Name = "Serwer kancelarii"
	}
	if prov.Help.PL == "" {
		prov.Help.PL = defaultFirmHelp.PL
	}
	if prov.Help.EN == "" {
		prov.Help.EN = defaultFirmHelp.EN
	}
	var errs []error
	for _, side := range []struct {
		key  string
		urls []string
		dst  *[]mailcfg.ServerTemplate
		smtp bool
	}{{"firmProvider.incoming", f.Incoming, &prov.Incoming, false}, {"firmProvider.outgoing", f.Outgoing, &prov.Outgoing, true}} {
		for _, u := range side.urls {
			t, err := ParseServerURL(u)
			if err != nil {
				errs = append(errs, &Error{Source: p.Origin[side.key], Key: side.key, Problem: err.Error()})
				continue
			}
			if (t.Protocol == mailcfg.SMTP) != side.smtp {
				errs = append(errs, &Error{Source: p.Origin[side.key], Key: side.key, Problem: fmt.Sprintf("server %q is %s, not an %s server", u, t.Protocol, map[bool]string{true: "SMTP", false: "IMAP or POP3"}[side.smtp])})
				continue
			}
			t.Username = user
			*side.dst = append(*side.dst, t)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// The table's own checks, as for every bundled provider.
	if _, err := mailcfg.NewTable(1, []*mailcfg.Provider{prov}); err != nil {
		return nil, &Error{Source: p.firmSource(), Key: "firmProvider", Problem: err.Error()}
	}
	return prov, nil
}

// firmSource names where the firm entry came from (its domains' source).
func (p *Policy) firmSource() string {
	for _, k := range firmKeys {
		if p.Preset(k) {
			return p.Origin[k]
		}
	}
	return "default"
}

// FirmServersLocked reports whether the user may not change the servers of
// the firm's entry: lockServerSettings is on and IT preset the entry.
func (p *Policy) FirmServersLocked() bool {
	return p.Locked("firmProvider.incoming") || p.Locked("firmProvider.outgoing")
}
