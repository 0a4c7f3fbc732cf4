package infino

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"infino.legal/mailbox/mailcfg"
)

// Secret types.
const (
	SecretPassword = "password"
	SecretOAuth2   = "oauth2"
)

// Secret is what Infino needs to log in to the mailbox on its own: the
// password, or a Microsoft refresh token with the registration it belongs to.
// It only ever travels in the request body and lives in the secrets.Store;
// String and GoString never show its content.
type Secret struct {
	Type         string   `json:"type"`
	Password     string   `json:"password,omitempty"`
	Provider     string   `json:"provider,omitempty"`
	RefreshToken string   `json:"refreshToken,omitempty"`
	ClientID     string   `json:"clientId,omitempty"`
	Tenant       string   `json:"tenant,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
}

// PasswordSecret is the secret of a mailbox that logs in with a password.
func PasswordSecret(password string) Secret {
	return Secret{Type: SecretPassword, Password: password}
}

// MicrosoftSecret is the secret of a mailbox signed in with Microsoft.
func MicrosoftSecret(refreshToken, clientID, tenant string, scopes []string) Secret {
	return Secret{Type: SecretOAuth2, Provider: "microsoft", RefreshToken: refreshToken,
		ClientID: clientID, Tenant: tenant, Scopes: append([]string(nil), scopes...)}
}

func (s Secret) String() string             { return "infino.Secret{" + s.Type + ", redacted}" }
func (s Secret) GoString() string           { return s.String() }
func (s Secret) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// Check reports whether the secret is complete and fits the settings' way of
// signing in.
func (s Secret) Check(auth mailcfg.Auth) error {
	switch s.Type {
	case SecretPassword:
		if auth != mailcfg.AuthPassword {
			return errors.New("a password secret needs settings with auth \"password\"")
		}
		if s.Password == "" {
			return errors.New("the password is empty")
		}
	case SecretOAuth2:
		if auth != mailcfg.AuthOAuth2 {
			return errors.New("an oauth2 secret needs settings with auth \"oauth2\"")
		}
		if s.Provider == "" || s.RefreshToken == "" || s.ClientID == "" {
			return errors.New("an oauth2 secret needs provider, refreshToken and clientId")
		}
	default:
		return fmt.Errorf("unknown secret type %q", s.Type)
	}
	return nil
}

// ClientInfo names the program that sends a submission.
type ClientInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	OS      string `json:"os"`
	Arch    string `json:"arch,omitempty"`
}

// DefaultClientInfo describes this build.
func DefaultClientInfo() ClientInfo {
	return ClientInfo{Name: mailcfg.AppName, Version: mailcfg.Version, OS: runtime.GOOS, Arch: runtime.GOARCH}
}

// userAgent is the User-Agent header, e.g. "InfinoMailbox/0.1.0 (linux; amd64)".
func (c ClientInfo) userAgent() string {
	return fmt.Sprintf("%s/%s (%s; %s)", strings.ReplaceAll(c.Name, " ", ""), c.Version, c.OS, c.Arch)
}

// Submission is one mailbox to hand over.
type Submission struct {
	Settings   mailcfg.Settings
	Secret     Secret
	VerifiedAt time.Time
}

// requestBody is the JSON body of POST /api/v1/mailboxes: the settings JSON
// (its keys side by side with the others) plus secret, verifiedAt, client.
type requestBody struct {
	mailcfg.Settings
	Secret     Secret     `json:"secret"`
	VerifiedAt string     `json:"verifiedAt"`
	Client     ClientInfo `json:"client"`
}

func encodeBody(sub Submission, info ClientInfo) ([]byte, error) {
	return json.Marshal(requestBody{
		Settings:   sub.Settings,
		Secret:     sub.Secret,
		VerifiedAt: sub.VerifiedAt.UTC().Format(time.RFC3339),
		Client:     info,
	})
}

// Receipt is Infino's confirmation of a mailbox.
type Receipt struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	// Replayed: Infino had already created the mailbox for this
	// Idempotency-Key and answered with the stored result.
	Replayed bool `json:"replayed,omitempty"`
	// ETag is the entity tag of the mailbox's settings, if Infino sent one.
	ETag string `json:"etag,omitempty"`
}

// errorBody is every error answer: {"error": "...", "message": "...",
// "errors": [{"field": "...", "code": "...", "message": "..."}]}.
type errorBody struct {
	Error   string       `json:"error"`
	Message string       `json:"message"`
	Errors  []fieldError `json:"errors"`
	Mailbox *MailboxInfo `json:"mailbox"`
}

type fieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// fieldErrors turns Infino's field errors into the form's. Infino answers in
// the language of Accept-Language, so the one message fills both languages
// unless the code is one the app knows in both.
func (b errorBody) fieldErrors() mailcfg.ValidationError {
	var out mailcfg.ValidationError
	for _, f := range b.Errors {
		field := serverText(f.Field, 100)
		if field == "" {
			field = "settings"
		}
		code := serverText(f.Code, 100)
		msg := serverText(f.Message, 500)
		if msg == "" {
			msg = code
		}
		out = append(out, &mailcfg.FieldError{Field: field, Code: code, Message: mailcfg.Text{PL: msg, EN: msg}})
	}
	return out
}

// serverText makes text from the server safe to show in a window or a
// terminal: control characters (escape sequences among them) become spaces,
// and it is cut to max runes.
func serverText(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return s
}
