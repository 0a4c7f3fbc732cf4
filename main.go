// Command infino-mailbox connects a mailbox to an Infino Legal account. With
// no arguments it opens the window; with a command it runs the command-line
// face (see "infino-mailbox --help"). main only picks the world (the
// machine's, or the demo's sandbox) and hands it to a face.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"infino.legal/mailbox/internal/sandbox"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/world"
	"infino.legal/mailbox/oauthloopback"
	"infino.legal/mailbox/ui"
	"infino.legal/mailbox/ui/cli"
)

func main() {
	args := os.Args[1:]
	if cli.IsCommand(args) {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		code := cli.Main(ctx, cli.NewEnv(world.Real(), os.Stdin, os.Stdout, os.Stderr), args)
		stop()
		os.Exit(code)
	}
	ui.Run(args, newWorld)
}

// newWorld is the window's world: the machine's, or with --demo the
// sandbox's, started in this process, which only borrows the machine
// policy's language.
func newWorld(ctx context.Context, demo bool) (*world.World, func(), error) {
	if !demo {
		return world.Real(), nil, nil
	}
	pol, _ := policy.Load()
	w, sb, err := sandbox.World(ctx, sandbox.WorldOptions{
		Options: sandbox.Options{Demo: true}, Open: oauthloopback.DefaultOpener, Language: pol.Language})
	if err != nil {
		return nil, nil, fmt.Errorf("demo mode: %w", err)
	}
	return w, func() { sb.Close() }, nil
}
