package ui

import (
	"context"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/discover"
	"infino.legal/mailbox/mailcfg/verify"
)

// The window's names for what mailcfg (failures), mailcfg/verify and
// mailcfg/discover define. The window codes against these, and tests inject
// fakes of VerifyFunc and DiscoverFunc.
type (
	Kind         = mailcfg.Kind
	CertInfo     = mailcfg.CertInfo
	Failure      = mailcfg.Failure
	Side         = verify.Side
	Step         = verify.Step
	VerifyEvent  = verify.Event
	SideResult   = verify.SideResult
	VerifyResult = verify.Result
	Credential   = verify.Credential
	Password     = verify.Password
	OAuth2Token  = verify.OAuth2Token
)

const (
	KindDNS                 = mailcfg.KindDNS
	KindConnect             = mailcfg.KindConnect
	KindTimeout             = mailcfg.KindTimeout
	KindTLSCertificate      = mailcfg.KindTLSCertificate
	KindTLSUnavailable      = mailcfg.KindTLSUnavailable
	KindAuthFailed          = mailcfg.KindAuthFailed
	KindAppPasswordRequired = mailcfg.KindAppPasswordRequired
	KindAuthDisabled        = mailcfg.KindAuthDisabled
	KindProtocol            = mailcfg.KindProtocol
	KindCancelled           = mailcfg.KindCancelled
	KindInsecureRefused     = mailcfg.KindInsecureRefused

	SideIncoming = verify.Incoming
	SideOutgoing = verify.Outgoing

	StepResolve  = verify.StepResolve
	StepConnect  = verify.StepConnect
	StepTLS      = verify.StepTLS
	StepGreeting = verify.StepGreeting
	StepLogin    = verify.StepLogin
	StepDone     = verify.StepDone
)

// Kinds lists every failure kind.
var Kinds = mailcfg.Kinds

// VerifyOptions is the part of verify.Options the window decides.
type VerifyOptions struct {
	AllowInsecure, InsecureOverride bool
	// Progress is called from worker goroutines.
	Progress func(VerifyEvent)
}

// VerifyFunc checks the settings against the real servers.
type VerifyFunc func(ctx context.Context, s mailcfg.Settings, cred Credential, opt VerifyOptions) VerifyResult

// VerifyWith adapts verify.Verify, with base for what the window does not
// decide (roots, dialer, timeouts).
func VerifyWith(base verify.Options) VerifyFunc {
	return func(ctx context.Context, s mailcfg.Settings, cred Credential, opt VerifyOptions) VerifyResult {
		o := base
		o.AllowInsecure, o.InsecureOverride, o.Progress = opt.AllowInsecure, opt.InsecureOverride, opt.Progress
		return verify.Verify(ctx, s, cred, o)
	}
}

// DiscoverResult is one answer of discovery.
type DiscoverResult = discover.Result

// DiscoverFunc streams ever better settings for an address and closes the
// channel when done.
type DiscoverFunc func(ctx context.Context, email string, proto mailcfg.Protocol) <-chan DiscoverResult

// DiscoverWith adapts discover.Stream.
func DiscoverWith(base discover.Options) DiscoverFunc {
	return func(ctx context.Context, email string, proto mailcfg.Protocol) <-chan DiscoverResult {
		o := base
		o.Protocol = proto
		return discover.Stream(ctx, email, o)
	}
}

// nextStep is the step that starts when a verify.Event reports step done:
// events report finished steps, and the window shows the next one as in
// progress. With STARTTLS (or none) the greeting comes before TLS.
func nextStep(done Step, sec mailcfg.Security) Step {
	implicit := sec == mailcfg.SecurityTLS
	switch done {
	case StepResolve:
		return StepConnect
	case StepConnect:
		if implicit {
			return StepTLS
		}
		return StepGreeting
	case StepTLS:
		if implicit {
			return StepGreeting
		}
		return StepLogin
	case StepGreeting:
		if sec == mailcfg.SecurityStartTLS {
			return StepTLS
		}
		return StepLogin
	}
	return StepDone
}
