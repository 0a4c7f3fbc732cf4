package fakemail

import (
	"errors"
	"strings"
)

// ErrMalformedXOAUTH2 is returned for an XOAUTH2 initial response that is
// not exactly "user=<user>\x01auth=Bearer <token>\x01\x01".
var ErrMalformedXOAUTH2 = errors.New("malformed XOAUTH2 response")

// ParseXOAUTH2 reads the client's XOAUTH2 initial response the way Google
// and Exchange Online document it: "user=" user "\x01auth=Bearer " token
// "\x01\x01", nothing else, "Bearer" spelled exactly so, and a token of
// RFC 6750 b64token characters. A client that passes this passes the real
// servers' parsers too.
func ParseXOAUTH2(resp []byte) (user, token string, err error) {
	s, ok := strings.CutSuffix(string(resp), "\x01\x01")
	if !ok {
		return "", "", ErrMalformedXOAUTH2
	}
	u, a, ok := strings.Cut(s, "\x01")
	if !ok {
		return "", "", ErrMalformedXOAUTH2
	}
	user, ok1 := strings.CutPrefix(u, "user=")
	token, ok2 := strings.CutPrefix(a, "auth=Bearer ")
	if !ok1 || !ok2 || user == "" || strings.ContainsAny(user, "\x00\x01\r\n") || !b64token(token) {
		return "", "", ErrMalformedXOAUTH2
	}
	return user, token, nil
}

// b64token is RFC 6750 §2.1: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
// "+" / "/" ) *"=".
func b64token(t string) bool {
	body := strings.TrimRight(t, "=")
	if body == "" {
		return false
	}
	for _, c := range body {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}

// xoauth2 is the server side of SASL XOAUTH2 (one initial response, then
// success or the check's error).
type xoauth2 struct {
	check func(user, token string) error
	done  bool
}

func (x *xoauth2) Next(resp []byte) ([]byte, bool, error) {
	if x.done {
		return nil, true, errors.New("unexpected response")
	}
	if resp == nil {
		return []byte{}, false, nil // ask for the initial response
	}
	x.done = true
	user, token, err := ParseXOAUTH2(resp)
	if err != nil {
		return nil, true, err
	}
	return nil, true, x.check(user, token)
}
