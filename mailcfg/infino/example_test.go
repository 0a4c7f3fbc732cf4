package infino_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"infino.legal/mailbox/internal/sandbox"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/verify"
	"infino.legal/mailbox/mailcfg/world"
)

// A face makes one Service per process and hands it settings that
// verification has just accepted. Here the sandbox plays Infino Legal: the
// policy points at it, its CA is trusted, the secrets stay in memory (a face
// uses secrets.NewKeyring), and a headless browser stands in for the user's
// sign-in (a face leaves Browser.Opener nil and shows the address that
// OnURL gives it with a Copy button).
func Example() {
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Close()
	dir, err := sb.ConfigDir() // a face: infino.DefaultConfigDir()
	if err != nil {
		log.Fatal(err)
	}
	store := secrets.NewMemory()
	pol := sb.Policy() // infinoUrl, infino.clientId, the Microsoft registration

	svc := infino.NewService(infino.Options{
		ConfigDir: dir,
		Store:     store,
		Policy:    pol,
		Browser:   &infino.Browser{Opener: sb.Browser().Visit, OnURL: func(string) {}},
		// A face passes netconf's client for the policy.
		ClientOptions: infino.ClientOptions{HTTP: sb.HTTPClient(), Lang: "en"},
	})
	report := svc.Flush(ctx, false) // at start-up: what is due, never a browser
	fmt.Println("due at start-up:", len(report.Results))

	s := sb.DemoSettings()
	cred := verify.Password(sandbox.DemoPassword)                                 // what verify.Verify accepted
	sec, err := (&world.World{Policy: pol, Store: store}).SecretFor(ctx, s, cred) // the faces ask their world
	if err != nil {
		log.Fatal(err)
	}
	out := svc.Submit(ctx, s, sec, time.Now()) // verifiedAt; the Done screen shows out.State, out.Message()
	fmt.Println(out.State, out.Email)

	out = svc.Submit(ctx, s, sec, time.Now()) // the same mailbox again
	fmt.Println(out.State)

	entries, problems, err := svc.Pending(ctx) // what waits, each with Entry.Reason()
	fmt.Println("waiting:", len(entries), len(problems), err)
	m := sb.Infino.Mailboxes()
	fmt.Println("at Infino:", len(m), m[0].Email, m[0].SecretType)
	fmt.Println("sign-ins:", sb.Infino.AuthStats().CodeGrants)
	// Output:
	// due at start-up: 0
	// sent jan@kancelaria-demo.test
	// exists
	// waiting: 0 0 <nil>
	// at Infino: 1 jan@kancelaria-demo.test password
	// sign-ins: 1
}
