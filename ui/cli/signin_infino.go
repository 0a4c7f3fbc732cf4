package cli

import (
	"context"
	"flag"
	"fmt"
)

// runSigninInfino is "signin infino [--url URL]": sign in to the firm's
// Infino in the browser and keep the sign-in in the keyring. --url remembers
// the Infino address when the policy sets none.
func runSigninInfino(ctx context.Context, env *Env, args []string) int {
	fs := flag.NewFlagSet("signin infino", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: infino-mailbox signin infino [--url URL]\n\nsign in to Infino in the browser (the sign-in is kept in the keyring)\n\noptions:\n")
		fs.PrintDefaults()
	}
	url := fs.String("url", "", "the firm's Infino address, e.g. https://kancelaria.infino.legal (remembered; the policy's infinoUrl wins)")
	rest, code, ok := Parse(env, fs, args)
	if !ok {
		return code
	}
	if len(rest) != 0 {
		fs.Usage()
		return ExitUsage
	}
	svc, err := env.service()
	if err != nil {
		return Fail(env, ExitFailed, "%v", err)
	}
	if *url != "" {
		if err := svc.SetInfinoURL(*url); err != nil {
			return Fail(env, ExitUsage, "%v", err)
		}
	}
	base, _, err := svc.InfinoURL()
	if err != nil || base == "" {
		return Fail(env, ExitUsage, "%s", tr(env,
			"Brak adresu Infino: podaj --url https://… albo ustaw infinoUrl w pliku zasad.",
			"No Infino address: give --url https://… or set infinoUrl in the policy file."))
	}
	env.net()
	if err := svc.SignIn(ctx); err != nil {
		return Fail(env, ExitFailed, "%s (%v)", tr(env, "Nie udało się zalogować do Infino.", "Signing in to Infino failed."), err)
	}
	fmt.Fprintln(env.Stdout, tr(env, "Zalogowano do Infino: "+base, "Signed in to Infino: "+base))
	return ExitOK
}
