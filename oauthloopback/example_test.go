package oauthloopback_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"golang.org/x/oauth2"

	"infino.legal/mailbox/internal/sandbox"
	"infino.legal/mailbox/oauthloopback"
)

// A sign-in at the sandbox's "Microsoft" authorization server. A desktop
// app leaves Opener nil (the system browser) and shows s.AuthURL with a
// Copy button; here a headless browser follows the server's redirect back
// to the loopback listener.
func Example() {
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer sb.Close()

	tenant := sb.Microsoft.Authority() + "/common/oauth2/v2.0"
	opened := make(chan error, 1)
	s, err := oauthloopback.Start(ctx, oauthloopback.Config{
		OAuth2: oauth2.Config{
			ClientID: sb.Microsoft.ClientID(),
			Endpoint: oauth2.Endpoint{AuthURL: tenant + "/authorize", TokenURL: tenant + "/token"},
			Scopes:   sandbox.MicrosoftScopes,
		},
		RedirectHost: oauthloopback.HostLocalhost, // what the provider has registered
		AuthParams:   map[string]string{"prompt": "select_account"},
		Opener:       sb.Browser().Visit,
		// From the opener's goroutine: a face that gets an error shows
		// "open the link by hand" next to s.AuthURL.
		OnOpen:     func(err error) { opened <- err },
		HTTPClient: sb.HTTPClient(), // the token request trusts the sandbox's CA
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("redirect URI on localhost:", strings.HasPrefix(s.RedirectURL, "http://localhost:"))

	tok, err := s.Wait(ctx) // until the redirect with the right state and the code exchange
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("access token:", tok.AccessToken != "", "refresh token:", tok.RefreshToken != "")
	fmt.Println("codes redeemed:", sb.Microsoft.AuthStats().CodeGrants)
	// Output:
	// redirect URI on localhost: true
	// access token: true refresh token: true
	// codes redeemed: 1
}
