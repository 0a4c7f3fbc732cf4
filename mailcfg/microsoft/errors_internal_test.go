package microsoft

import (
	"strings"
	"testing"

	"infino.legal/mailbox/mailcfg"
)

func TestSetupHintNamesTheManagedPolicyOfEachOS(t *testing.T) {
	for goos, want := range map[string]string{
		"windows": `HKLM\SOFTWARE\Policies\Infino\Mailbox`,
		"darwin":  "legal.infino.mailbox",
		"linux":   "/etc/infino-mailbox/policy.json",
	} {
		hint := setupHint("/etc/infino-mailbox/policy.json", goos)
		for _, lang := range []string{"pl", "en"} {
			if h := hint.In(lang); !strings.Contains(h, want) || !strings.Contains(h, "microsoft.clientId") {
				t.Errorf("%s/%s hint lacks %q: %s", goos, lang, want, h)
			}
		}
	}
}

// Read: error_codes, else AADSTS numbers in the description, decide the
// code; without a listed number the OAuth error value decides (Code "").
func TestRead(t *testing.T) {
	for _, c := range []struct {
		desc  string
		codes []int
		want  string
		n     int
	}{
		{"AADSTS70008: expired", nil, "signin_again", 70008},
		{"", []int{700082}, "signin_again", 700082},
		{"", []int{65001}, "admin_consent", 65001},
		{"AADSTS90094: admin", nil, "admin_consent", 90094},
		{"AADSTS90095: admin workflow", nil, "admin_consent", 90095},
		{"AADSTS700016: not found", nil, "app_not_found", 700016},
		{"AADSTS50020: other idp", nil, "personal_not_allowed", 50020},
		{"AADSTS9002331: MSA only", nil, "app_misconfigured", 9002331},
		{"AADSTS9002332: AAD only", nil, "personal_not_allowed", 9002332},
		{"AADSTS65004: declined", nil, "cancelled", 65004},
		{"", nil, "", 0},
		{"AADSTS50076: MFA", nil, "signin_again", 50076},
		{"AADSTS90033", nil, "", 90033},
		// error_codes win over numbers quoted in the description.
		{"AADSTS65001: x", []int{70008}, "signin_again", 70008},
	} {
		r := Read(c.desc, c.codes)
		if r.Code != c.want || r.AADSTS != c.n {
			t.Errorf("%q %v: got %q %d, want %q %d", c.desc, c.codes, r.Code, r.AADSTS, c.want, c.n)
		}
		if msg, hint := Words(r.Code); r.Message != msg && r.AADSTS != 9002331 || r.Hint != hint {
			t.Errorf("%q: words %+v", c.desc, r)
		}
	}
	if r := Read("AADSTS9002331", nil); !strings.Contains(r.Message.EN, "only personal Microsoft accounts") || r.Hint.EN == "" {
		t.Errorf("9002331: %+v", r)
	}
}

// Microsoft's words are in both languages.
func TestWordsTranslated(t *testing.T) {
	for code := range words {
		msg, hint := Words(code)
		if msg.PL == "" || msg.EN == "" || hint.PL == "" || hint.EN == "" {
			t.Errorf("%s: untranslated", code)
		}
	}
}

// Scopes are the data's IMAP sign-in scopes, in the order Entra is asked.
func TestScopesFromData(t *testing.T) {
	if got := strings.Join(Scopes, " "); got != strings.Join(mailcfg.BundledOAuth().ByID("microsoft").ScopesFor(mailcfg.IMAP), " ") {
		t.Fatalf("scopes %q", got)
	}
}
