// Command infino-mailbox connects a mailbox to an Infino Legal account. With
// no arguments it opens the window; with a command it runs the command-line
// face (see "infino-mailbox --help"). main only wires the pieces together.
package main

import (
	"context"
	"os"
	"os/signal"

	"infino.legal/mailbox/ui"
	"infino.legal/mailbox/ui/cli"
)

func main() {
	args := os.Args[1:]
	if cli.IsCommand(args) {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		code := cli.Main(ctx, cli.NewEnv(os.Stdin, os.Stdout, os.Stderr), args)
		stop()
		os.Exit(code)
	}
	ui.Run(args)
}
