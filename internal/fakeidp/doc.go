// Package fakeidp holds the fakes of OAuth 2.0 / OpenID Connect
// authorization servers that the demo and the tests sign in to, and the fake
// browser that walks their sign-in pages.
package fakeidp
