package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/discover"
)

func init() {
	Register(&Command{
		Name: "discover", Usage: "discover [--offline] [--json] [--pop3] [--timeout D] [--verbose] ADDRESS",
		Summary: "find the mail server settings for an address",
		Run:     runDiscover,
	})
}

func runDiscover(ctx context.Context, env *Env, args []string) int {
	c := commands["discover"]
	fs := FlagSet(env, c)
	offline := fs.Bool("offline", false, "use only the bundled provider table (no network)")
	asJSON := fs.Bool("json", false, "print the settings as JSON")
	pop3 := fs.Bool("pop3", false, "prefer POP3 over IMAP for incoming mail")
	timeout := fs.Duration("timeout", discover.DefaultWait, "how long to wait for better answers before printing the best one")
	verbose := fs.Bool("verbose", false, "list every source asked, with its outcome, on stderr")
	rest, code, ok := Parse(env, fs, args)
	if !ok {
		return code
	}
	if len(rest) != 1 {
		fs.Usage()
		return ExitUsage
	}
	if *timeout <= 0 || *timeout > time.Minute {
		return Fail(env, ExitUsage, "--timeout must be between 1ms and 1m, not %v", *timeout)
	}
	opt := env.World.DiscoverOptions(*offline)
	if !opt.Offline {
		env.net() // the warning about the policy's CA file, if any
	}
	opt.Wait = *timeout
	opt.Protocol = mailcfg.IMAP
	if *pop3 {
		opt.Protocol = mailcfg.POP3
	}
	res, err := discover.Discover(ctx, rest[0], opt)
	if *verbose {
		for _, a := range res.Tried {
			fmt.Fprintln(env.Stderr, a.String())
		}
	}
	var fe *mailcfg.FieldError
	switch {
	case errors.As(err, &fe):
		return Fail(env, ExitUsage, "%s", fe.Message.In(env.Lang))
	case errors.Is(err, mailcfg.ErrNotFound) && res.Note != "":
		// Exchange answered, but not with settings a mail app can use.
		return Fail(env, ExitFailed, "%s", res.Note.Message().In(env.Lang))
	case errors.Is(err, mailcfg.ErrNotFound):
		return Fail(env, ExitFailed, "%s", mailcfg.NotFoundMessage.In(env.Lang))
	case err != nil:
		return Fail(env, ExitFailed, "%v", err)
	}
	s := res.Settings
	if *asJSON {
		return writeJSON(env.Stdout, s)
	}
	printSettings(env, s, opt.Table)
	return ExitOK
}

func writeJSON(w io.Writer, v any) int {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return ExitFailed
	}
	return ExitOK
}

// sourceNames says in words where settings came from.
var sourceNames = map[mailcfg.Source]mailcfg.Text{
	mailcfg.SourceBundled:      {PL: "wbudowana lista dostawców", EN: "built-in provider list"},
	mailcfg.SourceAutoconfig:   {PL: "plik konfiguracji dostawcy", EN: "the provider's configuration file"},
	mailcfg.SourceISPDB:        {PL: "baza dostawców Thunderbirda (ISPDB)", EN: "Thunderbird's provider database (ISPDB)"},
	mailcfg.SourceMX:           {PL: "rekordy MX domeny (serwer pocztowy dostawcy)", EN: "the domain's MX records (its mail host)"},
	mailcfg.SourceSRV:          {PL: "rekordy SRV domeny (RFC 6186)", EN: "the domain's SRV records (RFC 6186)"},
	mailcfg.SourceGuess:        {PL: "odgadnięte nazwy serwerów", EN: "guessed server names"},
	mailcfg.SourceAutodiscover: {PL: "Autodiscover serwera Exchange", EN: "the Exchange server's Autodiscover"},
	mailcfg.SourcePolicy:       {PL: "serwery kancelarii ustawione przez dział IT", EN: "the firm's servers, preset by IT"},
}

// lowTrustWarning is shown when settings could have been tampered with.
var lowTrustWarning = mailcfg.Text{
	PL: "Uwaga: te ustawienia pochodzą z niezabezpieczonego źródła. Zanim ich użyjesz, potwierdź nazwy serwerów u dostawcy poczty lub w dziale IT.",
	EN: "Warning: these settings come from an unprotected source. Confirm the server names with your mail provider or IT department before using them.",
}

func printSettings(env *Env, s mailcfg.Settings, table *mailcfg.Table) {
	if table == nil {
		table = mailcfg.Bundled()
	}
	w := env.Stdout
	if s.Provider != nil {
		fmt.Fprintf(w, "Provider:  %s (%s)\n", s.Provider.Name, s.Provider.ID)
	}
	fmt.Fprintf(w, "Address:   %s\n", s.Email)
	fmt.Fprintf(w, "Sign-in:   %s\n", s.Auth)
	fmt.Fprintf(w, "Incoming:  %s\n", describeServer(s.Incoming))
	fmt.Fprintf(w, "Outgoing:  %s\n", describeServer(s.Outgoing))
	if name, ok := sourceNames[s.Source]; ok {
		fmt.Fprintf(w, "Source:    %s (%s)\n", s.Source, name.In(env.Lang))
	} else {
		fmt.Fprintf(w, "Source:    %s\n", s.Source)
	}
	if s.Provider != nil {
		if p := table.ByID(s.Provider.ID); p != nil {
			fmt.Fprintf(w, "Help:      %s\n", p.Help.In(env.Lang))
			if p.HelpURL != "" {
				fmt.Fprintf(w, "           %s\n", p.HelpURL)
			}
		}
	}
	if s.LowTrust {
		fmt.Fprintf(w, "\n%s\n", lowTrustWarning.In(env.Lang))
	}
}

func describeServer(s mailcfg.Server) string {
	return fmt.Sprintf("%s %s:%d %s, user %s", strings.ToUpper(string(s.Protocol)), s.Host, s.Port,
		strings.ToUpper(string(s.Security)), s.Username)
}
