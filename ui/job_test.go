package ui

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/verify"
)

// slowOutbox is an outbox on a disk that hangs: reading and remembering the
// Infino address wait until the test lets them go (or ctx ends).
type slowOutbox struct {
	read, write chan struct{} // closed by the test to let a call return
	reads       chan struct{} // one value per InfinoURL call that began
	saved       chan string
}

func newSlowOutbox() *slowOutbox {
	return &slowOutbox{read: make(chan struct{}), write: make(chan struct{}),
		reads: make(chan struct{}, 8), saved: make(chan string, 8)}
}

func (o *slowOutbox) InfinoURL(ctx context.Context) (string, bool, error) {
	o.reads <- struct{}{}
	select {
	case <-o.read:
		return "", false, nil
	case <-ctx.Done():
		return "", false, ctx.Err()
	}
}

func (o *slowOutbox) SetInfinoURL(ctx context.Context, u string) error {
	select {
	case <-o.write:
		o.saved <- u
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (o *slowOutbox) Pending(context.Context) ([]infino.Entry, error) { return nil, nil }

func (o *slowOutbox) Flush(context.Context, bool, func(string)) infino.FlushReport {
	return infino.FlushReport{}
}

// The Done screen reads and writes the Infino address off the UI goroutine:
// with a disk that hangs, showing Done and pressing Save return at once,
// and the hand-off goes out once the address is remembered.
func TestDoneNeverWaitsForTheDisk(t *testing.T) {
	ob := newSlowOutbox()
	sent := make(chan mailcfg.Settings, 2)
	handOff := func(_ context.Context, s mailcfg.Settings, _ verify.Credential, _ time.Time, _ func(string)) HandOffResult {
		sent <- s
		return HandOffResult{State: infino.StateSent}
	}
	v := &fakeVerifier{fn: func(context.Context, mailcfg.Settings, VerifyOptions) verify.Result { return okResult() }}
	h, m := filled(t, "en_GB.UTF-8", v, func(d *Deps) { d.HandOff, d.Outbox = handOff, ob })
	test.Tap(m.next)
	h.q.until(t, "verified", func() bool { return h.wz.verify.next.Visible() })
	test.Tap(h.wz.verify.next) // returns although the address cannot be read yet
	d := h.wz.done
	<-ob.reads
	if d.urlBox.Visible() || d.send.running() || len(sent) != 0 {
		t.Fatal("Done acted before the address was read")
	}
	close(ob.read)
	h.q.until(t, "the address field", func() bool { return d.urlBox.Visible() })
	h.mustShow(tr("done.handoff.needUrl"))

	h.typeInto(d.urlEntry, "https://kancelaria.infino.legal")
	test.Tap(d.urlSave) // returns although the address cannot be written yet
	if !d.urlSave.Disabled() || len(sent) != 0 {
		t.Fatal("Save did not wait for the disk off the UI goroutine")
	}
	close(ob.write)
	h.q.until(t, "sent", func() bool { return len(sent) == 1 && !d.send.running() && d.last.State == infino.StateSent })
	if u := <-ob.saved; u != "https://kancelaria.infino.legal" {
		t.Errorf("remembered %q", u)
	}
	if d.urlSave.Disabled() {
		t.Error("Save stays disabled")
	}
}

// countPosts has every later UI hop of h's wizard say so once it is queued:
// a test that waits for a run's hop before settling cannot settle too
// early and so miss a delivery that should have been dropped.
func countPosts(h *harness) <-chan struct{} {
	posted := make(chan struct{}, 16)
	h.wz.deps.Do = func(f func()) { h.q.post(f); posted <- struct{}{} }
	return posted
}

// Closing the window is one cancel: whatever a job still sends is dropped,
// and its context ends.
func TestShutdownCancelsEveryJob(t *testing.T) {
	h := newHarness(t, "en_GB.UTF-8", nil)
	posted := countPosts(h)
	j := newJob(h.wz)
	ended := make(chan struct{})
	delivered := false
	start(j, func(ctx context.Context) int {
		<-ctx.Done()
		close(ended)
		return 1
	}, func(int) { delivered = true })
	if !j.running() {
		t.Fatal("not running")
	}
	h.wz.Shutdown()
	<-ended
	<-posted // the run's result is on its way to the UI goroutine
	h.q.settle()
	if delivered {
		t.Error("a job's result reached the screens after Shutdown")
	}
}

// A new run makes the old one's results moot; interrupt still delivers.
func TestJobGenerations(t *testing.T) {
	h := newHarness(t, "en_GB.UTF-8", nil)
	posted := countPosts(h)
	j := newJob(h.wz)
	release := make(chan struct{})
	var got []int
	start(j, func(ctx context.Context) int { <-release; return 1 }, func(v int) { got = append(got, v) })
	start(j, func(ctx context.Context) int { <-ctx.Done(); return 2 }, func(v int) { got = append(got, v) })
	close(release)
	j.interrupt()
	<-posted // both runs' results are on their way
	<-posted
	h.q.settle()
	if len(got) != 1 || got[0] != 2 || j.running() {
		t.Errorf("delivered %v, running %v", got, j.running())
	}
}
