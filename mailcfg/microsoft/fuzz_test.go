package microsoft

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

const (
	fuzzClientID = "11111111-2222-3333-4444-555555555555"
	fuzzTenantID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
)

// fuzzNow is the clock of the fuzzers: fixed, so that a found input
// reproduces.
var fuzzNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fuzzJWT(payload []byte) string {
	return "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + base64.RawURLEncoding.EncodeToString(payload) + ".c2lnbmF0dXJl"
}

// FuzzParseIDToken feeds ParseIDToken ID token payloads (wrapped in a
// JWS) or whole raw tokens. Whatever it accepts must be for this app and
// this authority, from the policy's tenant, and not expired; and
// re-encoding the accepted claims must be accepted again with the same
// result.
func FuzzParseIDToken(f *testing.F) {
	iss := DefaultAuthority + "/" + fuzzTenantID + "/v2.0"
	exp, nbf := fuzzNow.Add(time.Hour).Unix(), fuzzNow.Add(-time.Minute).Unix()
	good := fmt.Sprintf(`{"ver":"2.0","iss":%q,"sub":"AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ","aud":%q,"exp":%d,"iat":%d,"nbf":%d,`+
		`"name":"Jan Kowalski","preferred_username":"jan.kowalski@kancelaria.pl","oid":"00000000-0000-0000-66f3-3332eca7ea81","email":"jan.kowalski@kancelaria.pl",`+
		`"tid":%q,"nonce":"123523","aio":"Df2UVXL1ix!lMCWMSOJBcFatzcGfvFGhjKv8q5g0x732dR5MB5BisvGQO7YWByjd8iQDLq!eGbIDakyp5mnOrcdqHeYSnltepQmRp6AIZ8jY"}`,
		iss, fuzzClientID, exp, exp-3600, nbf, fuzzTenantID)
	personal := strings.ReplaceAll(good, fuzzTenantID, ConsumerTenantID)
	for _, tenant := range []string{"common", "organizations", "consumers", fuzzTenantID, "kancelaria.onmicrosoft.com"} {
		f.Add([]byte(good), tenant, true)
		f.Add([]byte(personal), tenant, true)
	}
	f.Add([]byte(strings.Replace(good, `"aud":"`+fuzzClientID+`"`, `"aud":["`+fuzzClientID+`"]`, 1)), "common", true)
	f.Add([]byte(strings.Replace(good, `"aud":"`+fuzzClientID+`"`, `"aud":["`+fuzzClientID+`","other"]`, 1)), "common", true)
	f.Add([]byte(strings.Replace(good, fmt.Sprint(nbf), "9223372036854775807", 1)), "common", true)
	f.Add([]byte(strings.Replace(good, fmt.Sprint(exp), "-9223372036854775808", 1)), "common", true)
	f.Add([]byte(`{"aud":null}`), "common", true)
	f.Add([]byte(`{}`), "common", true)
	f.Add([]byte(fuzzJWT([]byte(good))), "common", false)
	f.Add([]byte("a.b.c"), "common", false)
	f.Add([]byte("..."), "common", false)
	f.Add([]byte("x."+base64.URLEncoding.EncodeToString([]byte(good))+".y"), "common", false)

	f.Fuzz(func(t *testing.T, data []byte, tenant string, wrap bool) {
		raw := string(data)
		if wrap {
			raw = fuzzJWT(data)
		}
		c, err := ParseIDToken(raw, fuzzClientID, DefaultAuthority, tenant, fuzzNow)
		if err != nil {
			if c != nil {
				t.Fatalf("claims %+v with error %v", c, err)
			}
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		checkAcceptedClaims(t, c, tenant)

		// What was accepted is accepted again once re-encoded.
		m := map[string]any{}
		b, _ := json.Marshal(c)
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		m["aud"] = c.Audience
		b, _ = json.Marshal(m)
		c2, err := ParseIDToken(fuzzJWT(b), fuzzClientID, DefaultAuthority, tenant, fuzzNow)
		if err != nil {
			t.Fatalf("re-encoded claims refused: %v\n%s", err, b)
		}
		if *c2 != *c {
			t.Fatalf("re-encoded claims differ:\n%+v\n%+v", c, c2)
		}
	})
}

func checkAcceptedClaims(t *testing.T, c *Claims, tenant string) {
	t.Helper()
	if c.Audience != fuzzClientID {
		t.Fatalf("accepted aud %q", c.Audience)
	}
	if !guidRE.MatchString(c.TenantID) {
		t.Fatalf("accepted tid %q", c.TenantID)
	}
	u, err := url.Parse(c.Issuer)
	if err != nil || u.Scheme != "https" || !strings.EqualFold(u.Host, "login.microsoftonline.com") ||
		!strings.EqualFold(u.Path, "/"+c.TenantID+"/v2.0") || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		t.Fatalf("accepted iss %q for tid %q", c.Issuer, c.TenantID)
	}
	switch t0 := strings.ToLower(tenant); {
	case guidRE.MatchString(t0) && !strings.EqualFold(t0, c.TenantID):
		t.Fatalf("policy tenant %q, accepted tid %q", tenant, c.TenantID)
	case t0 == "consumers" && !c.Personal(), t0 == "organizations" && c.Personal():
		t.Fatalf("policy tenant %q, accepted tid %q", tenant, c.TenantID)
	}
	// Plain integer arithmetic: no time.Time overflow can hide a bad value.
	if c.Expires == 0 || c.Expires < fuzzNow.Add(-clockSkew).Unix() {
		t.Fatalf("accepted exp %d at %d", c.Expires, fuzzNow.Unix())
	}
	if c.NotBefore != 0 && c.NotBefore > fuzzNow.Add(clockSkew).Unix() {
		t.Fatalf("accepted nbf %d at %d", c.NotBefore, fuzzNow.Unix())
	}
}

type fuzzTransport func(*http.Request) (*http.Response, error)

func (f fuzzTransport) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// FuzzTokenResponse feeds the refresh-token grant any answer of the token
// endpoint (status, Content-Type, body). It must never panic; an error is an
// *Error with a message in both languages that never holds the refresh
// token sent (unless the server echoed it back); a success has an access
// token, a Bearer type and an expiry that is not in the past.
func FuzzTokenResponse(f *testing.F) {
	const rt = "M.C507_BAY.0.U.-Cv9h3N1HkgM1CtH9qZ8VvJb4sQ7c3Lw"
	ok := `{"token_type":"Bearer","scope":"https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0eXAiOiJKV1QiLCJub25jZSI6IkFRQUJB","refresh_token":"0.AXoAv4j5cvGGr0GRqy180BHbR8"}`
	aad := `{"error":"invalid_grant","error_description":"AADSTS70008: The provided authorization code or refresh token has expired due to inactivity. Trace ID: 0000aaaa-11bb-cccc-dd22-eeeeee333333 Correlation ID: aaaa0000-bb11-2222-33cc-444444dddddd Timestamp: 2026-03-01 12:00:00Z","error_codes":[70008],"timestamp":"2026-03-01 12:00:00Z","trace_id":"0000aaaa-11bb-cccc-dd22-eeeeee333333","correlation_id":"aaaa0000-bb11-2222-33cc-444444dddddd","error_uri":"https://login.microsoftonline.com/error?code=70008"}`
	for _, c := range []struct {
		status int
		ct     string
		body   string
	}{
		{200, "application/json; charset=utf-8", ok},
		{200, "application/json", strings.Replace(ok, "3599", `"3599"`, 1)},
		{200, "application/json", strings.Replace(ok, "3599", "9223372037", 1)},
		{200, "application/json", strings.Replace(ok, "3599", "-1", 1)},
		{200, "application/json", strings.Replace(ok, "Bearer", "pop", 1)},
		{200, "application/json", `{"access_token":""}`},
		{400, "application/json; charset=utf-8", aad},
		{400, "application/json", strings.Replace(aad, "70008", "65001", -1)},
		{401, "application/json", `{"error":"invalid_client","error_description":"AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.","error_codes":[7000218]}`},
		{400, "application/json", `{"error":"invalid_grant","error_description":"AADSTS9002331 AADSTS50020 AADSTS123456789012","error_codes":[]}`},
		{200, "application/json", `{"error":"interaction_required","error_codes":[50076]}`},
		{503, "text/html", "<html><body>Service Unavailable</body></html>"},
		{502, "", ""},
		{400, "application/json", `{"error":"invalid_grant","error_description":"refresh_token ` + rt + ` is bad"}`},
	} {
		f.Add(c.status, c.ct, []byte(c.body), rt)
	}
	f.Fuzz(func(t *testing.T, status int, ct string, body []byte, refresh string) {
		if status < 100 || status > 999 {
			status = 100 + (status%900+900)%900
		}
		hc := &http.Client{Transport: fuzzTransport(func(r *http.Request) (*http.Response, error) {
			h := http.Header{}
			h.Set("Content-Type", ct)
			return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
		})}
		cfg := Config{HTTPClient: hc, Now: func() time.Time { return fuzzNow }}
		cfg.Policy.ClientID = fuzzClientID
		oc, err := cfg.OAuth2Config()
		if err != nil {
			t.Fatal(err)
		}
		tk := NewTokens(cfg, "jan@kancelaria.pl")
		tk.refresh = refresh
		r, err := tk.redeem(context.Background(), oc)
		if err != nil {
			if r != nil {
				t.Fatal("response with an error")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			if e.Message.PL == "" || e.Message.EN == "" || e.Code == "" {
				t.Fatalf("error without a message or code: %+v", e)
			}
			if _, known := kinds[e.Code]; !known {
				t.Fatalf("unknown code %q", e.Code)
			}
			if len(refresh) >= 8 && !bytes.Contains(body, []byte(refresh)) {
				for _, s := range []string{e.Error(), e.Detail(), e.Text().EN, e.Text().PL, fmt.Sprint(e.Err), e.Failure().Detail} {
					if strings.Contains(s, refresh) {
						t.Fatalf("the refresh token is in the error: %q", s)
					}
				}
			}
			return
		}
		if status != http.StatusOK || r.Error != "" || r.AccessToken == "" ||
			(r.TokenType != "" && !strings.EqualFold(r.TokenType, "Bearer")) {
			t.Fatalf("accepted HTTP %d %+v", status, r)
		}
		exp := r.expiry(fuzzNow)
		if exp.Before(fuzzNow) {
			t.Fatalf("expires_in %s gives an expiry in the past: %v", r.ExpiresIn, exp)
		}
		// A token fresh from the endpoint is valid at once.
		tok := &oauth2.Token{AccessToken: r.AccessToken, Expiry: exp}
		if m := marginFor(fuzzNow, tok.Expiry); m < 0 || !fuzzNow.Add(m).Before(tok.Expiry) {
			t.Fatalf("expires_in %s: margin %v, expiry %v", r.ExpiresIn, m, exp)
		}
	})
}
