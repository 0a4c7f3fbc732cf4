package microsoft

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
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

// FuzzRead feeds Read error descriptions (outside input: the provider's
// error_description). A number it reports is one the description quotes,
// a code it reports is one of the listed groups' and has words unless
// signin's generic texts serve it, and the wording never quotes the input.
func FuzzRead(f *testing.F) {
	for _, s := range []string{
		"AADSTS70008: The provided authorization code or refresh token has expired.",
		"AADSTS65001: The user or administrator has not consented.",
		"AADSTS9002331: Application is configured for use by Microsoft Account users only.",
		"AADSTS90033 AADSTS65001 AADSTS50020",
		"AADSTS1234567890", "AADSTS", "", "AADSTS0065001",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, desc string) {
		r := Read(desc, nil)
		if r.AADSTS != 0 && !strings.Contains(desc, fmt.Sprint(r.AADSTS)) {
			t.Fatalf("AADSTS %d not in %q", r.AADSTS, desc)
		}
		if r.Code != "" {
			if _, listed := aadsts[r.Code]; !listed {
				t.Fatalf("code %q", r.Code)
			}
			if _, ok := words[r.Code]; ok && (r.Message.EN == "" || r.Hint.PL == "") {
				t.Fatalf("no words for %q", r.Code)
			}
		}
		if len(desc) > 8 && (strings.Contains(r.Message.EN, desc) || strings.Contains(r.Hint.EN, desc)) {
			t.Fatalf("the description is quoted: %+v", r)
		}
	})
}
