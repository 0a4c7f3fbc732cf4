package oauthloopback

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/oauth2"
)

// AuthError is an error response delivered to the redirect URI (RFC 6749
// §4.1.2.1), e.g. Code "access_denied" when the user cancels consent.
type AuthError struct {
	Code        string // "error"
	Description string // "error_description", may be empty
	URI         string // "error_uri", may be empty
}

func (e *AuthError) Error() string {
	s := fmt.Sprintf("oauthloopback: authorization failed: %q", e.Code)
	if e.Description != "" {
		s += fmt.Sprintf(" %q", e.Description)
	}
	return s
}

// TokenError is an error response of the token endpoint (RFC 6749 §5.2),
// including the extra fields Microsoft Entra ID returns. It unwraps to the
// *oauth2.RetrieveError it was built from.
type TokenError struct {
	StatusCode  int    // HTTP status
	Code        string // "error", e.g. "invalid_grant"
	Description string // "error_description"
	URI         string // "error_uri"
	// Microsoft extras (empty elsewhere): "error_codes" (AADSTS numbers),
	// "trace_id", "correlation_id".
	ErrorCodes    []int
	TraceID       string
	CorrelationID string

	err *oauth2.RetrieveError
}

func (e *TokenError) Error() string {
	s := fmt.Sprintf("oauthloopback: token request failed (HTTP %d)", e.StatusCode)
	if e.Code != "" {
		s += fmt.Sprintf(": %q", e.Code)
	}
	if e.Description != "" {
		s += fmt.Sprintf(" %q", e.Description)
	}
	return s
}

func (e *TokenError) Unwrap() error { return e.err }

// HasErrorCode reports whether the response listed code in error_codes
// (Microsoft AADSTS number, e.g. 70008).
func (e *TokenError) HasErrorCode(code int) bool { return slices.Contains(e.ErrorCodes, code) }

// tokenError converts an error of oauth2.Config.Exchange. The response body is
// deliberately not part of the message.
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return fmt.Errorf("oauthloopback: token request failed: %w", err)
	}
	te := &TokenError{Code: re.ErrorCode, Description: re.ErrorDescription, URI: re.ErrorURI, err: re}
	if re.Response != nil {
		te.StatusCode = re.Response.StatusCode
	}
	var extra struct {
		ErrorCodes    []int  `json:"error_codes"`
		TraceID       string `json:"trace_id"`
		CorrelationID string `json:"correlation_id"`
	}
	if json.Unmarshal(re.Body, &extra) == nil {
		te.ErrorCodes, te.TraceID, te.CorrelationID = extra.ErrorCodes, extra.TraceID, extra.CorrelationID
	}
	return te
}
