package ui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/verify"
)

// uiQueue stands in for fyne.Do: the test driver would run fyne.Do inline on
// the worker goroutine, racing the test; here workers queue and the test
// goroutine runs the queue, as the real event loop would.
type uiQueue struct{ ch chan func() }

func newQueue() *uiQueue { return &uiQueue{ch: make(chan func(), 4096)} }

func (q *uiQueue) post(f func()) { q.ch <- f }

// until runs queued UI work until cond holds (or fails the test after 30 s:
// a bound for a hang, generous enough for a loaded CI machine, never a
// claim about speed).
func (q *uiQueue) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for !cond() {
		select {
		case f := <-q.ch:
			f()
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// settle runs queued work until nothing arrives for a moment.
func (q *uiQueue) settle() {
	for {
		select {
		case f := <-q.ch:
			f()
		case <-time.After(30 * time.Millisecond):
			return
		}
	}
}

// setLang switches Fyne's lang (and so tr) to a locale, as the OS would.
func setLang(t *testing.T, locale string) string {
	t.Helper()
	t.Setenv("LANGUAGE", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", locale)
	t.Setenv("LC_ALL", locale)
	return LoadTranslationsFor("")
}

// newTestWizard builds the wizard into w (deps are completed with defaults)
// and shows the Start screen, in one go: what Run does on two goroutines.
func newTestWizard(deps Deps, w fyne.Window) *Wizard {
	var a fyne.App
	if w != nil {
		a = fyne.CurrentApp()
	}
	wz := buildWizard(deps, a, fyne.Size{})
	wz.attach(w)
	wz.prepareTable()
	return wz
}

type harness struct {
	t    *testing.T
	wz   *Wizard
	w    fyne.Window
	q    *uiQueue
	clip string
	mu   sync.Mutex
}

// newHarness builds the wizard in a test window, in the given locale, with
// fakes from mod.
func newHarness(t *testing.T, locale string, mod func(*Deps)) *harness {
	t.Helper()
	test.NewTempApp(t)
	h := &harness{t: t, q: newQueue()}
	d := Deps{Lang: setLang(t, locale), Do: h.q.post, Policy: policy.Default()}
	d.Clipboard = func(s string) { h.mu.Lock(); h.clip = s; h.mu.Unlock() }
	if mod != nil {
		mod(&d)
	}
	h.w = test.NewTempWindow(t, nil)
	h.wz = newTestWizard(d, h.w)
	h.w.Resize(WindowSize)
	t.Cleanup(func() {
		// As when the window closes: everything stops, the background
		// retrier included, before the test's servers and folders go.
		h.wz.Shutdown()
		h.wz.background.Wait()
	})
	return h
}

func (h *harness) focused() fyne.Focusable { return h.w.Canvas().Focused() }

// typeInto replaces an entry's text the way a user does: focus, clear, type.
func (h *harness) typeInto(e *fieldEntry, s string) {
	h.w.Canvas().Focus(e)
	e.SetText("")
	test.Type(e, s)
}

// toManual goes from Start to the form with an address typed on Start.
func (h *harness) toManual(email string) *manualScreen {
	if email != "" {
		h.typeInto(h.wz.start.email, email)
	}
	test.Tap(h.wz.start.manual)
	if h.wz.current != h.wz.manual {
		h.t.Fatalf("not on the manual screen")
	}
	return h.wz.manual
}

// fakeVerifier records calls and answers with fn.
type fakeVerifier struct {
	mu    sync.Mutex
	calls []mailcfg.Settings
	creds []verify.Credential
	fn    func(ctx context.Context, s mailcfg.Settings, opt VerifyOptions) verify.Result
}

func (f *fakeVerifier) verify(ctx context.Context, s mailcfg.Settings, cred verify.Credential, opt VerifyOptions) verify.Result {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.creds = append(f.creds, cred)
	f.mu.Unlock()
	return f.fn(ctx, s, opt)
}

func (f *fakeVerifier) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func okResult() verify.Result {
	return verify.Result{OK: true, Incoming: verify.SideResult{OK: true, Elapsed: 400 * time.Millisecond},
		Outgoing: verify.SideResult{OK: true, Elapsed: 500 * time.Millisecond}, Elapsed: 500 * time.Millisecond}
}

// drawn lists the text actually drawn under o (visible objects only),
// including what widgets render.
func drawn(o fyne.CanvasObject) []string {
	var out []string
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		switch x := o.(type) {
		case *canvas.Text:
			if strings.TrimSpace(x.Text) != "" {
				out = append(out, x.Text)
			}
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		case *container.Scroll:
			walk(x.Content)
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	return out
}

// screenText is everything drawn in the window, dialogs included.
func (h *harness) screenText() string {
	c := h.w.Canvas()
	all := drawn(c.Content())
	for _, o := range c.Overlays().List() {
		all = append(all, drawn(o)...)
	}
	return strings.Join(all, "\n")
}

func (h *harness) mustShow(s string) {
	h.t.Helper()
	if txt := h.screenText(); !strings.Contains(txt, s) {
		h.t.Fatalf("screen does not show %q; it shows:\n%s", s, txt)
	}
}

func (h *harness) mustNotShow(s string) {
	h.t.Helper()
	if txt := h.screenText(); strings.Contains(txt, s) {
		h.t.Fatalf("screen shows %q but should not; it shows:\n%s", s, txt)
	}
}

var _ = widget.NewLabel
