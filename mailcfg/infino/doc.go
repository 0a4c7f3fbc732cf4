// Package infino hands verified mailbox settings to an Infino Legal account:
// the HTTPS client of the contract in docs/infino-api.md, the sign-in to
// Infino (OAuth 2.0 with PKCE through oauthloopback; metadata from RFC 8414
// or OpenID discovery; offline_access, the resource indicator, iss and the
// granted scope as a standards-following server needs them), and the outbox
// that keeps a submission until Infino has confirmed it.
//
// The usual entry point is Service. A face (the window, the command line)
// makes one per process ([NewService], with the config directory, the
// keyring, the policy, netconf.Load's HTTP client and a Browser for the
// sign-in), runs [Service.Flush](ctx, false) at start-up (what is due, never
// a browser), and after verification hands the settings over with
// world.SecretFor and [Service.Submit]; Service.Flush(ctx, true) is "Retry now",
// [Service.Pending] lists what waits. The package example runs exactly that
// against the sandbox Infino. While a window is open a [Retrier] sends what
// waits in the background. A mailbox Infino already has (StateExists with
// Outcome.Existing) can have its settings replaced with [Service.Replace]
// after the user confirms; [Service.Mailboxes] lists the account's mailboxes.
//
// Outcome.State is StateSent, StateExists (already connected), StateQueued
// (waiting in the outbox; Message says why), StateReplaced or StateFailed
// (Fields for the form when Infino refused a field). "Rejected" is only said
// when Infino's API answered and refused: a sign-in that cannot work
// (KindSignInSetup) keeps the submission, and a folder that cannot be
// written (KindLocalStorage) says so. When the policy sets no infinoUrl,
// Submit fails with KindConfig until SetInfinoURL remembers the one typed on
// the Done screen (InfinoURL tells which applies).
//
// Every submission is first written to the outbox (the non-secret part in a
// file under ConfigDir/outbox, written atomically; the secret in the
// secrets.Store under SecretKey(entry id)) and only then sent, with one
// Idempotency-Key that every later retry repeats. A crash at any moment
// therefore loses nothing, and a retry after a lost response cannot create a
// second mailbox. Senders in several processes take turns through a lock
// file that the OS releases when a process dies. A marker written before
// the secret lets the next flush remove the secret of an addition a crash
// interrupted; an unreadable entry is quarantined with its reason, its
// secret removed, and reported once.
//
// Nothing here imports Fyne. Everything that touches the world (HTTP client,
// clock, sleeping, the browser, the secret store, the config directory) is
// injectable; package sandbox is the server the tests and the demo use.
package infino
