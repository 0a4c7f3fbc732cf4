package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"

	"infino.legal/mailbox/mailcfg/policy"
)

// BenchmarkStartKeystroke is what one keystroke in Start's address costs
// the UI goroutine now that it looks up the address's sign-in: the
// provider table and the policy (no DNS: that runs off the UI goroutine),
// and the sign-in column redrawn.
func BenchmarkStartKeystroke(b *testing.B) {
	test.NewTempApp(b)
	pol := policy.Default()
	pol.Microsoft.ClientID = "x"
	pol.OAuth = map[string]policy.OAuthClient{"google": {ClientID: "y"}}
	wz := newTestWizard(Deps{Lang: "pl", Policy: pol, Do: func(f func()) { f() }}, test.NewTempWindow(b, nil))
	// Typing two addresses letter by letter: most keystrokes keep the
	// offer, a few change it (gmail.com, outlook.com found by the table).
	var steps []string
	for _, a := range []string{"jan.kowalski@gmail.com", "anna.nowak@outlook.com"} {
		for i := 1; i <= len(a); i++ {
			steps = append(steps, a[:i])
		}
	}
	i := 0
	for b.Loop() {
		wz.start.email.SetText(steps[i%len(steps)])
		i++
	}
}

// BenchmarkBuildWizard is the wizard's part of start-up that runs after the
// faces are loaded and before the window can be shown (see Run): building
// the Start screen and laying it out at the window's size. (The test
// driver measures text with the bundled faces only.)
func BenchmarkBuildWizard(b *testing.B) {
	a := test.NewTempApp(b)
	deps := Deps{Lang: "pl", Policy: policy.Default(), Do: func(f func()) { f() }}
	buildWizard(deps, a, contentSize(WindowSize)) // the faces, parsed once
	b.ReportAllocs()
	for b.Loop() {
		buildWizard(deps, a, contentSize(WindowSize))
	}
}
