package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"infino.legal/mailbox/mailcfg/infino"
)

func init() {
	Register(&Command{
		Name: "mailboxes", Usage: "mailboxes list [--json]",
		Summary: "list the mailboxes connected to the Infino account (address, state, last verified)",
		Run:     runMailboxes,
	})
}

type mailboxJSON struct {
	ID             string     `json:"id"`
	Email          string     `json:"email"`
	State          string     `json:"state,omitempty"`
	LastVerifiedAt *time.Time `json:"lastVerifiedAt,omitempty"`
	UpdatedAt      *time.Time `json:"updatedAt,omitempty"`
}

func runMailboxes(ctx context.Context, env *Env, args []string) int {
	c := commands["mailboxes"]
	fs := FlagSet(env, c)
	asJSON := fs.Bool("json", false, "print JSON")
	rest, code, ok := Parse(env, fs, args)
	if !ok {
		return code
	}
	if len(rest) != 1 || rest[0] != "list" {
		fs.Usage()
		return ExitUsage
	}
	svc, err := env.service()
	if err != nil {
		return Fail(env, ExitFailed, "%v", err)
	}
	list, err := svc.Mailboxes(ctx)
	if err != nil {
		var ie *infino.Error
		if errors.As(err, &ie) && !ie.Message.IsZero() {
			if ie.Kind == infino.KindConfig && ie.Status == 0 {
				return Fail(env, ExitUsage, "%s (%v)", ie.Message.In(env.Lang), err)
			}
			return Fail(env, ExitFailed, "%s (%v)", ie.Message.In(env.Lang), err)
		}
		return Fail(env, ExitFailed, "%v", err)
	}
	if *asJSON {
		out := []mailboxJSON{}
		for _, m := range list {
			j := mailboxJSON{ID: m.ID, Email: m.Email, State: m.State}
			if !m.LastVerifiedAt.IsZero() {
				t := m.LastVerifiedAt
				j.LastVerifiedAt = &t
			}
			if !m.UpdatedAt.IsZero() {
				t := m.UpdatedAt
				j.UpdatedAt = &t
			}
			out = append(out, j)
		}
		writeJSON(env.Stdout, map[string]any{"mailboxes": out})
		return ExitOK
	}
	if len(list) == 0 {
		fmt.Fprintln(env.Stdout, tr(env, "Do konta Infino nie jest podłączona żadna skrzynka.", "No mailbox is connected to the Infino account."))
	}
	for _, m := range list {
		verified := "—"
		if !m.LastVerifiedAt.IsZero() {
			verified = m.LastVerifiedAt.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(env.Stdout, "%s  %-10s %s %s  (%s)\n", m.Email, m.State, tr(env, "sprawdzona", "verified"), verified, m.ID)
	}
	return ExitOK
}
