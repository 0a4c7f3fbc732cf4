package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"infino.legal/mailbox/mailcfg"
)

// Discoverer finds settings for an address over the network. The command
// line and the window share it; nil means only the bundled table is used.
type Discoverer func(ctx context.Context, email string, proto mailcfg.Protocol) (mailcfg.Settings, error)

// NetworkDiscover is set by the discovery package's wiring; until then
// "discover" without --offline uses the bundled table alone.
var NetworkDiscover Discoverer

func init() {
	Register(&Command{
		Name: "discover", Usage: "discover [--offline] [--json] [--pop3] ADDRESS",
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
	rest, code, ok := Parse(env, fs, args)
	if !ok {
		return code
	}
	if len(rest) != 1 {
		fs.Usage()
		return ExitUsage
	}
	proto := mailcfg.IMAP
	if *pop3 {
		proto = mailcfg.POP3
	}
	var s mailcfg.Settings
	var err error
	if *offline || NetworkDiscover == nil {
		s, err = mailcfg.Autofill(rest[0], proto)
	} else {
		s, err = NetworkDiscover(ctx, rest[0], proto)
	}
	var fe *mailcfg.FieldError
	switch {
	case errors.As(err, &fe):
		return Fail(env, ExitUsage, "%s", fe.Message.In(env.Lang))
	case errors.Is(err, mailcfg.ErrNotFound):
		return Fail(env, ExitFailed, "%s", mailcfg.NotFoundMessage.In(env.Lang))
	case err != nil:
		return Fail(env, ExitFailed, "%v", err)
	}
	if *asJSON {
		return writeJSON(env.Stdout, s)
	}
	printSettings(env, s)
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

func printSettings(env *Env, s mailcfg.Settings) {
	w := env.Stdout
	if s.Provider != nil {
		fmt.Fprintf(w, "Provider:  %s (%s)\n", s.Provider.Name, s.Provider.ID)
	}
	fmt.Fprintf(w, "Address:   %s\n", s.Email)
	fmt.Fprintf(w, "Sign-in:   %s\n", s.Auth)
	fmt.Fprintf(w, "Incoming:  %s\n", describeServer(s.Incoming))
	fmt.Fprintf(w, "Outgoing:  %s\n", describeServer(s.Outgoing))
	fmt.Fprintf(w, "Source:    %s\n", s.Source)
	if s.Provider != nil {
		if p := mailcfg.Bundled().ByID(s.Provider.ID); p != nil {
			fmt.Fprintf(w, "Help:      %s\n", p.Help.In(env.Lang))
			if p.HelpURL != "" {
				fmt.Fprintf(w, "           %s\n", p.HelpURL)
			}
		}
	}
}

func describeServer(s mailcfg.Server) string {
	return fmt.Sprintf("%s %s:%d %s, user %s", strings.ToUpper(string(s.Protocol)), s.Host, s.Port,
		strings.ToUpper(string(s.Security)), s.Username)
}
