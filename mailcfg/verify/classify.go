package verify

import (
	"context"
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

	"infino.legal/mailbox/mailcfg"
)

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

// Classify is the one place that turns an error from a mail-server check (net,
// tls, x509, go-imap, go-mail, net/textproto, the POP3 client, context) into
// a *mailcfg.Failure. side is "incoming", "outgoing" or ""; provider may be
// nil. A *mailcfg.Failure anywhere in err's chain is returned as is. nil
// gives nil.
//
// Passwords the provider refuses outright (Microsoft 550 5.7.30, 535 5.7.3)
// are KindSignInRequired and a Gmail app-password refusal (534 5.7.9) is
// KindAppPasswordRequired, both with Failure.SignIn naming the provider's
// sign-in. ForToken re-reads a failure of an XOAUTH2 sign-in.
func Classify(err error, side string, provider *mailcfg.Provider) *mailcfg.Failure {
	if err == nil {
		return nil
	}
	var f *mailcfg.Failure
	if errors.As(err, &f) {
		return f
	}
	return classify(err, provider).Failure(side, provider)
}

// classify finds the cause; mailcfg words it.
func classify(err error, provider *mailcfg.Provider) mailcfg.Cause {
	// Order matters: the phase markers and the most specific types first.
	switch {
	case errors.Is(err, context.Canceled):
		return mailcfg.Cause{Kind: mailcfg.KindCancelled}
	case errors.Is(err, ErrInsecureRefused):
		return mailcfg.Cause{Kind: mailcfg.KindInsecureRefused}
	}
	if c, ok := classifyCert(err); ok {
		return c
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return mailcfg.Cause{Kind: mailcfg.KindTimeout}
	}
	if appPasswordText(err) {
		c := mailcfg.Cause{Kind: mailcfg.KindAppPasswordRequired, Detail: replyDetail(err)}
		if provider != nil {
			c.SignIn = provider.OAuth
		}
		return c
	}
	if c, ok := classifyReply(err, provider); ok {
		return c
	}
	switch {
	case errors.Is(err, ErrTLSUnavailable):
		return mailcfg.Cause{Kind: mailcfg.KindTLSUnavailable, Detail: replyDetail(err)}
	case errors.Is(err, ErrNoAuthMechanism):
		return mailcfg.Cause{Kind: mailcfg.KindProtocol, Variant: mailcfg.VariantNoMechanism, Field: "security"}
	case errors.Is(err, ErrGreetingRefused):
		return mailcfg.Cause{Kind: mailcfg.KindConnect, Variant: mailcfg.VariantGreetingRefused, Detail: replyDetail(err)}
	case errors.Is(err, ErrAuthRejected):
		return mailcfg.Cause{Kind: mailcfg.KindAuthFailed, Detail: replyDetail(err)}
	}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		return mailcfg.Cause{Kind: mailcfg.KindTLSUnavailable, Variant: mailcfg.VariantTLSNotSpoken, Detail: "not a TLS server on this port"}
	}
	var alert tls.AlertError
	if errors.As(err, &alert) {
		return mailcfg.Cause{Kind: mailcfg.KindTLSUnavailable, Variant: mailcfg.VariantTLSHandshake, Detail: "tls alert " + strconv.Itoa(int(alert))}
	}
	if errors.Is(err, ErrTLSHandshake) {
		return mailcfg.Cause{Kind: mailcfg.KindTLSUnavailable, Variant: mailcfg.VariantTLSHandshake, Detail: "tls handshake failed"}
	}
	if c, ok := classifyNet(err); ok {
		return c
	}
	var ae *net.AddrError
	if errors.As(err, &ae) {
		return mailcfg.Cause{Kind: mailcfg.KindConnect, Detail: "address"}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return mailcfg.Cause{Kind: mailcfg.KindProtocol, Variant: mailcfg.VariantClosed, Detail: "connection closed"}
	}
	return mailcfg.Cause{Kind: mailcfg.KindProtocol}
}

// classifyCert finds a refused certificate anywhere in the chain.
func classifyCert(err error) (mailcfg.Cause, bool) {
	var ce *mailcfg.CertificateError
	if errors.As(err, &ce) {
		c := mailcfg.Cause{Kind: mailcfg.KindTLSCertificate, Certificate: mailcfg.NewCertInfo(ce.Leaf, ce.Reason), Detail: ce.Reason}
		if ce.SuggestedHost != "" {
			c.Certificate.SuggestedHost = ce.SuggestedHost
			c.Variant = mailcfg.VariantCertOtherHost
		}
		return c, true
	}
	var leaf *x509.Certificate
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) && len(cve.UnverifiedCertificates) > 0 {
		leaf = cve.UnverifiedCertificates[0]
	}
	reason, cert, ok := X509Reason(err, time.Now())
	if !ok {
		if cve == nil {
			return mailcfg.Cause{}, false
		}
		reason = mailcfg.CertOther
	}
	if leaf == nil {
		leaf = cert
	}
	return mailcfg.Cause{Kind: mailcfg.KindTLSCertificate, Certificate: mailcfg.NewCertInfo(leaf, reason), Detail: reason}, true
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
		return mailcfg.CertWrongHost, he.Certificate, true
	case errors.As(err, &ci):
		if ci.Reason == x509.Expired {
			if ci.Cert != nil && now.Before(ci.Cert.NotBefore) {
				return mailcfg.CertNotYetValid, ci.Cert, true
			}
			return mailcfg.CertExpired, ci.Cert, true
		}
		return mailcfg.CertOther, ci.Cert, true
	case errors.As(err, &ua):
		return mailcfg.CertUnknownAuthority, ua.Cert, true
	}
	var ca x509.ConstraintViolationError
	var ua2 x509.UnhandledCriticalExtension
	var ia x509.InsecureAlgorithmError
	if errors.As(err, &ca) || errors.As(err, &ua2) || errors.As(err, &ia) {
		return mailcfg.CertOther, nil, true
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
func classifyReply(err error, provider *mailcfg.Provider) (mailcfg.Cause, bool) {
	inAuth := errors.Is(err, ErrAuthRejected)
	var ie *imap.Error
	if errors.As(err, &ie) {
		d := "IMAP " + safeToken(string(ie.Type))
		if ie.Code != "" {
			d += " [" + safeToken(string(ie.Code)) + "]"
		}
		switch ie.Code {
		case imap.ResponseCodeAuthenticationFailed, imap.ResponseCodeAuthorizationFailed:
			return mailcfg.Cause{Kind: mailcfg.KindAuthFailed, Detail: d}, true
		case imap.ResponseCodeExpired:
			return mailcfg.Cause{Kind: mailcfg.KindAuthFailed, Variant: mailcfg.VariantPasswordExpired, Detail: d}, true
		case imap.ResponseCodeContactAdmin:
			return mailcfg.Cause{Kind: mailcfg.KindAuthDisabled, Detail: d}, true
		case imap.ResponseCodePrivacyRequired:
			return mailcfg.Cause{Kind: mailcfg.KindTLSUnavailable, Detail: d}, true
		case imap.ResponseCodeUnavailable:
			return mailcfg.Cause{Kind: mailcfg.KindProtocol, Variant: mailcfg.VariantServerTemporary, Detail: d}, true
		}
		switch {
		case errors.Is(err, ErrGreetingRefused):
			return mailcfg.Cause{Kind: mailcfg.KindConnect, Variant: mailcfg.VariantGreetingRefused, Detail: d}, true
		case errors.Is(err, ErrTLSUnavailable):
			return mailcfg.Cause{Kind: mailcfg.KindTLSUnavailable, Detail: d}, true
		case inAuth && ie.Type == imap.StatusResponseTypeNo:
			return mailcfg.Cause{Kind: mailcfg.KindAuthFailed, Detail: d}, true
		}
		return mailcfg.Cause{Kind: mailcfg.KindProtocol, Detail: d}, true
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
			return mailcfg.Cause{Kind: mailcfg.KindConnect, Variant: mailcfg.VariantGreetingRefused, Detail: d}, true
		case errors.Is(err, ErrTLSUnavailable):
			return mailcfg.Cause{Kind: mailcfg.KindTLSUnavailable, Detail: d}, true
		case code == "AUTH":
			return mailcfg.Cause{Kind: mailcfg.KindAuthFailed, Detail: d}, true
		case code == "SYS/PERM" && inAuth:
			return mailcfg.Cause{Kind: mailcfg.KindAuthDisabled, Detail: d}, true
		case code == "SYS/TEMP" || code == "IN-USE" || code == "LOGIN-DELAY":
			return mailcfg.Cause{Kind: mailcfg.KindProtocol, Variant: mailcfg.VariantServerTemporary, Detail: d}, true
		case inAuth:
			return mailcfg.Cause{Kind: mailcfg.KindAuthFailed, Detail: d}, true
		}
		return mailcfg.Cause{Kind: mailcfg.KindProtocol, Detail: d}, true
	}
	code, enh, ok := SMTPCodes(err)
	if !ok {
		return mailcfg.Cause{}, false
	}
	d := "SMTP " + strconv.Itoa(code)
	if enh != "" {
		d += " " + enh
	}
	microsoft := provider != nil && provider.OAuth == "microsoft"
	google := provider != nil && provider.OAuth == "google"
	switch {
	case enh == "5.7.139":
		return mailcfg.Cause{Kind: mailcfg.KindAuthDisabled, Variant: mailcfg.VariantSMTPAuthDisabled, Detail: d}, true
	case enh == "5.7.30":
		// "550 5.7.30 Basic authentication is not supported for Client
		// Submission": only Exchange Online says it, to a password.
		return mailcfg.Cause{Kind: mailcfg.KindSignInRequired, Detail: d, SignIn: "microsoft"}, true
	case enh == "5.7.3" && microsoft:
		return mailcfg.Cause{Kind: mailcfg.KindSignInRequired, Variant: mailcfg.VariantMicrosoft573SignIn, Detail: d, SignIn: "microsoft"}, true
	case code == 534 && enh == "5.7.9" && google:
		return mailcfg.Cause{Kind: mailcfg.KindAppPasswordRequired, Detail: d, SignIn: "google"}, true
	case enh == "5.7.8" || code == 535:
		return mailcfg.Cause{Kind: mailcfg.KindAuthFailed, Detail: d}, true
	case code == 530 && !inAuth, code == 538, enh == "5.7.11":
		return mailcfg.Cause{Kind: mailcfg.KindTLSUnavailable, Detail: d}, true
	case errors.Is(err, ErrTLSUnavailable):
		return mailcfg.Cause{Kind: mailcfg.KindTLSUnavailable, Detail: d}, true
	case code == 421 && !inAuth || code == 554 && errors.Is(err, ErrGreetingRefused):
		return mailcfg.Cause{Kind: mailcfg.KindConnect, Variant: mailcfg.VariantGreetingRefused, Detail: d}, true
	case inAuth && code/100 == 4:
		// Some servers answer a wrong password with 454 4.7.0: the port
		// demonstrably works, the sign-in is what to look at.
		return mailcfg.Cause{Kind: mailcfg.KindAuthFailed, Variant: mailcfg.VariantAuthTemporary, Detail: d}, true
	case code == 454 || code/100 == 4:
		return mailcfg.Cause{Kind: mailcfg.KindProtocol, Variant: mailcfg.VariantServerTemporary, Detail: d}, true
	case inAuth && (code == 534 || code == 530 || code/100 == 5):
		return mailcfg.Cause{Kind: mailcfg.KindAuthFailed, Detail: d}, true
	}
	return mailcfg.Cause{Kind: mailcfg.KindProtocol, Detail: d}, true
}

func classifyNet(err error) (mailcfg.Cause, bool) {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		switch {
		case dns.IsNotFound:
			return mailcfg.Cause{Kind: mailcfg.KindDNS, Detail: "no such host"}, true
		case dns.IsTimeout:
			return mailcfg.Cause{Kind: mailcfg.KindDNS, Variant: mailcfg.VariantDNSTemporary, Detail: "dns timeout"}, true
		}
		return mailcfg.Cause{Kind: mailcfg.KindDNS, Variant: mailcfg.VariantDNSTemporary, Detail: "dns error"}, true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return mailcfg.Cause{Kind: mailcfg.KindTimeout}, true
	}
	var op *net.OpError
	if !errors.As(err, &op) {
		switch {
		case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
			return mailcfg.Cause{Kind: mailcfg.KindProtocol, Variant: mailcfg.VariantClosed, Detail: "connection reset"}, true
		}
		return mailcfg.Cause{}, false
	}
	if op.Op != "dial" {
		return mailcfg.Cause{Kind: mailcfg.KindProtocol, Variant: mailcfg.VariantClosed, Detail: "connection " + op.Op + " failed"}, true
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return mailcfg.Cause{Kind: mailcfg.KindConnect, Variant: mailcfg.VariantRefused, Detail: "connection refused", Field: "port"}, true
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return mailcfg.Cause{Kind: mailcfg.KindConnect, Variant: mailcfg.VariantUnreachable, Detail: "unreachable"}, true
	}
	return mailcfg.Cause{Kind: mailcfg.KindConnect, Detail: "dial failed"}, true
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

// ForToken re-reads a failure of an XOAUTH2 sign-in: offering the
// provider's sign-in to someone signed in with it makes no sense. For a
// shared mailbox (the token is another user's) a refusal means the user
// lacks Full Access or Send As: KindPermission. For the user's own mailbox
// Microsoft's 5.7.3 keeps its old reading (sign-in from mail programs off).
func ForToken(f *mailcfg.Failure, side string, provider *mailcfg.Provider, shared bool) *mailcfg.Failure {
	if f == nil {
		return nil
	}
	switch f.Kind {
	case mailcfg.KindAuthFailed, mailcfg.KindSignInRequired, mailcfg.KindAppPasswordRequired:
	case mailcfg.KindAuthDisabled:
		if !shared || strings.Contains(f.Detail, "5.7.139") {
			return f
		}
	default:
		return f
	}
	if f.Field == "auth" && strings.HasPrefix(f.Detail, "no access token") {
		return f // the token source's own failure
	}
	var c mailcfg.Cause
	switch {
	case shared:
		c = mailcfg.Cause{Kind: mailcfg.KindPermission, Detail: f.Detail}
	case f.Kind == mailcfg.KindSignInRequired:
		c = mailcfg.Cause{Kind: mailcfg.KindAuthDisabled, Variant: mailcfg.VariantMicrosoft573, Detail: f.Detail}
	case f.Kind == mailcfg.KindAppPasswordRequired:
		c = mailcfg.Cause{Kind: mailcfg.KindAuthFailed, Detail: f.Detail, Field: "auth"}
	default:
		return f
	}
	return c.Failure(side, provider)
}
