package mailcfg

import (
	"net"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Address is an e-mail address split into its parts. Domain is the ASCII
// (A-label, lower-case) form that goes on the wire; DomainUnicode is the form a
// person reads.
type Address struct {
	Local         string
	Domain        string
	DomainUnicode string
}

// String is the address as servers see it: local part @ ASCII domain.
func (a Address) String() string { return a.Local + "@" + a.Domain }

// Display is the address as a person reads it, with a Unicode domain.
func (a Address) Display() string { return a.Local + "@" + a.DomainUnicode }

const (
	maxAddressLen = 254 // RFC 5321 §4.5.3.1.3 path limit minus the angle brackets
	maxLocalLen   = 64  // RFC 5321 §4.5.3.1.1
	maxDomainLen  = 253
	maxLabelLen   = 63
)

// idnaProfile converts typed domains (any case, Unicode or A-labels) the way a
// browser's address bar would, and refuses what cannot be registered.
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.ValidateLabels(true),
	idna.StrictDomainName(true),
	idna.VerifyDNSLength(true),
)

// ParseAddress reads an address as a user types it: surrounding white space
// is dropped, the local part is an RFC 5322 dot-atom (RFC 6532 allows UTF-8
// letters in it too), and the domain may be an IDN such as
// kancelaria-żółć.pl, which is converted to its A-label form. The error, if
// any, is a *FieldError for the "email" field with a translated message.
func ParseAddress(s string) (Address, error) {
	s = strings.TrimSpace(s)
	fe := func(code string) (Address, error) { return Address{}, newFieldError("email", code) }
	switch {
	case s == "":
		return fe("email_empty")
	case !utf8.ValidString(s):
		return fe("email_syntax")
	case strings.ContainsFunc(s, unicode.IsSpace):
		return fe("email_space")
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return fe("email_no_at")
	}
	local, domain := s[:at], s[at+1:]
	switch {
	case local == "":
		return fe("email_no_local")
	case domain == "":
		return fe("email_no_domain")
	case strings.Contains(local, "@"):
		return fe("email_two_at")
	case len(local) > maxLocalLen || len(s) > maxAddressLen:
		return fe("email_too_long")
	case !validDotAtom(local):
		return fe("email_local_syntax")
	}
	if strings.HasPrefix(domain, "[") {
		return fe("email_domain_literal")
	}
	ascii, uni, ok := normalizeDomain(domain)
	if !ok {
		return fe("email_domain_syntax")
	}
	if !strings.Contains(ascii, ".") {
		return fe("email_domain_no_dot")
	}
	return Address{Local: local, Domain: ascii, DomainUnicode: uni}, nil
}

// normalizeDomain returns the lower-case A-label and Unicode forms of a typed
// domain name, or ok=false when it is not a valid host name.
func normalizeDomain(d string) (ascii, uni string, ok bool) {
	d = strings.TrimSuffix(d, ".")
	if d == "" || strings.HasSuffix(d, ".") {
		return "", "", false
	}
	a, err := idnaProfile.ToASCII(d)
	if err != nil || a == "" || len(a) > maxDomainLen {
		return "", "", false
	}
	a = strings.ToLower(a)
	labels := strings.Split(a, ".")
	for _, l := range labels {
		if !validLDHLabel(l) {
			return "", "", false
		}
	}
	// A top-level label is never all digits (RFC 3696 §2); this also keeps
	// dotted IPv4 addresses out of places that want a name.
	if tld := labels[len(labels)-1]; strings.Trim(tld, "0123456789") == "" {
		return "", "", false
	}
	u, err := idna.Display.ToUnicode(a)
	if err != nil {
		u = a
	}
	return a, u, true
}

func validLDHLabel(l string) bool {
	if l == "" || len(l) > maxLabelLen || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validDotAtom checks an RFC 5322 §3.2.3 dot-atom, with RFC 6532's UTF-8
// letters and digits allowed as atext.
func validDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		switch {
		case r == '.':
		case r < utf8.RuneSelf:
			if !isAtext(byte(r)) {
				return false
			}
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
		default:
			return false
		}
	}
	return true
}

func isAtext(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// NormalizeHost returns the ASCII form of a server host name or IP literal as
// typed in the form, or ok=false when it is neither.
func NormalizeHost(h string) (string, bool) {
	h = strings.TrimSpace(h)
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	if ip := net.ParseIP(h); ip != nil {
		return ip.String(), true
	}
	a, _, ok := normalizeDomain(h)
	if !ok {
		return "", false
	}
	return a, true
}
