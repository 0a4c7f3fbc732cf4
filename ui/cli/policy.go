package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"infino.legal/mailbox/mailcfg/netconf"
	"infino.legal/mailbox/mailcfg/policy"
)

func init() {
	Register(&Command{
		Name: "policy", Usage: "policy check|show|keys [--json]",
		Summary: "check the policy IT preset, show it merged with where each value came from, or list every key",
		Run:     runPolicy,
	})
}

func runPolicy(_ context.Context, env *Env, args []string) int {
	c := commands["policy"]
	fs := FlagSet(env, c)
	asJSON := fs.Bool("json", false, "print JSON")
	rest, code, ok := Parse(env, fs, args)
	if !ok {
		return code
	}
	if len(rest) != 1 || (rest[0] != "check" && rest[0] != "show" && rest[0] != "keys") {
		fs.Usage()
		return ExitUsage
	}
	if rest[0] == "keys" {
		if *asJSON {
			writeJSON(env.Stdout, policy.KeyInfos())
			return ExitOK
		}
		fmt.Fprintf(env.Stdout, "%-20s %-7s %-34s %-19s %s\n", "KEY", "TYPE", "DEFAULT", "MSI PROPERTY", "EXAMPLE")
		for _, k := range policy.KeyInfos() {
			d := policy.Default()
			fmt.Fprintf(env.Stdout, "%-20s %-7s %-34s %-19s %s\n", k.Name, k.Type, d.Display(k.Name), k.MSIProperty, k.Example)
		}
		return ExitOK
	}

	p := env.World.Policy
	problems := []error{}
	if env.World.PolicyErr != nil {
		problems = append(problems, env.World.PolicyErr)
	}
	// The CA file is read only when a connection is made; check it now.
	caCerts := 0
	if p.ExtraCAFile != "" {
		certs, err := netconf.ReadCAFile(p.ExtraCAFile)
		if err != nil {
			problems = append(problems, err)
		}
		caCerts = len(certs)
	}
	for _, e := range problems {
		fmt.Fprintf(env.Stderr, "infino-mailbox: %v\n", e)
	}

	if rest[0] == "show" {
		target := p.InfinoURL
		if target == "" {
			target = "https://infino.legal"
		}
		proxy := netconf.Options{Getenv: env.Getenv}.Describe(p, target)
		if *asJSON {
			sources := p.Sources
			if sources == nil {
				sources = []policy.SourceInfo{}
			}
			writeJSON(env.Stdout, map[string]any{"policy": p.Shown(), "origin": p.Origin, "sources": sources,
				"network": map[string]any{"proxyFor": target, "proxy": proxy, "extraCaCertificates": caCerts}})
		} else {
			showPolicy(env.Stdout, &p, target, proxy, caCerts)
		}
	} else if len(problems) == 0 {
		fmt.Fprintln(env.Stdout, "policy OK")
	}
	if len(problems) > 0 {
		return ExitUsage
	}
	return ExitOK
}

func showPolicy(w io.Writer, p *policy.Policy, target, proxy string, caCerts int) {
	if len(p.Sources) > 0 {
		fmt.Fprintln(w, "Sources, lowest priority first (a later one wins):")
		for _, s := range p.Sources {
			state := "not present"
			if s.Found {
				state = fmt.Sprintf("%d value(s) in effect", s.Values)
			}
			fmt.Fprintf(w, "  %-8s %-60s %s\n", s.Scope, s.Name, state)
		}
		fmt.Fprintln(w)
	}
	for _, k := range policy.Keys() {
		fmt.Fprintf(w, "%-20s %-45s (%s)\n", k, p.Display(k), p.Origin[k])
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "proxy for %s: %s\n", target, proxy)
	if p.ExtraCAFile != "" {
		fmt.Fprintf(w, "extra CA certificates: %d, from %s\n", caCerts, p.ExtraCAFile)
	}
	if p.LockServerSettings {
		var locked []string
		for _, k := range policy.Keys() {
			if p.Locked(k) && k != "lockServerSettings" {
				locked = append(locked, k)
			}
		}
		if len(locked) > 0 {
			fmt.Fprintf(w, "locked for the user: %s\n", strings.Join(locked, ", "))
		}
	}
}
