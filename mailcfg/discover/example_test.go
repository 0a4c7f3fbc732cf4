package discover_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"infino.legal/mailbox/internal/sandbox"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/discover"
)

// Settings for an address from the bundled provider table alone: Offline
// uses no DNS, no HTTP and no probes, and a bundled answer comes back at
// once.
func Example() {
	r, err := discover.Discover(context.Background(), "jan@interia.pl", discover.Options{Offline: true})
	if err != nil {
		log.Fatal(err)
	}
	show(r)
	// Output:
	// source: bundled
	// incoming: imap poczta.interia.pl 993 tls jan@interia.pl
	// outgoing: smtp poczta.interia.pl 465 tls jan@interia.pl
}

// Discovery on another provider table: the sandbox's, whose demo
// providers' servers are its IMAP and SMTP on loopback. Offline, a domain
// the table does not know is mailcfg.ErrNotFound.
func Example_table() {
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Close()

	opt := discover.Options{Table: sb.Table(), Offline: true}
	r, err := discover.Discover(ctx, sandbox.DemoEmail, opt)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("provider:", r.Provider.ID, "source:", r.Settings.Source)
	fmt.Println("incoming is the sandbox's IMAP:", hostPort(r.Settings.Incoming) == sb.IMAPAddr)
	fmt.Println("outgoing is the sandbox's SMTP:", hostPort(r.Settings.Outgoing) == sb.SMTPAddr)

	_, err = discover.Discover(ctx, "jan@nowhere.invalid", opt)
	fmt.Println("unknown domain, offline: not found:", errors.Is(err, mailcfg.ErrNotFound))
	// Output:
	// provider: sandbox source: bundled
	// incoming is the sandbox's IMAP: true
	// outgoing is the sandbox's SMTP: true
	// unknown domain, offline: not found: true
}

func show(r discover.Result) {
	s := r.Settings
	fmt.Println("source:", s.Source)
	fmt.Println("incoming:", s.Incoming.Protocol, s.Incoming.Host, s.Incoming.Port, s.Incoming.Security, s.Incoming.Username)
	fmt.Println("outgoing:", s.Outgoing.Protocol, s.Outgoing.Host, s.Outgoing.Port, s.Outgoing.Security, s.Outgoing.Username)
}

func hostPort(srv mailcfg.Server) string { return fmt.Sprintf("%s:%d", srv.Host, srv.Port) }
