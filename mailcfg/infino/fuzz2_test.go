package infino

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode"

	"infino.legal/mailbox/mailcfg/secrets"
)

// FuzzRefreshAnswer feeds the refresh any token endpoint answer. It gives a
// bearer access token (keeping a refresh token and a scope that includes
// mailboxes:write), a refusal that ends the sign-in (400/401), or an *Error
// that keeps the submission waiting; never a panic, never a refresh token
// lost from the store on a failure (a rotated one is kept even when the
// answer grants too little).
func FuzzRefreshAnswer(f *testing.F) {
	f.Add(200, []byte(`{"access_token":"at-1","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2","scope":"mailboxes:write offline_access"}`))
	f.Add(200, []byte(`{"access_token":"at-1","token_type":"bearer"}`))
	f.Add(200, []byte(`{"access_token":"at-1","token_type":"Bearer","scope":"mailboxes:read"}`))
	f.Add(200, []byte(`{"access_token":"at-1","token_type":"Bearer","scope":""}`))
	f.Add(200, []byte(`{"access_token":"at-1","token_type":"mac"}`))
	f.Add(200, []byte(`{"access_token":"","token_type":"Bearer"}`))
	f.Add(200, []byte(`{"access_token":"at-1","token_type":"Bearer","expires_in":-5}`))
	f.Add(200, []byte(`{"access_token":"at-1","token_type":"Bearer","expires_in":1e300}`))
	f.Add(400, []byte(`{"error":"invalid_grant"}`))
	f.Add(401, []byte(`{"error":"invalid_client"}`))
	f.Add(403, []byte(``))
	f.Add(503, []byte(`{"error":"temporarily_unavailable"}`))
	f.Add(302, []byte(``))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		status = fuzzStatus(status)
		store := secrets.NewMemory()
		base := "https://kancelaria.infino.legal"
		a := &Auth{BaseURL: base, ClientID: "infino-mailbox", HTTP: fuzzHTTP(status, body), Store: store, Now: fuzzClock,
			meta: &Metadata{Issuer: base, AuthorizationEndpoint: base + "/a", TokenEndpoint: base + "/t"}}
		store.Set(context.Background(), TokenKey(base), `{"refreshToken":"rt-old"}`)
		tok, err := a.refresh(context.Background(), "rt-old")
		if err != nil {
			var ge *grantError
			var e *Error
			switch {
			case errors.As(err, &ge):
				if status != 400 && status != 401 {
					t.Fatalf("HTTP %d ends the sign-in", status)
				}
			case errors.As(err, &e):
				if !slices.Contains(Kinds, e.Kind) || !e.Kind.Keeps() || e.Message.EN == "" {
					t.Fatalf("bad failure %#v", e)
				}
			default:
				t.Fatalf("failure %v (%T)", err, err)
			}
			// On a failure the stored sign-in is the old one, or the rotated
			// one the answer carried (never lost, never emptied).
			v, _ := store.Get(context.Background(), TokenKey(base))
			if v != `{"refreshToken":"rt-old"}` && (status != 200 || !strings.Contains(v, `"refreshToken":"`)) {
				t.Fatalf("the stored sign-in changed on a failure: %q", v)
			}
			return
		}
		if status != 200 || tok == "" || a.tok == nil || a.tok.RefreshToken == "" {
			t.Fatalf("HTTP %d accepted: %q %+v", status, tok, a.tok)
		}
		if v, _ := store.Get(context.Background(), TokenKey(base)); !strings.Contains(v, a.tok.RefreshToken) {
			t.Fatalf("the refresh token in use is not stored: %q", v)
		}
	})
}

// FuzzMailboxList feeds GET /api/v1/mailboxes any answer: what comes back
// has ids that are one safe path segment and text without control
// characters.
func FuzzMailboxList(f *testing.F) {
	f.Add(200, []byte(`{"mailboxes":[{"id":"mbx_000123","email":"jan.kowalski@wp.pl","state":"active","lastVerifiedAt":"2026-12-05T09:30:12Z","etag":"\"mbx_000123-v2\""}]}`))
	f.Add(200, []byte(`{"mailboxes":[{"id":"../admin","email":"x"},{"id":"a b"},{"id":""}]}`))
	f.Add(200, []byte(`{"mailboxes":[{"id":"m1","email":"\u001b[31mred","state":"\n"}]}`))
	f.Add(200, []byte(`{"mailboxes":null}`))
	f.Add(200, []byte(`[]`))
	f.Add(401, []byte(`{"error":"invalid_token"}`))
	f.Add(500, []byte(``))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		status = fuzzStatus(status)
		c := &Client{BaseURL: "https://kancelaria.infino.legal", Tokens: staticToken("t"), HTTP: fuzzHTTP(status, body)}
		list, err := c.ListMailboxes(context.Background())
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !slices.Contains(Kinds, e.Kind) || e.Message.EN == "" {
				t.Fatalf("bad failure %v", err)
			}
			return
		}
		if status != 200 {
			t.Fatalf("HTTP %d accepted", status)
		}
		for _, m := range list {
			if !mailboxIDOK(m.ID) {
				t.Fatalf("id %q kept", m.ID)
			}
			for _, s := range []string{m.Email, m.State, m.ETag} {
				if strings.ContainsFunc(s, unicode.IsControl) {
					t.Fatalf("control characters kept: %q", s)
				}
			}
		}
	})
}

type staticToken string

func (s staticToken) Token(context.Context) (string, error)         { return string(s), nil }
func (s staticToken) Renew(context.Context, string) (string, error) { return string(s), nil }
