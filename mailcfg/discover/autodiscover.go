package discover

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/net/publicsuffix"

	"infino.legal/mailbox/mailcfg"
)

// Exchange Autodiscover, the "plain old XML" variant (MS-OXDSCLI) that
// on-premises Exchange and Exchange Online answer: the app POSTs a request
// naming the address and reads the IMAP, POP3 and SMTP blocks of the
// answer. Like Thunderbird it asks, at once,
//
//	https://autodiscover.<domain>/autodiscover/autodiscover.xml
//	https://<domain>/autodiscover/autodiscover.xml
//	http://autodiscover.<domain>/autodiscover/autodiscover.xml (GET, only for its redirect to https)
//	SRV _autodiscover._tcp.<domain> → https://<target>/autodiscover/autodiscover.xml
//
// and takes the first of them, in that order, that answers. The address
// goes out only over https; the password only over https, only when the
// caller passed one (the user typed it) and only after the server refused
// the request without it. A redirect to a host outside the address's
// domain, Microsoft's own hosts excepted, is followed only when
// Options.ConfirmRedirect says yes.

// Bounds of Autodiscover.
const (
	// MaxAutodiscoverSize bounds an Autodiscover answer; real ones are a
	// few kilobytes.
	MaxAutodiscoverSize = 256 << 10
	// MaxAutodiscoverHops is how many RedirectAddr/RedirectUrl answers are
	// followed, as in Thunderbird.
	MaxAutodiscoverHops = 2
	// maxProtocols bounds the <Protocol> blocks read from one answer.
	maxProtocols = 64
)

// autodiscoverPath is where Autodiscover lives on every host.
const autodiscoverPath = "/autodiscover/autodiscover.xml"

// The request and response schemas of POX Autodiscover for Outlook.
const (
	autodiscoverRequestNS  = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
	autodiscoverResponseNS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
)

// Note is something discovery learnt that is not settings, for the person.
type Note string

const (
	// NoteExchangeOnly: the firm's Exchange answered, but offers only
	// Exchange's own protocols (EWS, MAPI), no IMAP or POP3 with SMTP.
	NoteExchangeOnly Note = "exchange-only"
	// NoteAutodiscoverPassword: the firm's Exchange answers only to a
	// signed-in request; discovery can try again once the user has typed
	// the password.
	NoteAutodiscoverPassword Note = "autodiscover-password"
)

// Message is what the person is told.
func (n Note) Message() mailcfg.Text {
	switch n {
	case NoteExchangeOnly:
		return mailcfg.Text{
			PL: "Serwer Exchange tej skrzynki nie udostępnia programom pocztowym IMAP ani POP3. Poproś dział IT o włączenie IMAP i SMTP dla skrzynki, a jeśli poczta działa w Microsoft 365 – użyj „Zaloguj przez Microsoft”.",
			EN: "This mailbox's Exchange server offers mail apps neither IMAP nor POP3. Ask your IT department to turn on IMAP and SMTP for the mailbox, or, if the mail runs on Microsoft 365, use “Sign in with Microsoft”.",
		}
	case NoteAutodiscoverPassword:
		return mailcfg.Text{
			PL: "Serwer Exchange tej skrzynki poda ustawienia dopiero po zalogowaniu. Wpisz hasło, a spróbujemy jeszcze raz (hasło trafi tylko połączeniem szyfrowanym do serwera Exchange Twojej domeny lub Microsoftu; zanim wyślemy je gdziekolwiek indziej, zapytamy).",
			EN: "This mailbox's Exchange server gives its settings only after sign-in. Enter your password and we will try again (it goes only over an encrypted connection, to your domain's Exchange server or Microsoft's; we ask before it goes anywhere else).",
		}
	}
	return mailcfg.Text{}
}

// Errors of Autodiscover, for the report.
var (
	// ErrExchangeOnly: the answer has only Exchange protocols.
	ErrExchangeOnly = errors.New("autodiscover: only Exchange (EWS/MAPI), no IMAP or POP3 with SMTP")
	// ErrAutodiscoverPassword: the server wants a signed-in request and
	// no password was given.
	ErrAutodiscoverPassword = errors.New("autodiscover: the server wants the password")
	// ErrRedirectNotConfirmed: a redirect left the address's domain and
	// was not confirmed.
	ErrRedirectNotConfirmed = errors.New("autodiscover: redirect to another domain not confirmed")
)

// Autodiscover is a parsed POX Autodiscover answer.
type Autodiscover struct {
	// Action is "settings", "redirectAddr" or "redirectUrl" (empty is
	// read as settings).
	Action       string
	RedirectAddr string
	RedirectURL  string
	Protocols    []AutodiscoverProtocol
	// ErrorCode and ErrorMessage are the server's <Error>, if any.
	ErrorCode    string
	ErrorMessage string
}

// AutodiscoverProtocol is one <Protocol> block, as written.
type AutodiscoverProtocol struct {
	Type       string // IMAP, POP3, SMTP, EXCH, EXPR, EXHTTP, WEB…
	Server     string
	Port       string
	LoginName  string
	SSL        string // "on" / "off"
	Encryption string // None, SSL, TLS, Auto
	SPA        string // "on": NTLM/Kerberos, which this app cannot do
}

type adProtocolXML struct {
	TypeAttr   string `xml:"Type,attr"`
	Type       string `xml:"Type"`
	Server     string `xml:"Server"`
	Port       string `xml:"Port"`
	LoginName  string `xml:"LoginName"`
	SSL        string `xml:"SSL"`
	Encryption string `xml:"Encryption"`
	SPA        string `xml:"SPA"`
}

type adErrorXML struct {
	ErrorCode string `xml:"ErrorCode"`
	Message   string `xml:"Message"`
}

type adDocXML struct {
	XMLName  xml.Name
	Response struct {
		Error   adErrorXML `xml:"Error"`
		Account struct {
			Error        adErrorXML      `xml:"Error"`
			Action       string          `xml:"Action"`
			RedirectAddr string          `xml:"RedirectAddr"`
			RedirectURL  string          `xml:"RedirectUrl"`
			Protocols    []adProtocolXML `xml:"Protocol"`
		} `xml:"Account"`
	} `xml:"Response"`
}

// ParseAutodiscover reads a POX Autodiscover answer. It refuses answers
// over MaxAutodiscoverSize, a root other than <Autodiscover>, more than
// maxProtocols protocol blocks, and never fetches anything.
func ParseAutodiscover(data []byte) (*Autodiscover, error) {
	if len(data) > MaxAutodiscoverSize {
		return nil, fmt.Errorf("autodiscover: answer larger than %d bytes", MaxAutodiscoverSize)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = charsetReader
	var doc adDocXML
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("autodiscover: %w", err)
	}
	if doc.XMLName.Local != "Autodiscover" {
		return nil, fmt.Errorf("autodiscover: root element is <%s>, not <Autodiscover>", limitString(doc.XMLName.Local, 40))
	}
	acc := doc.Response.Account
	if len(acc.Protocols) > maxProtocols {
		return nil, fmt.Errorf("autodiscover: %d protocol blocks, more than %d", len(acc.Protocols), maxProtocols)
	}
	a := &Autodiscover{
		Action:       clean(acc.Action, 40),
		RedirectAddr: clean(acc.RedirectAddr, 320),
		RedirectURL:  clean(acc.RedirectURL, 2048),
		ErrorCode:    cleanLine(doc.Response.Error.ErrorCode, 20),
		ErrorMessage: cleanLine(doc.Response.Error.Message, 200),
	}
	if a.ErrorCode == "" && a.ErrorMessage == "" {
		a.ErrorCode, a.ErrorMessage = cleanLine(acc.Error.ErrorCode, 20), cleanLine(acc.Error.Message, 200)
	}
	for _, p := range acc.Protocols {
		typ := p.Type
		if typ == "" {
			typ = p.TypeAttr
		}
		a.Protocols = append(a.Protocols, AutodiscoverProtocol{
			Type: clean(typ, 40), Server: clean(p.Server, 300), Port: clean(p.Port, 10),
			LoginName: clean(p.LoginName, 400), SSL: clean(p.SSL, 10), Encryption: clean(p.Encryption, 10), SPA: clean(p.SPA, 10),
		})
	}
	return a, nil
}

// clean trims a value and cuts it at n bytes.
func clean(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = s[:n]
	}
	return s
}

// cleanLine is clean for text that ends up in the report and on a
// terminal: control characters (line breaks, escapes) become spaces.
func cleanLine(s string, n int) string {
	return clean(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s), n)
}

// exchangeTypes are protocol blocks of Exchange's own protocols.
var exchangeTypes = map[string]bool{"EXCH": true, "EXPR": true, "EXHTTP": true, "WEB": true, "MOBILESYNC": true}

// Settings picks, for the address (loginAddr fills empty login names), the
// first usable incoming block of the preferred protocol (IMAP when proto is
// empty, the other one if there is none) and the first usable SMTP block,
// implicit TLS before STARTTLS. A block with SSL off or Encryption None is
// never used, nor one that wants SPA (NTLM). An answer with only Exchange
// protocols gives ErrExchangeOnly, any other without usable servers
// ErrNoUsableServer.
func (a *Autodiscover) Settings(addr, loginAddr mailcfg.Address, proto mailcfg.Protocol) (mailcfg.Settings, error) {
	if proto != mailcfg.POP3 {
		proto = mailcfg.IMAP
	}
	other := mailcfg.POP3
	if proto == mailcfg.POP3 {
		other = mailcfg.IMAP
	}
	in, ok := a.pick(proto, loginAddr)
	if !ok {
		in, ok = a.pick(other, loginAddr)
	}
	out, outOK := a.pick(mailcfg.SMTP, loginAddr)
	if !ok || !outOK {
		for _, p := range a.Protocols {
			if exchangeTypes[strings.ToUpper(p.Type)] {
				return mailcfg.Settings{}, ErrExchangeOnly
			}
		}
		return mailcfg.Settings{}, ErrNoUsableServer
	}
	return mailcfg.Settings{Email: addr.String(), Auth: mailcfg.AuthPassword, Incoming: in, Outgoing: out}, nil
}

func (a *Autodiscover) pick(proto mailcfg.Protocol, login mailcfg.Address) (mailcfg.Server, bool) {
	var starttls mailcfg.Server
	have := false
	for _, p := range a.Protocols {
		s, ok := p.server(proto, login)
		if !ok {
			continue
		}
		if s.Security == mailcfg.SecurityTLS {
			return s, true
		}
		if !have {
			starttls, have = s, true
		}
	}
	return starttls, have
}

// plainPorts are the ports where a server speaks plain text first, so
// "encrypted" there means STARTTLS; Thunderbird reads the ports the same way.
var plainPorts = map[int]bool{143: true, 110: true, 25: true, 587: true}

func (p AutodiscoverProtocol) server(proto mailcfg.Protocol, login mailcfg.Address) (mailcfg.Server, bool) {
	if !strings.EqualFold(p.Type, string(proto)) {
		return mailcfg.Server{}, false
	}
	if strings.EqualFold(p.SSL, "off") || strings.EqualFold(p.Encryption, "none") || strings.EqualFold(p.SPA, "on") {
		return mailcfg.Server{}, false
	}
	port := 0
	if p.Port == "" {
		port = mailcfg.DefaultPort(proto, mailcfg.SecurityTLS)
	} else if n, err := strconv.Atoi(p.Port); err == nil && n > 0 && n < 65536 {
		port = n
	} else {
		return mailcfg.Server{}, false
	}
	sec := mailcfg.SecurityTLS
	switch {
	case plainPorts[port]:
		sec = mailcfg.SecurityStartTLS
	case port == 993 || port == 995 || port == 465:
	case strings.EqualFold(p.Encryption, "TLS"):
		sec = mailcfg.SecurityStartTLS
	}
	host, ok := mailcfg.NormalizeHost(p.Server)
	if !ok || !publicHost(host) {
		return mailcfg.Server{}, false
	}
	user := p.LoginName
	switch {
	case user == "":
		user = login.String()
	case strings.ContainsFunc(user, unicode.IsControl) || len(user) > 320:
		return mailcfg.Server{}, false
	}
	return mailcfg.Server{Protocol: proto, Host: host, Port: port, Security: sec, Username: user}, true
}

// autodiscoverRequest is the POX request body for an address.
func autodiscoverRequest(addr mailcfg.Address) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	b.WriteString(`<Autodiscover xmlns="` + autodiscoverRequestNS + `"><Request><EMailAddress>`)
	_ = xml.EscapeText(&b, []byte(addr.String()))
	b.WriteString(`</EMailAddress><AcceptableResponseSchema>` + autodiscoverResponseNS + `</AcceptableResponseSchema></Request></Autodiscover>` + "\n")
	return b.Bytes()
}

// microsoftHosts are Microsoft's own Autodiscover domains: a redirect
// there (hybrid and Exchange Online) needs no confirmation, as in
// Thunderbird.
var microsoftHosts = []string{"outlook.com", "office365.com", "onmicrosoft.com"}

// sameSite reports whether host belongs to the same registrable domain as
// the address's domain; both are normalised A-labels (see adHost). A
// domain that is itself a public suffix (an address at gov.pl) has no
// registrable domain, so only the domain itself is the same site: its
// subdomains belong to others.
func sameSite(host, domain string) bool {
	if host == domain {
		return true
	}
	hb, err1 := publicsuffix.EffectiveTLDPlusOne(host)
	db, err2 := publicsuffix.EffectiveTLDPlusOne(domain)
	return err1 == nil && err2 == nil && hb == db
}

// adHost is the form of a host Autodiscover compares, asks about and
// connects to: the lower-case A-label without a trailing dot, so a
// look-alike Unicode name is shown as the xn-- name it really is and a
// trailing dot or upper case cannot make the same host look foreign (or a
// foreign one look the same). Address literals, loopback and localhost
// are refused: they are never the firm's domain, and a redirect there
// would send the address (and, after consent, the password) into the
// user's own machine or network.
func adHost(h string) (string, bool) {
	a, ok := mailcfg.NormalizeHost(h)
	if !ok || net.ParseIP(a) != nil || !publicHost(a) {
		return "", false
	}
	return a, true
}

// adTarget checks a URL Autodiscover is sent to (a redirect, a
// RedirectUrl): https, a public host name, and gives it back with the host
// normalised (see adHost) and without userinfo or fragment, so the request
// goes to exactly the host consent was asked about and carries no
// credentials the answer put in the URL.
func adTarget(u *url.URL) (*url.URL, error) {
	if u == nil || u.Scheme != "https" || u.Host == "" || u.Opaque != "" {
		return nil, errors.New("autodiscover: only https URLs are asked")
	}
	host, ok := adHost(u.Hostname())
	if !ok {
		return nil, errors.New("autodiscover: redirect to an address literal or a local host refused")
	}
	c := *u
	c.User, c.Fragment, c.RawFragment = nil, "", ""
	c.Host = host
	if p := u.Port(); p != "" {
		c.Host = net.JoinHostPort(host, p)
	}
	return &c, nil
}

func microsoftHost(host string) bool {
	for _, m := range microsoftHosts {
		if host == m || strings.HasSuffix(host, "."+m) {
			return true
		}
	}
	return false
}

// consent asks, once per host and one question at a time, whether
// Autodiscover may follow a redirect to a host outside the address's
// domain. It waits until every better source has finished, so the person
// is not asked when a better answer is coming.
type consent struct {
	ask    func(ctx context.Context, from, to string) bool
	gate   chan struct{}   // closed when no better source is running
	turn   chan struct{}   // one question at a time
	answer map[string]bool // by host; read and written only by turn's holder
}

func newConsent(ask func(ctx context.Context, from, to string) bool) *consent {
	c := &consent{ask: ask, gate: make(chan struct{}), turn: make(chan struct{}, 1), answer: map[string]bool{}}
	c.turn <- struct{}{}
	return c
}

func (c *consent) open() {
	select {
	case <-c.gate:
	default:
		close(c.gate)
	}
}

func (c *consent) confirm(ctx context.Context, domain, host string) bool {
	host, ok := adHost(host)
	if !ok {
		return false
	}
	if sameSite(host, domain) || microsoftHost(host) {
		return true
	}
	if c.ask == nil {
		return false
	}
	select {
	case <-c.gate:
	case <-ctx.Done():
		return false
	}
	select {
	case <-c.turn:
	case <-ctx.Done():
		return false
	}
	defer func() { c.turn <- struct{}{} }()
	if a, asked := c.answer[host]; asked {
		return a
	}
	a := c.ask(ctx, domain, host) && ctx.Err() == nil
	c.answer[host] = a
	return a
}

// adStart is one of Autodiscover's starting points.
type adStart struct {
	what string
	run  func(ctx context.Context) (*candidate, error)
}

// autodiscoverJob owns rankAutodiscover: it asks every starting point at
// once and reports the first, in order, that gave settings.
func (e *engine) autodiscoverJob(ctx context.Context) {
	d := e.addr.Domain
	starts := []adStart{
		{"https://autodiscover." + d + autodiscoverPath, func(ctx context.Context) (*candidate, error) {
			return e.adFollow(ctx, e.addr, "https://autodiscover."+d+autodiscoverPath, 0)
		}},
		{"https://" + d + autodiscoverPath, func(ctx context.Context) (*candidate, error) {
			return e.adFollow(ctx, e.addr, "https://"+d+autodiscoverPath, 0)
		}},
		{"http://autodiscover." + d + autodiscoverPath, e.adHTTPRedirect},
		{"dns:SRV _autodiscover._tcp." + d, e.adSRV},
	}
	type res struct {
		c   *candidate
		err error
	}
	results := make([]chan res, len(starts))
	for i, s := range starts {
		results[i] = make(chan res, 1)
		go func() {
			c, err := s.run(ctx)
			results[i] <- res{c, err}
		}()
	}
	var errs []error
	for i := range starts {
		var r res
		select {
		case r = <-results[i]:
		case <-ctx.Done():
			return
		}
		if r.c != nil {
			e.send(ctx, rankAutodiscover, r.c)
			return
		}
		errs = append(errs, r.err)
	}
	// The most telling failure decides the note: settings that exist but
	// are Exchange-only, then a server that wants the password.
	for _, n := range []struct {
		err  error
		note Note
	}{{ErrExchangeOnly, NoteExchangeOnly}, {ErrAutodiscoverPassword, NoteAutodiscoverPassword}} {
		if slicesContainsErr(errs, n.err) {
			e.setNote(n.note)
			break
		}
	}
	e.send(ctx, rankAutodiscover, nil)
}

func slicesContainsErr(errs []error, target error) bool {
	for _, err := range errs {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// adHTTPRedirect asks the plain-http Autodiscover host for a redirect
// (never sending the address or a password) and follows it only to https.
func (e *engine) adHTTPRedirect(ctx context.Context) (*candidate, error) {
	raw := "http://autodiscover." + e.addr.Domain + autodiscoverPath
	rec := e.log.begin(mailcfg.SourceAutodiscover, raw)
	loc, err := e.adRedirectOnly(ctx, raw)
	e.log.end(rec, err)
	if err != nil {
		return nil, err
	}
	if loc, err = adTarget(loc); err != nil {
		return nil, err
	}
	if !e.consent.confirm(ctx, e.addr.Domain, loc.Hostname()) {
		e.log.add(Attempt{Source: mailcfg.SourceAutodiscover, URL: displayURL(loc.String()), Err: ErrRedirectNotConfirmed.Error()})
		return nil, ErrRedirectNotConfirmed
	}
	return e.adFollow(ctx, e.addr, loc.String(), 0)
}

func (e *engine) adRedirectOnly(ctx context.Context, raw string) (*url.URL, error) {
	ctx, cancel := context.WithTimeout(ctx, FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "InfinoMailbox/"+mailcfg.Version)
	resp, err := e.adClient.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		return nil, fmt.Errorf("HTTP %s, not a redirect", resp.Status)
	}
	loc, err := resp.Location()
	if err != nil {
		return nil, err
	}
	if loc.Scheme != "https" {
		return nil, fmt.Errorf("redirect to %q, not https", loc.Scheme)
	}
	return loc, nil
}

// adSRV follows the _autodiscover._tcp record to its https host.
func (e *engine) adSRV(ctx context.Context) (*candidate, error) {
	rec := e.log.begin(mailcfg.SourceAutodiscover, "dns:SRV _autodiscover._tcp."+e.addr.Domain)
	lctx, cancel := context.WithTimeout(ctx, LookupTimeout)
	_, recs, err := e.resolver.LookupSRV(lctx, "autodiscover", "tcp", e.addr.Domain+".")
	cancel()
	target, port := "", 0
	for _, r := range recs { // sorted by priority, then weighted
		h, ok := adHost(r.Target)
		if ok && r.Port != 0 {
			target, port = h, int(r.Port)
			break
		}
	}
	if target == "" && err == nil {
		err = errors.New("no usable record")
	}
	e.log.end(rec, err)
	if err != nil && target == "" {
		return nil, err
	}
	if !e.consent.confirm(ctx, e.addr.Domain, target) {
		e.log.add(Attempt{Source: mailcfg.SourceAutodiscover, URL: "https://" + target + autodiscoverPath, Err: ErrRedirectNotConfirmed.Error()})
		return nil, ErrRedirectNotConfirmed
	}
	hostPort := target
	if port != 443 {
		hostPort = net.JoinHostPort(target, strconv.Itoa(port))
	}
	return e.adFollow(ctx, e.addr, "https://"+hostPort+autodiscoverPath, 0)
}

// adFollow POSTs the request for addr to an https URL and follows what the
// answer says: HTTP redirects and RedirectUrl (to https only), RedirectAddr
// (another address, at most MaxAutodiscoverHops of those two), each leaving
// the user's domain only with consent.
func (e *engine) adFollow(ctx context.Context, addr mailcfg.Address, raw string, hops int) (*candidate, error) {
	for redirects := 0; ; redirects++ {
		if redirects > MaxRedirects {
			return nil, fmt.Errorf("autodiscover: stopped after %d redirects", MaxRedirects)
		}
		u, err := url.Parse(raw)
		if err != nil {
			return nil, errors.New("autodiscover: only https URLs are asked")
		}
		if u, err = adTarget(u); err != nil {
			return nil, err
		}
		rec := e.log.begin(mailcfg.SourceAutodiscover, displayURL(raw))
		doc, loc, err := e.adPost(ctx, addr, u)
		e.log.end(rec, err)
		switch {
		case err != nil:
			return nil, err
		case loc != nil:
			if loc.Scheme != "https" {
				return nil, fmt.Errorf("autodiscover: redirect to %q, not https", loc.Scheme)
			}
			if loc, err = adTarget(loc); err != nil {
				return nil, err
			}
			if !e.consent.confirm(ctx, e.addr.Domain, loc.Hostname()) {
				return nil, ErrRedirectNotConfirmed
			}
			raw = loc.String()
			continue
		}
		switch strings.ToLower(doc.Action) {
		case "redirecturl":
			if hops >= MaxAutodiscoverHops {
				return nil, errors.New("autodiscover: too many redirects")
			}
			hops++
			next, err := url.Parse(doc.RedirectURL)
			if err != nil || next.Scheme != "https" || next.Host == "" {
				return nil, errors.New("autodiscover: RedirectUrl is not an https URL")
			}
			if next, err = adTarget(next); err != nil {
				return nil, err
			}
			if !e.consent.confirm(ctx, e.addr.Domain, next.Hostname()) {
				return nil, ErrRedirectNotConfirmed
			}
			raw = next.String()
			continue
		case "redirectaddr":
			if hops >= MaxAutodiscoverHops {
				return nil, errors.New("autodiscover: too many redirects")
			}
			next, err := mailcfg.ParseAddress(doc.RedirectAddr)
			if err != nil {
				return nil, errors.New("autodiscover: RedirectAddr is not an address")
			}
			if !e.consent.confirm(ctx, e.addr.Domain, next.Domain) {
				return nil, ErrRedirectNotConfirmed
			}
			c, err := e.adFollow(ctx, next, "https://autodiscover."+next.Domain+autodiscoverPath, hops+1)
			if c == nil && ctx.Err() == nil {
				c, err = e.adFollow(ctx, next, "https://"+next.Domain+autodiscoverPath, hops+1)
			}
			return c, err
		}
		if doc.ErrorCode != "" || doc.ErrorMessage != "" {
			return nil, fmt.Errorf("autodiscover: server error %s %s", doc.ErrorCode, doc.ErrorMessage)
		}
		s, err := doc.Settings(e.addr, addr, e.proto)
		if err != nil {
			return nil, err
		}
		return e.finish(s, mailcfg.SourceAutodiscover, false, []string{s.Incoming.Host, s.Outgoing.Host})
	}
}

// adPost sends one request: first without credentials, then, if the
// server answers 401 and the caller gave a password, once more with Basic
// authentication (https only, checked again here). It returns the parsed
// answer or the redirect's target.
func (e *engine) adPost(ctx context.Context, addr mailcfg.Address, u *url.URL) (*Autodiscover, *url.URL, error) {
	resp, err := e.adDo(ctx, addr, u, false)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		resp.Body.Close()
		if e.password == "" {
			return nil, nil, ErrAutodiscoverPassword
		}
		resp, err = e.adDo(ctx, addr, u, true)
		if err != nil {
			return nil, nil, err
		}
		if resp.StatusCode == http.StatusUnauthorized {
			resp.Body.Close()
			return nil, nil, errors.New("autodiscover: the server refused the password")
		}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		loc, err := resp.Location()
		if err != nil {
			return nil, nil, err
		}
		return nil, loc, nil
	}
	data, err := readOK(resp, MaxAutodiscoverSize)
	if err != nil {
		return nil, nil, err
	}
	doc, err := ParseAutodiscover(data)
	return doc, nil, err
}

func (e *engine) adDo(ctx context.Context, addr mailcfg.Address, u *url.URL, withPassword bool) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, FetchTimeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(autodiscoverRequest(addr)))
	if err != nil {
		cancel()
		return nil, err
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("User-Agent", "InfinoMailbox/"+mailcfg.Version)
	if withPassword {
		if req.URL.Scheme != "https" {
			cancel()
			return nil, errors.New("autodiscover: a password goes only over https")
		}
		req.SetBasicAuth(addr.String(), e.password)
	}
	resp, err := e.adClient.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = cancelOnClose{resp.Body, cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// noRedirects makes a client that hands every redirect back to the
// caller, which checks it (https only, consent) before following.
func noRedirects(c *http.Client) *http.Client {
	cp := *c
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}
