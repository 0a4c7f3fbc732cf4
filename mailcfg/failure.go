package mailcfg

import (
	"crypto/sha256"
	"crypto/x509"
	"strconv"
	"strings"
	"time"
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
	// KindSignInRequired: the provider refuses passwords for this mailbox
	// and wants its own sign-in (Microsoft 550 5.7.30, 535 5.7.3 to a
	// password); Failure.SignIn names the OAuth provider to offer.
	KindSignInRequired Kind = "signin_required"
	// KindPermission: the signed-in user may not use this (shared) mailbox:
	// IT must grant Full Access (and Send As for sending).
	KindPermission Kind = "permission"
)

// Kinds lists every kind, in the order above.
var Kinds = []Kind{KindDNS, KindConnect, KindTimeout, KindTLSCertificate, KindTLSUnavailable,
	KindAuthFailed, KindAppPasswordRequired, KindAuthDisabled, KindProtocol, KindCancelled, KindInsecureRefused,
	KindSignInRequired, KindPermission}

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
	// SuggestedHost is set when the certificate is valid and trusted, only
	// for another name (Reason CertWrongHost): the server of that name, to
	// switch to and verify again. Hosted mail answers for the firm's domain
	// with the hoster's certificate. Nothing is trusted by suggesting it.
	SuggestedHost string `json:"suggestedHost,omitempty"`
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
	Err    error  // the x509 error, the pin mismatch, …
	// SuggestedHost: see CertInfo.SuggestedHost.
	SuggestedHost string
}

func (e *CertificateError) Error() string {
	return "tls: server certificate not trusted: " + e.Reason
}

func (e *CertificateError) Unwrap() error { return e.Err }

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
	// SignIn is the OAuth provider id ("microsoft", "google") whose sign-in
	// would get past this failure (KindSignInRequired, a Gmail
	// KindAppPasswordRequired), or "". The face offers it when configured.
	SignIn string `json:"signIn,omitempty"`
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
	SignIn      string    `json:"signIn,omitempty"`
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
		SignIn:      f.SignIn,
	}
}

// NewFailure builds a failure of a kind with its standard message and hint
// for a side ("incoming", "outgoing" or "") and, where known, the provider's
// help text.
func NewFailure(kind Kind, side string, provider *Provider) *Failure {
	return Cause{Kind: kind}.Failure(side, provider)
}

// Variant names a more specific message for a kind than the kind's own: a
// refused connection is a KindConnect told as "refused the connection on
// this port". The classifier picks it, messages.go words it.
type Variant string

const (
	VariantDNSTemporary    Variant = "dns_temporary"    // KindDNS: the lookup itself failed
	VariantRefused         Variant = "refused"          // KindConnect: nothing listens on the port
	VariantUnreachable     Variant = "unreachable"      // KindConnect: no route to the server
	VariantGreetingRefused Variant = "greeting_refused" // KindConnect: the server answered with a refusal
	VariantTLSNotSpoken    Variant = "tls_not_spoken"   // KindTLSUnavailable: no TLS on this port
	VariantTLSHandshake    Variant = "tls_handshake"    // KindTLSUnavailable: no common TLS version or cipher
	VariantPasswordExpired Variant = "password_expired" // KindAuthFailed
	VariantMicrosoft573    Variant = "microsoft_573"    // KindAuthDisabled: Microsoft's ambiguous 5.7.3
	// VariantMicrosoft573SignIn: KindSignInRequired for Microsoft's 5.7.3
	// answer to a password.
	VariantMicrosoft573SignIn Variant = "microsoft_573_signin"
	VariantClosed             Variant = "closed"           // KindProtocol: the server hung up
	VariantServerTemporary    Variant = "server_temporary" // KindProtocol: a temporary server problem
	VariantNoMechanism        Variant = "no_mechanism"     // KindProtocol: no usable sign-in method
	VariantAuthTemporary      Variant = "auth_temporary"   // KindAuthFailed: a 4xx reply to the sign-in itself
	VariantCertOtherHost      Variant = "cert_other_host"  // KindTLSCertificate: valid and trusted, for another name
	// The port expects the other TLS mode; another server answers on it
	// (%[2]s in other_protocol's message: what it speaks, %[3]s: what was
	// expected, for the caller to fill in).
	VariantExpectsTLS      Variant = "expects_tls"      // KindTLSUnavailable: STARTTLS chosen, the port wants SSL/TLS
	VariantExpectsStartTLS Variant = "expects_starttls" // KindTLSUnavailable: SSL/TLS chosen, the port wants STARTTLS
	VariantWebServer       Variant = "web_server"       // KindProtocol: HTTP or HTTPS on the port
	// VariantSMTPAuthDisabled: KindAuthDisabled for Exchange Online's
	// "535 5.7.139": SMTP AUTH is off for the tenant or the mailbox, which
	// only its administrator can switch on (a token does not get past it).
	VariantSMTPAuthDisabled Variant = "smtp_auth_disabled"
	VariantOtherProtocol    Variant = "other_protocol" // KindProtocol: a mail server of another protocol
)

// Variants lists every variant, in the order above.
var Variants = []Variant{VariantDNSTemporary, VariantRefused, VariantUnreachable, VariantGreetingRefused,
	VariantTLSNotSpoken, VariantTLSHandshake, VariantPasswordExpired, VariantMicrosoft573, VariantMicrosoft573SignIn, VariantClosed,
	VariantServerTemporary, VariantNoMechanism, VariantAuthTemporary, VariantCertOtherHost,
	VariantExpectsTLS, VariantExpectsStartTLS, VariantWebServer, VariantOtherProtocol, VariantSMTPAuthDisabled}

// Cause is what a classifier found out about an error, before it is put
// into words: Failure renders it for a side and a provider.
type Cause struct {
	Kind    Kind
	Variant Variant // "" for the kind's own message
	// Detail is safe technical detail (see Failure.Detail).
	Detail string
	// Field is a settings field without the side ("port", "security",
	// "password") that overrides the kind's usual one.
	Field string
	// Certificate is the refused certificate of a KindTLSCertificate; its
	// reason picks the hint and the field.
	Certificate *CertInfo
	// SignIn is Failure.SignIn.
	SignIn string
	// Args fill the message's %[2]s, %[3]s… (%[1]s is always the server).
	Args []string
}

// Failure puts the cause into words for a side ("incoming", "outgoing" or
// "") and, where known, the provider, whose help text becomes the hint of
// the sign-in kinds.
func (c Cause) Failure(side string, provider *Provider) *Failure {
	f := build(c.Kind, c.Variant, side, provider, c.Detail)
	if len(c.Args) > 0 {
		pairs := make([]string, 0, 2*len(c.Args))
		for i, a := range c.Args {
			pairs = append(pairs, "%["+strconv.Itoa(i+2)+"]s", a)
		}
		r := strings.NewReplacer(pairs...)
		f.Message = Text{PL: r.Replace(f.Message.PL), EN: r.Replace(f.Message.EN)}
	}
	if c.Certificate != nil {
		f.Certificate = c.Certificate
		f.Hint = certHints[c.Certificate.Reason]
		if f.Hint.IsZero() {
			f.Hint = certHints[CertOther]
		}
		if h := c.Certificate.SuggestedHost; h != "" {
			f.Hint = Text{PL: strings.ReplaceAll(otherHostHint.PL, "%[1]s", h), EN: strings.ReplaceAll(otherHostHint.EN, "%[1]s", h)}
		}
		if c.Certificate.Reason == CertWrongHost && provider != nil {
			f.Hint = joinText(f.Hint, provider.Help)
		}
		f.Field = certField(side, c.Certificate.Reason)
	}
	if c.Field != "" {
		f.Field = fieldFor(side, c.Field)
	}
	f.SignIn = c.SignIn
	return f
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
	KindSignInRequired:      "auth",
	KindPermission:          "email",
	KindProtocol:            "port",
}

// providerHintKinds get the provider's help text as their hint: it tells how
// to switch on mail-program access or create an app password.
var providerHintKinds = map[Kind]bool{
	KindAuthFailed: true, KindAppPasswordRequired: true, KindAuthDisabled: true,
}

func build(kind Kind, v Variant, side string, provider *Provider, detail string) *Failure {
	m, ok := messages[string(v)]
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
	if h, ok := variantHints[v]; ok {
		f.Hint = h
	}
	return f
}
