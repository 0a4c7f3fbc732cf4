// Package fakeidp is a strict fake of an OAuth 2.0 / OpenID Connect
// authorization server for public clients on loopback (RFC 6749, RFC 8252,
// RFC 7636), parameterised per provider by a Profile, and a fake browser
// that walks its sign-in page.
//
// It checks what a real provider checks and a little more: the client id,
// an exact loopback redirect URI (never redirecting to an unverified one),
// PKCE with S256 only, the state, the scopes, single-use codes that expire
// (a replayed code revokes the user's tokens), refresh tokens that rotate
// on every use. ID tokens are RS256 JWTs signed with a key it publishes at
// its JWKS endpoint and in /.well-known/openid-configuration, so a client
// may verify them (go-oidc). Tests inject errors (SetAuthorizeError,
// SetTokenError), edit claims (SetClaims), choose the account (SetAccount)
// and read what happened (Stats, ValidAccessToken, ValidRefreshToken);
// Options.Violation reports requests a correct client never sends.
//
// MicrosoftProfile is the Microsoft identity platform (v2.0 endpoints under
// a tenant segment, tid and the consumer tenant, AADSTS errors);
// internal/microsofttest and the sandbox both run it. The sandbox's Infino
// runs a plain OAuth profile.
package fakeidp
