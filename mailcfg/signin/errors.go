package signin

import (
	"fmt"
	"strconv"

	"infino.legal/mailbox/mailcfg"
)

// Code classifies a failed sign-in, refresh or admin consent. The values
// are stable (the command line prints them in JSON). They are the one
// vocabulary of sign-in failures: Microsoft's error numbers map onto them
// (package microsoft, Read).
type Code string

const (
	CodeNotConfigured      Code = "not_configured"       // no client id in the policy, or the method not allowed
	CodeUnknownProvider    Code = "unknown_provider"     // no such provider in the OAuth table
	CodeAdminConsent       Code = "admin_consent"        // an administrator must approve the app (see ConsentNeeded)
	CodeAppNotFound        Code = "app_not_found"        // the client id is unknown to the provider
	CodePersonalNotAllowed Code = "personal_not_allowed" // the registration does not take this kind of account
	CodeMisconfigured      Code = "app_misconfigured"    // the registration or policy does not match the flow
	CodeCancelled          Code = "cancelled"
	CodeTimeout            Code = "timeout"
	CodeSignInAgain        Code = "signin_again"  // the stored sign-in is dead (invalid_grant…)
	CodeNotSignedIn        Code = "not_signed_in" // no refresh token stored
	CodeIDToken            Code = "id_token_invalid"
	CodeEmailUnverified    Code = "email_unverified" // the ID token does not vouch for the address
	CodeNoAddress          Code = "no_address"
	CodeNoRefreshToken     Code = "no_refresh_token"
	CodeKeyring            Code = "keyring"
	CodeNetwork            Code = "network"
	CodeLoopback           Code = "loopback"
	// CodeIssuerMismatch: the answer came from another authorization
	// server than the one asked (RFC 9207 iss): a mix-up attack. Nothing
	// was redeemed.
	CodeIssuerMismatch Code = "issuer_mismatch"
	// CodeNotShared: the provider has no shared mailboxes.
	CodeNotShared Code = "shared_unsupported"
	CodeServer    Code = "server"
)

// Error is a failed sign-in, refresh or admin consent with what a person is
// told. Error() is English and never holds a token or code.
type Error struct {
	Provider string // OAuth provider id
	Code     Code
	Message  mailcfg.Text
	Hint     mailcfg.Text
	// AADSTS is Microsoft's first error number; 0 if none.
	AADSTS int
	// OAuthError is the OAuth "error" value.
	OAuthError             string
	TraceID, CorrelationID string
	// Consent is set for CodeAdminConsent when the link could be built.
	Consent *ConsentNeeded
	Err     error
}

func (e *Error) Error() string {
	s := e.Provider + " sign-in: " + string(e.Code) + ": " + e.Message.EN
	if e.AADSTS != 0 {
		s += fmt.Sprintf(" (AADSTS%d)", e.AADSTS)
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Text is the message and hint in one sentence pair.
func (e *Error) Text() mailcfg.Text {
	if e.Hint.IsZero() {
		return e.Message
	}
	return mailcfg.Text{PL: e.Message.PL + " " + e.Hint.PL, EN: e.Message.EN + " " + e.Hint.EN}
}

// Detail is safe technical detail: the AADSTS number and OAuth error.
func (e *Error) Detail() string {
	var d string
	if e.AADSTS != 0 {
		d = "AADSTS" + strconv.Itoa(e.AADSTS)
	}
	if e.OAuthError != "" {
		if d != "" {
			d += " "
		}
		d += e.OAuthError
	}
	return d
}

var kinds = map[Code]mailcfg.Kind{
	CodeNotConfigured: mailcfg.KindAuthDisabled, CodeUnknownProvider: mailcfg.KindAuthDisabled,
	CodeAdminConsent: mailcfg.KindAuthDisabled, CodeAppNotFound: mailcfg.KindAuthDisabled,
	CodePersonalNotAllowed: mailcfg.KindAuthDisabled, CodeMisconfigured: mailcfg.KindAuthDisabled,
	CodeNoRefreshToken: mailcfg.KindAuthDisabled, CodeNotShared: mailcfg.KindAuthDisabled,
	CodeCancelled: mailcfg.KindCancelled, CodeTimeout: mailcfg.KindTimeout,
	CodeNetwork: mailcfg.KindConnect, CodeLoopback: mailcfg.KindConnect,
}

// Failure is the error as a mailcfg.Failure (field "auth", Detail
// "<provider> <code> …").
func (e *Error) Failure() *mailcfg.Failure {
	kind, ok := kinds[e.Code]
	if !ok {
		kind = mailcfg.KindAuthFailed
	}
	detail := e.Provider + " " + string(e.Code)
	if d := e.Detail(); d != "" {
		detail += " " + d
	}
	return &mailcfg.Failure{Kind: kind, Message: e.Message, Hint: e.Hint, Field: "auth", Detail: detail}
}

// As lets errors.As find a *mailcfg.Failure and, for CodeAdminConsent, a
// *ConsentNeeded in an *Error.
func (e *Error) As(target any) bool {
	switch t := target.(type) {
	case **mailcfg.Failure:
		*t = e.Failure()
		return true
	case **ConsentNeeded:
		if e.Consent != nil {
			*t = e.Consent
			return true
		}
	}
	return false
}
