// Package world is the composition root of Infino Mailbox: what the window
// and the command line run on (policy, language, provider table, network,
// secret store, browser, configuration directory), built once per process.
// Real builds the machine's world; the demo's comes from the sandbox
// (internal/sandbox.World), and main picks one. The faces never build these
// pieces themselves: they ask a World for verification and discovery
// options, the Microsoft sign-in, the hand-off service and the credentials.
//
// A World is filled in before it is shared and not changed afterwards;
// its methods may then be called from any goroutine.
package world

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/discover"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/netconf"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/verify"
	"infino.legal/mailbox/oauthloopback"
)

// World is everything both faces need from outside themselves.
type World struct {
	// Policy is the merged policy; PolicyErr is what went wrong reading it
	// (the policy is then the defaults plus whatever could be read).
	Policy    policy.Policy
	PolicyErr error
	// PolicyFile is the JSON policy file IT may write, named in messages
	// such as "Microsoft sign-in is not configured".
	PolicyFile string
	// Lang is "pl" or "en": the language of messages and browser pages.
	Lang string
	// Table is the provider table; nil: mailcfg.Bundled().
	Table *mailcfg.Table
	// Store keeps passwords, refresh tokens and Infino tokens.
	Store secrets.Store
	// Opener opens sign-in pages; nil: the system browser.
	Opener oauthloopback.Opener
	// ConfigDir holds the outbox and the remembered Infino URL; "":
	// infino.DefaultConfigDir().
	ConfigDir string
	// Offline: discovery uses the table only (the demo never asks DNS).
	Offline bool
	// MicrosoftSettings, when set, replaces the settings a Microsoft
	// sign-in fills (the demo points them at its own mail servers).
	MicrosoftSettings func(address string) (mailcfg.Settings, error)
	// OAuthSettings, when set, replaces the settings any provider's
	// sign-in fills (the demo's Google and Microsoft).
	OAuthSettings func(provider, address string) (mailcfg.Settings, error)
	// Demo, when set, marks the demo's world and names its accounts.
	Demo *Demo

	// HTTP and RootCAs, when set, replace what the policy gives (the demo
	// and tests trust their own CA); otherwise Net builds both from the
	// policy on first use.
	HTTP    *http.Client
	RootCAs *x509.CertPool
	// NetOptions are the machine's proxy settings netconf reads (tests
	// replace the environment and the system proxy).
	NetOptions netconf.Options
	// Verify is the base of verification's options: its dialer, resolver,
	// clock and timeouts when set (tests).
	Verify verify.Options
	// Discover is the base of discovery's options: its resolver, dialer,
	// prober and HTTP client when set (tests point them at local servers).
	Discover discover.Options
	// Infino is the base of the hand-off's client options: its in-call
	// Retry, Sleep and Jitter when set (tests); the world gives HTTP,
	// Lang, and Now where it sets none.
	Infino infino.ClientOptions
	// Now is the clock of the sign-ins and the hand-off; nil: time.Now.
	Now func() time.Time

	caOnce    sync.Once
	ca        netconf.CA
	netOnce   sync.Once
	net       netconf.Net
	tableOnce sync.Once
	table     *mailcfg.Table
}

// Demo names the accounts of the demo's servers, for the window's header.
type Demo struct {
	Email, Password string
	MicrosoftEmail  string
	// GoogleEmail signs in with the demo's Google; ConsentEmail is in a
	// Microsoft tenant that needs admin consent first (the IT path).
	GoogleEmail, ConsentEmail string
}

// Real is the machine's world: its policy (the policy's language overrides
// the locale's), the OS keyring, the proxy and CAs of netconf, the system
// browser and the user's configuration directory.
func Real() *World {
	pol, perr := policy.Load()
	file, _ := policy.FilePath(nil)
	return &World{
		Policy:     pol,
		PolicyErr:  perr,
		PolicyFile: file,
		Lang:       LangFor(pol, os.Getenv),
		Store:      secrets.NewKeyring(secrets.Options{}),
	}
}

// LangFor is the language of messages: the policy's when IT set one, else
// Polish when the POSIX locale variables say so, else English.
func LangFor(pol policy.Policy, getenv func(string) string) string {
	if pol.Language != "" {
		return pol.Language
	}
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"} {
		if v := getenv(k); v != "" {
			if mailcfg.IsPolish(v) {
				return "pl"
			}
			return "en"
		}
	}
	return "en"
}

// policyCA is the policy's extraCaFile, read once per world.
func (w *World) policyCA() netconf.CA {
	w.caOnce.Do(func() {
		if w.HTTP == nil {
			w.ca = netconf.ReadPolicyCA(w.Policy)
		}
	})
	return w.ca
}

// Net is the process's network, built from the policy on first use (the
// policy's extraCaFile is read once). HTTP and RootCAs replace its parts
// when set.
func (w *World) Net() netconf.Net {
	w.netOnce.Do(func() {
		if w.HTTP != nil {
			w.net = netconf.Net{HTTP: w.HTTP, RootCAs: w.RootCAs}
			return
		}
		w.net = w.NetOptions.LoadWith(w.Policy, w.policyCA())
		if w.RootCAs != nil {
			w.net.RootCAs = w.RootCAs
		}
	})
	return w.net
}

// NetWarning is the sentence both faces show when the policy's CA file
// cannot be used (nil: nothing to say). It reads only that file (once), not
// the system's roots or proxy, so a face may ask before its first frame.
func (w *World) NetWarning() *mailcfg.Text {
	if ce := w.policyCA().Warning; ce != nil {
		m := ce.Message()
		return &m
	}
	return nil
}

// VerifyOptions are verification's options in this world: Verify with the
// policy's roots (where Verify sets none), the provider table for hints and
// the policy's consent to security "none". The caller adds its own
// timeout, progress and the user's consent.
func (w *World) VerifyOptions() verify.Options {
	o := w.Verify
	if o.RootCAs == nil {
		o.RootCAs = w.Net().RootCAs
	}
	if o.Table == nil {
		o.Table = w.ProviderTable()
	}
	o.AllowInsecure = w.Policy.AllowInsecure
	return o
}

// ProviderTable is the provider table in this world: Table (nil: the
// bundled one) with the firm's own servers, preset by policy, ahead of it
// for their domains, so they win over the table and every discovery
// source. Without a usable preset it is Table itself (nil included, which
// the faces parse on first use).
func (w *World) ProviderTable() *mailcfg.Table {
	w.tableOnce.Do(func() {
		w.table = w.Table
		if fp, err := w.Policy.FirmProvider(); err == nil && fp != nil {
			base := w.Table
			if base == nil {
				base = mailcfg.Bundled()
			}
			w.table = base.WithPreset(fp)
		}
	})
	return w.table
}

// DiscoverOptions are discovery's options in this world: Discover with the
// table, and the policy's proxy and roots where Discover sets none. offline
// (or the world's Offline) keeps discovery to the table.
func (w *World) DiscoverOptions(offline bool) discover.Options {
	o := w.Discover
	if o.Table == nil {
		o.Table = w.ProviderTable()
	}
	if w.Offline || offline {
		o.Offline = true
	}
	if o.Offline {
		return o
	}
	if o.HTTPClient == nil {
		o.HTTPClient = w.Net().HTTP
	}
	if o.RootCAs == nil {
		o.RootCAs = w.Net().RootCAs
	}
	return o
}

// ConfigDirectory is ConfigDir, else the user's configuration directory.
func (w *World) ConfigDirectory() (string, error) {
	if w.ConfigDir != "" {
		return w.ConfigDir, nil
	}
	dir, err := infino.DefaultConfigDir()
	if err != nil {
		return "", fmt.Errorf("no user config directory: %w", err)
	}
	return dir, nil
}

// Service is a hand-off service in this world; onURL receives the Infino
// sign-in address when the browser is to show it (nil: not shown).
func (w *World) Service(onURL func(string)) (*infino.Service, error) {
	dir, err := w.ConfigDirectory()
	if err != nil {
		return nil, err
	}
	co := w.Infino
	co.HTTP, co.Lang = w.Net().HTTP, w.Lang
	if co.Now == nil {
		co.Now = w.Now
	}
	return infino.NewService(infino.Options{
		ConfigDir: dir,
		Store:     w.Store,
		Policy:    w.Policy,
		Browser: &infino.Browser{
			Opener: w.Opener,
			OnURL:  onURL,
			Pages:  oauthloopback.PagesFor(w.Lang),
		},
		ClientOptions: co,
	}), nil
}
