package mailcfg

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const contractJSON = `{"email": "jan.kowalski@wp.pl", "auth": "password",
 "incoming": {"protocol": "imap", "host": "imap.wp.pl", "port": 993, "security": "tls", "username": "jan.kowalski"},
 "outgoing": {"protocol": "smtp", "host": "smtp.wp.pl", "port": 465, "security": "tls", "username": "jan.kowalski"},
 "provider": {"id": "wp.pl", "name": "Wirtualna Polska"}, "source": "bundled"}`

// The JSON keys are a contract with the Infino API and the CLI.
func TestSettingsContract(t *testing.T) {
	s, err := DecodeSettings(strings.NewReader(contractJSON))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(ValidateOptions{}); err != nil {
		t.Fatal(err)
	}
	want := Settings{
		Email: "jan.kowalski@wp.pl", Auth: AuthPassword,
		Incoming: Server{Protocol: IMAP, Host: "imap.wp.pl", Port: 993, Security: SecurityTLS, Username: "jan.kowalski"},
		Outgoing: Server{Protocol: SMTP, Host: "smtp.wp.pl", Port: 465, Security: SecurityTLS, Username: "jan.kowalski"},
		Provider: &ProviderRef{ID: "wp.pl", Name: "Wirtualna Polska"}, Source: SourceBundled,
	}
	if !equalSettings(s, want) {
		t.Fatalf("decoded %+v, want %+v", s, want)
	}
	out, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	_ = json.Unmarshal(out, &a)
	_ = json.Unmarshal([]byte(contractJSON), &b)
	if !jsonEqual(a, b) {
		t.Fatalf("re-encoded JSON differs:\n%s\nwant\n%s", out, contractJSON)
	}
}

func equalSettings(a, b Settings) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestDecodeSettingsStrict(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown key":   `{"email":"a@b.pl","passwrd":"x"}`,
		"trailing data": contractJSON + `{}`,
		"not an object": `[1,2]`,
		"wrong type":    `{"incoming":{"port":"993"}}`,
		"huge":          `{"email":"` + strings.Repeat("a", MaxSettingsJSON) + `"}`,
	} {
		if _, err := DecodeSettings(strings.NewReader(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	s := Settings{
		Email: "jan.kowalski", Auth: "magic",
		Incoming: Server{Protocol: "nntp", Host: "imap wp.pl", Port: 70000, Security: "maybe", Username: ""},
		Outgoing: Server{Protocol: IMAP, Host: "", Port: 0, Security: SecurityNone, Username: "x\x00", CertSHA256: "abc"},
	}
	err := s.Validate(ValidateOptions{})
	var v ValidationError
	if !errors.As(err, &v) {
		t.Fatalf("got %v", err)
	}
	want := map[string]string{
		"email": "email_no_at", "auth": "auth_invalid",
		"incoming.protocol": "protocol_invalid", "incoming.host": "host_invalid", "incoming.port": "port_range",
		"incoming.security": "security_invalid", "incoming.username": "username_empty",
		"outgoing.protocol": "protocol_smtp", "outgoing.host": "host_empty", "outgoing.port": "port_range",
		"outgoing.security": "security_none", "outgoing.username": "username_invalid", "outgoing.certSha256": "cert_pin_invalid",
	}
	got := map[string]string{}
	for _, e := range v {
		got[e.Field] = e.Code
		if e.Message.PL == "" || e.Message.EN == "" {
			t.Errorf("%s has no translated message", e.Field)
		}
	}
	for f, c := range want {
		if got[f] != c {
			t.Errorf("field %s: got %q, want %q", f, got[f], c)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d: %v", len(got), len(want), got)
	}
	if v[0].Field != "email" {
		t.Errorf("problems are not in form order: first is %s", v[0].Field)
	}
	if len(v.For("incoming")) != 5 {
		t.Errorf("For(incoming) = %d problems", len(v.For("incoming")))
	}
}

func TestSecurityNoneNeedsPolicyAndConsent(t *testing.T) {
	s, _ := Autofill("jan@wp.pl", IMAP)
	s.Incoming.Security = SecurityNone
	s.Incoming.Port = 143
	for _, c := range []struct {
		opt ValidateOptions
		ok  bool
	}{
		{ValidateOptions{}, false},
		{ValidateOptions{AllowInsecure: true}, false},
		{ValidateOptions{InsecureOverride: true}, false},
		{ValidateOptions{AllowInsecure: true, InsecureOverride: true}, true},
	} {
		if err := s.Validate(c.opt); (err == nil) != c.ok {
			t.Errorf("%+v: err=%v, want ok=%v", c.opt, err, c.ok)
		}
	}
}

func TestFingerprint(t *testing.T) {
	hexFP := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	b, err := ParseFingerprint(strings.ToUpper(hexFP))
	if err != nil {
		t.Fatal(err)
	}
	colon := FormatFingerprint(b)
	if len(colon) != 95 || !strings.HasPrefix(colon, "9f:86:d0") {
		t.Fatalf("FormatFingerprint = %q", colon)
	}
	if b2, err := ParseFingerprint(colon); err != nil || !bytes.Equal(b, b2) {
		t.Fatalf("colon form did not round-trip: %v", err)
	}
	s := Settings{Incoming: Server{CertSHA256: strings.ToUpper(colon), Host: " IMAP.WP.PL "}}
	n := s.Normalized()
	if n.Incoming.CertSHA256 != hexFP || n.Incoming.Host != "imap.wp.pl" {
		t.Fatalf("Normalized = %+v", n.Incoming)
	}
}

// FuzzDecodeSettings feeds arbitrary bytes to the settings decoder: it must
// never panic, and whatever it accepts must survive a JSON round trip and
// validate without panicking.
func FuzzDecodeSettings(f *testing.F) {
	f.Add([]byte(contractJSON))
	f.Add([]byte(`{"email":"biuro@kancelaria-żółć.pl","auth":"oauth2","incoming":{"protocol":"pop3","port":995}}`))
	f.Add([]byte(`{"incoming":{"certSha256":"zz"}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeSettings(bytes.NewReader(data))
		if err != nil {
			return
		}
		_ = s.Validate(ValidateOptions{})
		_ = s.Normalized()
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := DecodeSettings(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("re-decode of %s: %v", out, err)
		}
		if !equalSettings(s, s2) {
			t.Fatalf("round trip changed %+v to %+v", s, s2)
		}
	})
}

func TestDefaultPort(t *testing.T) {
	cases := []struct {
		p    Protocol
		s    Security
		want int
	}{
		{IMAP, SecurityTLS, 993}, {IMAP, SecurityStartTLS, 143}, {IMAP, SecurityNone, 143},
		{POP3, SecurityTLS, 995}, {POP3, SecurityStartTLS, 110}, {POP3, SecurityNone, 110},
		{SMTP, SecurityTLS, 465}, {SMTP, SecurityStartTLS, 587}, {SMTP, SecurityNone, 587},
		{"", SecurityTLS, 0}, {"jmap", SecurityStartTLS, 0},
	}
	for _, c := range cases {
		if got := DefaultPort(c.p, c.s); got != c.want {
			t.Errorf("DefaultPort(%q, %q) = %d, want %d", c.p, c.s, got, c.want)
		}
	}
}
