package ui

import (
	"testing"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"

	"infino.legal/mailbox/mailcfg/policy"
)

// itPolicy is a policy as firm IT would set it (origins included).
func itPolicy(t *testing.T, values map[string]any) policy.Policy {
	t.Helper()
	p := policy.Default()
	if err := p.Set(`C:\ProgramData\Infino\policy.json`, values); err != nil {
		t.Fatal(err)
	}
	return p
}

// The policy's language overrides the OS's, both ways, for the app's texts
// and Fyne's own; without it the OS's language is back.
func TestPolicyLanguageOverridesTheOS(t *testing.T) {
	test.NewTempApp(t)
	for _, tc := range []struct{ locale, policy, want, title, cancel string }{
		{"pl_PL.UTF-8", "en", "en", "Connect your mailbox to Infino Legal", "Cancel"},
		{"pl_PL.UTF-8", "", "pl", "Połącz skrzynkę pocztową z Infino Legal", "Anuluj"},
		{"en_GB.UTF-8", "pl", "pl", "Połącz skrzynkę pocztową z Infino Legal", "Anuluj"},
		{"en_GB.UTF-8", "", "en", "Connect your mailbox to Infino Legal", "Cancel"},
		{"de_DE.UTF-8", "pl", "pl", "Połącz skrzynkę pocztową z Infino Legal", "Anuluj"},
		{"C", "pl", "pl", "Połącz skrzynkę pocztową z Infino Legal", "Anuluj"},
		{"pl", "en", "en", "Connect your mailbox to Infino Legal", "Cancel"},
		{"pl", "", "pl", "Połącz skrzynkę pocztową z Infino Legal", "Anuluj"},
	} {
		var got string
		logged := captureLog(func() {
			setLang(t, tc.locale)
			got = LoadTranslationsFor(tc.policy)
		})
		if got != tc.want || tr("start.title") != tc.title || lang.L("Cancel") != tc.cancel {
			t.Errorf("LANG=%s policy %q: %q, title %q, Cancel %q", tc.locale, tc.policy, got, tr("start.title"), lang.L("Cancel"))
		}
		if logged != "" {
			t.Errorf("LANG=%s policy %q logged:\n%s", tc.locale, tc.policy, logged)
		}
	}
}

func TestPolicyWithoutMicrosoft(t *testing.T) {
	pol := itPolicy(t, map[string]any{"allowedMethods": []any{"manual"}, "microsoft.clientId": "11111111-2222-3333-4444-555555555555"})
	h := newHarness(t, "pl_PL.UTF-8", func(d *Deps) { d.Policy = pol })
	s := h.wz.start
	if s.signInCol.Visible() || !s.manual.Visible() {
		t.Fatal("Microsoft offered against the policy")
	}
	h.mustShow("tylko ręcznie")
	h.mustNotShow("Zaloguj przez Microsoft")
	// Enter takes the only way in, even for a Microsoft address.
	h.typeInto(s.email, "jan@outlook.com")
	s.submit()
	if h.wz.current != h.wz.manual {
		t.Fatalf("Enter went to %T", h.wz.current)
	}
}

// lockServerSettings: what IT preset is read-only. IT preset "no
// unencrypted servers": the TLS switch cannot be turned off and says why;
// the Infino address is shown, not asked for.
func TestPolicyLockedSettingsAreReadOnly(t *testing.T) {
	pol := itPolicy(t, map[string]any{"allowInsecure": false, "lockServerSettings": true, "infinoUrl": "https://kancelaria.infino.legal"})
	h := newHarness(t, "pl_PL.UTF-8", func(d *Deps) { d.Policy = pol })
	m := h.toManual("jan@wp.pl")
	if !m.tls.Disabled() || !m.tls.Checked {
		t.Error("TLS switch changeable against a locked policy")
	}
	h.mustShow("Dział IT kancelarii wymaga szyfrowania.")
	// Not locked: the switch works (and validation refuses no TLS).
	h2 := newHarness(t, "pl_PL.UTF-8", func(d *Deps) { d.Policy = itPolicy(t, map[string]any{"allowInsecure": false}) })
	if h2.toManual("jan@wp.pl").tls.Disabled() {
		t.Error("TLS switch locked without lockServerSettings")
	}
}
