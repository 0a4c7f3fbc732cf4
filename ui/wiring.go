package ui

import (
	"context"
	"crypto/x509"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"

	"infino.legal/mailbox/internal/sandbox"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/discover"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/microsoft"
	"infino.legal/mailbox/mailcfg/netconf"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/verify"
	"infino.legal/mailbox/oauthloopback"
)

// wiring is what the real verification, discovery, Microsoft sign-in and
// hand-off run on: one per process (the window's or the demo's). Everything
// slow (the HTTP client, the roots, the hand-off service) is made on first
// use, off the UI goroutine, so that none of it delays the first frame.
type wiring struct {
	pol   policy.Policy
	lang  string
	store secrets.Store
	// opener opens sign-in pages; nil: the system browser.
	opener oauthloopback.Opener
	// configDir holds the outbox and the remembered Infino URL; "":
	// infino.DefaultConfigDir().
	configDir string
	// table is the provider table; nil: the bundled one.
	table *mailcfg.Table
	// httpc reaches Infino and Microsoft; nil: netconf.HTTPClient(pol).
	httpc *http.Client
	// roots are verification's and discovery's roots; nil: netconf.RootCAs
	// when the policy names an extra CA file, else the system's.
	roots *x509.CertPool
	// offline: discovery uses the table only (the demo never asks DNS).
	offline bool
	// msSettings replaces the settings a Microsoft sign-in fills (the demo
	// points them at the sandbox's mail servers); nil: as filled.
	msSettings func(address string) (mailcfg.Settings, error)
	// retry and sleep tune the hand-off's in-call retries (tests).
	retry infino.Retry
	sleep func(ctx context.Context, d time.Duration) error

	netOnce sync.Once
	svcOnce sync.Once
	svc     *infino.Service
	svcErr  error
	// showURL is where the Infino sign-in address goes while a hand-off
	// that may sign in runs (the Done screen's Copy box).
	showURL atomic.Pointer[func(string)]
}

// deps are the window's dependencies on this wiring.
func (w *wiring) deps() Deps {
	return Deps{
		Policy:   w.pol,
		Lang:     w.lang,
		Table:    w.table,
		Debounce: 300 * time.Millisecond,
		OS:       osDescription(),
		Verify:   w.verify,
		Discover: w.discover,
		SignIn:   w.signIn,
		HandOff:  w.handOff,
		Outbox:   w,
	}
}

// network makes the HTTP client and the roots from the policy, once.
func (w *wiring) network() {
	w.netOnce.Do(func() {
		if w.httpc == nil {
			hc, err := netconf.HTTPClient(w.pol)
			if err != nil {
				fyne.LogError("policy proxy or CA file; using the system's", err)
				hc = infino.NewHTTPClient()
			}
			w.httpc = hc
		}
		if w.roots == nil && w.pol.ExtraCAFile != "" {
			roots, err := netconf.RootCAs(w.pol)
			if err != nil {
				fyne.LogError("policy CA file; using the system roots", err)
			}
			w.roots = roots
		}
	})
}

func (w *wiring) http() *http.Client {
	w.network()
	return w.httpc
}

func (w *wiring) rootCAs() *x509.CertPool {
	w.network()
	return w.roots
}

// verify is VerifyWith over the policy's roots (the sandbox CA in the demo).
func (w *wiring) verify(ctx context.Context, s mailcfg.Settings, cred verify.Credential, opt VerifyOptions) verify.Result {
	return VerifyWith(verify.Options{RootCAs: w.rootCAs(), Table: w.table})(ctx, s, cred, opt)
}

// discover is DiscoverWith through the policy's proxy and roots.
func (w *wiring) discover(ctx context.Context, email string, proto mailcfg.Protocol) <-chan discover.Result {
	o := discover.Options{Table: w.table, Offline: w.offline}
	if !w.offline {
		o.HTTPClient, o.RootCAs = w.http(), w.rootCAs()
	}
	return DiscoverWith(o)(ctx, email, proto)
}

// signIn is "Zaloguj przez Microsoft": the browser sign-in of package
// microsoft (refresh token into the store), then its settings and a
// credential that refreshes access tokens from that store — so the same
// store later gives infino.SecretFor the (possibly rotated) refresh token.
func (w *wiring) signIn(ctx context.Context, hint string, showURL func(string)) (mailcfg.Settings, verify.Credential, error) {
	cfg := microsoft.Config{
		Policy:     w.pol.Microsoft,
		Store:      w.store,
		HTTPClient: w.http(),
		Opener:     w.opener,
		OnURL:      showURL,
		Lang:       w.lang,
		LoginHint:  hint,
	}
	s, err := microsoft.Start(ctx, cfg)
	if err != nil {
		return mailcfg.Settings{}, nil, err
	}
	defer s.Close()
	stop := context.AfterFunc(ctx, func() { s.Close() }) // Cancel
	defer stop()
	acc, err := s.Wait(ctx)
	if err != nil {
		return mailcfg.Settings{}, nil, err
	}
	settings := acc.Settings
	if w.msSettings != nil {
		if settings, err = w.msSettings(acc.Address); err != nil {
			return mailcfg.Settings{}, nil, err
		}
	}
	return settings, verify.TokenFunc(acc.Tokens().AccessToken), nil
}

// service is the process's one hand-off service.
func (w *wiring) service() (*infino.Service, error) {
	w.svcOnce.Do(func() {
		dir := w.configDir
		if dir == "" {
			if dir, w.svcErr = infino.DefaultConfigDir(); w.svcErr != nil {
				return
			}
		}
		w.svc = infino.NewService(infino.Options{
			ConfigDir: dir,
			Store:     w.store,
			Policy:    w.pol,
			HTTP:      w.http(),
			Browser: &infino.Browser{
				Opener: w.opener,
				OnURL: func(u string) {
					if f := w.showURL.Load(); f != nil {
						(*f)(u)
					}
				},
				Pages: oauthloopback.PagesFor(w.lang),
			},
			Lang:  w.lang,
			Retry: w.retry,
			Sleep: w.sleep,
		})
	})
	return w.svc, w.svcErr
}

// withURL routes the Infino sign-in address to showURL while f runs.
func (w *wiring) withURL(showURL func(string), f func()) {
	var p *func(string)
	if showURL != nil {
		p = &showURL
	}
	prev := w.showURL.Swap(p)
	defer w.showURL.Store(prev)
	f()
}

// handOff is the Done screen's hand-off: the secret for the credential that
// verification accepted, then Submit (outbox first, then Infino).
func (w *wiring) handOff(ctx context.Context, s mailcfg.Settings, cred verify.Credential, verifiedAt time.Time, showURL func(string)) HandOffResult {
	svc, err := w.service()
	if err != nil {
		return failedResult(err)
	}
	sec, err := infino.SecretFor(ctx, s, cred, w.store, w.pol.Microsoft)
	if err != nil {
		return failedResult(err)
	}
	var out infino.Outcome
	w.withURL(showURL, func() { out = svc.Submit(ctx, s, sec, verifiedAt) })
	return resultOf(out)
}

// failedResult is a hand-off that could not start (no config directory,
// no Microsoft sign-in in the store, a keyring that refuses).
func failedResult(err error) HandOffResult {
	return resultOf(infino.Outcome{State: infino.StateFailed, Err: err})
}

// The Outbox of the window.

func (w *wiring) InfinoURL(context.Context) (string, bool, error) {
	svc, err := w.service()
	if err != nil {
		return "", false, err
	}
	return svc.InfinoURL()
}

func (w *wiring) SetInfinoURL(_ context.Context, u string) error {
	svc, err := w.service()
	if err != nil {
		return err
	}
	return svc.SetInfinoURL(u)
}

func (w *wiring) Pending(ctx context.Context) ([]infino.Entry, error) {
	svc, err := w.service()
	if err != nil {
		return nil, err
	}
	entries, _, err := svc.Pending(ctx)
	return entries, err
}

func (w *wiring) Flush(ctx context.Context, force bool, showURL func(string)) infino.FlushReport {
	svc, err := w.service()
	if err != nil {
		return infino.FlushReport{Err: err}
	}
	var rep infino.FlushReport
	w.withURL(showURL, func() { rep = svc.Flush(ctx, force) })
	return rep
}

// realWiring is the shipped window's: the machine's policy, the OS keyring,
// the policy's proxy and CAs, the system browser, the real outbox.
func realWiring() (*wiring, error) {
	pol, perr := policy.Load()
	return &wiring{pol: pol, lang: LoadTranslationsFor(pol.Language), store: secrets.NewKeyring(secrets.Options{})}, perr
}

// demoWiring starts the sandbox (internal/sandbox) in this process and wires
// the window to it: its policy, provider table (demo domains first), CA,
// HTTP client, an in-memory secret store and a throw-away config directory,
// so that nothing leaves this computer and nothing real is touched. open is
// the browser (oauthloopback.DefaultOpener; tests pass a fake). lang is the
// policy's language ("" follows the OS). Close the sandbox when done.
func demoWiring(ctx context.Context, lang string, open func(ctx context.Context, url string) error) (*wiring, *sandbox.Sandbox, error) {
	sb, err := sandbox.Start(ctx, sandbox.Options{Demo: true})
	if err != nil {
		return nil, nil, err
	}
	wr, err := sb.Wiring(open)
	if err != nil {
		sb.Close()
		return nil, nil, err
	}
	pol := wr.Policy
	pol.Language = lang
	w := &wiring{pol: pol, store: wr.Store, opener: wr.Opener, configDir: wr.ConfigDir, table: wr.Table,
		httpc: wr.HTTP, roots: wr.RootCAs, offline: true, msSettings: sb.MicrosoftSettings}
	return w, sb, nil
}

// demoInfo is what the demo header tells a newcomer.
func demoInfo() *DemoInfo {
	return &DemoInfo{Email: sandbox.DemoEmail, Password: sandbox.DemoPassword, MicrosoftEmail: sandbox.MicrosoftEmail}
}
