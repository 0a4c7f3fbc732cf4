package signin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/mailcfg/policy"
)

// fuzzNow is the clock of the fuzzers: fixed, so that a found input
// reproduces.
var fuzzNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type fuzzTransport func(*http.Request) (*http.Response, error)

func (f fuzzTransport) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// FuzzTokenResponse feeds the refresh-token grant any answer of the token
// endpoint (status, Content-Type, body), for Microsoft (AADSTS numbers) and
// Google (plain OAuth errors). It must never panic; an error is an *Error
// with a message in both languages that never holds the refresh token sent
// (unless the server echoed it back); a success has an access token, a
// Bearer type and an expiry that is not in the past.
func FuzzTokenResponse(f *testing.F) {
	const rt = "M.C507_BAY.0.U.-Cv9h3N1HkgM1CtH9qZ8VvJb4sQ7c3Lw"
	ok := `{"token_type":"Bearer","scope":"https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0eXAiOiJKV1QiLCJub25jZSI6IkFRQUJB","refresh_token":"0.AXoAv4j5cvGGr0GRqy180BHbR8"}`
	aad := `{"error":"invalid_grant","error_description":"AADSTS70008: The provided authorization code or refresh token has expired due to inactivity. Trace ID: 0000aaaa-11bb-cccc-dd22-eeeeee333333 Correlation ID: aaaa0000-bb11-2222-33cc-444444dddddd Timestamp: 2026-03-01 12:00:00Z","error_codes":[70008],"timestamp":"2026-03-01 12:00:00Z","trace_id":"0000aaaa-11bb-cccc-dd22-eeeeee333333","correlation_id":"aaaa0000-bb11-2222-33cc-444444dddddd","error_uri":"https://login.microsoftonline.com/error?code=70008"}`
	for _, google := range []bool{false, true} {
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
			{400, "application/json", `{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`},
			{200, "application/json", `{"error":"interaction_required","error_codes":[50076]}`},
			{503, "text/html", "<html><body>Service Unavailable</body></html>"},
			{502, "", ""},
			{400, "application/json", `{"error":"invalid_grant","error_description":"refresh_token ` + rt + ` is bad"}`},
		} {
			f.Add(google, c.status, c.ct, []byte(c.body), rt)
		}
	}
	f.Fuzz(func(t *testing.T, google bool, status int, ct string, body []byte, refresh string) {
		if status < 100 || status > 999 {
			status = 100 + (status%900+900)%900
		}
		hc := &http.Client{Transport: fuzzTransport(func(r *http.Request) (*http.Response, error) {
			h := http.Header{}
			h.Set("Content-Type", ct)
			return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
		})}
		pol := policy.Default()
		pol.Microsoft.ClientID = "11111111-2222-3333-4444-555555555555"
		pol.OAuth = map[string]policy.OAuthClient{"google": {ClientID: "1-x.apps.googleusercontent.com", ClientSecret: "GOCSPX-x"}}
		id := "microsoft"
		if google {
			id = "google"
		}
		svc := New(Config{Policy: pol, HTTPClient: hc, Now: func() time.Time { return fuzzNow }})
		e, err := svc.resolve(context.Background(), id, "")
		if err != nil {
			t.Fatal(err)
		}
		tk := svc.newTokens(e.p, "jan@kancelaria.pl", "")
		tk.refresh = refresh
		r, err := tk.redeem(context.Background(), e)
		if err != nil {
			if r != nil {
				t.Fatal("response with an error")
			}
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			if se.Message.PL == "" || se.Message.EN == "" || se.Code == "" || se.Provider != id {
				t.Fatalf("error without a message, code or provider: %+v", se)
			}
			if len(refresh) >= 8 && !bytes.Contains(body, []byte(refresh)) {
				for _, s := range []string{se.Error(), se.Detail(), se.Text().EN, se.Text().PL, fmt.Sprint(se.Err), se.Failure().Detail} {
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
		if m := marginFor(fuzzNow, exp); m < 0 || !fuzzNow.Add(m).Before(exp) {
			t.Fatalf("expires_in %s: margin %v, expiry %v", r.ExpiresIn, m, exp)
		}
	})
}

// FuzzConsentTenant: whatever tenant is typed or found, a consent link is
// either refused or one whose host is the authority's and whose path is
// /<tenant>/v2.0/adminconsent with the tenant as one path segment, so the
// administrator is never sent to another page.
func FuzzConsentTenant(f *testing.F) {
	for _, s := range []string{"72f988bf-86f1-41af-91ab-2d7cd011db47", "kancelaria.onmicrosoft.com", "organizations", "..", "a/../b",
		"kancelaria.pl?x=1", "kancelaria.pl#x", "%2e%2e", "xn--kancelaria-xyz.pl", "a..b", "-a.pl", "evil.example@login"} {
		f.Add(s)
	}
	p := policy.Default()
	if err := p.Set("fuzz", map[string]any{"microsoft.clientId": "11111111-2222-3333-4444-555555555555"}); err != nil {
		f.Fatal(err)
	}
	svc := New(Config{Policy: p})
	f.Fuzz(func(t *testing.T, tenant string) {
		c, err := svc.ConsentFor("microsoft", tenant, "")
		if err != nil {
			return
		}
		u, err := url.Parse(c.URL)
		if err != nil || u.Scheme != "https" || u.Host != "login.microsoftonline.com" || u.User != nil || u.Fragment != "" ||
			u.EscapedPath() != "/"+c.Tenant+"/v2.0/adminconsent" || c.Tenant == "." || c.Tenant == ".." ||
			strings.ContainsAny(c.Tenant, "/?#%@\\ ") {
			t.Fatalf("tenant %q gave %s", tenant, c.URL)
		}
	})
}
