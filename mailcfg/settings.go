package mailcfg

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"unicode"
)

// Auth is how the app signs in to the mail servers.
type Auth string

// Protocol is a mail protocol.
type Protocol string

// Security is how a connection is protected.
type Security string

// Source says where discovered settings came from.
type Source string

const (
	AuthPassword Auth = "password"
	AuthOAuth2   Auth = "oauth2"

	IMAP Protocol = "imap"
	POP3 Protocol = "pop3"
	SMTP Protocol = "smtp"

	// SecurityTLS is implicit TLS (993, 995, 465): preferred, RFC 8314.
	SecurityTLS Security = "tls"
	// SecurityStartTLS upgrades a plain connection; it must succeed or the
	// connection is dropped before any credential is sent.
	SecurityStartTLS Security = "starttls"
	// SecurityNone is allowed only where policy and the user both say so.
	SecurityNone Security = "none"

	SourceBundled    Source = "bundled"
	SourceAutoconfig Source = "autoconfig"
	SourceISPDB      Source = "ispdb"
	SourceSRV        Source = "srv"
	SourceMX         Source = "mx"
	SourceGuess      Source = "guess"
	SourceManual     Source = "manual"
	SourceMicrosoft  Source = "microsoft"
	// SourceAutodiscover is Exchange Autodiscover (POX).
	SourceAutodiscover Source = "autodiscover"
	// SourceOAuth: filled by a provider's sign-in other than Microsoft's
	// (which keeps SourceMicrosoft).
	SourceOAuth Source = "oauth"
)

// defaultPorts is the one port table: the standard port of each protocol
// with implicit TLS and with STARTTLS (RFC 8314, RFC 6409).
var defaultPorts = map[Protocol]struct{ tls, startTLS int }{
	IMAP: {993, 143},
	POP3: {995, 110},
	SMTP: {465, 587},
}

// DefaultPort is the standard port of a protocol with a kind of security:
// implicit TLS gets 993, 995 or 465; STARTTLS and none get 143, 110 or 587.
// An unknown protocol gets 0.
func DefaultPort(p Protocol, s Security) int {
	ports, ok := defaultPorts[p]
	switch {
	case !ok:
		return 0
	case s == SecurityTLS:
		return ports.tls
	}
	return ports.startTLS
}

// Server is one mail server: where it is, how the connection is protected and
// which user name logs in.
type Server struct {
	Protocol Protocol `json:"protocol"`
	Host     string   `json:"host"`
	Port     int      `json:"port"`
	Security Security `json:"security"`
	Username string   `json:"username"`
	// CertSHA256 pins exactly one leaf certificate (hex SHA-256 of its DER),
	// for firm servers with their own certificate. Empty: normal validation.
	CertSHA256 string `json:"certSha256,omitempty"`
}

// Addr is host:port for dialling.
func (s Server) Addr() string {
	return net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
}

// ProviderRef names the provider the settings belong to.
type ProviderRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Settings is the one value that flows from discovery through the form and
// verification to the hand-off. Its JSON form is the exchange format of the
// command line and of the Infino API; the keys are a contract.
type Settings struct {
	Email    string       `json:"email"`
	Auth     Auth         `json:"auth"`
	Incoming Server       `json:"incoming"`
	Outgoing Server       `json:"outgoing"`
	Provider *ProviderRef `json:"provider,omitempty"`
	Source   Source       `json:"source,omitempty"`
	// LowTrust marks settings that came from a source that could have been
	// tampered with (plain-http autoconfig, a guess); the window asks the user
	// to confirm them before use.
	LowTrust bool `json:"lowTrust,omitempty"`
	// SignedInAs is set for a shared mailbox (Microsoft 365): the user
	// whose sign-in (auth oauth2) reaches Email, which has no password of
	// its own. Empty: the mailbox's own sign-in.
	SignedInAs string `json:"signedInAs,omitempty"`
}

// ValidateOptions carries the decisions that are not part of the settings.
type ValidateOptions struct {
	// AllowInsecure is the policy's allowInsecure.
	AllowInsecure bool
	// InsecureOverride is the user's explicit, warned consent to a connection
	// without encryption. It counts only where AllowInsecure is true.
	InsecureOverride bool
}

// Validate checks every field and returns all problems at once as a
// ValidationError (nil when the settings are usable).
func (s Settings) Validate(opt ValidateOptions) error {
	var v ValidationError
	add := func(e *FieldError) { v = append(v, e) }
	if _, err := ParseAddress(s.Email); err != nil {
		add(err.(*FieldError))
	}
	switch s.Auth {
	case AuthPassword, AuthOAuth2:
	default:
		add(newFieldError("auth", "auth_invalid"))
	}
	for _, side := range []struct {
		name string
		srv  Server
	}{{"incoming", s.Incoming}, {"outgoing", s.Outgoing}} {
		for _, e := range side.srv.validate(side.name, opt) {
			add(e)
		}
	}
	if len(v) == 0 {
		return nil
	}
	v.sort()
	return v
}

func (s Server) validate(side string, opt ValidateOptions) []*FieldError {
	var out []*FieldError
	add := func(field, code string) { out = append(out, newFieldError(side+"."+field, code)) }
	switch {
	case side == "outgoing" && s.Protocol != SMTP:
		add("protocol", "protocol_smtp")
	case side == "incoming" && s.Protocol != IMAP && s.Protocol != POP3:
		add("protocol", "protocol_invalid")
	}
	if strings.TrimSpace(s.Host) == "" {
		add("host", "host_empty")
	} else if _, ok := NormalizeHost(s.Host); !ok {
		add("host", "host_invalid")
	}
	if s.Port < 1 || s.Port > 65535 {
		add("port", "port_range")
	}
	switch s.Security {
	case SecurityTLS, SecurityStartTLS:
	case SecurityNone:
		if !opt.AllowInsecure || !opt.InsecureOverride {
			add("security", "security_none")
		}
	default:
		add("security", "security_invalid")
	}
	if strings.TrimSpace(s.Username) == "" {
		add("username", "username_empty")
	} else if strings.ContainsFunc(s.Username, unicode.IsControl) {
		add("username", "username_invalid")
	}
	if s.CertSHA256 != "" {
		if _, err := ParseFingerprint(s.CertSHA256); err != nil {
			add("certSha256", "cert_pin_invalid")
		}
	}
	return out
}

// ParseFingerprint reads a SHA-256 fingerprint written as 64 hex digits, with
// or without colons or spaces between byte pairs.
func ParseFingerprint(s string) ([]byte, error) {
	clean := strings.NewReplacer(":", "", " ", "", "-", "").Replace(strings.TrimSpace(s))
	b, err := hex.DecodeString(clean)
	if err != nil || len(b) != 32 {
		return nil, errors.New("not a SHA-256 fingerprint")
	}
	return b, nil
}

// FormatFingerprint writes a fingerprint as lower-case hex with colons, the
// form people compare with their IT department's records.
func FormatFingerprint(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(':')
		}
		fmt.Fprintf(&sb, "%02x", c)
	}
	return sb.String()
}

// Normalized returns a copy with the address, host names and fingerprints in
// canonical form (trimmed, ASCII, lower-case). It does not validate.
func (s Settings) Normalized() Settings {
	if a, err := ParseAddress(s.Email); err == nil {
		s.Email = a.String()
	} else {
		s.Email = strings.TrimSpace(s.Email)
	}
	s.Incoming = s.Incoming.normalized()
	s.Outgoing = s.Outgoing.normalized()
	return s
}

func (s Server) normalized() Server {
	if h, ok := NormalizeHost(s.Host); ok {
		s.Host = h
	} else {
		s.Host = strings.TrimSpace(s.Host)
	}
	s.Username = strings.TrimSpace(s.Username)
	if b, err := ParseFingerprint(s.CertSHA256); err == nil {
		s.CertSHA256 = hex.EncodeToString(b)
	}
	return s
}

// MaxSettingsJSON bounds what DecodeSettings reads.
const MaxSettingsJSON = 64 << 10

// DecodeSettings reads one settings JSON object strictly: unknown keys,
// trailing data and documents over MaxSettingsJSON are errors. It does not
// validate the values; call Validate for that.
func DecodeSettings(r io.Reader) (Settings, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSettingsJSON+1))
	if err != nil {
		return Settings{}, err
	}
	if len(data) > MaxSettingsJSON {
		return Settings{}, fmt.Errorf("settings JSON is larger than %d bytes", MaxSettingsJSON)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Settings
	if err := dec.Decode(&s); err != nil {
		return Settings{}, fmt.Errorf("settings JSON: %w", err)
	}
	var rest json.RawMessage
	if err := dec.Decode(&rest); err != io.EOF {
		return Settings{}, errors.New("settings JSON: unexpected data after the object")
	}
	return s, nil
}
