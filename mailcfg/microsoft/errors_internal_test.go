package microsoft

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"infino.legal/mailbox/mailcfg"
)

func TestNotConfiguredNamesTheManagedPolicyOfEachOS(t *testing.T) {
	for goos, want := range map[string]string{
		"windows": `HKLM\SOFTWARE\Policies\Infino\Mailbox`,
		"darwin":  "legal.infino.mailbox",
		"linux":   "/etc/infino-mailbox/policy.json",
	} {
		e := notConfigured("/etc/infino-mailbox/policy.json", goos)
		for _, lang := range []string{"pl", "en"} {
			if h := e.Hint.In(lang); !strings.Contains(h, want) || !strings.Contains(h, "microsoft.clientId") {
				t.Errorf("%s/%s hint lacks %q: %s", goos, lang, want, h)
			}
		}
	}
}

func TestClassifyOAuth(t *testing.T) {
	for _, c := range []struct {
		err, desc string
		codes     []int
		want      Code
		n         int
	}{
		{"invalid_grant", "AADSTS70008: expired", nil, CodeSignInAgain, 70008},
		{"invalid_grant", "", []int{700082}, CodeSignInAgain, 700082},
		{"invalid_grant", "", []int{65001}, CodeAdminConsent, 65001},
		{"access_denied", "AADSTS90094: admin", nil, CodeAdminConsent, 90094},
		{"access_denied", "AADSTS90095: admin workflow", nil, CodeAdminConsent, 90095},
		{"invalid_request", "AADSTS700016: not found", nil, CodeAppNotFound, 700016},
		{"access_denied", "AADSTS50020: other idp", nil, CodePersonalNotAllowed, 50020},
		{"invalid_request", "AADSTS9002331: MSA only", nil, CodeMisconfigured, 9002331},
		{"invalid_request", "AADSTS9002332: AAD only", nil, CodePersonalNotAllowed, 9002332},
		{"access_denied", "", nil, CodeCancelled, 0},
		{"interaction_required", "AADSTS50076: MFA", nil, CodeSignInAgain, 50076},
		{"server_error", "AADSTS90033", nil, CodeServer, 90033},
		{"weird", "", nil, CodeServer, 0},
		// error_codes win over numbers quoted in the description.
		{"invalid_grant", "AADSTS65001: x", []int{70008}, CodeSignInAgain, 70008},
	} {
		code, n := classifyOAuth(c.err, c.desc, c.codes)
		if code != c.want || n != c.n {
			t.Errorf("%s %q %v: got %s %d, want %s %d", c.err, c.desc, c.codes, code, n, c.want, c.n)
		}
		if e := oauthFailure(c.err, c.desc, c.codes, "", "", nil); e.Message.PL == "" || e.Message.EN == "" || e.Hint.PL == "" || e.Hint.EN == "" {
			t.Errorf("%s: untranslated %+v", code, e)
		}
	}
}

func TestErrorIsAFailure(t *testing.T) {
	for code := range texts {
		e := newError(code, nil)
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

func TestSMTPAuthDisabledText(t *testing.T) {
	m := SMTPAuthDisabled
	for _, s := range []string{m.Hint.PL, m.Hint.EN} {
		if !strings.Contains(s, "Set-CASMailbox") || !strings.Contains(s, "aka.ms/smtp_auth_disabled") {
			t.Errorf("hint %q", s)
		}
	}
	if m.Message.PL == "" || m.Message.EN == "" {
		t.Error("empty message")
	}
}

// Scopes are the data's IMAP sign-in scopes, in the order Entra is asked.
func TestScopesFromData(t *testing.T) {
	if got := strings.Join(Scopes, " "); got != strings.Join(mailcfg.BundledOAuth().ByID("microsoft").ScopesFor(mailcfg.IMAP), " ") {
		t.Fatalf("scopes %q", got)
	}
}
