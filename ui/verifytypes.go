package ui

import (
	"context"
	"time"

	"infino.legal/mailbox/mailcfg"
)

// The types below mirror, name for name, what package mailcfg/verify
// (issue 3) and mailcfg/failure.go define. Until those land the window codes
// against these; when they do, this file shrinks to type aliases
// (type Failure = mailcfg.Failure, type VerifyEvent = verify.Event, …) and
// the adapter in deps.go passes verify.Verify through.

// Kind classifies a failure; the values are those of mailcfg.Kind.
type Kind string

const (
	KindDNS                 Kind = "dns"
	KindConnect             Kind = "connect"
	KindTimeout             Kind = "timeout"
	KindTLSCertificate      Kind = "tls_certificate"
	KindTLSUnavailable      Kind = "tls_unavailable"
	KindAuthFailed          Kind = "auth_failed"
	KindAppPasswordRequired Kind = "app_password_required"
	KindAuthDisabled        Kind = "auth_disabled"
	KindProtocol            Kind = "protocol"
	KindCancelled           Kind = "cancelled"
)

// Kinds lists every failure kind, in the order the tests walk them.
var Kinds = []Kind{KindDNS, KindConnect, KindTimeout, KindTLSCertificate, KindTLSUnavailable,
	KindAuthFailed, KindAppPasswordRequired, KindAuthDisabled, KindProtocol, KindCancelled}

// CertInfo describes a server certificate that was not trusted (mailcfg.CertInfo).
type CertInfo struct {
	SHA256    string
	Subject   string
	Issuer    string
	NotBefore time.Time
	NotAfter  time.Time
	Names     []string
	Reason    string
}

// Failure is one classified verification failure (mailcfg.Failure).
type Failure struct {
	Kind    Kind
	Message mailcfg.Text
	Hint    mailcfg.Text
	// Field is the settings field to fix ("incoming.host", "password", …).
	Field       string
	Certificate *CertInfo
	// Detail is technical text for developers. It may quote a server reply,
	// so the window never shows it and the diagnostic report leaves it out.
	Detail string
}

// Side is incoming or outgoing (verify.Side).
type Side string

const (
	SideIncoming Side = "incoming"
	SideOutgoing Side = "outgoing"
)

// Step is one stage of checking a server (verify.Step).
type Step string

const (
	StepResolve  Step = "resolve"
	StepConnect  Step = "connect"
	StepTLS      Step = "tls"
	StepGreeting Step = "greeting"
	StepLogin    Step = "login"
	StepDone     Step = "done"
)

// VerifyEvent is one progress report (verify.Event).
type VerifyEvent struct {
	Side    Side
	Step    Step
	Elapsed time.Duration
	Failure *Failure
}

// SideResult is the outcome for one server (verify.SideResult).
type SideResult struct {
	OK      bool
	Elapsed time.Duration
	Steps   []VerifyEvent
	Failure *Failure
}

// VerifyResult is the outcome for both servers (verify.Result).
type VerifyResult struct {
	OK                 bool
	Incoming, Outgoing SideResult
	Elapsed            time.Duration
}

// Credential is what logs in (verify.Credential).
type Credential interface{}

// Password is a password credential (verify.Password).
type Password string

// OAuth2Token is an OAuth 2 access token credential (verify.OAuth2Token).
type OAuth2Token struct {
	Username, AccessToken string
}

// VerifyOptions is the part of verify.Options the window decides.
type VerifyOptions struct {
	AllowInsecure, InsecureOverride bool
	// Progress is called from worker goroutines.
	Progress func(VerifyEvent)
}

// VerifyFunc checks the settings against the real servers; verify.Verify
// behind a one-line adapter.
type VerifyFunc func(ctx context.Context, s mailcfg.Settings, cred Credential, opt VerifyOptions) VerifyResult

// DiscoverResult is one answer of discovery (discover.Result, issue 7).
type DiscoverResult struct {
	Settings mailcfg.Settings
	Provider *mailcfg.Provider
}

// DiscoverFunc streams ever better settings for an address and closes the
// channel when done (discover.Stream behind a one-line adapter).
type DiscoverFunc func(ctx context.Context, email string) <-chan DiscoverResult
