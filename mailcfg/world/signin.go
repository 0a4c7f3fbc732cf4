package world

import (
	"context"
	"net"
	"strings"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/signin"
)

// SignIn is "Sign in with your mail provider" in this world: every provider
// of the OAuth table with the policy's registrations, the store, the
// policy's proxy and roots, the browser, the language, and MX lookups
// (none offline) to find firm domains on Google Workspace or Microsoft 365.
// The service holds no state of its own: a new one per call sees the
// world as it is.
func (w *World) SignIn() *signin.Service {
	cfg := signin.Config{
		Policy:     w.Policy,
		PolicyFile: w.PolicyFile,
		Store:      w.Store,
		HTTPClient: w.Net().HTTP,
		Opener:     w.Opener,
		Lang:       w.Lang,
		Table:      w.Table,
		Now:        w.Now,
	}
	if !w.Offline {
		r := w.Discover.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		cfg.LookupMX = func(ctx context.Context, domain string) ([]string, error) {
			mxs, err := r.LookupMX(ctx, strings.TrimSuffix(domain, ".")+".")
			if err != nil {
				return nil, err
			}
			out := make([]string, 0, len(mxs))
			for _, m := range mxs {
				out = append(out, m.Host)
			}
			return out, nil
		}
	}
	return signin.New(cfg)
}

// SignedInSettings are a signed-in account's settings in this world:
// OAuthSettings' (or, for Microsoft, MicrosoftSettings') when set — the
// demo points them at its own servers — with the shared-mailbox user names
// kept; else those the sign-in filled.
func (w *World) SignedInSettings(acc *signin.Account) (mailcfg.Settings, error) {
	override := w.OAuthSettings
	if override == nil && w.MicrosoftSettings != nil && acc.Provider == "microsoft" {
		override = func(_, address string) (mailcfg.Settings, error) { return w.MicrosoftSettings(address) }
	}
	if override == nil {
		return acc.Settings, nil
	}
	s, err := override(acc.Provider, acc.Address)
	if err != nil {
		return mailcfg.Settings{}, err
	}
	if acc.Shared {
		s.Incoming.Username, s.Outgoing.Username = acc.Address, acc.SignedInAs
		s.SignedInAs = acc.SignedInAs
	}
	return s, nil
}
