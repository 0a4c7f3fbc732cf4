package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/oauthloopback"
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
		// A server that signs in without a refresh token, or grants too
		// little, is a configuration problem: said as such, never success.
		var ie *infino.Error
		if errors.As(err, &ie) && ie.Kind == infino.KindSignInSetup {
			return Fail(env, ExitFailed, "%s\n  (%v)", signinSetupText(env, ie), err)
		}
		// An answer from another authorization server (RFC 9207) is
		// refused as an attack and said in its own words.
		if errors.As(err, &ie) && errors.Is(err, oauthloopback.ErrIssuerMismatch) && ie.Message.EN != "" {
			return Fail(env, ExitFailed, "%s", signinSetupText(env, ie))
		}
		return Fail(env, ExitFailed, "%s (%v)", tr(env, "Nie udało się zalogować do Infino.", "Signing in to Infino failed."), err)
	}
	fmt.Fprintln(env.Stdout, tr(env, "Zalogowano do Infino: "+base, "Signed in to Infino: "+base))
	return ExitOK
}

// signinSetupText is the message of a refused sign-in without the outbox
// sentence (signin sends nothing).
func signinSetupText(env *Env, e *infino.Error) string {
	m := e.Message.In(env.Lang)
	for _, cut := range []string{" Niczego nie wysłano;", " Nothing was sent;"} {
		if i := strings.Index(m, cut); i > 0 {
			if j := strings.Index(m[i+1:], ". "); j > 0 {
				m = m[:i] + m[i+1+j+1:]
			}
		}
	}
	return m
}
