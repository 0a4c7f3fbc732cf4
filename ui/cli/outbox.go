package cli

import (
	"context"
	"fmt"
	"time"

	"infino.legal/mailbox/mailcfg/infino"
)

func init() {
	Register(&Command{
		Name: "outbox", Usage: "outbox list|flush [--json]",
		Summary: "show, or send now, what waits to be handed to Infino",
		Run:     runOutbox,
	})
}

type outboxEntryJSON struct {
	ID          string     `json:"id"`
	Email       string     `json:"email"`
	InfinoURL   string     `json:"infinoUrl"`
	CreatedAt   time.Time  `json:"createdAt"`
	Attempts    int        `json:"attempts"`
	LastAttempt *time.Time `json:"lastAttempt,omitempty"`
	NextAttempt *time.Time `json:"nextAttempt,omitempty"`
	Kind        string     `json:"kind,omitempty"`
	Reason      string     `json:"reason,omitempty"`
	// Op is "replace" for a replacement of mailbox MailboxID.
	Op        string `json:"op,omitempty"`
	MailboxID string `json:"mailboxId,omitempty"`
}

type outboxProblemJSON struct {
	File     string `json:"file"`
	Original string `json:"original,omitempty"`
	Error    string `json:"error"`
}

func entryJSON(env *Env, e infino.Entry) outboxEntryJSON {
	j := outboxEntryJSON{ID: e.ID, Email: e.Settings.Email, InfinoURL: e.InfinoURL, CreatedAt: e.CreatedAt,
		Attempts: e.Attempts, Reason: e.Reason().In(env.Lang), Op: e.Op, MailboxID: e.MailboxID}
	if !e.LastAttempt.IsZero() {
		t := e.LastAttempt
		j.LastAttempt = &t
	}
	if !e.NextAttempt.IsZero() {
		t := e.NextAttempt
		j.NextAttempt = &t
	}
	if e.LastError != nil {
		j.Kind = string(e.LastError.Kind)
	}
	return j
}

func problemsJSON(ps []infino.Problem) []outboxProblemJSON {
	out := []outboxProblemJSON{}
	for _, p := range ps {
		out = append(out, outboxProblemJSON{File: p.File, Original: p.Original, Error: p.Error()})
	}
	return out
}

func printProblems(env *Env, ps []infino.Problem) {
	for _, p := range ps {
		fmt.Fprintf(env.Stderr, "infino-mailbox: %s\n", tr(env,
			"plik skrzynki nadawczej jest uszkodzony, więc nie da się go wysłać; przeniesiono go do kwarantanny (powód obok, w pliku .reason), a jego hasło usunięto z sejfu: "+p.File,
			"an outbox file is damaged, so it can never be sent; it was quarantined (the reason is beside it, in a .reason file) and its secret removed from the keyring: "+p.File))
		if p.Err != nil {
			fmt.Fprintf(env.Stderr, "  (%v)\n", p.Err)
		}
	}
}

func runOutbox(ctx context.Context, env *Env, args []string) int {
	c := commands["outbox"]
	fs := FlagSet(env, c)
	asJSON := fs.Bool("json", false, "print JSON")
	rest, code, ok := Parse(env, fs, args)
	if !ok {
		return code
	}
	if len(rest) != 1 || (rest[0] != "list" && rest[0] != "flush") {
		fs.Usage()
		return ExitUsage
	}
	svc, err := env.service()
	if err != nil {
		return Fail(env, ExitFailed, "%v", err)
	}
	if rest[0] == "list" {
		return outboxList(ctx, env, svc, *asJSON)
	}
	env.net()
	return outboxFlush(ctx, env, svc, *asJSON)
}

func outboxList(ctx context.Context, env *Env, svc *infino.Service, asJSON bool) int {
	entries, problems, err := svc.Pending(ctx)
	if err != nil {
		return Fail(env, ExitFailed, "%v", err)
	}
	if asJSON {
		list := []outboxEntryJSON{}
		for _, e := range entries {
			list = append(list, entryJSON(env, e))
		}
		writeJSON(env.Stdout, map[string]any{"entries": list, "problems": problemsJSON(problems), "dir": svc.Outbox().Dir()})
	} else {
		if len(entries) == 0 {
			fmt.Fprintln(env.Stdout, tr(env, "Skrzynka nadawcza jest pusta.", "The outbox is empty."))
		}
		for _, e := range entries {
			op := ""
			if e.Op == infino.OpReplace {
				op = " " + tr(env, "(zastąpienie "+e.MailboxID+")", "(replacing "+e.MailboxID+")")
			}
			fmt.Fprintf(env.Stdout, "%s  %s → %s%s\n", e.ID, e.Settings.Email, e.InfinoURL, op)
			fmt.Fprintf(env.Stdout, "    %s %s, %s %d\n", tr(env, "od", "since"), e.CreatedAt.Local().Format("2006-01-02 15:04"),
				tr(env, "próby:", "attempts:"), e.Attempts)
			if r := e.Reason().In(env.Lang); r != "" {
				fmt.Fprintf(env.Stdout, "    %s\n", r)
			}
			if !e.NextAttempt.IsZero() {
				fmt.Fprintf(env.Stdout, "    %s %s\n", tr(env, "następna próba:", "next attempt:"), e.NextAttempt.Local().Format("2006-01-02 15:04"))
			}
		}
		printProblems(env, problems)
	}
	if len(problems) > 0 {
		return ExitFailed
	}
	return ExitOK
}

func outboxFlush(ctx context.Context, env *Env, svc *infino.Service, asJSON bool) int {
	rep := svc.Flush(ctx, true)
	if rep.Err != nil {
		return Fail(env, ExitFailed, "%v", rep.Err)
	}
	sent, queued, failed := rep.Counts()
	if asJSON {
		res := []submitJSON{}
		for _, r := range rep.Results {
			j := outcomeJSON(env, r.Outcome)
			j.EntryID = r.Entry.ID
			res = append(res, j)
		}
		writeJSON(env.Stdout, map[string]any{"results": res, "sent": sent, "queued": queued, "failed": failed,
			"problems": problemsJSON(rep.Problems)})
	} else {
		for _, r := range rep.Results {
			fmt.Fprintf(env.Stdout, "%s  %s: %s\n", r.Entry.ID, r.Entry.Settings.Email, r.Outcome.Message().In(env.Lang))
			for _, f := range r.Outcome.Fields() {
				fmt.Fprintf(env.Stdout, "    %s: %s\n", f.Field, f.Message.In(env.Lang))
			}
		}
		if len(rep.Results) == 0 {
			fmt.Fprintln(env.Stdout, tr(env, "Skrzynka nadawcza jest pusta.", "The outbox is empty."))
		}
		printProblems(env, rep.Problems)
	}
	switch {
	case failed > 0 || len(rep.Problems) > 0:
		return ExitFailed
	case queued > 0:
		return ExitQueued
	}
	return ExitOK
}
