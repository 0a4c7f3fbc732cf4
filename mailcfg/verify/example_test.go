package verify_test

import (
	"context"
	"fmt"
	"log"

	"infino.legal/mailbox/internal/sandbox"
	"infino.legal/mailbox/mailcfg/verify"
)

// Verifying the sandbox's demo account: both servers at once, trusting only
// the sandbox's CA, then the same settings with a wrong password.
func Example() {
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Close()

	s := sb.DemoSettings() // jan@kancelaria-demo.test, IMAP and SMTP with implicit TLS
	opt := verify.Options{RootCAs: sb.RootCAs}

	r := verify.Verify(ctx, s, verify.Password(sandbox.DemoPassword), opt)
	fmt.Println("ok:", r.OK)
	for _, side := range []verify.SideResult{r.Incoming, r.Outgoing} {
		var steps []verify.Step
		for _, e := range side.Steps {
			steps = append(steps, e.Step)
		}
		fmt.Println(steps)
	}

	r = verify.Verify(ctx, s, verify.Password("wrong"), opt)
	fmt.Println("ok:", r.OK)
	fmt.Println("incoming:", r.Incoming.Failure.Kind, r.Incoming.Failure.Field)
	fmt.Println("outgoing:", r.Outgoing.Failure.Kind, r.Outgoing.Failure.Field)
	// Output:
	// ok: true
	// [resolve connect tls greeting login done]
	// [resolve connect tls greeting login done]
	// ok: false
	// incoming: auth_failed password
	// outgoing: auth_failed password
}
