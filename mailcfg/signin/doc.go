// Package signin is "Sign in with your mail provider": OAuth 2.0 / OpenID
// Connect sign-in for every provider of the OAuth table (mailcfg.OAuthTable,
// oauth.json: Microsoft, Google, Yahoo, AOL, Fastmail), driven by data and
// the policy (oauth.<id>.clientId, .clientSecret, .authority; the older
// microsoft.* keys for Microsoft).
//
// The flow is the authorization-code flow with PKCE S256 through the system
// browser and a loopback redirect (package oauthloopback), checking RFC 9207
// iss where the provider sends it. ID tokens are verified with
// github.com/coreos/go-oidc (signature against the provider's JWKS, audience,
// expiry), with Microsoft's tenant rules on top (microsoft.go). The refresh
// token goes to the OS keyring (mailcfg/secrets) and is refreshed under a
// lock shared by every process of the app, re-reading the keyring first, so
// that two processes never present a spent (rotated) refresh token.
//
// A face (window, command line) holds one *Service from the composition
// root and uses it like this:
//
//	offers := svc.ProvidersFor(ctx, "anna@kancelaria.pl") // buttons: "Zaloguj przez Google"
//	s, err := svc.Start(ctx, signin.Request{Provider: "google", LoginHint: addr})
//	show(s.AuthURL)                                       // with Copy; Cancel calls s.Close()
//	acc, err := s.Wait(ctx)                               // settings + token source
//	var ce *signin.ConsentNeeded
//	if errors.As(err, &ce) { copy(ce.Request.In(lang)); open(ce.URL) }
//
// Every failure is an *Error (Code, bilingual Message and Hint); errors.As
// finds a *mailcfg.Failure in it too.
package signin
