package oauthloopback

import (
	"errors"
	"net/url"
	"strings"
	"unicode/utf8"
)

// maxQueryLen bounds the redirect query we are willing to parse.
const maxQueryLen = 16 << 10

// redirectParams are the authorization response parameters of RFC 6749
// §4.1.2 (success) and §4.1.2.1 (error).
type redirectParams struct {
	State            string
	Code             string
	Error            string
	ErrorDescription string
	ErrorURI         string
	// Iss is the RFC 9207 issuer identifier, "" when absent.
	Iss string
	// IssuerOK is set by the handler: Iss agrees with the session's issuer
	// rules (see Config.Issuer).
	IssuerOK bool
}

var errMalformedRedirect = errors.New("oauthloopback: malformed redirect")

// parseRedirect parses the query of a redirect to the loopback listener. It
// accepts exactly one of code or error, a non-empty state, and no repeated
// response parameter (RFC 6749 §3.1). Errors never quote the input.
func parseRedirect(rawQuery string) (redirectParams, error) {
	var p redirectParams
	if len(rawQuery) > maxQueryLen {
		return p, errMalformedRedirect
	}
	vals, err := url.ParseQuery(rawQuery)
	if err != nil {
		return p, errMalformedRedirect
	}
	for _, f := range []struct {
		name  string
		dst   *string
		valid func(string) bool
	}{
		{"state", &p.State, isVSChars},
		{"code", &p.Code, isVSChars},
		{"error", &p.Error, isNQSChars},
		{"error_description", &p.ErrorDescription, utf8.ValidString},
		{"error_uri", &p.ErrorURI, isNQSChars},
		{"iss", &p.Iss, isVSChars},
	} {
		v := vals[f.name]
		if len(v) > 1 || (len(v) == 1 && !f.valid(v[0])) {
			return redirectParams{}, errMalformedRedirect
		}
		if len(v) == 1 {
			*f.dst = v[0]
		}
	}
	if p.State == "" || (p.Code == "") == (p.Error == "") {
		return redirectParams{}, errMalformedRedirect
	}
	if p.Code != "" {
		p.ErrorDescription, p.ErrorURI = "", ""
	}
	return p, nil
}

// isVSChars reports whether s consists of RFC 6749 Appendix A VSCHAR
// (%x20-7E).
func isVSChars(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r > 0x7e })
}

// isNQSChars reports whether s consists of RFC 6749 Appendix A NQSCHAR
// (VSCHAR without '"' and '\').
func isNQSChars(s string) bool {
	return isVSChars(s) && !strings.ContainsAny(s, "\"\\")
}
