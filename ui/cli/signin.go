package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/microsoft"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/oauthloopback"
)

func init() {
	Register(&Command{
		Name:    "signin",
		Usage:   "signin microsoft [--json] [--no-browser] [--login-hint ADDRESS] | signin infino [--url URL]",
		Summary: "sign in with Microsoft (settings + refresh token in the keyring) or to Infino, in the browser",
		Run:     runSignin,
	})
}

func runSignin(ctx context.Context, env *Env, args []string) int {
	c := commands["signin"]
	if len(args) > 0 {
		switch args[0] {
		case "microsoft":
			return runSigninMicrosoft(ctx, env, args[1:])
		case "infino":
			return runSigninInfino(ctx, env, args[1:])
		case "-h", "-help", "--help":
			fmt.Fprintf(env.Stdout, "usage: infino-mailbox %s\n\n%s\n", c.Usage, c.Summary)
			return ExitOK
		}
	}
	fmt.Fprintf(env.Stderr, "usage: infino-mailbox %s\n", c.Usage)
	return ExitUsage
}

// signinErrorJSON is the --json output of a failed sign-in.
type signinErrorJSON struct {
	Error signinFailureJSON `json:"error"`
}

type signinFailureJSON struct {
	mailcfg.FailureJSON
	Code          microsoft.Code `json:"code"`
	AADSTS        int            `json:"aadsts,omitempty"`
	TraceID       string         `json:"traceId,omitempty"`
	CorrelationID string         `json:"correlationId,omitempty"`
}

// runSigninMicrosoft is "signin microsoft": the browser sign-in, the refresh
// token into the keyring, the settings on stdout. The sign-in address and
// every message go to stderr, so that stdout holds only the settings JSON.
// Exit 0 signed in, 1 the sign-in failed, 2 bad usage or not configured.
func runSigninMicrosoft(ctx context.Context, env *Env, args []string) int {
	c := &Command{Name: "signin microsoft", Usage: "signin microsoft [--json] [--no-browser] [--login-hint ADDRESS] [--timeout D]",
		Summary: "sign in with Microsoft in the browser; stores the refresh token in the keyring and prints the mailbox settings"}
	fs := FlagSet(env, c)
	asJSON := fs.Bool("json", false, "print the settings as JSON (errors too)")
	noBrowser := fs.Bool("no-browser", false, "do not open a browser; open the printed address yourself (e.g. on another screen)")
	hint := fs.String("login-hint", "", "the address to sign in with (pre-filled at Microsoft)")
	timeout := fs.Duration("timeout", oauthloopback.DefaultTimeout, "how long to wait for the sign-in in the browser")
	rest, code, ok := Parse(env, fs, args)
	if !ok {
		return code
	}
	if len(rest) != 0 {
		fs.Usage()
		return ExitUsage
	}
	if *timeout <= 0 || *timeout > time.Hour {
		return Fail(env, ExitUsage, "--timeout must be between 1s and 1h, not %v", *timeout)
	}
	if env.World.PolicyErr != nil {
		fmt.Fprintf(env.Stderr, "infino-mailbox: %v\n", env.World.PolicyErr)
	}
	if !env.World.Policy.Allows(policy.MethodMicrosoft) {
		return signinFail(env, *asJSON, ExitUsage, &microsoft.Error{
			Code: microsoft.CodeNotConfigured,
			Message: mailcfg.Text{PL: "Zasady kancelarii nie pozwalają na logowanie przez Microsoft (allowedMethods).",
				EN: "Your firm's policy does not allow sign-in with Microsoft (allowedMethods)."},
		})
	}
	env.net()
	cfg := env.World.MicrosoftConfig()
	cfg.Timeout = *timeout
	cfg.LoginHint = *hint
	if *noBrowser {
		cfg.Opener = func(context.Context, string) error { return nil }
	}
	cfg.OnURL = func(u string) {
		if *noBrowser {
			fmt.Fprintf(env.Stderr, "%s\n  %s\n", tr(env, "Otwórz ten adres w przeglądarce, aby zalogować się przez Microsoft:",
				"Open this address in a browser to sign in with Microsoft:"), u)
			return
		}
		fmt.Fprintf(env.Stderr, "%s\n  %s\n", tr(env, "Zaloguj się przez Microsoft w przeglądarce. Jeśli się nie otworzyła, otwórz ten adres:",
			"Sign in with Microsoft in the browser. If it did not open, open this address:"), u)
	}
	cfg.OnOpen = func(err error) {
		if err != nil && !*noBrowser {
			fmt.Fprintln(env.Stderr, tr(env, "Nie udało się otworzyć przeglądarki: otwórz powyższy adres samodzielnie.",
				"The browser did not open: open the address above yourself."))
		}
	}

	s, err := microsoft.Start(ctx, cfg)
	if err != nil {
		var me *microsoft.Error
		if !errors.As(err, &me) {
			return Fail(env, ExitFailed, "%v", err)
		}
		code := ExitFailed
		if me.Code == microsoft.CodeNotConfigured || me.Code == microsoft.CodeMisconfigured {
			code = ExitUsage // configuration: IT must act first
		}
		return signinFail(env, *asJSON, code, me)
	}
	defer s.Close()
	acc, err := s.Wait(ctx)
	if err != nil {
		var me *microsoft.Error
		if !errors.As(err, &me) {
			return Fail(env, ExitFailed, "%v", err)
		}
		return signinFail(env, *asJSON, ExitFailed, me)
	}
	fmt.Fprintln(env.Stderr, tr(env,
		fmt.Sprintf("Zalogowano jako %s. Token odświeżania zapisano w systemowym magazynie haseł.", acc.Address),
		fmt.Sprintf("Signed in as %s. The refresh token is stored in the system keyring.", acc.Address)))
	if *asJSON {
		return writeJSON(env.Stdout, acc.Settings)
	}
	printSettings(env, acc.Settings, nil)
	return ExitOK
}

// signinFail reports a failed sign-in: message and hint on stderr, and with
// --json the failure object on stdout.
func signinFail(env *Env, asJSON bool, code int, e *microsoft.Error) int {
	if asJSON {
		f := e.Failure()
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(signinErrorJSON{Error: signinFailureJSON{FailureJSON: f.JSON(env.Lang), Code: e.Code,
			AADSTS: e.AADSTS, TraceID: e.TraceID, CorrelationID: e.CorrelationID}})
	}
	msg := e.Text().In(env.Lang)
	if d := e.Detail(); d != "" {
		msg += " (" + d + ")"
	}
	return Fail(env, code, "%s", msg)
}
