package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"infino.legal/mailbox/mailcfg"
)

func TestCredentialsRedact(t *testing.T) {
	const pw, tok = "pa55-SECRET", "tok-SECRET"
	creds := []any{Password(pw), OAuth2Token{Username: "jan@example.com", AccessToken: tok},
		&struct{ P Password }{Password(pw)}, []Credential{Password(pw), OAuth2Token{AccessToken: tok}}}
	for _, c := range creds {
		var outs []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%T", "%10s", "%d"} {
			outs = append(outs, fmt.Sprintf(verb, c))
		}
		outs = append(outs, fmt.Sprint(c), fmt.Sprintln(c))
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, string(b))
		for _, o := range outs {
			if strings.Contains(o, "SECRET") || strings.Contains(strings.ToUpper(o), strings.ToUpper(fmt.Sprintf("%x", "SECRET"))) {
				t.Fatalf("%T leaks: %s", c, o)
			}
		}
	}
	if s := fmt.Sprint(OAuth2Token{Username: "jan@example.com"}); !strings.Contains(s, "jan@example.com") {
		t.Errorf("the user name may show: %s", s)
	}
	var p Password
	if err := json.Unmarshal([]byte(`"x"`), &p); err == nil {
		t.Error("a password was read from JSON")
	}
}

func TestTokenFuncOnce(t *testing.T) {
	var calls atomic.Int32
	fn := onceToken(t.Context(), func(ctx context.Context) (string, error) {
		calls.Add(1)
		time.Sleep(10 * time.Millisecond)
		return "tok", nil
	})
	done := make(chan string, 2)
	for range 2 {
		go func() {
			tok, _ := fn(t.Context())
			done <- tok
		}()
	}
	if a, b := <-done, <-done; a != "tok" || b != "tok" || calls.Load() != 1 {
		t.Fatalf("%q %q calls=%d", a, b, calls.Load())
	}
}

// A failing TokenFunc fails both sides without a connection attempt
// carrying a credential; a *mailcfg.Failure it returns passes through.
func TestTokenFuncError(t *testing.T) {
	in := startFake(t, imapFake(fakeOpts{implicit: true, okLogin: true, caps: "IMAP4rev1 AUTH=XOAUTH2 SASL-IR"}))
	out := startFake(t, smtpFake(fakeOpts{implicit: true, okLogin: true}))
	s := mailcfg.Settings{
		Email: fakeUser, Auth: mailcfg.AuthOAuth2,
		Incoming: fakeServerSetting("imap", in.port(), mailcfg.SecurityTLS),
		Outgoing: fakeServerSetting("smtp", out.port(), mailcfg.SecurityTLS),
	}
	opt := Options{RootCAs: pkiOnce().pool}
	r := Verify(t.Context(), s, TokenFunc(func(context.Context) (string, error) { return "", errors.New("refresh failed") }), opt)
	for _, side := range []SideResult{r.Incoming, r.Outgoing} {
		if side.Failure == nil || side.Failure.Kind != mailcfg.KindAuthFailed || side.Failure.Field != "auth" {
			t.Fatalf("token error: %s", describe(r))
		}
	}
	custom := mailcfg.NewFailure(mailcfg.KindAuthDisabled, "", nil)
	r = Verify(t.Context(), s, TokenFunc(func(context.Context) (string, error) { return "", custom }), opt)
	if r.Incoming.Failure != custom || r.Outgoing.Failure != custom {
		t.Fatalf("custom failure: %s", describe(r))
	}
	r = Verify(t.Context(), s, TokenFunc(func(context.Context) (string, error) { return "tok-OK", nil }), opt)
	if !r.OK {
		t.Fatalf("good token: %s", describe(r))
	}
}
