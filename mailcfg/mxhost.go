package mailcfg

import (
	"errors"
	"strings"
)

// MXHostPlaceholder in a server host stands for the domain's MX host that
// matched the provider's MX pattern. Hosters that give every customer a
// server of their own (s12.cyber-folks.pl, <login>.atthost24.pl) receive
// the customer's mail there, so the MX host names the customer's server,
// where mail.<domain> would only be a guess.
const MXHostPlaceholder = "%MXHOST%"

// usesMXHost reports whether a server of the provider is named by the MX.
func (p *Provider) usesMXHost() bool {
	for _, list := range [][]ServerTemplate{p.Incoming, p.Outgoing} {
		for _, s := range list {
			if strings.Contains(s.Host, MXHostPlaceholder) {
				return true
			}
		}
	}
	return false
}

// checkMXHost refuses an MX-named provider that lists address domains: an
// address found by its domain has no MX host to name the server.
func (p *Provider) checkMXHost() error {
	if p.usesMXHost() && len(p.Domains) > 0 {
		return errors.New(MXHostPlaceholder + " is for providers found by MX only, not by domain")
	}
	return nil
}

// SettingsForMX is Settings for an address whose MX host matched the
// provider, with the MX host in place of MXHostPlaceholder.
func (p *Provider) SettingsForMX(addr Address, proto Protocol, mxHost string) Settings {
	s := p.Settings(addr, proto)
	h := strings.ToLower(strings.TrimSuffix(mxHost, "."))
	s.Incoming.Host = strings.ReplaceAll(s.Incoming.Host, MXHostPlaceholder, h)
	s.Outgoing.Host = strings.ReplaceAll(s.Outgoing.Host, MXHostPlaceholder, h)
	return s
}
