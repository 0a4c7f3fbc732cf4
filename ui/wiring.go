package ui

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/discover"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/signin"
	"infino.legal/mailbox/mailcfg/verify"
	"infino.legal/mailbox/mailcfg/world"
)

// wiring turns the process's world (package world: the machine's, or the
// demo's) into what the window runs on: verification, discovery, Microsoft
// sign-in and the hand-off. Everything slow (the HTTP client, the roots,
// the hand-off service) is made on first use, off the UI goroutine, so that
// none of it delays the first frame.
type wiring struct {
	w *world.World

	svcOnce sync.Once
	svc     *infino.Service
	svcErr  error
	// showURL is where the Infino sign-in address goes while a hand-off
	// that may sign in runs (the Done screen's Copy box).
	showURL atomic.Pointer[func(string)]
	// retrier is the background retrier while Run runs; probeEvery is
	// how often it checks whether the network is back (0: its default).
	retrier    atomic.Pointer[infino.Retrier]
	probeEvery time.Duration
}

// newWiring wires the window to a world; lang is the window's language
// (LoadTranslationsFor), which the world's messages and pages follow too.
func newWiring(w *world.World, lang string) *wiring {
	w.Lang = lang
	return &wiring{w: w}
}

// deps are the window's dependencies on this wiring.
func (wr *wiring) deps() Deps {
	w := wr.w
	d := Deps{
		Policy:    w.Policy,
		PolicyErr: w.PolicyErr,
		Lang:      w.Lang,
		Table:     w.ProviderTable(),
		Debounce:  300 * time.Millisecond,
		Verify:    wr.verify,
		Discover:  wr.discover,
		SignIn:    wr.signIn,
		Offers:    &worldOffers{wr.w},
		HandOff:   wr.handOff,
		Replace:   wr.replace,
		Outbox:    wr,
		Retry:     wr,
		// Reads the policy's CA file only, if it names one; the rest of
		// the network is built on first use.
		NetWarning: w.NetWarning(),
		PolicyFile: w.PolicyFile,
	}
	if dm := w.Demo; dm != nil {
		d.Demo = demoInfo(dm)
	}
	return d
}

// verify is VerifyWith over the world's roots and table.
func (wr *wiring) verify(ctx context.Context, s mailcfg.Settings, cred verify.Credential, opt VerifyOptions) verify.Result {
	return VerifyWith(wr.w.VerifyOptions())(ctx, s, cred, opt)
}

// discover is DiscoverWith through the world's proxy and roots.
func (wr *wiring) discover(ctx context.Context, email string, proto mailcfg.Protocol, password string) <-chan discover.Result {
	return DiscoverWith(wr.w.DiscoverOptions(false))(ctx, email, proto, password)
}

// signIn is "Zaloguj przez …": the world's sign-in of the provider
// (ProviderSignIn) with the window's login hint, shared mailbox, protocol
// and sign-in address box.
func (wr *wiring) signIn(ctx context.Context, req SignInRequest, showURL func(string)) (mailcfg.Settings, verify.Credential, error) {
	return wr.w.ProviderSignIn(ctx, signin.Request{Provider: req.Provider, LoginHint: req.LoginHint,
		Shared: req.Shared, Protocol: req.Protocol, OnURL: showURL})
}

// worldOffers are the world's sign-ins for the window: a new
// signin.Service per call sees the world as it is, and building one (the
// network, on first use) happens off the UI goroutine, where the window
// calls ProvidersFor and ConsentFor; Provider reads the tables and the
// policy only.
type worldOffers struct{ w *world.World }

func (o *worldOffers) ProvidersFor(ctx context.Context, address string) []signin.OAuthProvider {
	return o.w.SignIn().ProvidersFor(ctx, address)
}

func (o *worldOffers) Provider(id string) (signin.OAuthProvider, bool) {
	return signin.New(signin.Config{Policy: o.w.Policy, PolicyFile: o.w.PolicyFile, Table: o.w.Table}).Provider(id)
}

func (o *worldOffers) ConsentFor(provider, tenant, address string) (*signin.ConsentNeeded, error) {
	return o.w.SignIn().ConsentFor(provider, tenant, address)
}

// demoInfo is the demo header's accounts.
func demoInfo(dm *world.Demo) *DemoInfo {
	return &DemoInfo{Email: dm.Email, Password: dm.Password, MicrosoftEmail: dm.MicrosoftEmail,
		GoogleEmail: dm.GoogleEmail, ConsentEmail: dm.ConsentEmail}
}

// service is the window's one hand-off service.
func (wr *wiring) service() (*infino.Service, error) {
	wr.svcOnce.Do(func() {
		wr.svc, wr.svcErr = wr.w.Service(func(u string) {
			if f := wr.showURL.Load(); f != nil {
				(*f)(u)
			}
		})
	})
	return wr.svc, wr.svcErr
}

// withURL routes the Infino sign-in address to showURL while f runs.
func (wr *wiring) withURL(showURL func(string), f func()) {
	var p *func(string)
	if showURL != nil {
		p = &showURL
	}
	prev := wr.showURL.Swap(p)
	defer wr.showURL.Store(prev)
	f()
}

// handOff is the Done screen's hand-off: Submit (outbox first, then
// Infino).
func (wr *wiring) handOff(ctx context.Context, s mailcfg.Settings, cred verify.Credential, verifiedAt time.Time, showURL func(string)) HandOffResult {
	return wr.handOver(ctx, s, cred, showURL, func(svc *infino.Service, sec infino.Secret) infino.Outcome {
		return svc.Submit(ctx, s, sec, verifiedAt)
	})
}

// replace is "Zastąp zapisane ustawienia": Replace (outbox first, then
// PUT).
func (wr *wiring) replace(ctx context.Context, s mailcfg.Settings, cred verify.Credential, verifiedAt time.Time,
	target infino.MailboxInfo, showURL func(string)) HandOffResult {
	return wr.handOver(ctx, s, cred, showURL, func(svc *infino.Service, sec infino.Secret) infino.Outcome {
		return svc.Replace(ctx, s, sec, verifiedAt, target)
	})
}

// handOver is what handOff and replace share: the hand-off service, the
// world's secret for the credential that verification accepted
// (SecretFor), then send, with the Infino sign-in address shown in
// showURL.
func (wr *wiring) handOver(ctx context.Context, s mailcfg.Settings, cred verify.Credential, showURL func(string),
	send func(*infino.Service, infino.Secret) infino.Outcome) HandOffResult {
	svc, err := wr.service()
	if err != nil {
		return failedResult(err)
	}
	sec, err := wr.w.SecretFor(ctx, s, cred)
	if err != nil {
		return failedResult(err)
	}
	var out infino.Outcome
	wr.withURL(showURL, func() { out = send(svc, sec) })
	return resultOf(out)
}

// Run is the window's background retrier (Retry): an infino.Retrier on the
// hand-off service, until ctx ends.
func (wr *wiring) Run(ctx context.Context, status func(infino.RetryStatus)) {
	svc, err := wr.service()
	if err != nil {
		return
	}
	r := infino.NewRetrier(infino.RetrierOptions{Service: svc, OnChange: status, ProbeEvery: wr.probeEvery})
	wr.retrier.Store(r)
	defer wr.retrier.CompareAndSwap(r, nil)
	r.Run(ctx)
}

// Changed tells the retrier that a submission was queued.
func (wr *wiring) Changed() {
	if r := wr.retrier.Load(); r != nil {
		r.Changed()
	}
}

// failedResult is a hand-off that could not start (no config directory,
// no Microsoft sign-in in the store, a keyring that refuses).
func failedResult(err error) HandOffResult {
	return resultOf(infino.Outcome{State: infino.StateFailed, Err: err})
}

// The Outbox of the window.

func (wr *wiring) InfinoURL(context.Context) (string, bool, error) {
	svc, err := wr.service()
	if err != nil {
		return "", false, err
	}
	return svc.InfinoURL()
}

func (wr *wiring) SetInfinoURL(_ context.Context, u string) error {
	svc, err := wr.service()
	if err != nil {
		return err
	}
	return svc.SetInfinoURL(u)
}

func (wr *wiring) Pending(ctx context.Context) ([]infino.Entry, error) {
	svc, err := wr.service()
	if err != nil {
		return nil, err
	}
	entries, _, err := svc.Pending(ctx)
	return entries, err
}

func (wr *wiring) Flush(ctx context.Context, force bool, showURL func(string)) infino.FlushReport {
	svc, err := wr.service()
	if err != nil {
		return infino.FlushReport{Err: err}
	}
	var rep infino.FlushReport
	wr.withURL(showURL, func() { rep = svc.Flush(ctx, force) })
	return rep
}
