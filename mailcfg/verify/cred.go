package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Credential is what signs in: a Password, an OAuth2Token or a TokenFunc.
// The set is closed; other types cannot implement it.
type Credential interface {
	credential()
}

const redacted = "[redacted]"

// Password is a mailbox password (or app password). It never prints itself:
// String, GoString, every fmt verb, JSON and text marshalling give
// "[redacted]". Use string(p) only where it goes on the wire.
type Password string

func (Password) credential()                  {}
func (Password) String() string               { return redacted }
func (Password) GoString() string             { return redacted }
func (Password) Format(f fmt.State, _ rune)   { io.WriteString(f, redacted) }
func (Password) MarshalText() ([]byte, error) { return []byte(redacted), nil }
func (Password) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (p *Password) UnmarshalText(_ []byte) error {
	return errors.New("verify: a password is never read from text")
}

// OAuth2Token signs in with SASL XOAUTH2 (Microsoft, Google). Username is the
// user= value; empty means the server's Username. It never prints the token.
type OAuth2Token struct {
	Username    string
	AccessToken string
}

func (OAuth2Token) credential() {}

func (t OAuth2Token) String() string {
	return "OAuth2Token{Username: " + t.Username + ", AccessToken: " + redacted + "}"
}
func (t OAuth2Token) GoString() string             { return t.String() }
func (t OAuth2Token) Format(f fmt.State, _ rune)   { io.WriteString(f, t.String()) }
func (t OAuth2Token) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// TokenFunc returns a fresh OAuth 2.0 access token for XOAUTH2; the user name
// is the server's Username. Verify calls it at most once per check, from a
// worker goroutine, at the moment the first side is ready to sign in; an
// error fails both sides (a *mailcfg.Failure is passed through as is).
type TokenFunc func(ctx context.Context) (string, error)

func (TokenFunc) credential()                  {}
func (TokenFunc) String() string               { return "TokenFunc" }
func (TokenFunc) GoString() string             { return "TokenFunc" }
func (TokenFunc) Format(f fmt.State, _ rune)   { io.WriteString(f, "TokenFunc") }
func (TokenFunc) MarshalJSON() ([]byte, error) { return []byte(`"TokenFunc"`), nil }

// onceToken memoises a TokenFunc for the two sides of one Verify: the first
// side to need it starts fn under the check's context (so a cancelled side
// does not cancel the other's token); each side waits under its own.
func onceToken(checkCtx context.Context, fn TokenFunc) TokenFunc {
	var once sync.Once
	var tok string
	var err error
	done := make(chan struct{})
	return func(ctx context.Context) (string, error) {
		once.Do(func() {
			go func() {
				defer close(done)
				tok, err = fn(checkCtx)
			}()
		})
		select {
		case <-done:
			return tok, err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// xoauth2 is SASL XOAUTH2 (Google's and Microsoft's non-standard mechanism,
// https://developers.google.com/gmail/imap/xoauth2-protocol) for go-imap;
// go-sasl dropped it. On failure the server sends a base64 JSON challenge
// and expects an empty response before its final NO. go-imap would encode
// the empty response as "=" (right only for SASL-IR), which Dovecot answers
// with BAD, so Next ends the exchange with errXOAUTH2Rejected instead: the
// challenge itself means the token was refused. The JSON is not kept.
type xoauth2 struct{ user, token string }

// errXOAUTH2Rejected: the server answered XOAUTH2 with an error challenge.
var errXOAUTH2Rejected = errors.New("XOAUTH2 error challenge")

func xoauth2Response(user, token string) []byte {
	return []byte("user=" + user + "\x01auth=Bearer " + token + "\x01\x01")
}

func (x *xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", xoauth2Response(x.user, x.token), nil
}

func (x *xoauth2) Next([]byte) ([]byte, error) { return nil, errXOAUTH2Rejected }
