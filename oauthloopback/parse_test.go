package oauthloopback

import (
	"net/url"
	"strings"
	"testing"
)

func TestParseRedirect(t *testing.T) {
	for _, tc := range []struct {
		q    string
		ok   bool
		want redirectParams
	}{
		{"code=abc&state=s1", true, redirectParams{State: "s1", Code: "abc"}},
		{"state=s1&code=M.C5_BAY.2.U.x-y~z", true, redirectParams{State: "s1", Code: "M.C5_BAY.2.U.x-y~z"}},
		{"error=access_denied&error_description=AADSTS65004%3A+declined%0D%0ATrace&state=s", true,
			redirectParams{State: "s", Error: "access_denied", ErrorDescription: "AADSTS65004: declined\r\nTrace"}},
		{"code=abc&state=s&session_state=x&iss=https%3A%2F%2Fas", true, redirectParams{State: "s", Code: "abc", Iss: "https://as"}},
		{"code=abc&state=s&iss=a&iss=b", false, redirectParams{}},
		{"code=abc&state=s&iss=a%0Ab", false, redirectParams{}},
		{"", false, redirectParams{}},
		{"code=abc", false, redirectParams{}},
		{"code=abc&state=", false, redirectParams{}},
		{"code=&state=s", false, redirectParams{}},
		{"code=a&code=b&state=s", false, redirectParams{}},
		{"code=a&state=s&state=s", false, redirectParams{}},
		{"code=a&error=x&state=s", false, redirectParams{}},
		{"code=a%0Ab&state=s", false, redirectParams{}},
		{"error=a%22b&state=s", false, redirectParams{}},
		{"error=x&error_description=%ff&state=s", false, redirectParams{}},
		{"code=a;state=s", false, redirectParams{}},
		{"code=%zz&state=s", false, redirectParams{}},
		{"state=s&code=" + strings.Repeat("a", maxQueryLen), false, redirectParams{}},
	} {
		got, err := parseRedirect(tc.q)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseRedirect(%q) = %+v, %v", tc.q, got, err)
		}
	}
}

func FuzzParseRedirect(f *testing.F) {
	for _, s := range []string{
		"code=abc&state=s1",
		"error=access_denied&error_description=%3Cscript%3E&state=s",
		"error=x&error_uri=https%3A%2F%2Fas%2Fe&state=s",
		"code=a&code=b&state=s",
		"code=a;state=s",
		"code=%zz&state=s",
		"state=%E2%82%AC&code=%00",
		"&&==&state&code",
		"error_description=%ff&error=e&state=s",
		"code=a&state=s&iss=https%3A%2F%2Flogin.example.test",
		"code=a&state=s&iss=x&iss=y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		p, err := parseRedirect(q)
		if err != nil {
			if p != (redirectParams{}) {
				t.Fatalf("error with non-zero result %+v", p)
			}
			if len(q) >= 8 && strings.Contains(err.Error(), q) {
				t.Fatalf("error quotes the input")
			}
			return
		}
		if p.State == "" || (p.Code == "") == (p.Error == "") {
			t.Fatalf("invalid result %+v", p)
		}
		if !isVSChars(p.State) || !isVSChars(p.Code) || !isNQSChars(p.Error) || !isNQSChars(p.ErrorURI) || !isVSChars(p.Iss) {
			t.Fatalf("bad characters in %+v", p)
		}
		// Round trip: re-encoding the parsed parameters parses to the same.
		v := url.Values{"state": {p.State}}
		for k, x := range map[string]string{"code": p.Code, "error": p.Error, "error_description": p.ErrorDescription, "error_uri": p.ErrorURI, "iss": p.Iss} {
			if x != "" {
				v.Set(k, x)
			}
		}
		p2, err := parseRedirect(v.Encode())
		if err != nil || p2 != p {
			t.Fatalf("round trip %+v -> %+v, %v", p, p2, err)
		}
	})
}
