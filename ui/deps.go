package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/discover"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/signin"
	"infino.legal/mailbox/mailcfg/verify"
)

// SignInRequest is one "Zaloguj przez …": the provider's sign-in in the
// browser for an address, or for a shared mailbox reached with the user's
// own sign-in.
type SignInRequest struct {
	// Provider is the OAuth provider id ("microsoft", "google", …).
	Provider string
	// LoginHint is the address typed on Start, or "".
	LoginHint string
	// Shared is a shared mailbox's address (Microsoft 365) the signed-in
	// user has Full Access to; "": the user's own mailbox.
	Shared string
	// Protocol is the incoming protocol (IMAP, or POP3).
	Protocol mailcfg.Protocol
}

// SignInFunc signs in with a mail provider (signin.Service.Start, then
// Session.Wait, then the account's settings and token). showURL (callable
// from any goroutine) hands the window the sign-in address, which it shows
// with a Copy button in case the browser did not open. It returns the
// settings to verify and the credential that logs in (a verify.TokenFunc or
// verify.OAuth2Token). An error that errors.As turns into a
// *mailcfg.Failure (signin.Error does) is shown in its own words, one that
// holds a *signin.ConsentNeeded opens the screen about the administrator's
// approval; cancelling ctx must stop the sign-in.
type SignInFunc func(ctx context.Context, req SignInRequest, showURL func(string)) (mailcfg.Settings, verify.Credential, error)

// SignInOffers tells the window which sign-ins it can offer; a
// *signin.Service is one. ProvidersFor and ConsentFor may block (MX
// lookups, a discovery document): the window calls them off the UI
// goroutine. Provider reads data only.
type SignInOffers interface {
	// ProvidersFor lists the sign-ins for an address, best first.
	ProvidersFor(ctx context.Context, address string) []signin.OAuthProvider
	// Provider is one provider by id.
	Provider(id string) (signin.OAuthProvider, bool)
	// ConsentFor is the admin-consent link and request to IT for the
	// address's tenant, without a failed sign-in.
	ConsentFor(provider, tenant, address string) (*signin.ConsentNeeded, error)
}

// HandOffFunc sends verified settings to Infino Legal, typically
// world.SecretFor then infino.Service.Submit: return resultOf(out).
// verifiedAt is when verification succeeded. showURL (callable from any
// goroutine) hands the window the Infino sign-in address when the browser
// has to sign in. It runs off the UI goroutine; cancelling ctx must stop it.
type HandOffFunc func(ctx context.Context, s mailcfg.Settings, cred verify.Credential, verifiedAt time.Time, showURL func(string)) HandOffResult

// ReplaceFunc replaces the settings Infino keeps for target (named by a
// StateExists result) with verified ones, typically world.SecretFor then
// infino.Service.Replace. Like HandOffFunc it runs off the UI goroutine.
type ReplaceFunc func(ctx context.Context, s mailcfg.Settings, cred verify.Credential, verifiedAt time.Time,
	target infino.MailboxInfo, showURL func(string)) HandOffResult

// Retry sends what waits in the outbox in the background while the window
// is open: each submission when it is due, and everything at once when the
// network comes back (infino.Retrier). It never opens the browser.
type Retry interface {
	// Run retries until ctx ends (the window closes) and returns when it
	// has stopped; status gets every change, from Run's goroutine.
	Run(ctx context.Context, status func(infino.RetryStatus))
	// Changed tells it that a submission was queued (any goroutine).
	Changed()
}

// HandOffResult is what the Done screen tells about the hand-off.
type HandOffResult struct {
	// State is infino.StateSent, StateExists, StateQueued, StateFailed or
	// StateReplaced.
	State infino.State
	// Message is the one sentence to show (infino.Outcome.Message()).
	Message mailcfg.Text
	// EntryID is the outbox entry that waits (StateQueued): "Retry now"
	// delivers it.
	EntryID string
	// Fields are the fields Infino refused (a 400 answer), for the form.
	Fields mailcfg.ValidationError
	// Existing is the mailbox Infino already keeps (StateExists, when it
	// named it): "Zastąp zapisane ustawienia" replaces it.
	Existing *infino.MailboxInfo
}

// resultOf is what the Done screen shows of an infino.Outcome.
func resultOf(out infino.Outcome) HandOffResult {
	r := HandOffResult{State: out.State, Message: out.Message(), Fields: out.Fields(), Existing: out.Existing}
	if out.State == infino.StateQueued {
		r.EntryID = out.EntryID
	}
	return r
}

// Outbox is the part of the hand-off the Done and Start screens show besides
// one submission: the Infino address and what waits in the outbox. The real
// one is an infino.Service (see wiring.go); nil: neither is shown.
//
// Every method may block (they read and write files, and Flush talks to
// Infino): the window calls them off the UI goroutine, and cancelling ctx
// must stop them.
type Outbox interface {
	// InfinoURL is where submissions go ("" with a nil error: none yet);
	// fromPolicy: firm IT set it and it cannot be changed here. It reads
	// the remembered address from disk.
	InfinoURL(ctx context.Context) (u string, fromPolicy bool, err error)
	// SetInfinoURL remembers the address typed on the Done screen; it
	// writes (and syncs) a file.
	SetInfinoURL(ctx context.Context, u string) error
	// Pending lists what waits, this run's and earlier runs' submissions.
	Pending(ctx context.Context) ([]infino.Entry, error)
	// Flush sends what waits: force false at start-up (what is due, never a
	// browser), true for "Retry now" (everything, signing in through the
	// browser if needed; showURL gets the sign-in address).
	Flush(ctx context.Context, force bool, showURL func(string)) infino.FlushReport
}

// DemoInfo is what the header tells a newcomer in demo mode (--demo).
type DemoInfo struct {
	Email, Password string // the password account
	MicrosoftEmail  string // the "Sign in with Microsoft" account
	// GoogleEmail is the "Sign in with Google" account; ConsentEmail the
	// Microsoft 365 account whose tenant needs the administrator's
	// approval first. "": the demo has none.
	GoogleEmail, ConsentEmail string
}

// Deps is everything the window uses from outside itself. Run fills it with
// the real things; tests inject fakes.
type Deps struct {
	Policy policy.Policy
	// PolicyErr is what went wrong reading the policy (shown on Start).
	PolicyErr error
	// NetWarning is why the policy's CA file is not used (shown on Start,
	// in the words the command line prints too); nil: nothing to say.
	NetWarning *mailcfg.Text
	// PolicyFile is the JSON policy file firm IT edits, named when
	// something must be set there; from the world (policy.FilePath).
	PolicyFile string
	// Lang is "pl" or "en": the language of texts that come from mailcfg.
	// It must agree with what fyne.io/fyne/v2/lang picked (see LoadTranslationsFor).
	Lang string
	// Table is the provider table for autofill; nil means mailcfg.Bundled(),
	// parsed when first needed (not before the first frame).
	Table *mailcfg.Table

	// Verify checks settings against the servers. Nil: the Verification
	// screen says verification is not available in this build.
	Verify VerifyFunc
	// Discover finds settings for unknown domains; nil: bundled table only.
	Discover DiscoverFunc
	// SignIn is "Zaloguj przez …" of every provider; nil: no sign-in
	// runs (a tap says that firm IT must configure it).
	SignIn SignInFunc
	// Offers says which provider's sign-in fits an address, whether firm
	// IT configured it, and builds the admin-consent request; nil: only
	// Microsoft's sign-in is offered, configured when the policy has a
	// microsoft.clientId.
	Offers SignInOffers
	// HandOff sends the result to Infino; nil: Done shows the summary only.
	HandOff HandOffFunc
	// Replace replaces what Infino keeps for a mailbox that was already
	// connected; nil: Done offers no replacement.
	Replace ReplaceFunc
	// Retry retries the outbox while the window is open; nil: only at
	// start-up and on "Spróbuj teraz".
	Retry Retry
	// Outbox is the Infino address and the outbox behind HandOff; nil: no
	// address field and no word about earlier submissions. The wizard flushes
	// it once at start-up, off the UI goroutine.
	Outbox Outbox
	// Demo, when set, marks the window as running against the sandbox.
	Demo *DemoInfo
	// Close runs once when the window closes, after everything is stopped
	// (the demo closes its sandbox there).
	Close func()

	// Clipboard receives the diagnostic report.
	Clipboard func(string)
	// Do runs f on the UI goroutine; fyne.Do by default. Tests queue instead,
	// because the test driver runs fyne.Do inline on the calling goroutine.
	Do func(f func())
	// Debounce is how long typing must pause before autofill and discovery
	// run; 0 runs them at once (tests).
	Debounce time.Duration
	// OS describes the system for the diagnostic report; "" reads it
	// (osDescription) when a report is made.
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

// VerifyOptions is the part of verify.Options the window decides.
type VerifyOptions struct {
	AllowInsecure, InsecureOverride bool
	// Progress is called from worker goroutines.
	Progress func(verify.Event)
}

// VerifyFunc checks the settings against the real servers.
type VerifyFunc func(ctx context.Context, s mailcfg.Settings, cred verify.Credential, opt VerifyOptions) verify.Result

// VerifyWith adapts verify.Verify, with base for what the window does not
// decide (roots, dialer, timeouts).
func VerifyWith(base verify.Options) VerifyFunc {
	return func(ctx context.Context, s mailcfg.Settings, cred verify.Credential, opt VerifyOptions) verify.Result {
		o := base
		o.AllowInsecure, o.InsecureOverride, o.Progress = opt.AllowInsecure, opt.InsecureOverride, opt.Progress
		return verify.Verify(ctx, s, cred, o)
	}
}

// DiscoverFunc streams ever better settings for an address and closes the
// channel when done. password is what the user typed, for an Exchange
// Autodiscover server that answers only signed-in requests ("" until the
// user typed one; see discover.Options.Password).
type DiscoverFunc func(ctx context.Context, email string, proto mailcfg.Protocol, password string) <-chan discover.Result

// DiscoverWith adapts discover.Stream.
func DiscoverWith(base discover.Options) DiscoverFunc {
	return func(ctx context.Context, email string, proto mailcfg.Protocol, password string) <-chan discover.Result {
		o := base
		o.Protocol = proto
		o.Password = password
		return discover.Stream(ctx, email, o)
	}
}
