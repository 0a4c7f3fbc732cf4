package fakemail

import (
	"strings"
	"testing"
)

func TestParseXOAUTH2(t *testing.T) {
	good := "user=anna@kancelaria.example\x01auth=Bearer at-AbC_d-1.2~3+4/5==\x01\x01"
	u, tok, err := ParseXOAUTH2([]byte(good))
	if err != nil || u != "anna@kancelaria.example" || tok != "at-AbC_d-1.2~3+4/5==" {
		t.Fatalf("ParseXOAUTH2(good) = %q, %q, %v", u, tok, err)
	}
	for _, bad := range []string{
		"",
		"user=a@b\x01auth=Bearer tok\x01",               // one trailing ^A
		"user=a@b\x01auth=Bearer tok",                   // none
		"user=a@b\x01auth=bearer tok\x01\x01",           // lower-case scheme
		"user=a@b\x01auth=Bearer  tok\x01\x01",          // two spaces
		"auth=Bearer tok\x01user=a@b\x01\x01",           // wrong order
		"user=\x01auth=Bearer tok\x01\x01",              // no user
		"user=a@b\x01auth=Bearer \x01\x01",              // no token
		"user=a@b\x01auth=Bearer tok\x01x=y\x01\x01",    // an extra pair
		"user=a@b\x01auth=Bearer to ken\x01\x01",        // not a b64token
		"user=a@b\x01auth=Bearer ==\x01\x01",            // only padding
		"user=a@b\x01auth=Bearer tok=x\x01\x01",         // padding inside
		"user=a@b\x01host=x\x01auth=Bearer tok\x01\x01", // an extra pair first
		"user=a\r\nb\x01auth=Bearer tok\x01\x01",        // a line break in the user
		"user=a@b\x01auth=Bearer tok\x01\x01\x01",       // three trailing ^A
	} {
		if u, tok, err := ParseXOAUTH2([]byte(bad)); err == nil {
			t.Errorf("ParseXOAUTH2(%q) = %q, %q, accepted", bad, u, tok)
		}
	}
}

func FuzzParseXOAUTH2(f *testing.F) {
	f.Add([]byte("user=anna@kancelaria.example\x01auth=Bearer at-AbC\x01\x01"))
	f.Add([]byte("user=a@b\x01auth=bearer tok\x01"))
	f.Add([]byte("\x01\x01"))
	f.Fuzz(func(t *testing.T, resp []byte) {
		u, tok, err := ParseXOAUTH2(resp)
		if err != nil {
			if u != "" || tok != "" {
				t.Fatalf("values with an error: %q %q", u, tok)
			}
			return
		}
		// Whatever is accepted is exactly what a client would have sent.
		if again := "user=" + u + "\x01auth=Bearer " + tok + "\x01\x01"; again != string(resp) {
			t.Fatalf("accepted %q but it re-encodes as %q", resp, again)
		}
		if strings.ContainsAny(u, "\x01\r\n") || strings.ContainsAny(tok, "\x01 ") {
			t.Fatalf("separator inside a value: %q %q", u, tok)
		}
	})
}
