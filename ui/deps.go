package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/policy"
)

// SignInFunc signs in with Microsoft (issue 4): microsoft.Start, then
// Session.Wait, then the account's settings and token. loginHint is the
// address typed on Start, or "". showURL (callable from any goroutine) hands
// the window the sign-in address, which it shows with a Copy button in case
// the browser did not open. It returns the settings to verify and the
// credential that logs in (a verify.TokenFunc or OAuth2Token). An error with
// a Failure() *mailcfg.Failure method (microsoft.Error has one) is shown in
// its own words; cancelling ctx must stop the sign-in.
type SignInFunc func(ctx context.Context, loginHint string, showURL func(string)) (mailcfg.Settings, Credential, error)

// HandOffFunc sends verified settings to Infino Legal (issue 6), typically
// infino.Service.Submit: return HandOffResult{State: out.State, Message:
// out.Message()}. verifiedAt is when verification succeeded. It runs off the
// UI goroutine; cancelling ctx must stop it.
type HandOffFunc func(ctx context.Context, s mailcfg.Settings, cred Credential, verifiedAt time.Time) HandOffResult

// HandOffResult is what the Done screen tells about the hand-off.
type HandOffResult struct {
	// State is infino.StateSent, StateExists, StateQueued or StateFailed.
	State infino.State
	// Message is the one sentence to show (infino.Outcome.Message()).
	Message mailcfg.Text
}

// Deps is everything the window uses from outside itself. Run fills it with
// the real things; tests inject fakes.
type Deps struct {
	Policy policy.Policy
	// PolicyErr is what went wrong reading the policy (shown on Start).
	PolicyErr error
	// Lang is "pl" or "en": the language of texts that come from mailcfg.
	// It must agree with what fyne.io/fyne/v2/lang picked (see LoadTranslations).
	Lang string
	// Table is the provider table for autofill; nil means mailcfg.Bundled(),
	// parsed when first needed (not before the first frame).
	Table *mailcfg.Table

	// Verify checks settings against the servers. Nil: the Verification
	// screen says verification is not available in this build.
	Verify VerifyFunc
	// Discover finds settings for unknown domains; nil: bundled table only.
	Discover DiscoverFunc
	// SignIn is "Zaloguj przez Microsoft"; nil (or no microsoft.clientId in
	// the policy) shows that firm IT must configure it.
	SignIn SignInFunc
	// HandOff sends the result to Infino; nil: Done shows the summary only.
	HandOff HandOffFunc

	// Clipboard receives the diagnostic report.
	Clipboard func(string)
	// Do runs f on the UI goroutine; fyne.Do by default. Tests queue instead,
	// because the test driver runs fyne.Do inline on the calling goroutine.
	Do func(f func())
	// Debounce is how long typing must pause before autofill and discovery
	// run; 0 runs them at once (tests).
	Debounce time.Duration
	// OS describes the system for the diagnostic report.
	OS string
	// Now is the clock of the report; time.Now by default.
	Now func() time.Time
}

func (d *Deps) fill(a fyne.App) {
	if d.Lang == "" {
		d.Lang = "en"
	}
	if d.Do == nil {
		d.Do = fyne.Do
	}
	if d.Clipboard == nil && a != nil {
		d.Clipboard = a.Clipboard().SetContent
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Policy.Origin == nil {
		d.Policy = policy.Default()
	}
}
