package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"infino.legal/mailbox/mailcfg/policy"
)

// TestWizardBuiltAtWindowSize is the wizard as Run builds it: at the
// window's content size, before any window, laid out once. The Start
// screen and the header's step are in place and laid out as the window
// will show them: nothing waits for a later layout.
func TestWizardBuiltAtWindowSize(t *testing.T) {
	a := test.NewTempApp(t)
	setLang(t, "pl_PL.UTF-8")
	size := contentSize(WindowSize)
	wz := buildWizard(Deps{Lang: "pl", Policy: policy.Default(), Do: func(f func()) { f() }}, a, size)
	if wz.current != wz.start {
		t.Fatalf("current screen %T, want the Start screen", wz.current)
	}
	if want := tr("step.start"); wz.stepLbl.Text != want {
		t.Fatalf("step %q, want %q", wz.stepLbl.Text, want)
	}
	if got := wz.root.Size(); got != size {
		t.Fatalf("root laid out at %v, want %v", got, size)
	}
	// Laid out with its text: a step set after the header's layout would
	// stay at its empty size until the canvas noticed.
	if got, min := wz.stepLbl.Size(), wz.stepLbl.MinSize(); got.Width < min.Width || got.Height < min.Height {
		t.Fatalf("step label %v, smaller than its text needs (%v)", got, min)
	}
	for name, o := range map[string]fyne.CanvasObject{"address": wz.start.email, "manual": wz.start.manual, "body": wz.body} {
		if got, min := o.Size(), o.MinSize(); got.Width < min.Width || got.Height < min.Height || got.Width == 0 {
			t.Fatalf("%s %v not laid out (needs %v)", name, got, min)
		}
	}
	if body := wz.body.Size(); body.Width != size.Width {
		t.Fatalf("body %v, want the root's width %v", body, size.Width)
	}

	// Put into a window of the window's size, nothing changes size.
	w := test.NewTempWindow(t, nil)
	w.Resize(WindowSize)
	before := wz.start.email.Size()
	wz.attach(w)
	if got := wz.start.email.Size(); got != before {
		t.Fatalf("address field %v after attach, %v before: the guess of the content size is off", got, before)
	}
}
