package cli

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"time"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/microsoft"
	"infino.legal/mailbox/mailcfg/netconf"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/verify"
	"infino.legal/mailbox/oauthloopback"
)

// HandOffDeps are what the Infino commands (submit, outbox, signin infino)
// touch outside themselves. Tests replace parts of HandOff; the zero fields
// mean the real thing.
type HandOffDeps struct {
	// ConfigDir is where the outbox and the remembered Infino URL live;
	// nil means infino.DefaultConfigDir.
	ConfigDir func() (string, error)
	// Store opens the secret store; nil means the OS keyring.
	Store func() (secrets.Store, error)
	// HTTP reaches Infino and Microsoft; nil means the defaults.
	HTTP *http.Client
	// Opener opens sign-in pages; nil means the system browser.
	Opener oauthloopback.Opener
	// RootCAs are the roots verification trusts; nil means the system's.
	RootCAs *x509.CertPool
	// Table gives provider hints to verification; nil means the bundled one.
	Table *mailcfg.Table
	// Verify checks the settings before the hand-off; nil means
	// verify.Verify.
	Verify func(ctx context.Context, s mailcfg.Settings, cred verify.Credential, opt verify.Options) verify.Result
	// Retry, Sleep and Jitter tune the in-call retries (tests).
	Retry  infino.Retry
	Sleep  func(ctx context.Context, d time.Duration) error
	Jitter func(d time.Duration) time.Duration
}

// HandOff is used by submit, outbox and signin infino.
var HandOff HandOffDeps

func init() {
	Register(&Command{
		Name: "submit", Usage: "submit [--json] [--password-stdin] [--allow-insecure] [--replace] SETTINGS.json",
		Summary: "verify settings, then hand them to Infino (exit 3: queued in the outbox)",
		Run:     runSubmit,
	})
}

func (d HandOffDeps) store() (secrets.Store, error) {
	if d.Store != nil {
		return d.Store()
	}
	return secrets.NewKeyring(secrets.Options{}), nil
}

// httpClient is HTTP, else the policy's (proxy, extra CA), else the default.
func (d HandOffDeps) httpClient(env *Env) *http.Client {
	if d.HTTP != nil {
		return d.HTTP
	}
	hc, err := netconf.HTTPClient(env.Policy)
	if err != nil {
		fmt.Fprintf(env.Stderr, "infino-mailbox: %v; using the system proxy and CAs\n", err)
		return infino.NewHTTPClient()
	}
	return hc
}

// openService opens the secret store and the hand-off service on it.
func (d HandOffDeps) openService(env *Env) (*infino.Service, error) {
	store, err := d.store()
	if err != nil {
		return nil, err
	}
	return d.service(env, store)
}

// service builds the hand-off service for a command.
func (d HandOffDeps) service(env *Env, store secrets.Store) (*infino.Service, error) {
	dirFn := d.ConfigDir
	if dirFn == nil {
		dirFn = infino.DefaultConfigDir
	}
	dir, err := dirFn()
	if err != nil {
		return nil, fmt.Errorf("no user config directory: %w", err)
	}
	return infino.NewService(infino.Options{
		ConfigDir: dir,
		Store:     store,
		Policy:    env.Policy,
		HTTP:      d.httpClient(env),
		Browser: &infino.Browser{
			Opener: d.Opener,
			OnURL: func(u string) {
				fmt.Fprintf(env.Stderr, "%s\n  %s\n", tr(env, "Zaloguj się do Infino w przeglądarce. Jeśli się nie otworzyła, otwórz ten adres:",
					"Sign in to Infino in the browser. If it did not open, open this address:"), u)
			},
			Pages: oauthloopback.PagesFor(env.Lang),
		},
		Lang:   env.Lang,
		Retry:  d.Retry,
		Sleep:  d.Sleep,
		Jitter: d.Jitter,
	}), nil
}

func tr(env *Env, pl, en string) string { return mailcfg.Text{PL: pl, EN: en}.In(env.Lang) }

// submitJSON is the --json output of submit (and of each entry of outbox
// flush).
type submitJSON struct {
	State       infino.State          `json:"state"`
	Email       string                `json:"email,omitempty"`
	ID          string                `json:"id,omitempty"`
	Replayed    bool                  `json:"replayed,omitempty"`
	EntryID     string                `json:"entryId,omitempty"`
	Kind        string                `json:"kind,omitempty"`
	Message     string                `json:"message"`
	Fields      []*mailcfg.FieldError `json:"fields,omitempty"`
	Failures    []mailcfg.FailureJSON `json:"failures,omitempty"`
	NextAttempt *time.Time            `json:"nextAttempt,omitempty"`
	// Existing is the mailbox Infino already holds (state mailbox_exists):
	// what submit --replace replaces.
	Existing *infino.MailboxInfo `json:"existing,omitempty"`
}

func outcomeJSON(env *Env, o infino.Outcome) submitJSON {
	j := submitJSON{State: o.State, Email: o.Email, ID: o.Receipt.ID, Replayed: o.Receipt.Replayed,
		Kind: string(o.Kind()), Message: o.Message().In(env.Lang), Fields: o.Fields(), Existing: o.Existing}
	if o.State == infino.StateQueued {
		j.EntryID = o.EntryID
		if !o.NextAttempt.IsZero() {
			t := o.NextAttempt
			j.NextAttempt = &t
		}
	}
	return j
}

// exitFor maps an outcome to the exit code: 0 sent (or already there), 3
// queued, 1 failed.
func exitFor(o infino.Outcome) int {
	switch o.State {
	case infino.StateSent, infino.StateExists, infino.StateReplaced:
		return ExitOK
	case infino.StateQueued:
		return ExitQueued
	}
	return ExitFailed
}

func printOutcome(env *Env, o infino.Outcome) {
	w := env.Stdout
	if o.State == infino.StateFailed {
		w = env.Stderr
	}
	fmt.Fprintln(w, o.Message().In(env.Lang))
	if o.State == infino.StateSent && o.Receipt.ID != "" {
		fmt.Fprintf(w, "  Infino: %s\n", o.Receipt.ID)
	}
	for _, f := range o.Fields() {
		fmt.Fprintf(w, "  %s: %s\n", f.Field, f.Message.In(env.Lang))
	}
	if o.State == infino.StateQueued {
		fmt.Fprintf(w, "  %s %s\n", tr(env, "Wpis w skrzynce nadawczej:", "Outbox entry:"), o.EntryID)
	}
}

func runSubmit(ctx context.Context, env *Env, args []string) int {
	c := commands["submit"]
	fs := FlagSet(env, c)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pwStdin := fs.Bool("password-stdin", false, "read the mailbox password from the first line of standard input")
	timeout := fs.Duration("verify-timeout", verify.DefaultTimeout, "how long verification may take")
	insecure := fs.Bool("allow-insecure", false, `consent to security "none" (the policy must allow it too); the password then travels unencrypted`)
	replace := fs.Bool("replace", false, "if Infino already has this mailbox, replace its settings and secret with these")
	rest, code, ok := Parse(env, fs, args)
	if !ok {
		return code
	}
	if len(rest) != 1 {
		fs.Usage()
		return ExitUsage
	}
	if env.PolicyErr != nil {
		fmt.Fprintf(env.Stderr, "infino-mailbox: %v\n", env.PolicyErr)
	}
	// Security "none" needs the policy and the user's own consent, as in
	// verify: the check sends the password in clear text.
	s, code := readSettings(env, rest[0], *insecure)
	if code != 0 {
		return code
	}
	if s.Auth == mailcfg.AuthOAuth2 && *pwStdin {
		return Fail(env, ExitUsage, "%s", tr(env, "--password-stdin nie pasuje do ustawień z logowaniem OAuth2.",
			"--password-stdin does not fit settings that sign in with OAuth2."))
	}
	d := HandOff
	store, err := d.store()
	if err != nil {
		return Fail(env, ExitFailed, "%v", err)
	}

	hc := d.httpClient(env)
	// The credential for verification; the secret for Infino follows from
	// it after verification (infino.SecretFor).
	var cred verify.Credential
	switch s.Auth {
	case mailcfg.AuthPassword:
		pw, code := readPassword(ctx, env, store, s.Email, *pwStdin)
		if code != 0 {
			return code
		}
		cred = verify.Password(pw)
	case mailcfg.AuthOAuth2:
		mc := microsoft.Config{Policy: env.Policy.Microsoft, Store: store, HTTPClient: hc, Lang: env.Lang}
		if !mc.Configured() {
			return Fail(env, ExitUsage, "%s", tr(env, "Logowanie Microsoft nie jest skonfigurowane (microsoft.clientId w pliku zasad).",
				"Microsoft sign-in is not configured (microsoft.clientId in the policy file)."))
		}
		if _, err := store.Get(ctx, secrets.MicrosoftRefreshKey(s.Email)); err != nil {
			return Fail(env, ExitUsage, "%s", tr(env, "Brak logowania Microsoft dla "+s.Email+". Uruchom najpierw: infino-mailbox signin microsoft",
				"No Microsoft sign-in for "+s.Email+". Run first: infino-mailbox signin microsoft"))
		}
		cred = verify.TokenFunc(microsoft.NewTokens(mc, s.Email).AccessToken)
	}

	vf := d.Verify
	if vf == nil {
		vf = verify.Verify
	}
	if !*asJSON {
		fmt.Fprintln(env.Stderr, tr(env, "Sprawdzam logowanie do serwerów poczty…", "Checking the sign-in to the mail servers…"))
	}
	roots := d.RootCAs
	if roots == nil && env.Policy.ExtraCAFile != "" {
		if roots, err = netconf.RootCAs(env.Policy); err != nil {
			return Fail(env, ExitUsage, "%v", err)
		}
	}
	res := vf(ctx, s, cred, verify.Options{RootCAs: roots, Table: d.Table, Timeout: *timeout,
		AllowInsecure: env.Policy.AllowInsecure, InsecureOverride: *insecure})
	verifiedAt := time.Now()
	if !res.OK {
		return verifyFailed(env, s, res, *asJSON)
	}
	sec, err := infino.SecretFor(ctx, s, cred, store, env.Policy.Microsoft)
	if err != nil {
		return Fail(env, ExitFailed, "%v", err)
	}
	svc, err := d.service(env, store)
	if err != nil {
		return Fail(env, ExitFailed, "%v", err)
	}
	if !*asJSON {
		fmt.Fprintln(env.Stderr, tr(env, "Przekazuję ustawienia do Infino…", "Handing the settings to Infino…"))
	}
	out := svc.Submit(ctx, s, sec, verifiedAt)
	if *replace {
		out = replaceExisting(ctx, env, svc, out, s, sec, verifiedAt, *asJSON)
	}
	if *asJSON {
		writeJSON(env.Stdout, outcomeJSON(env, out))
	} else {
		printOutcome(env, out)
	}
	return exitFor(out)
}

// readPassword takes the password from standard input (--password-stdin) or
// from the keyring, where the window keeps the passwords of mailboxes it set
// up.
func readPassword(ctx context.Context, env *Env, store secrets.Store, email string, fromStdin bool) (string, int) {
	if fromStdin {
		return stdinPassword(env)
	}
	pw, err := store.Get(ctx, secrets.PasswordKey(email))
	if err == nil && pw != "" {
		return pw, 0
	}
	return "", Fail(env, ExitUsage, "%s", tr(env, "Podaj hasło: --password-stdin (np. printf '%s\\n' \"$HASLO\" | infino-mailbox submit --password-stdin plik.json).",
		"Give the password with --password-stdin (e.g. printf '%s\\n' \"$PASSWORD\" | infino-mailbox submit --password-stdin file.json)."))
}

func verifyFailed(env *Env, s mailcfg.Settings, res verify.Result, asJSON bool) int {
	var fails []*mailcfg.Failure
	for _, side := range []verify.SideResult{res.Incoming, res.Outgoing} {
		if side.Failure != nil {
			fails = append(fails, side.Failure)
		}
	}
	msg := mailcfg.Text{
		PL: "Weryfikacja nie powiodła się; niczego nie przekazano do Infino.",
		EN: "Verification failed; nothing was handed to Infino.",
	}
	if asJSON {
		j := submitJSON{State: infino.StateFailed, Email: s.Email, Kind: "verification", Message: msg.In(env.Lang)}
		for _, f := range fails {
			j.Failures = append(j.Failures, f.JSON(env.Lang))
		}
		writeJSON(env.Stdout, j)
		return ExitFailed
	}
	fmt.Fprintf(env.Stderr, "infino-mailbox: %s\n", msg.In(env.Lang))
	for _, f := range fails {
		fmt.Fprintf(env.Stderr, "  %s\n", f.Message.In(env.Lang))
		if h := f.Hint.In(env.Lang); h != "" {
			fmt.Fprintf(env.Stderr, "  %s\n", h)
		}
	}
	return ExitFailed
}
