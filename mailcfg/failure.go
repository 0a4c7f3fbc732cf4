package mailcfg

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/textproto"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/emersion/go-imap/v2"
	gomail "github.com/wneessen/go-mail"
)

// Kind is the stable classification of a failed mail-server check. The window,
// the command line, the OAuth sign-in and the hand-off all speak these kinds;
// they are part of the JSON contract of the CLI.
type Kind string

const (
	KindDNS            Kind = "dns"             // the server name does not resolve
	KindConnect        Kind = "connect"         // no TCP connection, or the server turned it away at once
	KindTimeout        Kind = "timeout"         // a step or the whole check took too long
	KindTLSCertificate Kind = "tls_certificate" // the certificate is not trusted (see Failure.Certificate)
	KindTLSUnavailable Kind = "tls_unavailable" // no encryption on offer, or it could not be set up
	KindAuthFailed     Kind = "auth_failed"     // user name or password (or token) refused
	// KindAppPasswordRequired: the provider wants an app password instead of
	// the account password (Gmail "Application-specific password required").
	KindAppPasswordRequired Kind = "app_password_required"
	// KindAuthDisabled: mail-program access is switched off at the provider
	// or by the tenant's administrator (Microsoft 535 5.7.139).
	KindAuthDisabled Kind = "auth_disabled"
	KindProtocol     Kind = "protocol"  // the server does not speak the expected protocol, or broke it
	KindCancelled    Kind = "cancelled" // the user (or the caller's context) stopped the check
	// KindInsecureRefused: security "none" without the policy and the user's
	// explicit consent; nothing was sent.
	KindInsecureRefused Kind = "insecure_refused"
)

// Kinds lists every kind, in the order above.
var Kinds = []Kind{KindDNS, KindConnect, KindTimeout, KindTLSCertificate, KindTLSUnavailable,
	KindAuthFailed, KindAppPasswordRequired, KindAuthDisabled, KindProtocol, KindCancelled, KindInsecureRefused}

// Certificate failure reasons (CertInfo.Reason).
const (
	CertUnknownAuthority = "unknown_authority"
	CertExpired          = "expired"
	CertNotYetValid      = "not_yet_valid"
	CertWrongHost        = "wrong_host"
	// CertPinMismatch: the server's certificate is not the one pinned in
	// Server.CertSHA256.
	CertPinMismatch = "pin_mismatch"
	CertOther       = "other"
)

// CertInfo describes the leaf certificate a server presented, so a person can
// compare it with what their IT department says.
type CertInfo struct {
	// SHA256 is the fingerprint of the leaf's DER, lower-case hex with colons
	// (FormatFingerprint); pin it with Server.CertSHA256.
	SHA256    string    `json:"sha256"`
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
	// Names are the DNS names and IP addresses the certificate is valid for.
	Names  []string `json:"names"`
	Reason string   `json:"reason"`
}

// NewCertInfo describes a leaf certificate and why it was refused.
func NewCertInfo(leaf *x509.Certificate, reason string) *CertInfo {
	if leaf == nil {
		return &CertInfo{Reason: reason}
	}
	sum := sha256.Sum256(leaf.Raw)
	names := append([]string{}, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && leaf.Subject.CommonName != "" {
		names = append(names, leaf.Subject.CommonName)
	}
	return &CertInfo{
		SHA256:    FormatFingerprint(sum[:]),
		Subject:   leaf.Subject.String(),
		Issuer:    leaf.Issuer.String(),
		NotBefore: leaf.NotBefore.UTC(),
		NotAfter:  leaf.NotAfter.UTC(),
		Names:     names,
		Reason:    reason,
	}
}

// CertificateError is a server certificate that was not trusted. The verifier
// returns it from tls.Config.VerifyConnection so the leaf can be reported.
type CertificateError struct {
	Leaf   *x509.Certificate
	Reason string // CertUnknownAuthority, …
	Err    error  // the x509 error, ErrCertPinMismatch, …
}

func (e *CertificateError) Error() string {
	return "tls: server certificate not trusted: " + e.Reason
}

func (e *CertificateError) Unwrap() error { return e.Err }

// Errors a checker wraps around what went wrong, to tell Classify the phase of
// the session where the protocol reply alone would be ambiguous.
var (
	// ErrTLSUnavailable: STARTTLS/STLS was not offered, or was refused.
	ErrTLSUnavailable = errors.New("the server offers no encryption (STARTTLS)")
	// ErrAuthRejected wraps a negative server reply to the sign-in itself.
	ErrAuthRejected = errors.New("the server rejected the sign-in")
	// ErrNoAuthMechanism: the server offers no sign-in method the app can use
	// (LOGINDISABLED and no AUTH=PLAIN, no XOAUTH2 for a token, …).
	ErrNoAuthMechanism = errors.New("the server offers no usable sign-in method")
	// ErrInsecureRefused: security "none" was asked for without consent.
	ErrInsecureRefused = errors.New("refusing to send a credential without encryption")
	// ErrProtocol: the server's reply broke the protocol (garbage, a line too
	// long, an unexpected reply).
	ErrProtocol = errors.New("the server's reply does not follow the protocol")
	// ErrTLSHandshake wraps a TLS handshake that failed for a reason other
	// than the certificate (no common version or cipher, the server hung up).
	ErrTLSHandshake = errors.New("the TLS handshake failed")
	// ErrCertPinMismatch: the leaf is not the one in Server.CertSHA256.
	ErrCertPinMismatch = errors.New("certificate does not match the pinned fingerprint")
	// ErrGreetingRefused: the server answered the connection with a refusal
	// (IMAP BYE, POP3 -ERR, SMTP 421/554).
	ErrGreetingRefused = errors.New("the server refused the connection")
)

// POP3Error is a -ERR reply of a POP3 server. Code is the RFC 2449/3206
// response code without brackets ("AUTH", "SYS/TEMP", "SYS/PERM", "IN-USE",
// "LOGIN-DELAY") or empty. Text is the server's human text: it is kept for
// the narrow provider checks in Classify and never printed.
type POP3Error struct {
	Command string // the command answered ("USER", "PASS", "AUTH", "STLS", "CAPA", "greeting", …)
	Code    string
	Text    string
}

// Error never includes the server's text, which could echo anything.
func (e *POP3Error) Error() string {
	s := "pop3: " + e.Command + ": -ERR"
	if e.Code != "" {
		s += " [" + e.Code + "]"
	}
	return s
}

// Failure is a classified failure with everything a person needs: what
// happened, what to do, and which field of the form to look at. It is an
// error; Error() is English and never contains server text or secrets.
type Failure struct {
	Kind    Kind `json:"kind"`
	Message Text `json:"message"`
	Hint    Text `json:"hint"`
	// Field is the settings field the form should focus ("incoming.host",
	// "outgoing.port", "incoming.security", "password", …) or empty.
	Field       string    `json:"field,omitempty"`
	Certificate *CertInfo `json:"certificate,omitempty"`
	// Detail is safe technical detail: a status or enhanced code, an errno,
	// a step name. Never server text, never a password or token.
	Detail string `json:"detail,omitempty"`
}

func (f *Failure) Error() string {
	s := string(f.Kind) + ": " + f.Message.EN
	if f.Detail != "" {
		s += " (" + f.Detail + ")"
	}
	return s
}

// FailureJSON is a failure in one language, the shape of the CLI's --json
// "error" objects.
type FailureJSON struct {
	Kind        Kind      `json:"kind"`
	Message     string    `json:"message"`
	Hint        string    `json:"hint,omitempty"`
	Field       string    `json:"field,omitempty"`
	Detail      string    `json:"detail,omitempty"`
	Certificate *CertInfo `json:"certificate,omitempty"`
}

// JSON renders the failure in a language ("pl", "en", a locale).
func (f *Failure) JSON(lang string) FailureJSON {
	return FailureJSON{
		Kind:        f.Kind,
		Message:     f.Message.In(lang),
		Hint:        f.Hint.In(lang),
		Field:       f.Field,
		Detail:      f.Detail,
		Certificate: f.Certificate,
	}
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
		for _, s := range append(append([]ServerTemplate{}, p.Incoming...), p.Outgoing...) {
			if strings.EqualFold(s.Host, h) {
				return p
			}
		}
	}
	return nil
}

// NewFailure builds a failure of a kind with its standard message and hint
// for a side ("incoming", "outgoing" or "") and, where known, the provider's
// help text.
func NewFailure(kind Kind, side string, provider *Provider) *Failure {
	return build(kind, string(kind), side, provider, "")
}

// Classify is the one place that turns an error from a mail-server check (net,
// tls, x509, go-imap, go-mail, net/textproto, the POP3 client, context) into
// a Failure. side is "incoming", "outgoing" or ""; provider may be nil. A
// *Failure anywhere in err's chain is returned as is. nil gives nil.
func Classify(err error, side string, provider *Provider) *Failure {
	if err == nil {
		return nil
	}
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	c := classify(err, provider)
	fail := build(c.kind, c.msg, side, provider, c.detail)
	if c.cert != nil {
		fail.Certificate = c.cert
		fail.Hint = certHints[c.cert.Reason]
		if fail.Hint.IsZero() {
			fail.Hint = certHints[CertOther]
		}
		if c.cert.Reason == CertWrongHost && provider != nil {
			fail.Hint = joinText(fail.Hint, provider.Help)
		}
		fail.Field = certField(side, c.cert.Reason)
	}
	if c.field != "" {
		fail.Field = fieldFor(side, c.field)
	}
	return fail
}

type classified struct {
	kind   Kind
	msg    string // key into messages; defaults to the kind
	detail string
	field  string // overrides the kind's default field (without the side)
	cert   *CertInfo
}

func classify(err error, provider *Provider) classified {
	// Order matters: the phase markers and the most specific types first.
	switch {
	case errors.Is(err, context.Canceled):
		return classified{kind: KindCancelled}
	case errors.Is(err, ErrInsecureRefused):
		return classified{kind: KindInsecureRefused}
	}
	if c, ok := classifyCert(err); ok {
		return c
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return classified{kind: KindTimeout}
	}
	if appPasswordText(err) {
		return classified{kind: KindAppPasswordRequired, detail: replyDetail(err)}
	}
	if c, ok := classifyReply(err, provider); ok {
		return c
	}
	switch {
	case errors.Is(err, ErrTLSUnavailable):
		return classified{kind: KindTLSUnavailable, detail: replyDetail(err)}
	case errors.Is(err, ErrNoAuthMechanism):
		return classified{kind: KindProtocol, msg: "no_mechanism", field: "security"}
	case errors.Is(err, ErrGreetingRefused):
		return classified{kind: KindConnect, msg: "greeting_refused", detail: replyDetail(err)}
	case errors.Is(err, ErrAuthRejected):
		return classified{kind: KindAuthFailed, detail: replyDetail(err)}
	}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		return classified{kind: KindTLSUnavailable, msg: "tls_not_spoken", detail: "not a TLS server on this port"}
	}
	var alert tls.AlertError
	if errors.As(err, &alert) {
		return classified{kind: KindTLSUnavailable, msg: "tls_handshake", detail: "tls alert " + strconv.Itoa(int(alert))}
	}
	if errors.Is(err, ErrTLSHandshake) {
		return classified{kind: KindTLSUnavailable, msg: "tls_handshake", detail: "tls handshake failed"}
	}
	if c, ok := classifyNet(err); ok {
		return c
	}
	var ae *net.AddrError
	if errors.As(err, &ae) {
		return classified{kind: KindConnect, detail: "address"}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return classified{kind: KindProtocol, msg: "closed", detail: "connection closed"}
	}
	return classified{kind: KindProtocol}
}

// classifyCert finds a refused certificate anywhere in the chain.
func classifyCert(err error) (classified, bool) {
	var ce *CertificateError
	if errors.As(err, &ce) {
		return classified{kind: KindTLSCertificate, cert: NewCertInfo(ce.Leaf, ce.Reason), detail: ce.Reason}, true
	}
	var leaf *x509.Certificate
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) && len(cve.UnverifiedCertificates) > 0 {
		leaf = cve.UnverifiedCertificates[0]
	}
	reason, cert, ok := X509Reason(err, time.Now())
	if !ok {
		if cve == nil {
			return classified{}, false
		}
		reason = CertOther
	}
	if leaf == nil {
		leaf = cert
	}
	return classified{kind: KindTLSCertificate, cert: NewCertInfo(leaf, reason), detail: reason}, true
}

// X509Reason maps an x509 verification error to a CertInfo reason and the
// certificate it names. now tells an expired certificate from one not yet
// valid.
func X509Reason(err error, now time.Time) (reason string, cert *x509.Certificate, ok bool) {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &he):
		return CertWrongHost, he.Certificate, true
	case errors.As(err, &ci):
		if ci.Reason == x509.Expired {
			if ci.Cert != nil && now.Before(ci.Cert.NotBefore) {
				return CertNotYetValid, ci.Cert, true
			}
			return CertExpired, ci.Cert, true
		}
		return CertOther, ci.Cert, true
	case errors.As(err, &ua):
		return CertUnknownAuthority, ua.Cert, true
	}
	var ca x509.ConstraintViolationError
	var ua2 x509.UnhandledCriticalExtension
	var ia x509.InsecureAlgorithmError
	if errors.As(err, &ca) || errors.As(err, &ua2) || errors.As(err, &ia) {
		return CertOther, nil, true
	}
	return "", nil, false
}

// enhancedCode is an RFC 3463 enhanced status code at the start of an SMTP
// reply text.
var enhancedCode = regexp.MustCompile(`^([245])\.(\d{1,3})\.(\d{1,3})(?:[ \t]|$)`)

// SMTPCodes returns the basic reply code and the RFC 3463 enhanced code (or
// "") of an SMTP error from go-mail or net/textproto.
func SMTPCodes(err error) (code int, enhanced string, ok bool) {
	var se *gomail.SendError
	if errors.As(err, &se) {
		if c := se.ErrorCode(); c != 0 {
			return c, se.EnhancedStatusCode(), true
		}
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		if m := enhancedCode.FindStringSubmatch(te.Msg); m != nil {
			enhanced = m[1] + "." + m[2] + "." + m[3]
		}
		return te.Code, enhanced, true
	}
	return 0, "", false
}

// appPasswordText is the one narrow string match: Google says
// "Application-specific password required" (IMAP, POP3 and SMTP alike) and
// gives no code that means it.
func appPasswordText(err error) bool {
	const needle = "application-specific password required"
	var ie *imap.Error
	if errors.As(err, &ie) && strings.Contains(strings.ToLower(ie.Text), needle) {
		return true
	}
	var pe *POP3Error
	if errors.As(err, &pe) && strings.Contains(strings.ToLower(pe.Text), needle) {
		return true
	}
	var te *textproto.Error
	if errors.As(err, &te) && strings.Contains(strings.ToLower(te.Msg), needle) {
		return true
	}
	return false
}

// classifyReply maps protocol status replies by their codes.
func classifyReply(err error, provider *Provider) (classified, bool) {
	inAuth := errors.Is(err, ErrAuthRejected)
	var ie *imap.Error
	if errors.As(err, &ie) {
		d := "IMAP " + safeToken(string(ie.Type))
		if ie.Code != "" {
			d += " [" + safeToken(string(ie.Code)) + "]"
		}
		switch ie.Code {
		case imap.ResponseCodeAuthenticationFailed, imap.ResponseCodeAuthorizationFailed:
			return classified{kind: KindAuthFailed, detail: d}, true
		case imap.ResponseCodeExpired:
			return classified{kind: KindAuthFailed, msg: "password_expired", detail: d}, true
		case imap.ResponseCodeContactAdmin:
			return classified{kind: KindAuthDisabled, detail: d}, true
		case imap.ResponseCodePrivacyRequired:
			return classified{kind: KindTLSUnavailable, detail: d}, true
		case imap.ResponseCodeUnavailable:
			return classified{kind: KindProtocol, msg: "server_temporary", detail: d}, true
		}
		switch {
		case errors.Is(err, ErrGreetingRefused):
			return classified{kind: KindConnect, msg: "greeting_refused", detail: d}, true
		case errors.Is(err, ErrTLSUnavailable):
			return classified{kind: KindTLSUnavailable, detail: d}, true
		case inAuth && ie.Type == imap.StatusResponseTypeNo:
			return classified{kind: KindAuthFailed, detail: d}, true
		}
		return classified{kind: KindProtocol, detail: d}, true
	}
	var pe *POP3Error
	if errors.As(err, &pe) {
		d := "POP3 " + safeToken(pe.Command) + " -ERR"
		if pe.Code != "" {
			d += " [" + safeToken(pe.Code) + "]"
		}
		code := strings.ToUpper(pe.Code)
		switch {
		case errors.Is(err, ErrGreetingRefused):
			return classified{kind: KindConnect, msg: "greeting_refused", detail: d}, true
		case errors.Is(err, ErrTLSUnavailable):
			return classified{kind: KindTLSUnavailable, detail: d}, true
		case code == "AUTH":
			return classified{kind: KindAuthFailed, detail: d}, true
		case code == "SYS/PERM" && inAuth:
			return classified{kind: KindAuthDisabled, detail: d}, true
		case code == "SYS/TEMP" || code == "IN-USE" || code == "LOGIN-DELAY":
			return classified{kind: KindProtocol, msg: "server_temporary", detail: d}, true
		case inAuth:
			return classified{kind: KindAuthFailed, detail: d}, true
		}
		return classified{kind: KindProtocol, detail: d}, true
	}
	code, enh, ok := SMTPCodes(err)
	if !ok {
		return classified{}, false
	}
	d := "SMTP " + strconv.Itoa(code)
	if enh != "" {
		d += " " + enh
	}
	microsoft := provider != nil && provider.OAuth == "microsoft"
	google := provider != nil && provider.OAuth == "google"
	switch {
	case enh == "5.7.139":
		return classified{kind: KindAuthDisabled, detail: d}, true
	case enh == "5.7.3" && microsoft:
		return classified{kind: KindAuthDisabled, msg: "microsoft_573", detail: d}, true
	case code == 534 && enh == "5.7.9" && google:
		return classified{kind: KindAppPasswordRequired, detail: d}, true
	case enh == "5.7.8" || code == 535:
		return classified{kind: KindAuthFailed, detail: d}, true
	case code == 530 && !inAuth, code == 538, enh == "5.7.11":
		return classified{kind: KindTLSUnavailable, detail: d}, true
	case errors.Is(err, ErrTLSUnavailable):
		return classified{kind: KindTLSUnavailable, detail: d}, true
	case code == 421 || code == 554 && errors.Is(err, ErrGreetingRefused):
		return classified{kind: KindConnect, msg: "greeting_refused", detail: d}, true
	case code == 454 || code/100 == 4:
		return classified{kind: KindProtocol, msg: "server_temporary", detail: d}, true
	case inAuth && (code == 534 || code == 530 || code/100 == 5):
		return classified{kind: KindAuthFailed, detail: d}, true
	}
	return classified{kind: KindProtocol, detail: d}, true
}

func classifyNet(err error) (classified, bool) {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		switch {
		case dns.IsNotFound:
			return classified{kind: KindDNS, detail: "no such host"}, true
		case dns.IsTimeout:
			return classified{kind: KindDNS, msg: "dns_temporary", detail: "dns timeout"}, true
		}
		return classified{kind: KindDNS, msg: "dns_temporary", detail: "dns error"}, true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return classified{kind: KindTimeout}, true
	}
	var op *net.OpError
	if !errors.As(err, &op) {
		switch {
		case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
			return classified{kind: KindProtocol, msg: "closed", detail: "connection reset"}, true
		}
		return classified{}, false
	}
	if op.Op != "dial" {
		return classified{kind: KindProtocol, msg: "closed", detail: "connection " + op.Op + " failed"}, true
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return classified{kind: KindConnect, msg: "refused", detail: "connection refused", field: "port"}, true
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return classified{kind: KindConnect, msg: "unreachable", detail: "unreachable"}, true
	}
	return classified{kind: KindConnect, detail: "dial failed"}, true
}

// replyDetail is the safe detail of a protocol reply inside err, if any.
func replyDetail(err error) string {
	var ie *imap.Error
	if errors.As(err, &ie) {
		d := "IMAP " + safeToken(string(ie.Type))
		if ie.Code != "" {
			d += " [" + safeToken(string(ie.Code)) + "]"
		}
		return d
	}
	var pe *POP3Error
	if errors.As(err, &pe) {
		return "POP3 " + safeToken(pe.Command) + " -ERR"
	}
	if code, enh, ok := SMTPCodes(err); ok {
		d := "SMTP " + strconv.Itoa(code)
		if enh != "" {
			d += " " + enh
		}
		return d
	}
	return ""
}

// safeToken keeps a server-supplied code printable and short: letters,
// digits and -/_. only, at most 32 characters.
func safeToken(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 32 {
			break
		}
		if r < 0x80 && (r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./", r)) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func fieldFor(side, field string) string {
	switch field {
	case "", "password", "auth":
		return field
	}
	if side == "" {
		return ""
	}
	return side + "." + field
}

func certField(side, reason string) string {
	switch reason {
	case CertWrongHost:
		return fieldFor(side, "host")
	case CertUnknownAuthority, CertPinMismatch:
		return fieldFor(side, "certSha256")
	}
	return ""
}

// defaultFields is the field each kind points the form at.
var defaultFields = map[Kind]string{
	KindDNS:                 "host",
	KindConnect:             "host",
	KindTimeout:             "host",
	KindTLSUnavailable:      "security",
	KindInsecureRefused:     "security",
	KindAuthFailed:          "password",
	KindAppPasswordRequired: "password",
	KindProtocol:            "port",
}

// providerHintKinds get the provider's help text as their hint: it tells how
// to switch on mail-program access or create an app password.
var providerHintKinds = map[Kind]bool{
	KindAuthFailed: true, KindAppPasswordRequired: true, KindAuthDisabled: true,
}

func build(kind Kind, msg, side string, provider *Provider, detail string) *Failure {
	m, ok := messages[msg]
	if !ok {
		m = messages[string(kind)]
	}
	f := &Failure{
		Kind:    kind,
		Message: Text{PL: strings.ReplaceAll(m.PL, "%[1]s", sideNoun(side).PL), EN: strings.ReplaceAll(m.EN, "%[1]s", sideNoun(side).EN)},
		Hint:    hints[kind],
		Field:   fieldFor(side, defaultFields[kind]),
		Detail:  detail,
	}
	if provider != nil && providerHintKinds[kind] && !provider.Help.IsZero() {
		f.Hint = provider.Help
	}
	return f
}

func sideNoun(side string) Text {
	switch side {
	case "incoming":
		return Text{"Serwer poczty przychodzącej", "The incoming mail server"}
	case "outgoing":
		return Text{"Serwer poczty wychodzącej", "The outgoing mail server"}
	}
	return Text{"Serwer poczty", "The mail server"}
}

func joinText(a, b Text) Text {
	j := func(x, y string) string {
		switch {
		case x == "":
			return y
		case y == "":
			return x
		}
		return x + " " + y
	}
	return Text{PL: j(a.PL, b.PL), EN: j(a.EN, b.EN)}
}

// messages says what happened. %[1]s is the server ("The incoming mail
// server"), always the subject of the sentence, so Polish needs no other case.
var messages = map[string]Text{
	"dns":              {"%[1]s: nie ma takiego adresu w internecie.", "%[1]s: there is no such address on the internet."},
	"dns_temporary":    {"%[1]s: nie udało się sprawdzić adresu (problem z DNS lub brak internetu).", "%[1]s: its address could not be looked up (a DNS problem or no internet connection)."},
	"connect":          {"%[1]s nie odpowiada na połączenie.", "%[1]s does not accept the connection."},
	"refused":          {"%[1]s odrzucił połączenie na tym porcie.", "%[1]s refused the connection on this port."},
	"unreachable":      {"%[1]s jest nieosiągalny z tej sieci.", "%[1]s cannot be reached from this network."},
	"greeting_refused": {"%[1]s odpowiedział, ale odmówił obsługi połączenia.", "%[1]s answered but turned the connection away."},
	"timeout":          {"%[1]s nie odpowiedział na czas.", "%[1]s did not answer in time."},
	"tls_certificate":  {"%[1]s przedstawił certyfikat, któremu nie można zaufać.", "%[1]s presented a certificate that cannot be trusted."},
	"tls_unavailable":  {"%[1]s nie oferuje szyfrowanego połączenia w wybranym trybie. Hasło nie zostało wysłane.", "%[1]s does not offer an encrypted connection in the chosen mode. The password was not sent."},
	"tls_not_spoken":   {"%[1]s nie używa szyfrowania TLS na tym porcie. Hasło nie zostało wysłane.", "%[1]s does not speak TLS on this port. The password was not sent."},
	"tls_handshake":    {"%[1]s nie zgodził się na bezpieczne szyfrowanie (TLS 1.2 lub nowszy). Hasło nie zostało wysłane.", "%[1]s would not agree on secure encryption (TLS 1.2 or newer). The password was not sent."},
	"auth_failed":      {"%[1]s nie przyjął nazwy użytkownika lub hasła.", "%[1]s did not accept the user name or password."},
	"password_expired": {"%[1]s zgłasza, że hasło wygasło.", "%[1]s reports that the password has expired."},
	"app_password_required": {"%[1]s wymaga hasła aplikacji zamiast zwykłego hasła do konta.",
		"%[1]s requires an app password instead of the normal account password."},
	"auth_disabled": {"%[1]s nie pozwala na logowanie z programów pocztowych dla tej skrzynki.",
		"%[1]s does not allow sign-in from mail programs for this mailbox."},
	"microsoft_573": {"%[1]s (Microsoft) odrzucił logowanie: hasło jest błędne albo logowanie z programów pocztowych jest wyłączone dla tej skrzynki.",
		"%[1]s (Microsoft) refused the sign-in: either the password is wrong or sign-in from mail programs is switched off for this mailbox."},
	"protocol":         {"%[1]s odpowiada w nieoczekiwany sposób.", "%[1]s answers in an unexpected way."},
	"closed":           {"%[1]s niespodziewanie zakończył połączenie.", "%[1]s closed the connection unexpectedly."},
	"server_temporary": {"%[1]s zgłasza chwilowy problem.", "%[1]s reports a temporary problem."},
	"no_mechanism":     {"%[1]s nie oferuje sposobu logowania, którego program może bezpiecznie użyć.", "%[1]s offers no sign-in method the app can use safely."},
	"cancelled":        {"Sprawdzanie przerwano.", "The check was stopped."},
	"insecure_refused": {"%[1]s: połączenie bez szyfrowania nie jest dozwolone. Hasło nie zostało wysłane.", "%[1]s: a connection without encryption is not allowed. The password was not sent."},
}

// hints say what to do, per kind; a provider's help text replaces them for
// the sign-in kinds.
var hints = map[Kind]Text{
	KindDNS: {"Sprawdź pisownię adresu serwera i połączenie z internetem.",
		"Check the spelling of the server address and your internet connection."},
	KindConnect: {"Sprawdź adres serwera i numer portu. Połączenie może też blokować zapora sieciowa lub program antywirusowy.",
		"Check the server address and port. A firewall or antivirus program may also be blocking the connection."},
	KindTimeout: {"Sprawdź połączenie z internetem i spróbuj ponownie. Jeśli to się powtarza, zapora sieciowa może blokować ten port.",
		"Check your internet connection and try again. If it keeps happening, a firewall may be blocking this port."},
	KindTLSCertificate: {"Nie łącz się z tym serwerem, dopóki dostawca poczty lub dział IT nie potwierdzi jego certyfikatu.",
		"Do not connect to this server until your mail provider or IT department confirms its certificate."},
	KindTLSUnavailable: {"Wybierz inny rodzaj szyfrowania z ustawień dostawcy (SSL/TLS na portach 993, 995, 465 albo STARTTLS na 143, 110, 587).",
		"Choose the other encryption setting your provider lists (SSL/TLS on ports 993, 995, 465 or STARTTLS on 143, 110, 587)."},
	KindAuthFailed: {"Sprawdź nazwę użytkownika (zwykle pełny adres e-mail) i hasło.",
		"Check the user name (usually the full e-mail address) and the password."},
	KindAppPasswordRequired: {"Utwórz hasło aplikacji w ustawieniach konta u dostawcy i wpisz je zamiast zwykłego hasła.",
		"Create an app password in your account settings at the provider and enter it instead of your usual password."},
	KindAuthDisabled: {"Włącz dostęp dla programów pocztowych (IMAP/POP3/SMTP) w ustawieniach poczty w przeglądarce albo poproś o to administratora.",
		"Switch on access for mail programs (IMAP/POP3/SMTP) in your webmail settings, or ask your administrator to."},
	KindProtocol: {"Sprawdź, czy port i protokół są właściwe (IMAP 993/143, POP3 995/110, SMTP 465/587). Jeśli tak, spróbuj później.",
		"Check that the port and protocol are right (IMAP 993/143, POP3 995/110, SMTP 465/587). If they are, try again later."},
	KindCancelled: {"Uruchom sprawdzanie ponownie, gdy zechcesz.", "Start the check again whenever you like."},
	KindInsecureRefused: {"Włącz szyfrowanie (SSL/TLS lub STARTTLS).",
		"Turn encryption on (SSL/TLS or STARTTLS)."},
}

var certHints = map[string]Text{
	CertUnknownAuthority: {"Jeśli kancelaria używa własnego certyfikatu, porównaj odcisk SHA-256 z danymi od działu IT i zaufaj mu tylko wtedy, gdy się zgadza.",
		"If your firm uses its own certificate, compare the SHA-256 fingerprint with the one from your IT department and trust it only if they match."},
	CertExpired: {"Certyfikat serwera wygasł. Sprawdź datę i godzinę w komputerze; jeśli są dobre, zgłoś to dostawcy poczty lub działowi IT.",
		"The server's certificate has expired. Check your computer's date and time; if they are right, tell your mail provider or IT department."},
	CertNotYetValid: {"Certyfikat serwera nie jest jeszcze ważny. Sprawdź datę i godzinę w komputerze.",
		"The server's certificate is not valid yet. Check your computer's date and time."},
	CertWrongHost: {"Certyfikat wystawiono na inną nazwę serwera. Wpisz dokładnie nazwę serwera podaną przez dostawcę (patrz nazwy w certyfikacie).",
		"The certificate was issued for a different server name. Enter the exact server name your provider gives (see the names in the certificate)."},
	CertPinMismatch: {"Serwer przedstawił inny certyfikat niż zapisany. Skontaktuj się z działem IT, zanim zaufasz nowemu certyfikatowi.",
		"The server presented a different certificate from the one saved. Contact your IT department before trusting the new certificate."},
	CertOther: {"Skontaktuj się z dostawcą poczty lub działem IT.", "Contact your mail provider or IT department."},
}
