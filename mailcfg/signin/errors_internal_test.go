package signin

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/microsoft"
)

// Every code reads as a *mailcfg.Failure (field auth, a shared kind, the
// provider, code, AADSTS number and OAuth error in Detail).
func TestErrorIsAFailure(t *testing.T) {
	ms := mailcfg.BundledOAuth().ByID("microsoft")
	for code := range texts {
		e := newError(ms, code, nil)
		e.AADSTS, e.OAuthError = 65001, "invalid_grant"
		var f *mailcfg.Failure
		if !errors.As(fmt.Errorf("wrapped: %w", e), &f) {
			t.Fatalf("%s: no Failure", code)
		}
		if f.Kind == "" || f.Message != e.Message || f.Hint != e.Hint || f.Field != "auth" ||
			f.Detail != "microsoft "+string(code)+" AADSTS65001 invalid_grant" {
			t.Errorf("%s: %+v", code, f)
		}
		if !slices.Contains(mailcfg.Kinds, f.Kind) {
			t.Errorf("%s: kind %q is not a mailcfg kind", code, f.Kind)
		}
	}
	if _, ok := kinds[CodeNotConfigured]; !ok {
		t.Fatal("not_configured has no kind")
	}
}

// Microsoft's error numbers lead to codes of this package's vocabulary,
// each with a text (Microsoft's words or the generic ones), whatever the
// OAuth error value; without a listed number the standard mapping decides.
func TestMicrosoftNumbersSpeakSigninCodes(t *testing.T) {
	ms := mailcfg.BundledOAuth().ByID("microsoft")
	known := []Code{CodeAdminConsent, CodeAppNotFound, CodePersonalNotAllowed, CodeMisconfigured, CodeCancelled, CodeSignInAgain, CodeServer}
	for _, c := range []struct {
		oauthErr string
		n        int
		want     Code
	}{
		{"invalid_grant", 65001, CodeAdminConsent},
		{"invalid_request", 700016, CodeAppNotFound},
		{"access_denied", 50020, CodePersonalNotAllowed},
		{"invalid_request", 50194, CodeMisconfigured},
		{"access_denied", 65004, CodeCancelled},
		{"invalid_grant", 70008, CodeSignInAgain},
		{"server_error", 90033, CodeServer},
		{"access_denied", 0, CodeCancelled},
		{"weird", 0, CodeServer},
	} {
		var codes []int
		if c.n != 0 {
			codes = []int{c.n}
		}
		e := oauthError(ms, oauthAnswer{Error: c.oauthErr, ErrorCodes: codes, TraceID: "tr", CorrelationID: "co"}, nil)
		if e.Code != c.want || e.AADSTS != c.n || e.OAuthError != c.oauthErr || e.TraceID != "tr" || e.CorrelationID != "co" {
			t.Errorf("%s %d: %+v", c.oauthErr, c.n, e)
		}
		if !slices.Contains(known, e.Code) {
			t.Errorf("%s %d: code %q outside the vocabulary", c.oauthErr, c.n, e.Code)
		}
		if e.Message.PL == "" || e.Message.EN == "" || e.Hint.PL == "" || e.Hint.EN == "" {
			t.Errorf("%s %d: untranslated %+v", c.oauthErr, c.n, e)
		}
		if r := microsoft.Read("", codes); r.Code != "" && Code(r.Code) != e.Code {
			t.Errorf("%d: microsoft says %q, signin %q", c.n, r.Code, e.Code)
		}
	}
	// Another provider's error_codes mean nothing.
	g := mailcfg.BundledOAuth().ByID("google")
	if e := oauthError(g, oauthAnswer{Error: "invalid_grant", ErrorCodes: []int{65001}}, nil); e.Code != CodeSignInAgain || e.AADSTS != 0 {
		t.Errorf("google: %+v", e)
	}
}
