// Package cli is the command-line face of Infino Mailbox, for firm IT and for
// tests. It sits over the same core as the window (package mailcfg) and never
// imports Fyne. Exit codes: 0 success, 1 the operation failed or found nothing,
// 2 bad input or usage, 3 queued for later delivery.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/netconf"
	"infino.legal/mailbox/mailcfg/verify"
	"infino.legal/mailbox/mailcfg/world"
)

// Exit codes shared by every command.
const (
	ExitOK     = 0
	ExitFailed = 1
	ExitUsage  = 2
	ExitQueued = 3
)

// Env is everything a command touches outside itself; tests replace parts,
// each test its own Env, so that they can run in parallel.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Lang is "pl" or "en": the language of messages meant for people.
	Lang string
	// World is what the commands run on: the policy (and what went wrong
	// reading it), the network, the secret store, the browser, the
	// provider table and the configuration directory. nil: an empty world
	// (tests that need none of it).
	World *world.World
	// Getenv reads the environment (tests pass a map).
	Getenv func(string) string
	// Verify checks settings against the servers (verify and submit); nil:
	// verify.Verify.
	Verify func(ctx context.Context, s mailcfg.Settings, cred verify.Credential, opt verify.Options) verify.Result
	// OAuthCredential turns settings that sign in with OAuth 2.0 into a
	// credential (verify and submit); nil: World.OAuthCredential (the
	// refresh token a Microsoft sign-in stored).
	OAuthCredential func(ctx context.Context, s mailcfg.Settings) (verify.Credential, error)

	netWarned bool
}

// Command is one sub-command.
type Command struct {
	Name    string
	Usage   string // e.g. "discover [--offline] [--json] ADDRESS"
	Summary string
	Run     func(ctx context.Context, env *Env, args []string) int
}

var commands = map[string]*Command{}

// Register adds a command; each command lives in its own file and registers
// itself from init.
func Register(c *Command) {
	if commands[c.Name] != nil {
		panic("cli: duplicate command " + c.Name)
	}
	commands[c.Name] = c
}

// IsCommand reports whether the arguments ask for a command-line action
// rather than the window.
func IsCommand(args []string) bool {
	if len(args) == 0 {
		return false
	}
	a := args[0]
	if commands[a] != nil {
		return true
	}
	switch a {
	case "-h", "-help", "--help", "help", "-version", "--version":
		return true
	}
	// Anything else that is not a window flag is a usage error the CLI
	// should report, not a reason to open a window.
	return !isWindowFlag(a)
}

// WindowFlags are the arguments the window itself understands.
var WindowFlags = []string{"--demo", "-demo"}

func isWindowFlag(a string) bool {
	name, _, _ := strings.Cut(a, "=")
	for _, f := range WindowFlags {
		if name == f {
			return true
		}
	}
	return false
}

// NewEnv builds the environment of a real run on w (world.Real()): its
// language (the policy's, else the locale's) is the commands' language.
func NewEnv(w *world.World, stdin io.Reader, stdout, stderr io.Writer) *Env {
	return &Env{
		Stdin: stdin, Stdout: stdout, Stderr: stderr,
		Lang:   w.Lang,
		World:  w,
		Getenv: os.Getenv,
	}
}

// net is the world's network for a command that uses it. The first time, a
// policy CA file that cannot be used is reported on stderr, in the words
// the window shows; the command goes on with the system roots and the
// proxy IT set.
func (env *Env) net() netconf.Net {
	n := env.World.Net()
	if n.Warning != nil && !env.netWarned {
		env.netWarned = true
		fmt.Fprintf(env.Stderr, "infino-mailbox: %s\n", n.Warning.Message().In(env.Lang))
	}
	return n
}

// warnPolicy reports on stderr what went wrong reading the policy, if
// anything, for a command that goes on with what could be read.
func (env *Env) warnPolicy() {
	if env.World.PolicyErr != nil {
		fmt.Fprintf(env.Stderr, "infino-mailbox: %v\n", env.World.PolicyErr)
	}
}

// verifier is Verify, else verify.Verify.
func (env *Env) verifier() func(ctx context.Context, s mailcfg.Settings, cred verify.Credential, opt verify.Options) verify.Result {
	if env.Verify != nil {
		return env.Verify
	}
	return verify.Verify
}

// Main runs one command line and returns the exit code.
func Main(ctx context.Context, env *Env, args []string) int {
	if env.World == nil {
		env.World = &world.World{}
	}
	if env.World.Lang == "" {
		env.World.Lang = env.Lang
	}
	if len(args) == 0 || isHelp(args[0]) || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			if c := commands[args[1]]; c != nil {
				fmt.Fprintf(env.Stdout, "usage: infino-mailbox %s\n\n%s\n", c.Usage, c.Summary)
				return ExitOK
			}
		}
		usage(env.Stdout)
		return ExitOK
	}
	if args[0] == "--version" || args[0] == "-version" {
		args = []string{"version"}
	}
	c := commands[args[0]]
	if c == nil {
		fmt.Fprintf(env.Stderr, "infino-mailbox: unknown command %q\n\n", args[0])
		usage(env.Stderr)
		return ExitUsage
	}
	return c.Run(ctx, env, args[1:])
}

func isHelp(a string) bool { return a == "-h" || a == "-help" || a == "--help" }

func usage(w io.Writer) {
	fmt.Fprintf(w, "%s %s — connect a mailbox to Infino Legal.\n\n", mailcfg.AppName, mailcfg.Version)
	fmt.Fprintln(w, "usage:")
	fmt.Fprintln(w, "  infino-mailbox                 open the window")
	fmt.Fprintln(w, "  infino-mailbox --demo          open the window against built-in sandbox servers")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := commands[n]
		fmt.Fprintf(w, "  infino-mailbox %-30s %s\n", c.Usage, c.Summary)
	}
	fmt.Fprintln(w, "\nRun 'infino-mailbox COMMAND --help' for a command's options.")
	fmt.Fprintln(w, "Exit codes: 0 success, 1 failed or not found, 2 bad input, 3 queued in the outbox.")
}

// FlagSet makes a flag set whose errors and help go to the command's
// streams, with the usage line of the command.
func FlagSet(env *Env, c *Command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: infino-mailbox %s\n\n%s\n\noptions:\n", c.Usage, c.Summary)
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses flags that may stand before or after the positional
// arguments ("discover jan@wp.pl --json"). It returns the positional
// arguments, or an exit code when parsing ended the command (help: 0,
// error: 2).
func Parse(env *Env, fs *flag.FlagSet, args []string) ([]string, int, bool) {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") {
				if f := fs.Lookup(name); f != nil && !isBoolFlag(f) && i+1 < len(args) {
					flags = append(flags, args[i+1])
					i++
				}
			}
			continue
		}
		pos = append(pos, a)
	}
	if err := fs.Parse(flags); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, ExitOK, false
		}
		return nil, ExitUsage, false
	}
	return append(fs.Args(), pos...), 0, true
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// Fail prints a message for people on stderr and returns the code.
func Fail(env *Env, code int, format string, a ...any) int {
	fmt.Fprintf(env.Stderr, "infino-mailbox: "+format+"\n", a...)
	return code
}
