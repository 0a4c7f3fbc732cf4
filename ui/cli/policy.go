package cli

import (
	"context"
	"fmt"

	"infino.legal/mailbox/mailcfg/policy"
)

func init() {
	Register(&Command{
		Name: "policy", Usage: "policy check|show [--json]",
		Summary: "check the policy IT preset, or show it with where each value came from",
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
	if len(rest) != 1 || (rest[0] != "check" && rest[0] != "show") {
		fs.Usage()
		return ExitUsage
	}
	if env.PolicyErr != nil {
		fmt.Fprintf(env.Stderr, "infino-mailbox: %v\n", env.PolicyErr)
	}
	if rest[0] == "show" {
		if *asJSON {
			writeJSON(env.Stdout, map[string]any{"policy": env.Policy, "origin": env.Policy.Origin})
		} else {
			for _, k := range policy.Keys() {
				fmt.Fprintf(env.Stdout, "%-22s %-45v (%s)\n", k, env.Policy.Value(k), env.Policy.Origin[k])
			}
		}
	} else if env.PolicyErr == nil {
		fmt.Fprintln(env.Stdout, "policy OK")
	}
	if env.PolicyErr != nil {
		return ExitUsage
	}
	return ExitOK
}
