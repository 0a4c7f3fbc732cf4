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
	"infino.legal/mailbox/mailcfg/verify"
)

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
	f := newCheckFlags(env, commands["verify"], "print one JSON object instead of progress lines",
		"read the password from the first line of standard input (the only way to give it)",
		"timeout", "how long the whole check may take")
	r, oauthErr, code := f.prepare(ctx, env, args, func() int {
		if *f.timeout <= 0 {
			return Fail(env, ExitUsage, "--timeout %s: %s", *f.timeout, tr(env, "musi być dodatni", "must be positive"))
		}
		return 0
	}, false, "verify")
	asJSON := f.asJSON
	if oauthErr != nil {
		return oauthFailed(env, oauthErr, *asJSON)
	}
	if code != 0 {
		return code
	}
	// opt trusts what the window trusts (system roots plus the policy's
	// extraCaFile), plus whatever --ca adds for this run (rootsFor).
	s, cred, opt := r.settings, r.cred, r.opt
	var out sync.Mutex
	if !*asJSON {
		// Progress comes from both sides' goroutines at once.
		opt.Progress = func(e verify.Event) {
			out.Lock()
			defer out.Unlock()
			printEvent(env, e)
		}
	}
	res := env.verifier()(ctx, s, cred, opt)
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
	err = s.Validate(mailcfg.ValidateOptions{AllowInsecure: env.World.Policy.AllowInsecure, InsecureOverride: insecure})
	if err == nil {
		err = env.World.LockedServers(s)
	}
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
