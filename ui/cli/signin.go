package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/signin"
	"infino.legal/mailbox/oauthloopback"
)

func init() {
	Register(&Command{
		Name:    "signin",
		Usage:   "signin microsoft|google|yahoo|aol|fastmail [--json] [--no-browser] [--login-hint ADDRESS] [--shared ADDRESS] [--protocol imap|pop3] | signin infino [--url URL]",
		Summary: "sign in with a mail provider (microsoft, google, yahoo, aol, fastmail; settings + refresh token in the keyring) or to Infino, in the browser",
		Run:     runSignin,
	})
}

func runSignin(ctx context.Context, env *Env, args []string) int {
	c := commands["signin"]
	if len(args) > 0 {
		switch args[0] {
		case "infino":
			return runSigninInfino(ctx, env, args[1:])
		case "-h", "-help", "--help":
			fmt.Fprintf(env.Stdout, "usage: infino-mailbox %s\n\n%s\n", c.Usage, c.Summary)
			return ExitOK
		}
		if _, ok := env.World.SignIn().Provider(args[0]); ok {
			return runSigninProvider(ctx, env, args[0], args[1:])
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
	Provider      string       `json:"provider,omitempty"`
	Code          signin.Code  `json:"code"`
	AADSTS        int          `json:"aadsts,omitempty"`
	TraceID       string       `json:"traceId,omitempty"`
	CorrelationID string       `json:"correlationId,omitempty"`
	Consent       *consentJSON `json:"consent,omitempty"`
}

// consentJSON is the admin-consent link and the request to IT.
type consentJSON struct {
	Tenant  string `json:"tenant"`
	URL     string `json:"url"`
	Request string `json:"request"`
}

// runSigninProvider is "signin <provider>": the browser sign-in, the
// refresh token into the keyring, the settings on stdout. The sign-in
// address and every message go to stderr, so that stdout holds only the
// settings JSON. Exit 0 signed in, 1 the sign-in failed, 2 bad usage or not
// configured.
func runSigninProvider(ctx context.Context, env *Env, id string, args []string) int {
	svc := env.World.SignIn()
	prov, _ := svc.Provider(id)
	name := prov.Name
	c := &Command{Name: "signin " + id, Usage: "signin " + id + " [--json] [--no-browser] [--login-hint ADDRESS] [--shared ADDRESS] [--protocol imap|pop3] [--timeout D]",
		Summary: "sign in with " + name.EN + " in the browser; stores the refresh token in the keyring and prints the mailbox settings"}
	fs := FlagSet(env, c)
	asJSON := fs.Bool("json", false, "print the settings as JSON (errors too)")
	noBrowser := fs.Bool("no-browser", false, "do not open a browser; open the printed address yourself (e.g. on another screen)")
	hint := fs.String("login-hint", "", "the address to sign in with (pre-filled at "+name.EN+")")
	shared := fs.String("shared", "", "a shared mailbox's address to connect with your own sign-in (Microsoft 365 Full Access)")
	proto := fs.String("protocol", "imap", "the incoming protocol: imap or pop3")
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
	protocol := mailcfg.Protocol(strings.ToLower(*proto))
	if protocol != mailcfg.IMAP && protocol != mailcfg.POP3 {
		return Fail(env, ExitUsage, "--protocol must be imap or pop3, not %q", *proto)
	}
	if env.World.PolicyErr != nil {
		fmt.Fprintf(env.Stderr, "infino-mailbox: %v\n", env.World.PolicyErr)
	}
	env.net()
	cfg := svc.Config()
	cfg.Timeout = *timeout
	if *noBrowser {
		cfg.Opener = func(context.Context, string) error { return nil }
	}
	svc = signin.New(cfg)
	req := signin.Request{Provider: id, LoginHint: *hint, Shared: *shared, Protocol: protocol}
	req.OnURL = func(u string) {
		if *noBrowser {
			fmt.Fprintf(env.Stderr, "%s\n  %s\n", tr(env, "Otwórz ten adres w przeglądarce, aby zalogować się przez "+name.PL+":",
				"Open this address in a browser to sign in with "+name.EN+":"), u)
			return
		}
		fmt.Fprintf(env.Stderr, "%s\n  %s\n", tr(env, "Zaloguj się przez "+name.PL+" w przeglądarce. Jeśli się nie otworzyła, otwórz ten adres:",
			"Sign in with "+name.EN+" in the browser. If it did not open, open this address:"), u)
	}
	req.OnOpen = func(err error) {
		if err != nil && !*noBrowser {
			fmt.Fprintln(env.Stderr, tr(env, "Nie udało się otworzyć przeglądarki: otwórz powyższy adres samodzielnie.",
				"The browser did not open: open the address above yourself."))
		}
	}
	s, err := svc.Start(ctx, req)
	if err != nil {
		var se *signin.Error
		if !errors.As(err, &se) {
			return Fail(env, ExitUsage, "%v", err)
		}
		code := ExitFailed
		switch se.Code {
		case signin.CodeNotConfigured, signin.CodeMisconfigured, signin.CodeNotShared, signin.CodeNoAddress:
			code = ExitUsage // configuration or usage: act first
		}
		return signinFail(env, *asJSON, code, se)
	}
	defer s.Close()
	acc, err := s.Wait(ctx)
	if err != nil {
		var se *signin.Error
		if !errors.As(err, &se) {
			return Fail(env, ExitFailed, "%v", err)
		}
		return signinFail(env, *asJSON, ExitFailed, se)
	}
	settings, err := env.World.SignedInSettings(acc)
	if err != nil {
		return Fail(env, ExitFailed, "%v", err)
	}
	if acc.Shared {
		fmt.Fprintln(env.Stderr, tr(env,
			fmt.Sprintf("Zalogowano jako %s do skrzynki współdzielonej %s. Token odświeżania zapisano w systemowym magazynie haseł.", acc.SignedInAs, acc.Address),
			fmt.Sprintf("Signed in as %s for the shared mailbox %s. The refresh token is stored in the system keyring.", acc.SignedInAs, acc.Address)))
	} else {
		fmt.Fprintln(env.Stderr, tr(env,
			fmt.Sprintf("Zalogowano jako %s. Token odświeżania zapisano w systemowym magazynie haseł.", acc.Address),
			fmt.Sprintf("Signed in as %s. The refresh token is stored in the system keyring.", acc.Address)))
	}
	if *asJSON {
		return writeJSON(env.Stdout, settings)
	}
	printSettings(env, settings, nil)
	return ExitOK
}

// signinFail reports a failed sign-in: message and hint on stderr (with the
// request to IT when an administrator must approve the app), and with
// --json the failure object on stdout.
func signinFail(env *Env, asJSON bool, code int, e *signin.Error) int {
	if asJSON {
		f := e.Failure()
		j := signinFailureJSON{FailureJSON: f.JSON(env.Lang), Provider: e.Provider, Code: e.Code,
			AADSTS: e.AADSTS, TraceID: e.TraceID, CorrelationID: e.CorrelationID}
		if c := e.Consent; c != nil {
			j.Consent = &consentJSON{Tenant: c.Tenant, URL: c.URL, Request: c.Request.In(env.Lang)}
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(signinErrorJSON{Error: j})
	}
	msg := e.Text().In(env.Lang)
	if d := e.Detail(); d != "" {
		msg += " (" + d + ")"
	}
	if c := e.Consent; c != nil && !asJSON {
		fmt.Fprintf(env.Stderr, "%s\n\n%s\n\n", tr(env, "Prośba do działu IT (skopiuj i wyślij):", "Request to your IT department (copy and send):"), c.Request.In(env.Lang))
	}
	return Fail(env, code, "%s", msg)
}
