package infino_test

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"infino.legal/mailbox/mailcfg/infino"
)

// startRetrier runs a Retrier until the test ends; statuses arrive on the
// returned channel, and done closes when Run has returned.
func startRetrier(t *testing.T, e *env, probe func(context.Context) bool) (*infino.Retrier, <-chan infino.RetryStatus, context.CancelFunc, <-chan struct{}) {
	t.Helper()
	statuses := make(chan infino.RetryStatus, 100)
	r := infino.NewRetrier(infino.RetrierOptions{Service: e.svc, Probe: probe, ProbeEvery: 5 * time.Millisecond,
		OnChange: func(st infino.RetryStatus) {
			select {
			case statuses <- st:
			default:
			}
		}})
	ctx, cancel := context.WithCancel(e.ctx())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return r, statuses, cancel, done
}

func waitStatus(t *testing.T, e *env, ch <-chan infino.RetryStatus, ok func(infino.RetryStatus) bool) infino.RetryStatus {
	t.Helper()
	for {
		select {
		case st := <-ch:
			if ok(st) {
				return st
			}
		case <-e.ctx().Done():
			t.Fatal("no such status")
		}
	}
}

// Queued while offline; the window stays open; the network comes back and
// the retrier sends it at once, without the browser.
func TestRetrierSendsWhenTheNetworkReturns(t *testing.T) {
	e := newEnv(t)
	access, _ := e.sb.Infino.Mint()
	e.opts.Tokens = &staticTokens{tok: access}
	e.svc = infino.NewService(e.opts)
	e.down.Store(true)
	out := demoSubmit(e)
	wantState(t, out, infino.StateQueued)
	_, statuses, cancel, done := startRetrier(t, e, func(context.Context) bool { return !e.down.Load() })
	st := waitStatus(t, e, statuses, func(st infino.RetryStatus) bool { return st.Pending == 1 })
	if !st.Next.Equal(out.NextAttempt) {
		t.Errorf("next attempt %v, the entry says %v", st.Next, out.NextAttempt)
	}
	e.down.Store(false)
	if err := e.sb.Infino.Wait(e.ctx(), 1); err != nil {
		t.Fatal(err)
	}
	st = waitStatus(t, e, statuses, func(st infino.RetryStatus) bool { return st.Pending == 0 && st.Last != nil })
	if s, _, _ := st.Last.Counts(); s != 1 || !st.Next.IsZero() {
		t.Fatalf("%+v", st)
	}
	// Closing the window stops it.
	cancel()
	<-done
	if e.browsers.Load() != 0 {
		t.Fatal("the retrier opened the browser")
	}
}

// An entry that is due is sent by the timer; one that is not waits until
// Kick ("Retry now").
func TestRetrierDueAndKick(t *testing.T) {
	e := newEnv(t)
	access, _ := e.sb.Infino.Mint()
	e.opts.Tokens = &staticTokens{tok: access}
	var offset atomic.Int64
	e.opts.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	e.svc = infino.NewService(e.opts)
	e.down.Store(true)
	wantState(t, demoSubmit(e), infino.StateQueued)
	s2, _ := e.sb.Settings("druga@kancelaria-demo.test")
	wantState(t, e.svc.Submit(e.ctx(), s2, infino.PasswordSecret("pw-druga-1"), time.Now()), infino.StateQueued)
	e.down.Store(false)
	offset.Store(int64(90 * time.Second)) // both are due now (the first try waits a minute)
	never := func(context.Context) bool { return false }
	r, statuses, _, _ := startRetrier(t, e, never)
	if err := e.sb.Infino.Wait(e.ctx(), 2); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, e, statuses, func(st infino.RetryStatus) bool { return st.Pending == 0 })

	// Not due: Kick sends it.
	e.down.Store(true)
	s3, _ := e.sb.Settings("trzecia@kancelaria-demo.test")
	wantState(t, e.svc.Submit(e.ctx(), s3, infino.PasswordSecret("pw-trzecia-1"), time.Now()), infino.StateQueued)
	e.down.Store(false)
	r.Changed() // the Done screen tells it; it shows when, but does not send yet
	st := waitStatus(t, e, statuses, func(st infino.RetryStatus) bool { return st.Pending == 1 })
	if st.Next.IsZero() || e.sb.Infino.Count() != 2 {
		t.Fatalf("%+v, %d mailboxes", st, e.sb.Infino.Count())
	}
	r.Kick()
	if err := e.sb.Infino.Wait(e.ctx(), 3); err != nil {
		t.Fatal(err)
	}
}

// A file that turns unreadable while the window is open is reported once
// through the status.
func TestRetrierReportsDamagedFilesOnce(t *testing.T) {
	e := newEnv(t)
	r, statuses, _, _ := startRetrier(t, e, func(context.Context) bool { return true })
	waitStatus(t, e, statuses, func(st infino.RetryStatus) bool { return true })
	dir := filepath.Join(e.dir, "outbox")
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, infino.NewUUID()+".json"), []byte(`{`), 0o600)
	r.Changed()
	waitStatus(t, e, statuses, func(st infino.RetryStatus) bool { return len(st.Problems) == 1 })
	r.Changed()
	if st := waitStatus(t, e, statuses, func(infino.RetryStatus) bool { return true }); len(st.Problems) != 0 {
		t.Fatalf("reported twice: %+v", st.Problems)
	}
}
