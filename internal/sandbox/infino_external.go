package sandbox

import (
	"context"
	"net/http"
	"strings"
)

// TokenCheck validates an access token that another authorization server
// issued (a real OpenID provider) and returns the scopes it grants; an
// error means the token is not good for Infino's API.
type TokenCheck func(ctx context.Context, token string) (scopes []string, err error)

// API is s's mailbox API (create, list, replace, under s's issuer path)
// with bearer tokens checked by check instead of by s's own authorization
// server. A token check accepts is exchanged for one of s's own with the
// same scopes before the contract handlers see the request, so they behave
// exactly as in the sandbox (idempotency, 409, If-Match, insufficient_scope)
// and Mailboxes, Count and Requests record what arrived.
func (s *Infino) API(check TokenCheck) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+s.prefix+"/api/v1/mailboxes", s.serveCreate)
	mux.HandleFunc("GET "+s.prefix+"/api/v1/mailboxes", s.serveList)
	mux.HandleFunc("PUT "+s.prefix+"/api/v1/mailboxes/{id}", s.serveReplace)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := bearer(r)
		scopes, err := check(r.Context(), tok)
		if tok == "" || err != nil {
			desc := "sign in again"
			if err != nil {
				desc = strings.ReplaceAll(err.Error(), `"`, "'")
			}
			h := http.Header{"Www-Authenticate": {`Bearer error="invalid_token", error_description="` + desc + `"`}}
			writeJSON(w, http.StatusUnauthorized, errBody("invalid_token", "sign in again"), h)
			return
		}
		own, _ := s.MintScopes(scopes...)
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+own)
		mux.ServeHTTP(w, r)
	})
}
