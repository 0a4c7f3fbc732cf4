// Package oauthloopback runs an OAuth 2.0 authorization-code flow for a
// native (desktop) app through the system browser and a loopback redirect,
// as described in RFC 8252 ("OAuth 2.0 for Native Apps", BCP 212) §7.3 and
// §8.3, with PKCE S256 (RFC 7636) and the practices of RFC 9700 ("Best
// Current Practice for OAuth 2.0 Security", BCP 240) §2.1 and §4.
//
// The package is provider-neutral: it knows nothing about Microsoft or any
// UI toolkit. A flow is [Start] (with the client registration, the redirect
// host the provider has registered, and OnOpen to learn whether a browser
// opened), then showing [Session.AuthURL] with a Copy button (always: a nil
// opener error proves nothing), then [Session.Wait], which blocks until the
// redirect and the code exchange, the timeout or a cancel. The package
// example runs a whole flow against the sandbox's authorization server.
//
// What Start and Wait do:
//
//   - A fresh PKCE verifier (oauth2.GenerateVerifier) and a 32-byte random
//     state (crypto/rand, base64url) per session.
//   - The listener binds 127.0.0.1 on a random port and, best effort,
//     [::1] on the same port (RFC 8252 §7.3 and §8.3: loopback only, both IP
//     versions). It never binds a wildcard address. The listener is up
//     before the browser opener runs.
//   - Only a GET on the redirect path whose state matches (constant-time
//     comparison) completes the flow, and only once. Favicon requests, other
//     paths, missing or forged state and repeated deliveries of the same
//     redirect are answered with a harmless page; a code is never redeemed
//     twice.
//   - An error redirect (RFC 6749 §4.1.2.1) with the right state ends the
//     flow with an *AuthError; its text is HTML-escaped on the page.
//   - The code is redeemed with golang.org/x/oauth2 using the same redirect
//     URI string as the authorization request, the PKCE verifier, client
//     authentication in the request body for public clients
//     (oauth2.AuthStyleInParams), and the caller's *http.Client. Token
//     endpoint errors (RFC 6749 §5.2) come back as *TokenError.
//   - The listener is shut down (bounded) as soon as the flow ends, fails,
//     times out (Config.Timeout, default 5 minutes) or is cancelled.
//
// Secrets (authorization code, PKCE verifier, tokens) never appear in error
// strings, and the package does not log.
//
// References:
//   - RFC 8252 https://www.rfc-editor.org/rfc/rfc8252
//   - RFC 7636 https://www.rfc-editor.org/rfc/rfc7636
//   - RFC 9700 https://www.rfc-editor.org/rfc/rfc9700
//   - RFC 6749 https://www.rfc-editor.org/rfc/rfc6749
package oauthloopback
