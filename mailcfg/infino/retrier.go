package infino

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// RetryStatus is what a Retrier reports after each change: what waits and
// when it is tried next.
type RetryStatus struct {
	// Pending is the number of entries waiting in the outbox.
	Pending int
	// Next is when the next automatic attempt happens (zero: nothing
	// waits).
	Next time.Time
	// Flushing is true while an attempt runs.
	Flushing bool
	// Last is the report of the last attempt (nil before the first).
	Last *FlushReport
	// Problems are outbox files found unreadable since the last status
	// (quarantined; this is the one report of them).
	Problems []Problem
}

// RetrierOptions configure a Retrier. Only Service is required.
type RetrierOptions struct {
	Service *Service
	// Probe reports whether Infino can be reached now; nil means any HTTP
	// answer to a HEAD of the Infino URL through the service's HTTP client
	// (its proxy and roots) within 10 s. It is asked every ProbeEvery
	// while an entry's last attempt failed for the network, and a change
	// from unreachable to reachable (the network is back) sends what waits
	// at once.
	Probe func(ctx context.Context) bool
	// ProbeEvery is the probe interval (default 15 s).
	ProbeEvery time.Duration
	// OnChange, if set, is called from the Retrier's goroutine with every
	// new status (a window hands it to its UI goroutine).
	OnChange func(RetryStatus)
}

// Retrier sends what waits in the outbox in the background while the app
// runs: each entry when it is due (its NextAttempt, which backs off from 1
// minute to 1 hour after every failed attempt), everything at once when the
// network comes back, and on Kick ("Retry now"). It never opens the
// browser. Run it in a goroutine; it ends when its context ends.
type Retrier struct {
	o    RetrierOptions
	kick chan struct{}
	wake chan struct{}

	mu     sync.Mutex
	status RetryStatus
}

// NewRetrier makes a Retrier.
func NewRetrier(o RetrierOptions) *Retrier {
	if o.ProbeEvery <= 0 {
		o.ProbeEvery = 15 * time.Second
	}
	return &Retrier{o: o, kick: make(chan struct{}, 1), wake: make(chan struct{}, 1)}
}

// Changed tells the Retrier that the outbox changed (a submission was
// queued): it looks again at what waits and when, without sending now.
func (r *Retrier) Changed() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Kick makes the Retrier try every waiting entry now.
func (r *Retrier) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Status is the last status.
func (r *Retrier) Status() RetryStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status
}

func (r *Retrier) set(st RetryStatus) {
	r.mu.Lock()
	r.status = st
	r.mu.Unlock()
	if r.o.OnChange != nil {
		r.o.OnChange(st)
	}
}

// Run retries until ctx ends; it returns when it has stopped (an attempt
// in flight is cancelled through ctx; the outbox keeps what it has not
// sent).
func (r *Retrier) Run(ctx context.Context) {
	s := r.o.Service
	var last *FlushReport
	var lastAt time.Time
	var carry []Problem
	var probeOK *bool // unknown until the first probe
	for {
		entries, problems, err := s.Pending(ctx)
		if ctx.Err() != nil {
			return
		}
		problems, carry = append(problems, carry...), nil
		var next time.Time
		if err == nil {
			for i, e := range entries {
				if i == 0 || e.NextAttempt.Before(next) {
					next = e.NextAttempt
				}
			}
		}
		if len(entries) > 0 && !lastAt.IsZero() && next.Before(lastAt.Add(minRetryGap)) {
			// Never faster than this on its own, whatever the entries say
			// (one whose bookkeeping could not be written stays "due").
			next = lastAt.Add(minRetryGap)
		}
		r.set(RetryStatus{Pending: len(entries), Next: next, Last: last, Problems: problems})
		// Probing only matters after a network failure: then it notices
		// that the network is back.
		watch := netDown(entries) || probeOK != nil && !*probeOK
		all := false
		switch r.wait(ctx, len(entries) > 0, watch, next) {
		case evStop:
			return
		case evWake:
			continue
		case evKick:
			all = true
		case evDue:
		case evProbe:
			up := r.probe(ctx, entries)
			wasDown := netDown(entries)
			if probeOK != nil {
				wasDown = !*probeOK
			}
			probeOK = &up
			if !up || !wasDown {
				continue
			}
			all = true // the network is back: everything, now
		}
		r.set(RetryStatus{Pending: len(entries), Next: next, Flushing: true, Last: last})
		rep := s.flush(ctx, all, false)
		last, lastAt = &rep, s.o.Now()
		carry = rep.Problems // said with the next status, once
	}
}

// minRetryGap is the shortest time between two automatic attempts.
const minRetryGap = time.Minute

type retryEvent int

const (
	evStop retryEvent = iota
	evKick
	evDue
	evProbe
	evWake
)

// wait blocks until ctx ends, Kick, Changed, the next due time (while
// something waits) or the next probe (while watch says the network was
// down).
func (r *Retrier) wait(ctx context.Context, pending, watch bool, next time.Time) retryEvent {
	var due, probe <-chan time.Time
	if pending {
		t := time.NewTimer(max(next.Sub(r.o.Service.o.Now()), 0))
		defer t.Stop()
		due = t.C
		if watch {
			p := time.NewTimer(r.o.ProbeEvery)
			defer p.Stop()
			probe = p.C
		}
	}
	select {
	case <-ctx.Done():
		return evStop
	case <-r.kick:
		return evKick
	case <-r.wake:
		return evWake
	case <-due:
		return evDue
	case <-probe:
		return evProbe
	}
}

// netDown reports whether an entry last failed without an answer (the
// network, not Infino).
func netDown(entries []Entry) bool {
	for _, e := range entries {
		if e.LastError != nil && e.LastError.Kind == KindUnavailable && e.LastError.Status == 0 {
			return true
		}
	}
	return false
}

func (r *Retrier) probe(ctx context.Context, entries []Entry) bool {
	if r.o.Probe != nil {
		return r.o.Probe(ctx)
	}
	if len(entries) == 0 {
		return true
	}
	// Through the service's HTTP client (its proxy and roots): any answer
	// at all means Infino can be reached.
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(pctx, http.MethodHead, entries[0].InfinoURL, nil)
	if err != nil {
		return false
	}
	hc := *r.o.Service.o.HTTP
	hc.CheckRedirect = noRedirect
	resp, err := hc.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}
