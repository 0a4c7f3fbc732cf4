package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/netconf"
	"infino.legal/mailbox/mailcfg/verify"
)

// OAuthCredential turns settings that sign in with OAuth 2.0 into a
// credential for verification (the Microsoft sign-in fills it in). While it
// is nil, "verify" refuses such settings with exit 2.
var OAuthCredential func(ctx context.Context, env *Env, s mailcfg.Settings) (verify.Credential, error)

// Verifier runs the check; tests replace it.
var Verifier = verify.Verify

func init() {
	Register(&Command{
		Name:    "verify",
		Usage:   "verify [--json] [--password-stdin] [--timeout D] [--allow-insecure] [--ca FILE] SETTINGS.json",
		Summary: "sign in to the incoming and the outgoing server at once (nothing is sent); exit 0 both work, 1 failed, 2 bad input",
		Run:     runVerify,
	})
}

// maxPasswordLine bounds what --password-stdin reads.
const maxPasswordLine = 4096

func runVerify(ctx context.Context, env *Env, args []string) int {
	c := commands["verify"]
	fs := FlagSet(env, c)
	asJSON := fs.Bool("json", false, "print one JSON object instead of progress lines")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (the only way to give it)")
	timeout := fs.Duration("timeout", verify.DefaultTimeout, "how long the whole check may take")
	insecure := fs.Bool("allow-insecure", false, `consent to security "none" (the policy must allow it too); the password then travels unencrypted`)
	caFile := fs.String("ca", "", "PEM file with a CA to trust besides the system's (a firm's own CA)")
	rest, code, ok := Parse(env, fs, args)
	if !ok {
		return code
	}
	if len(rest) != 1 {
		fs.Usage()
		return ExitUsage
	}
	if *timeout <= 0 {
		return Fail(env, ExitUsage, "--timeout %s: %s", *timeout, tr(env, "musi być dodatni", "must be positive"))
	}
	s, code := readSettings(env, rest[0], *insecure)
	if code != 0 {
		return code
	}

	var cred verify.Credential
	switch s.Auth {
	case mailcfg.AuthOAuth2:
		if *pwStdin {
			return Fail(env, ExitUsage, "%s", tr(env, "--password-stdin nie pasuje do ustawień z logowaniem OAuth2.",
				"--password-stdin does not fit settings that sign in with OAuth2."))
		}
		if OAuthCredential == nil {
			return Fail(env, ExitUsage, "%s", tr(env, "Sprawdzanie ustawień z logowaniem OAuth2 (Microsoft) nie jest jeszcze dostępne w wierszu poleceń.",
				"Checking settings that sign in with OAuth2 (Microsoft) is not available on the command line yet."))
		}
		oc, err := OAuthCredential(ctx, env, s)
		if err != nil {
			return oauthFailed(env, err, *asJSON)
		}
		cred = oc
	default:
		if !*pwStdin {
			return Fail(env, ExitUsage, "%s", tr(env,
				"Hasło podaje się tylko na standardowym wejściu: printf '%s\\n' \"$HASLO\" | infino-mailbox verify --password-stdin plik.json",
				"The password is read from standard input only: printf '%s\\n' \"$PASSWORD\" | infino-mailbox verify --password-stdin file.json"))
		}
		pw, code := stdinPassword(env)
		if code != 0 {
			return code
		}
		cred = verify.Password(pw)
	}

	opt := verify.Options{
		Timeout:          *timeout,
		AllowInsecure:    env.Policy.AllowInsecure,
		InsecureOverride: *insecure,
	}
	// The same trust as the window: system roots plus the policy's
	// extraCaFile, plus whatever --ca adds for this run.
	if env.Policy.ExtraCAFile != "" || *caFile != "" {
		pool, err := netconf.RootCAs(env.Policy)
		if err != nil {
			return Fail(env, ExitUsage, "%v", err)
		}
		if *caFile != "" {
			certs, err := netconf.ReadCAFile(*caFile)
			if err != nil {
				var ce *netconf.CAFileError
				if errors.As(err, &ce) {
					return Fail(env, ExitUsage, "--ca %s: %s", *caFile, ce.Problem)
				}
				return Fail(env, ExitUsage, "--ca %s: %v", *caFile, err)
			}
			for _, c := range certs {
				pool.AddCert(c)
			}
		}
		opt.RootCAs = pool
	}
	var out sync.Mutex
	if !*asJSON {
		// Progress comes from both sides' goroutines at once.
		opt.Progress = func(e verify.Event) {
			out.Lock()
			defer out.Unlock()
			printEvent(env, e)
		}
	}
	res := Verifier(ctx, s, cred, opt)
	out.Lock()
	defer out.Unlock()
	if *asJSON {
		writeJSON(env.Stdout, verifyJSON(env, res))
	} else {
		printVerifyResult(env, s, res)
	}
	if res.OK {
		return ExitOK
	}
	return ExitFailed
}

// oauthFailed reports a credential that could not be had (not signed in,
// sign in again, not configured, keyring): the message and hint on stderr,
// and with --json the usual object with both sides failing. Exit 1.
func oauthFailed(env *Env, err error, asJSON bool) int {
	f := verify.Classify(err, "", nil)
	if asJSON {
		r := verify.Result{Incoming: verify.SideResult{Failure: f}, Outgoing: verify.SideResult{Failure: f}}
		writeJSON(env.Stdout, verifyJSON(env, r))
	}
	return Fail(env, ExitFailed, "%s %s", f.Message.In(env.Lang), f.Hint.In(env.Lang))
}

// readSettings reads and validates the settings JSON of verify and submit;
// every problem goes to stderr in the user's language, and any problem is
// exit 2. insecure is the consent to security "none" (the policy must allow
// it too).
func readSettings(env *Env, path string, insecure bool) (mailcfg.Settings, int) {
	f, err := os.Open(path)
	if err != nil {
		return mailcfg.Settings{}, Fail(env, ExitUsage, "%v", err)
	}
	defer f.Close()
	s, err := mailcfg.DecodeSettings(f)
	if err != nil {
		return mailcfg.Settings{}, Fail(env, ExitUsage, "%s: %v", path, err)
	}
	s = s.Normalized()
	err = s.Validate(mailcfg.ValidateOptions{AllowInsecure: env.Policy.AllowInsecure, InsecureOverride: insecure})
	var v mailcfg.ValidationError
	switch {
	case errors.As(err, &v):
		for _, fe := range v {
			fmt.Fprintf(env.Stderr, "infino-mailbox: %s: %s\n", fe.Field, fe.Message.In(env.Lang))
		}
		return mailcfg.Settings{}, ExitUsage
	case err != nil:
		return mailcfg.Settings{}, Fail(env, ExitUsage, "%v", err)
	}
	return s, 0
}

// stdinPassword reads one line (at most maxPasswordLine bytes) and strips
// the line end only: spaces may belong to the password.
func stdinPassword(env *Env) (string, int) {
	if env.Stdin == nil {
		return "", Fail(env, ExitUsage, "%s", tr(env, "Brak standardowego wejścia.", "No standard input."))
	}
	line, err := bufio.NewReaderSize(io.LimitReader(env.Stdin, maxPasswordLine+2), maxPasswordLine+2).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", Fail(env, ExitUsage, "%s", tr(env, "Nie udało się odczytać hasła ze standardowego wejścia.", "Could not read the password from standard input."))
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	switch {
	case pw == "":
		return "", Fail(env, ExitUsage, "%s", tr(env, "Hasło ze standardowego wejścia jest puste.", "The password from standard input is empty."))
	case len(pw) > maxPasswordLine || strings.ContainsAny(pw, "\r\n\x00"):
		return "", Fail(env, ExitUsage, "%s", tr(env, "Hasło ze standardowego wejścia jest za długie lub zawiera znaki sterujące.",
			"The password from standard input is too long or contains control characters."))
	}
	return pw, 0
}

var stepNames = map[verify.Step]mailcfg.Text{
	verify.StepResolve:  {PL: "DNS", EN: "resolve"},
	verify.StepConnect:  {PL: "połączenie", EN: "connect"},
	verify.StepTLS:      {PL: "TLS", EN: "tls"},
	verify.StepGreeting: {PL: "powitanie", EN: "greeting"},
	verify.StepLogin:    {PL: "logowanie", EN: "login"},
	verify.StepDone:     {PL: "gotowe", EN: "done"},
}

var sideNames = map[verify.Side]mailcfg.Text{
	verify.Incoming: {PL: "przychodząca", EN: "incoming"},
	verify.Outgoing: {PL: "wychodząca", EN: "outgoing"},
}

// printEvent writes one progress line: "incoming  connect      12 ms".
func printEvent(env *Env, e verify.Event) {
	line := fmt.Sprintf("%-13s %-11s %6d ms", sideNames[e.Side].In(env.Lang), stepNames[e.Step].In(env.Lang), e.Elapsed.Milliseconds())
	if e.Failure != nil {
		line += "  " + string(e.Failure.Kind)
	}
	fmt.Fprintln(env.Stdout, line)
}

func printVerifyResult(env *Env, s mailcfg.Settings, r verify.Result) {
	w := env.Stdout
	fmt.Fprintln(w)
	for _, side := range []struct {
		side verify.Side
		srv  mailcfg.Server
		res  verify.SideResult
	}{{verify.Incoming, s.Incoming, r.Incoming}, {verify.Outgoing, s.Outgoing, r.Outgoing}} {
		name := sideNames[side.side].In(env.Lang)
		if side.res.OK {
			fmt.Fprintf(w, "%-13s %s  %s (%d ms)\n", name, tr(env, "DZIAŁA", "OK"), describeServer(side.srv), side.res.Elapsed.Milliseconds())
			continue
		}
		f := side.res.Failure
		if f == nil {
			f = mailcfg.NewFailure(mailcfg.KindProtocol, string(side.side), nil)
		}
		fmt.Fprintf(w, "%-13s %s  %s (%d ms)\n", name, tr(env, "BŁĄD", "FAILED"), describeServer(side.srv), side.res.Elapsed.Milliseconds())
		fmt.Fprintf(w, "              %s\n", f.Message.In(env.Lang))
		if h := f.Hint.In(env.Lang); h != "" {
			fmt.Fprintf(w, "              %s\n", h)
		}
		if c := f.Certificate; c != nil {
			fmt.Fprintf(w, "              %s %s\n", tr(env, "Odcisk SHA-256:", "SHA-256 fingerprint:"), c.SHA256)
			fmt.Fprintf(w, "              %s %s\n", tr(env, "Wystawiony dla:", "Issued to:"), strings.Join(c.Names, ", "))
			fmt.Fprintf(w, "              %s %s\n", tr(env, "Wystawca:", "Issuer:"), c.Issuer)
			fmt.Fprintf(w, "              %s %s – %s\n", tr(env, "Ważny:", "Valid:"), c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly))
		}
		if f.Detail != "" {
			fmt.Fprintf(w, "              (%s)\n", f.Detail)
		}
	}
}

type verifyErrorJSON = mailcfg.FailureJSON

type verifySideJSON struct {
	OK        bool             `json:"ok"`
	ElapsedMs int64            `json:"elapsedMs"`
	Error     *verifyErrorJSON `json:"error,omitempty"`
}

type verifyResultJSON struct {
	OK       bool           `json:"ok"`
	Incoming verifySideJSON `json:"incoming"`
	Outgoing verifySideJSON `json:"outgoing"`
}

func verifyJSON(env *Env, r verify.Result) verifyResultJSON {
	side := func(name verify.Side, s verify.SideResult) verifySideJSON {
		j := verifySideJSON{OK: s.OK, ElapsedMs: s.Elapsed.Milliseconds()}
		if !s.OK {
			f := s.Failure
			if f == nil {
				f = mailcfg.NewFailure(mailcfg.KindProtocol, string(name), nil)
			}
			e := f.JSON(env.Lang)
			j.Error = &e
		}
		return j
	}
	return verifyResultJSON{OK: r.OK, Incoming: side(verify.Incoming, r.Incoming), Outgoing: side(verify.Outgoing, r.Outgoing)}
}
