package ui

import (
	"context"
	"time"
)

// job is one kind of background work of a screen (a verification, a
// discovery, a hand-off …), at most one run at a time. Every run derives
// its context from the wizard's, so closing the window cancels them all at
// once. A run's results reach the UI goroutine through Deps.Do, and only
// while that run is the job's current one and the window is open: starting
// a new run or calling stop makes whatever the old one still sends moot.
//
// A job is used from the UI goroutine only.
type job struct {
	wz     *Wizard
	gen    int
	cancel context.CancelFunc
}

func newJob(wz *Wizard) *job { return &job{wz: wz} }

// begin drops the current run, if any, and starts a new one: ctx ends when
// the run is stopped, interrupted, finished, or the window closes; deliver
// runs f on the UI goroutine if this run is still the current one by then
// (it may be called from any goroutine, any number of times).
func (j *job) begin() (ctx context.Context, deliver func(f func())) {
	j.stop()
	ctx, cancel := context.WithCancel(j.wz.ctx)
	j.cancel = cancel
	gen := j.gen
	do, wctx := j.wz.deps.Do, j.wz.ctx
	deliver = func(f func()) {
		do(func() {
			if gen == j.gen && wctx.Err() == nil {
				f()
			}
		})
	}
	return ctx, deliver
}

// start runs work off the UI goroutine in a new run (dropping the current
// one) and hands its result to onDone on the UI goroutine, unless the run
// was dropped meanwhile. When onDone runs, the job no longer counts as
// running.
func start[T any](j *job, work func(ctx context.Context) T, onDone func(T)) {
	startWith(j, func(ctx context.Context, _ func(func())) T { return work(ctx) }, onDone)
}

// startWith is start for work that also reports along the way (progress,
// a sign-in address): deliver runs f on the UI goroutine while the run is
// current.
func startWith[T any](j *job, work func(ctx context.Context, deliver func(f func())) T, onDone func(T)) {
	ctx, deliver := j.begin()
	cancel := j.cancel
	gen := j.gen
	go func() {
		v := work(ctx, deliver)
		cancel()
		deliver(func() {
			if gen == j.gen {
				j.cancel = nil
			}
			onDone(v)
		})
	}()
}

// startAfter is start, with work beginning only once d has passed without
// the run being dropped (typing must pause before autofill runs).
func startAfter[T any](j *job, d time.Duration, work func(ctx context.Context) T, onDone func(T)) {
	start(j, func(ctx context.Context) (v T) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return v
		case <-t.C:
		}
		return work(ctx)
	}, onDone)
}

// running tells whether a run has started and not yet been delivered,
// stopped or dropped.
func (j *job) running() bool { return j.cancel != nil }

// interrupt cancels the current run's context and still delivers what it
// returns (the user pressed Cancel and the screen tells so).
func (j *job) interrupt() {
	if j.cancel != nil {
		j.cancel()
	}
}

// stop cancels the current run and ignores whatever it still sends.
func (j *job) stop() {
	j.gen++
	if j.cancel != nil {
		j.cancel()
		j.cancel = nil
	}
}
