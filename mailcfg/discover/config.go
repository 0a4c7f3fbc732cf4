package discover

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"infino.legal/mailbox/mailcfg"
)

// MaxConfigSize bounds a config-v1.1.xml document; real files are a few
// kilobytes, so anything near this is hostile or broken.
const MaxConfigSize = 1 << 20

// Config is a parsed Thunderbird autoconfig document (config-v1.1.xml, as
// served by providers, by ISPDB and by hosters for their MX domains).
type Config struct {
	Providers []ConfigProvider `xml:"emailProvider"`
}

// ConfigProvider is one <emailProvider>.
type ConfigProvider struct {
	ID          string         `xml:"id,attr"`
	Domains     []string       `xml:"domain"`
	DisplayName string         `xml:"displayName"`
	Incoming    []ConfigServer `xml:"incomingServer"`
	Outgoing    []ConfigServer `xml:"outgoingServer"`
}

// ConfigServer is one <incomingServer> or <outgoingServer>, as written
// (placeholders not yet replaced).
type ConfigServer struct {
	Type           string   `xml:"type,attr"`
	Hostname       string   `xml:"hostname"`
	Port           string   `xml:"port"`
	SocketType     string   `xml:"socketType"`
	Authentication []string `xml:"authentication"`
	Username       string   `xml:"username"`
}

// ErrNoUsableServer means a document parsed but offered no incoming or no
// outgoing server the app may use (encrypted, with a password or Microsoft
// sign-in, valid host and port).
var ErrNoUsableServer = errors.New("autoconfig: no usable server")

// ParseConfig reads a config-v1.1.xml document. It refuses documents over
// MaxConfigSize, a root other than <clientConfig> and documents without an
// <emailProvider>. It never fetches anything (encoding/xml does not resolve
// external entities).
func ParseConfig(data []byte) (*Config, error) {
	if len(data) > MaxConfigSize {
		return nil, fmt.Errorf("autoconfig: document larger than %d bytes", MaxConfigSize)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = charsetReader
	var root struct {
		XMLName xml.Name
		Config
	}
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("autoconfig: %w", err)
	}
	if root.XMLName.Local != "clientConfig" {
		return nil, fmt.Errorf("autoconfig: root element is <%s>, not <clientConfig>", limitString(root.XMLName.Local, 40))
	}
	if len(root.Providers) == 0 {
		return nil, errors.New("autoconfig: no <emailProvider>")
	}
	return &root.Config, nil
}

// charsetReader accepts the encodings config files are written in: UTF-8
// (the norm), US-ASCII and ISO-8859-1/Windows-1252 (read as Latin-1).
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "windows-1252", "cp1252":
		b, err := io.ReadAll(io.LimitReader(in, MaxConfigSize))
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(b)+len(b)/8)
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		return bytes.NewReader(out), nil
	}
	return nil, fmt.Errorf("unsupported charset %q", limitString(label, 40))
}

// authKind is what the app can do with a server's <authentication> list.
type authKind int

const (
	authPassword authKind = 1 << iota
	authOAuth2

	authNone authKind = 0
)

func readAuth(list []string) authKind {
	if len(list) == 0 {
		// No <authentication>: a password, as Thunderbird assumes.
		return authPassword
	}
	var k authKind
	for _, a := range list {
		switch strings.ToLower(strings.TrimSpace(a)) {
		case "password-cleartext", "plain", "password-encrypted", "secure":
			// Sent inside TLS either way; the IMAP/SMTP layer picks the
			// SASL mechanism.
			k |= authPassword
		case "oauth2":
			k |= authOAuth2
		}
		// NTLM, GSSAPI, client-IP-address, smtp-after-pop, none and
		// TLS-client-cert are not something this app can do.
	}
	return k
}

// picked is one chosen server with what it accepts.
type picked struct {
	server mailcfg.Server
	auth   authKind
}

// choice is the outcome of picking servers from a document.
type choice struct {
	provider *ConfigProvider
	in, out  picked
}

// Settings picks, from the first <emailProvider> that has both, the first
// usable incoming server of the preferred protocol (IMAP when proto is
// empty; the other one if the file has none) and the first usable SMTP
// server, implicit TLS (socketType SSL) before STARTTLS, with placeholders
// filled from the address. socketType plain is never picked. Auth is
// "password" unless a chosen server accepts only OAuth2. Source is left
// empty for the caller.
func (c *Config) Settings(addr mailcfg.Address, proto mailcfg.Protocol) (mailcfg.Settings, error) {
	ch, err := c.choose(addr, proto)
	if err != nil {
		return mailcfg.Settings{}, err
	}
	return ch.settings(addr), nil
}

func (ch choice) settings(addr mailcfg.Address) mailcfg.Settings {
	auth := mailcfg.AuthPassword
	if ch.in.auth&authPassword == 0 || ch.out.auth&authPassword == 0 {
		auth = mailcfg.AuthOAuth2
	}
	return mailcfg.Settings{
		Email:    addr.String(),
		Auth:     auth,
		Incoming: ch.in.server,
		Outgoing: ch.out.server,
	}
}

func (c *Config) choose(addr mailcfg.Address, proto mailcfg.Protocol) (choice, error) {
	if proto != mailcfg.POP3 {
		proto = mailcfg.IMAP
	}
	other := mailcfg.POP3
	if proto == mailcfg.POP3 {
		other = mailcfg.IMAP
	}
	for i := range c.Providers {
		p := &c.Providers[i]
		in, ok := pickConfigServer(p.Incoming, proto, addr)
		if !ok {
			in, ok = pickConfigServer(p.Incoming, other, addr)
		}
		if !ok {
			continue
		}
		out, ok := pickConfigServer(p.Outgoing, mailcfg.SMTP, addr)
		if !ok {
			continue
		}
		return choice{provider: p, in: in, out: out}, nil
	}
	return choice{}, ErrNoUsableServer
}

func pickConfigServer(list []ConfigServer, proto mailcfg.Protocol, addr mailcfg.Address) (picked, bool) {
	var starttls picked
	haveStartTLS := false
	for _, cs := range list {
		p, ok := cs.usable(proto, addr)
		if !ok {
			continue
		}
		if p.server.Security == mailcfg.SecurityTLS {
			return p, true
		}
		if !haveStartTLS {
			starttls, haveStartTLS = p, true
		}
	}
	return starttls, haveStartTLS
}

// unresolvedRE finds a placeholder left after substitution (%REALNAME%,
// an <inputField> key, or ISPDB's "%EMAILADDRESS" typo).
var unresolvedRE = regexp.MustCompile(`%[A-Z][A-Z0-9_]*%?`)

func (cs ConfigServer) usable(proto mailcfg.Protocol, addr mailcfg.Address) (picked, bool) {
	if !strings.EqualFold(strings.TrimSpace(cs.Type), string(proto)) {
		return picked{}, false
	}
	var sec mailcfg.Security
	switch strings.ToUpper(strings.TrimSpace(cs.SocketType)) {
	case "SSL", "TLS":
		sec = mailcfg.SecurityTLS
	case "STARTTLS":
		sec = mailcfg.SecurityStartTLS
	default:
		// "plain" (or anything unknown) would send the password in clear.
		return picked{}, false
	}
	auth := readAuth(cs.Authentication)
	if auth == authNone {
		return picked{}, false
	}
	port, err := strconv.Atoi(strings.TrimSpace(cs.Port))
	if err != nil || port < 1 || port > 65535 {
		return picked{}, false
	}
	host, ok := mailcfg.NormalizeHost(fillPlaceholders(strings.TrimSpace(cs.Hostname), addr))
	if !ok || !publicHost(host) {
		return picked{}, false
	}
	user := fillPlaceholders(strings.TrimSpace(cs.Username), addr)
	switch {
	case user == "":
		user = addr.String()
	case unresolvedRE.MatchString(user), strings.ContainsFunc(user, unicode.IsControl), len(user) > 320:
		return picked{}, false
	}
	return picked{
		server: mailcfg.Server{Protocol: proto, Host: host, Port: port, Security: sec, Username: user},
		auth:   auth,
	}, true
}

func fillPlaceholders(s string, addr mailcfg.Address) string {
	return strings.NewReplacer(
		"%EMAILADDRESS%", addr.String(),
		"%EMAILLOCALPART%", addr.Local,
		"%EMAILDOMAIN%", addr.Domain,
	).Replace(s)
}

// publicHost refuses server hosts a document from the network must never
// point the app at: this machine and the unspecified address.
func publicHost(h string) bool {
	if strings.EqualFold(h, "localhost") || strings.HasSuffix(strings.ToLower(h), ".localhost") {
		return false
	}
	if ip := net.ParseIP(h); ip != nil {
		return !ip.IsLoopback() && !ip.IsUnspecified() && !ip.IsMulticast()
	}
	return true
}

func limitString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
