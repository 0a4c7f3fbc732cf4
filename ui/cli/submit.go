package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/signin"
	"infino.legal/mailbox/mailcfg/verify"
)

func init() {
	Register(&Command{
		Name: "submit", Usage: "submit [--json] [--password-stdin] [--allow-insecure] [--ca FILE] [--replace] SETTINGS.json",
		Summary: "verify settings, then hand them to Infino (exit 3: queued in the outbox)",
		Run:     runSubmit,
	})
}

// service is the hand-off service of the Infino commands (submit, outbox,
// signin infino); the Infino sign-in address goes to stderr.
func (env *Env) service() (*infino.Service, error) {
	return env.World.Service(func(u string) {
		fmt.Fprintf(env.Stderr, "%s\n  %s\n", tr(env, "Zaloguj się do Infino w przeglądarce. Jeśli się nie otworzyła, otwórz ten adres:",
			"Sign in to Infino in the browser. If it did not open, open this address:"), u)
	})
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
	if o.State == infino.StateExists && o.Existing != nil {
		fmt.Fprintf(w, "  %s\n", tr(env, "Aby zastąpić zapisane ustawienia: infino-mailbox submit --replace …",
			"To replace the saved settings: infino-mailbox submit --replace …"))
	}
}

func runSubmit(ctx context.Context, env *Env, args []string) int {
	f := newCheckFlags(env, commands["submit"], "print the result as JSON",
		"read the mailbox password from the first line of standard input",
		"verify-timeout", "how long verification may take")
	replace := f.fs.Bool("replace", false, "if Infino already has this mailbox, replace its settings and secret with these")
	// The credential for verification; the secret for Infino follows from
	// it after verification (World.SecretFor).
	r, oauthErr, code := f.prepare(ctx, env, args, func() int {
		env.warnPolicy()
		return 0
	}, true, "submit")
	if oauthErr != nil {
		var se *signin.Error
		if errors.As(oauthErr, &se) && (se.Code == signin.CodeNotConfigured || se.Code == signin.CodeNotSignedIn) {
			// IT or the user must act first ("signin <provider>", the
			// provider's clientId), whichever provider it is.
			return Fail(env, ExitUsage, "%s", se.Text().In(env.Lang))
		}
		// As a failed verification: both sides cannot sign in.
		fail := verify.Classify(oauthErr, "", nil)
		side := verify.SideResult{Failure: fail}
		return verifyFailed(env, r.settings, verify.Result{Incoming: side, Outgoing: side}, *f.asJSON)
	}
	if code != 0 {
		return code
	}
	s, cred, opt, asJSON := r.settings, r.cred, r.opt, f.asJSON
	if !*asJSON {
		fmt.Fprintln(env.Stderr, tr(env, "Sprawdzam logowanie do serwerów poczty…", "Checking the sign-in to the mail servers…"))
	}
	res := env.verifier()(ctx, s, cred, opt)
	verifiedAt := time.Now()
	if !res.OK {
		return verifyFailed(env, s, res, *asJSON)
	}
	sec, err := env.World.SecretFor(ctx, s, cred)
	if err != nil {
		return Fail(env, ExitFailed, "%v", err)
	}
	svc, err := env.service()
	if err != nil {
		return Fail(env, ExitFailed, "%v", err)
	}
	if !*asJSON {
		fmt.Fprintln(env.Stderr, tr(env, "Przekazuję ustawienia do Infino…", "Handing the settings to Infino…"))
	}
	submit := svc.Submit
	if *replace {
		submit = svc.SubmitOrReplace
	}
	out := submit(ctx, s, sec, verifiedAt)
	if *asJSON {
		writeJSON(env.Stdout, outcomeJSON(env, out))
	} else {
		printOutcome(env, out)
	}
	return exitFor(out)
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
