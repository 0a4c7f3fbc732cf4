package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"infino.legal/mailbox/mailcfg/signin"
	"infino.legal/mailbox/oauthloopback"
)

func init() {
	Register(&Command{
		Name:    "admin-consent",
		Usage:   "admin-consent microsoft [--tenant T] [--json] [--no-browser] [--timeout D]",
		Summary: "for IT: approve the app for the whole Microsoft 365 tenant (admin consent) in the browser",
		Run:     runAdminConsent,
	})
}

// adminConsentJSON is the --json output of admin-consent.
type adminConsentJSON struct {
	Granted bool   `json:"granted"`
	Tenant  string `json:"tenant"`
	Scope   string `json:"scope,omitempty"`
}

// runAdminConsent is "admin-consent microsoft": an administrator opens
// Microsoft's adminconsent page for the tenant, and the answer comes back
// on the loopback redirect (state checked). Exit 0 granted, 1 refused or
// failed, 2 bad usage or not configured.
func runAdminConsent(ctx context.Context, env *Env, args []string) int {
	c := commands["admin-consent"]
	if len(args) == 0 || args[0] != "microsoft" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fmt.Fprintf(env.Stdout, "usage: infino-mailbox %s\n\n%s\n", c.Usage, c.Summary)
			return ExitOK
		}
		fmt.Fprintf(env.Stderr, "usage: infino-mailbox %s\n", c.Usage)
		return ExitUsage
	}
	fs := FlagSet(env, c)
	tenant := fs.String("tenant", "", "the tenant to approve for: its id or a verified domain (default: the policy's microsoft.tenant, else your own)")
	asJSON := fs.Bool("json", false, "print the result as JSON (errors too)")
	noBrowser := fs.Bool("no-browser", false, "do not open a browser; open the printed address yourself")
	timeout := fs.Duration("timeout", oauthloopback.DefaultTimeout, "how long to wait for the approval in the browser")
	rest, code, ok := Parse(env, fs, args[1:])
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
	env.net()
	cfg := env.World.SignIn().Config()
	cfg.Timeout = *timeout
	if *noBrowser {
		cfg.Opener = func(context.Context, string) error { return nil }
	}
	res, err := signin.New(cfg).AdminConsent(ctx, signin.AdminConsentRequest{
		Provider: "microsoft",
		Tenant:   *tenant,
		OnURL: func(u string) {
			fmt.Fprintf(env.Stderr, "%s\n  %s\n", tr(env,
				"Zaloguj się kontem administratora Microsoft 365 i zatwierdź aplikację dla całej organizacji. Jeśli przeglądarka się nie otworzyła, otwórz ten adres:",
				"Sign in with a Microsoft 365 administrator account and approve the app for the whole organisation. If the browser did not open, open this address:"), u)
		},
	})
	if err != nil {
		var se *signin.Error
		if !errors.As(err, &se) {
			return Fail(env, ExitFailed, "%v", err)
		}
		code := ExitFailed
		if se.Code == signin.CodeNotConfigured || se.Code == signin.CodeMisconfigured {
			code = ExitUsage
		}
		return signinFail(env, *asJSON, code, se)
	}
	fmt.Fprintln(env.Stderr, tr(env,
		fmt.Sprintf("Zgoda administratora udzielona dla dzierżawy %s. Użytkownicy tej organizacji mogą teraz logować się przez Microsoft (kliknij „Sprawdź ponownie”).", res.Tenant),
		fmt.Sprintf("Admin consent granted for the tenant %s. Users of this organisation can now sign in with Microsoft (click “Check again”).", res.Tenant)))
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(adminConsentJSON{Granted: res.Granted, Tenant: res.Tenant, Scope: res.Scope})
	}
	return ExitOK
}
