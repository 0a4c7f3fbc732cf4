package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"

	"infino.legal/mailbox/mailcfg"
)

func init() {
	Register(&Command{
		Name: "version", Usage: "version [--json]", Summary: "print the version",
		Run: runVersion,
	})
}

func runVersion(_ context.Context, env *Env, args []string) int {
	c := commands["version"]
	fs := FlagSet(env, c)
	asJSON := fs.Bool("json", false, "print JSON")
	rest, code, ok := Parse(env, fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		fs.Usage()
		return ExitUsage
	}
	if *asJSON {
		_ = json.NewEncoder(env.Stdout).Encode(map[string]string{
			"name": mailcfg.AppName, "version": mailcfg.Version, "go": runtime.Version(),
			"os": runtime.GOOS, "arch": runtime.GOARCH,
		})
		return ExitOK
	}
	fmt.Fprintf(env.Stdout, "%s %s (%s, %s/%s)\n", mailcfg.AppName, mailcfg.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return ExitOK
}
