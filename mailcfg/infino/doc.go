// Package infino hands verified mailbox settings to an Infino Legal account:
// the HTTPS client of the contract in docs/infino-api.md, the sign-in to
// Infino (OAuth 2.0 with PKCE through oauthloopback, metadata from RFC 8414),
// and the outbox that keeps a submission until Infino has confirmed it.
//
// The usual entry point is Service:
//
//	svc := infino.NewService(infino.Options{ConfigDir: dir, Store: store, Policy: pol})
//	out := svc.Submit(ctx, settings, infino.PasswordSecret(pw), verifiedAt)
//	switch out.State { case infino.StateSent, infino.StateExists, infino.StateQueued, infino.StateFailed: … }
//
// Every submission is first written to the outbox (the non-secret part in a
// file under the config directory, written atomically; the secret in the
// secrets.Store under the entry's id) and only then sent, with one
// Idempotency-Key that every later retry repeats. A crash at any moment
// therefore loses nothing, and a retry after a lost response cannot create a
// second mailbox.
//
// Nothing here imports Fyne; the window and the command line are faces over
// it. Everything that touches the world (HTTP client, clock, sleeping, the
// browser, the secret store, the config directory) is injectable.
package infino
