package mailcfg

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseAddress(t *testing.T) {
	good := []struct{ in, ascii, display string }{
		{"jan.kowalski@wp.pl", "jan.kowalski@wp.pl", "jan.kowalski@wp.pl"},
		{"  Jan.Kowalski@WP.PL \n", "Jan.Kowalski@wp.pl", "Jan.Kowalski@wp.pl"},
		{"biuro@kancelaria-żółć.pl", "biuro@xn--kancelaria--0eb4xn3ak0a.pl", "biuro@kancelaria-żółć.pl"},
		{"biuro@KANCELARIA-ŻÓŁĆ.PL", "biuro@xn--kancelaria--0eb4xn3ak0a.pl", "biuro@kancelaria-żółć.pl"},
		{"biuro@xn--kancelaria--0eb4xn3ak0a.pl", "biuro@xn--kancelaria--0eb4xn3ak0a.pl", "biuro@kancelaria-żółć.pl"},
		{"a+tag@gmail.com", "a+tag@gmail.com", "a+tag@gmail.com"},
		{"o'brien@firm.co.uk", "o'brien@firm.co.uk", "o'brien@firm.co.uk"},
		{"żaneta@firma.pl", "żaneta@firma.pl", "żaneta@firma.pl"},
		{"jan@wp.pl.", "jan@wp.pl", "jan@wp.pl"},
	}
	for _, c := range good {
		a, err := ParseAddress(c.in)
		if err != nil {
			t.Errorf("ParseAddress(%q): %v", c.in, err)
			continue
		}
		if a.String() != c.ascii || a.Display() != c.display {
			t.Errorf("ParseAddress(%q) = %q / %q, want %q / %q", c.in, a.String(), a.Display(), c.ascii, c.display)
		}
	}
	bad := []struct{ in, code string }{
		{"", "email_empty"},
		{"   ", "email_empty"},
		{"jan.kowalski", "email_no_at"},
		{"jan kowalski@wp.pl", "email_space"},
		{"@wp.pl", "email_no_local"},
		{"jan@", "email_no_domain"},
		{"jan@@wp.pl", "email_two_at"},
		{"a@b@wp.pl", "email_two_at"},
		{".jan@wp.pl", "email_local_syntax"},
		{"jan..k@wp.pl", "email_local_syntax"},
		{"jan(x)@wp.pl", "email_local_syntax"},
		{"jan@localhost", "email_domain_no_dot"},
		{"jan@[127.0.0.1]", "email_domain_literal"},
		{"jan@wp..pl", "email_domain_syntax"},
		{"jan@-wp.pl", "email_domain_syntax"},
		{"jan@wp_x.pl", "email_domain_syntax"},
		{"jan@1.2.3.4", "email_domain_syntax"},
		{strings.Repeat("a", 65) + "@wp.pl", "email_too_long"},
		{"jan@" + strings.Repeat("a", 64) + ".pl", "email_domain_syntax"},
		{"jan@wp.pl\xff", "email_syntax"},
	}
	for _, c := range bad {
		_, err := ParseAddress(c.in)
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("ParseAddress(%q) = %v, want a FieldError %s", c.in, err, c.code)
			continue
		}
		if fe.Code != c.code || fe.Field != "email" {
			t.Errorf("ParseAddress(%q) code %s field %s, want %s email", c.in, fe.Code, fe.Field, c.code)
		}
		if fe.Message.PL == "" || fe.Message.EN == "" || fe.Message.PL == fe.Message.EN {
			t.Errorf("code %s lacks a Polish and an English message: %+v", c.code, fe.Message)
		}
	}
}

func TestEveryFieldMessageTranslated(t *testing.T) {
	for code, m := range fieldMessages {
		if m.PL == "" || m.EN == "" || m.PL == m.EN {
			t.Errorf("message %s: %+v", code, m)
		}
	}
}

func TestNormalizeHost(t *testing.T) {
	for in, want := range map[string]string{
		"IMAP.WP.PL":        "imap.wp.pl",
		" poczta.żółć.pl ":  "poczta.xn--kda4b0koi.pl",
		"127.0.0.1":         "127.0.0.1",
		"[::1]":             "::1",
		"localhost":         "localhost",
		"mail.example.com.": "mail.example.com",
	} {
		got, ok := NormalizeHost(in)
		if !ok || got != want {
			t.Errorf("NormalizeHost(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "imap wp.pl", "imap..wp.pl", "http://imap.wp.pl", "imap.wp.pl:993", "-x.pl"} {
		if got, ok := NormalizeHost(in); ok {
			t.Errorf("NormalizeHost(%q) = %q, want rejection", in, got)
		}
	}
}

func TestTextIn(t *testing.T) {
	x := Text{PL: "tak", EN: "yes"}
	for lang, want := range map[string]string{"pl": "tak", "pl_PL.UTF-8": "tak", "pl-PL": "tak", "en": "yes", "C": "yes", "": "yes", "de": "yes"} {
		if got := x.In(lang); got != want {
			t.Errorf("In(%q) = %q, want %q", lang, got, want)
		}
	}
}

// FuzzParseAddress checks that the parser never panics and that whatever it
// accepts is canonical: parsing its own output gives the same address.
func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"jan.kowalski@wp.pl", "biuro@kancelaria-żółć.pl", "a@b", "@", "x@[1.2.3.4]", "a..b@c.d", "\xff@x.pl", "A@XN--KANCELARIA--XWB0D6P.PL", "ż@ż.pl"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddress(s)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Message.EN == "" {
				t.Fatalf("error without a message: %v", err)
			}
			return
		}
		if !utf8.ValidString(a.String()) || a.Domain != strings.ToLower(a.Domain) {
			t.Fatalf("non-canonical %q", a.String())
		}
		b, err := ParseAddress(a.String())
		if err != nil || b != a {
			t.Fatalf("round trip of %q: %+v %v, want %+v", a.String(), b, err, a)
		}
		c, err := ParseAddress(a.Display())
		if err != nil || c.String() != a.String() {
			t.Fatalf("display round trip of %q: %+v %v", a.Display(), c, err)
		}
	})
}
