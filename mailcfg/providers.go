package mailcfg

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

// UsernameForm says which user name a provider expects.
type UsernameForm string

const (
	UsernameAddress   UsernameForm = "address"   // the full address
	UsernameLocalPart UsernameForm = "localpart" // the part before @
	// UsernameLocalDotDomain is the part before @, a dot and the domain
	// (jan.example.jp), as some Japanese ISPs in ISPDB want.
	UsernameLocalDotDomain UsernameForm = "localpart.domain"
)

// ServerTemplate is a provider's server as the table lists it. Host may hold
// the placeholder %EMAILDOMAIN% for hosters that name servers after the
// customer's domain, or %MXHOST% (see MXHostPlaceholder).
type ServerTemplate struct {
	Protocol Protocol     `json:"protocol"`
	Host     string       `json:"host"`
	Port     int          `json:"port"`
	Security Security     `json:"security"`
	Username UsernameForm `json:"username"`
}

// Provider is one entry of the provider table: which domains and MX hosts it
// covers, its servers in order of preference, and the help a user needs.
// Empty optional fields are left out when written (internal/ispdbgen writes
// the generated table with this type).
type Provider struct {
	ID       string           `json:"id"`
	Name     string           `json:"name"`
	Domains  []string         `json:"domains"`
	MX       []string         `json:"mx,omitempty"`
	Incoming []ServerTemplate `json:"incoming"`
	Outgoing []ServerTemplate `json:"outgoing"`
	// OAuth names the sign-in the provider prefers ("microsoft", "google"),
	// or is empty.
	OAuth   string   `json:"oauth,omitempty"`
	Help    Text     `json:"help"`
	HelpURL string   `json:"helpUrl,omitempty"`
	Sources []string `json:"sources"`
}

// Table is a validated provider table with indexes by domain, id and MX.
type Table struct {
	Version   int         `json:"version"`
	Providers []*Provider `json:"providers"`

	byDomain map[string]*Provider
	byID     map[string]*Provider
}

//go:embed providers.json
var bundledProviders []byte

var bundled = sync.OnceValues(parseBundled)

// Bundled returns the provider table shipped inside the binary. The table is
// checked by the tests, so an error here means a broken build.
func Bundled() *Table {
	t, err := bundled()
	if err != nil {
		panic("mailcfg: bundled provider table: " + err.Error())
	}
	return t
}

// ParseTable reads and validates a provider table, reporting every problem.
func ParseTable(data []byte) (*Table, error) {
	var t Table
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("provider table: %w", err)
	}
	return NewTable(t.Version, t.Providers)
}

// NewTable validates providers and indexes them by id and domain, reporting
// every problem. It copies each provider, so the caller's values are never
// changed and may be shared between tables.
func NewTable(version int, ps []*Provider) (*Table, error) {
	t := Table{Version: version, Providers: make([]*Provider, 0, len(ps))}
	for _, p := range ps {
		t.Providers = append(t.Providers, p.clone())
	}
	t.byDomain = map[string]*Provider{}
	t.byID = map[string]*Provider{}
	var errs []error
	bad := func(p *Provider, f string, a ...any) {
		errs = append(errs, fmt.Errorf("provider %q: "+f, append([]any{p.ID}, a...)...))
	}
	for _, p := range t.Providers {
		if p.ID == "" || p.Name == "" {
			bad(p, "id and name are required")
		}
		if t.byID[p.ID] != nil {
			bad(p, "duplicate id")
		}
		t.byID[p.ID] = p
		for i, d := range p.Domains {
			a, _, ok := normalizeDomain(d)
			if !ok || a != d {
				bad(p, "domain %q is not a lower-case ASCII domain", d)
			}
			if q := t.byDomain[a]; q != nil {
				bad(p, "domain %q is also listed by %q", d, q.ID)
			}
			t.byDomain[a] = p
			p.Domains[i] = a
		}
		for _, m := range p.MX {
			if _, _, ok := normalizeDomain(strings.TrimPrefix(m, "*.")); !ok || m != strings.ToLower(m) {
				bad(p, "mx pattern %q is not a lower-case host or *.suffix", m)
			}
		}
		if err := p.checkMXHost(); err != nil {
			bad(p, "%v", err)
		}
		if len(p.Domains) == 0 && len(p.MX) == 0 {
			bad(p, "neither domains nor mx: it could never be found")
		}
		if len(p.Incoming) == 0 || len(p.Outgoing) == 0 {
			bad(p, "needs incoming and outgoing servers")
		}
		for _, s := range append(append([]ServerTemplate{}, p.Incoming...), p.Outgoing...) {
			if err := s.check(); err != nil {
				bad(p, "%v", err)
			}
		}
		for _, s := range p.Incoming {
			if s.Protocol == SMTP {
				bad(p, "incoming server %s is SMTP", s.Host)
			}
		}
		for _, s := range p.Outgoing {
			if s.Protocol != SMTP {
				bad(p, "outgoing server %s is not SMTP", s.Host)
			}
		}
		if p.Help.PL == "" || p.Help.EN == "" {
			bad(p, "help text needs Polish and English")
		}
		if len(p.Sources) == 0 {
			bad(p, "no source recorded")
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &t, nil
}

// clone copies p deeply enough that indexing the copy never touches p.
func (p *Provider) clone() *Provider {
	c := *p
	c.Domains = slices.Clone(p.Domains)
	c.MX = slices.Clone(p.MX)
	c.Incoming = slices.Clone(p.Incoming)
	c.Outgoing = slices.Clone(p.Outgoing)
	c.Sources = slices.Clone(p.Sources)
	return &c
}

func (s ServerTemplate) check() error {
	switch {
	case s.Protocol != IMAP && s.Protocol != POP3 && s.Protocol != SMTP:
		return fmt.Errorf("server %s: protocol %q", s.Host, s.Protocol)
	case s.Port < 1 || s.Port > 65535:
		return fmt.Errorf("server %s: port %d", s.Host, s.Port)
	case s.Security != SecurityTLS && s.Security != SecurityStartTLS:
		// The bundled table never offers an unencrypted server.
		return fmt.Errorf("server %s: security %q", s.Host, s.Security)
	case s.Username != UsernameAddress && s.Username != UsernameLocalPart && s.Username != UsernameLocalDotDomain:
		return fmt.Errorf("server %s: username %q", s.Host, s.Username)
	}
	h := strings.NewReplacer("%EMAILDOMAIN%", "example.com", MXHostPlaceholder, "mx.example.com").Replace(s.Host)
	if _, ok := NormalizeHost(h); !ok || strings.Contains(h, "%") {
		return fmt.Errorf("server host %q", s.Host)
	}
	return nil
}

// ByDomain finds the provider of an address domain (ASCII or Unicode, any
// case), or nil.
func (t *Table) ByDomain(domain string) *Provider {
	a, _, ok := normalizeDomain(domain)
	if !ok {
		return nil
	}
	return t.byDomain[a]
}

// ByID finds a provider by its id, or nil.
func (t *Table) ByID(id string) *Provider { return t.byID[id] }

// ByMX finds the provider whose MX patterns match an MX host name, or nil.
// The longest matching pattern wins, so a specific hoster beats a broad one.
func (t *Table) ByMX(host string) *Provider {
	h := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(host), "."))
	var best *Provider
	bestLen := 0
	for _, p := range t.Providers {
		for _, m := range p.MX {
			if MatchMX(m, h) && len(m) > bestLen {
				best, bestLen = p, len(m)
			}
		}
	}
	return best
}

// MatchMX reports whether an MX host matches a pattern: "*.example.com"
// matches any name below example.com, a bare name matches only itself.
func MatchMX(pattern, host string) bool {
	if suffix, ok := strings.CutPrefix(pattern, "*."); ok {
		return strings.HasSuffix(host, "."+suffix)
	}
	return host == pattern
}

// Domains lists every domain the table knows, sorted.
func (t *Table) Domains() []string {
	out := make([]string, 0, len(t.byDomain))
	for d := range t.byDomain {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// Settings fills a settings value for an address from the provider's
// servers. The incoming protocol is IMAP unless proto asks for POP3 and the
// provider offers it; implicit TLS is preferred over STARTTLS (RFC 8314).
func (p *Provider) Settings(addr Address, proto Protocol) Settings {
	if proto == "" {
		proto = IMAP
	}
	in, ok := pickServer(p.Incoming, proto)
	if !ok {
		in, _ = pickServer(p.Incoming, p.Incoming[0].Protocol)
	}
	out, _ := pickServer(p.Outgoing, SMTP)
	auth := AuthPassword
	if p.OAuth == "microsoft" {
		auth = AuthOAuth2
	}
	return Settings{
		Email:    addr.String(),
		Auth:     auth,
		Incoming: in.fill(addr),
		Outgoing: out.fill(addr),
		Provider: &ProviderRef{ID: p.ID, Name: p.Name},
		Source:   p.source(),
	}
}

// Offers reports whether the provider has a server for the protocol.
func (p *Provider) Offers(proto Protocol) bool {
	_, ok := pickServer(append(append([]ServerTemplate{}, p.Incoming...), p.Outgoing...), proto)
	return ok
}

func pickServer(list []ServerTemplate, proto Protocol) (ServerTemplate, bool) {
	var found ServerTemplate
	ok := false
	for _, s := range list {
		if s.Protocol != proto {
			continue
		}
		if s.Security == SecurityTLS {
			return s, true
		}
		if !ok {
			found, ok = s, true
		}
	}
	return found, ok
}

func (s ServerTemplate) fill(addr Address) Server {
	user := addr.String()
	switch s.Username {
	case UsernameLocalPart:
		user = addr.Local
	case UsernameLocalDotDomain:
		user = addr.Local + "." + addr.Domain
	}
	return Server{
		Protocol: s.Protocol,
		Host:     strings.ReplaceAll(s.Host, "%EMAILDOMAIN%", addr.Domain),
		Port:     s.Port,
		Security: s.Security,
		Username: user,
	}
}

// ErrNotFound means the bundled table does not know the address's domain.
var ErrNotFound = errors.New("no settings known for this domain")

// NotFoundMessage is what a person is told when nothing was found.
var NotFoundMessage = Text{
	PL: "Nie znamy ustawień tej domeny. Wpisz dane serwerów od dostawcy poczty lub działu IT.",
	EN: "We do not know the settings for this domain. Enter the server details from your mail provider or IT department.",
}

// Autofill turns an address into settings from the bundled table, offline.
// A malformed address gives a *FieldError; an unknown domain ErrNotFound.
func Autofill(email string, proto Protocol) (Settings, error) {
	return Bundled().Autofill(email, proto)
}

// Autofill is Autofill over this table.
func (t *Table) Autofill(email string, proto Protocol) (Settings, error) {
	addr, err := ParseAddress(email)
	if err != nil {
		return Settings{}, err
	}
	p := t.byDomain[addr.Domain]
	if p == nil {
		return Settings{}, ErrNotFound
	}
	return p.Settings(addr, proto), nil
}

// ProviderFor finds the provider that settings belong to: by the provider id
// they carry, by the address's domain, or by a server host the table lists.
// It returns nil when none is known.
func (t *Table) ProviderFor(s Settings) *Provider {
	if t == nil {
		return nil
	}
	if s.Provider != nil {
		if p := t.ByID(s.Provider.ID); p != nil {
			return p
		}
	}
	if a, err := ParseAddress(s.Email); err == nil {
		if p := t.ByDomain(a.Domain); p != nil {
			return p
		}
	}
	if p := t.ByServerHost(s.Incoming.Host); p != nil {
		return p
	}
	return t.ByServerHost(s.Outgoing.Host)
}

// ByServerHost finds the first provider that lists host as one of its servers
// (templates with %EMAILDOMAIN% never match), or nil.
func (t *Table) ByServerHost(host string) *Provider {
	h, ok := NormalizeHost(host)
	if t == nil || !ok {
		return nil
	}
	for _, p := range t.Providers {
		for _, list := range [][]ServerTemplate{p.Incoming, p.Outgoing} {
			for _, s := range list {
				if strings.EqualFold(s.Host, h) {
					return p
				}
			}
		}
	}
	return nil
}
