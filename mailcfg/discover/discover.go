// Package discover finds the mail server settings for an address: the
// bundled provider table, the provider's own autoconfig file, Thunderbird's
// ISPDB, the domain's MX hosts (mapped to a bundled hoster or to the hoster's
// autoconfig), RFC 6186/8314 SRV records, Exchange Autodiscover (POX) and,
// only when all of those fail, a guess of common host names checked by a TLS
// connect and greeting.
//
// Every network source starts at once; a fixed priority decides which answer
// wins, so a fast but worse source never beats a slower better one, and a
// hanging source never holds the answer past Options.Wait. Only https is
// trusted: the plain-http autoconfig variant and guesses come back with
// Settings.LowTrust set, and the window asks the user to confirm them.
//
// The resolver, the HTTP client and the prober are injectable, so tests run
// against a local DNS server and local HTTPS servers (see discovertest).
package discover

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"infino.legal/mailbox/mailcfg"
)

// Time limits and bounds. DefaultWait is how long a person waits for the
// form to fill; the rest keep a broken or hostile network from costing more
// than a few seconds.
const (
	// DefaultWait is how long Discover waits before returning the best
	// answer so far.
	DefaultWait = 4 * time.Second
	// FetchTimeout bounds each HTTP fetch (connect, TLS, headers, body).
	FetchTimeout = 5 * time.Second
	// LookupTimeout bounds each DNS query.
	LookupTimeout = 5 * time.Second
	// ProbeTimeout bounds each guess probe.
	ProbeTimeout = 5 * time.Second
	// GuessStagger is the delay between starting successive guess probes.
	GuessStagger = 100 * time.Millisecond
	// MaxRedirects is how many HTTP redirects one fetch follows.
	MaxRedirects = 5
	// StreamLimit bounds a whole Stream, whatever the sources do.
	StreamLimit = 20 * time.Second
)

// ISPDBURL is Thunderbird's public ISPDB; the domain is appended.
const ISPDBURL = "https://autoconfig.thunderbird.net/v1.1/"

// Options are the network edges and choices of one discovery. The zero
// value uses the system resolver, a strict HTTPS client and a real prober.
type Options struct {
	// Resolver answers MX and SRV queries and, for the default HTTP client
	// and dialer, host names. nil: net.DefaultResolver.
	Resolver *net.Resolver
	// HTTPClient fetches autoconfig files. nil: a client with a 5 s timeout
	// and TLS 1.2 or later. Whatever the client, each fetch is cut at
	// FetchTimeout, follows at most MaxRedirects redirects and never
	// follows a redirect from https to http.
	HTTPClient *http.Client
	// Table is the provider table. nil: mailcfg.Bundled().
	Table *mailcfg.Table
	// Offline uses only the table: no DNS, no HTTP, no probes.
	Offline bool
	// Wait caps Discover before it returns the best answer so far.
	// 0: DefaultWait. Stream is not capped by Wait (see StreamLimit).
	Wait time.Duration
	// Prober checks a guessed server: TLS connect (or STARTTLS) and the
	// greeting, never a login. nil: Probe over Dialer.
	Prober func(ctx context.Context, host string, port int, security mailcfg.Security) error
	// Dialer opens the probes' connections. nil: a net.Dialer using
	// Resolver.
	Dialer interface {
		DialContext(ctx context.Context, network, addr string) (net.Conn, error)
	}
	// RootCAs are the CAs the default prober trusts (for a firm CA from
	// the policy). nil: the system roots. The HTTP client has its own.
	RootCAs *x509.CertPool
	// Protocol is the preferred incoming protocol. "": IMAP.
	Protocol mailcfg.Protocol
	// Allowed, when set, must accept both server hosts of an answer;
	// answers it refuses are skipped (and guesses are not probed).
	Allowed func(host string) bool
	// Password is the password the user typed, for an Exchange
	// Autodiscover server that answers only signed-in requests: it is sent
	// with Basic authentication, only over https, only after the server
	// refused the request without it. Empty: never sent.
	Password string
	// ConfirmRedirect is asked before Exchange Autodiscover follows a
	// redirect (HTTP, RedirectUrl, RedirectAddr or its SRV record) to a
	// host outside the address's domain, Microsoft's own hosts excepted;
	// it is asked only once no better source is still running, one
	// question at a time, and must return when ctx ends. nil: such
	// redirects are not followed.
	ConfirmRedirect func(ctx context.Context, domain, host string) bool
	// OnNote, when set, is called (from the discovery's goroutine) with
	// what discovery learnt that is not settings, such as an Exchange
	// server without IMAP. Discover also returns it in Result.Note.
	OnNote func(Note)
}

// Result is one answer.
type Result struct {
	// Settings has Source set, and LowTrust for plain-http autoconfig and
	// guesses.
	Settings mailcfg.Settings
	// Provider is the bundled provider the answer maps to (its help text,
	// its sign-in): for bundled and MX matches, and for files or records
	// whose servers are exactly a bundled provider's. nil otherwise.
	Provider *mailcfg.Provider
	// Tried lists what was asked so far, for the diagnostic report.
	Tried []Attempt
	// Note is what discovery learnt that is not settings.
	Note Note
	// Question, in a Stream, asks the reader's consent to an Autodiscover
	// redirect (see Stream).
	Question *RedirectQuestion
}

// Attempt is one question asked of one source. It carries no secrets and
// no response bodies; URLs are shown without their query.
type Attempt struct {
	Source  mailcfg.Source `json:"source"`
	URL     string         `json:"url"`
	OK      bool           `json:"ok"`
	Err     string         `json:"err,omitempty"`
	Elapsed time.Duration  `json:"elapsed"`
}

func (a Attempt) String() string {
	outcome := "ok"
	if !a.OK {
		outcome = a.Err
	}
	return fmt.Sprintf("%-10s %-60s %6dms  %s", a.Source, a.URL, a.Elapsed.Milliseconds(), outcome)
}

// Discover returns the best answer available within opt.Wait (DefaultWait
// when 0): the highest-priority source that answered, as soon as no
// higher-priority source is still running, or at the cap whatever is best
// so far. A bundled answer comes back at once without any network use. A
// malformed address gives a *mailcfg.FieldError, no answer
// mailcfg.ErrNotFound (with Result.Tried filled for the report). If ctx
// ends first, the best answer so far is returned, or ctx's error.
func Discover(ctx context.Context, email string, opt Options) (Result, error) {
	addr, err := mailcfg.ParseAddress(email)
	if err != nil {
		return Result{}, err
	}
	e := newEngine(addr, opt)
	if r, ok := e.bundled(); ok {
		return r, nil
	}
	if opt.Offline {
		return Result{Tried: e.log.snapshot("")}, mailcfg.ErrNotFound
	}
	wait := opt.Wait
	if wait <= 0 {
		wait = DefaultWait
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer e.close()
	capTimer := time.NewTimer(wait)
	defer capTimer.Stop()
	var best *candidate
	end := e.run(rctx, capTimer.C, func(c *candidate) { best = c })
	note := ""
	switch end {
	case endFinal:
		note = "stopped: a better source answered"
	case endContext:
		note = "cancelled"
	case endCap:
		note = fmt.Sprintf("no answer within %v", wait)
	}
	// Freeze the report before the sources are cancelled, so each one
	// still running shows why it was abandoned.
	tried := e.log.freeze(note)
	if best == nil {
		if err := ctx.Err(); err != nil {
			return Result{Tried: tried, Note: e.getNote()}, err
		}
		return Result{Tried: tried, Note: e.getNote()}, mailcfg.ErrNotFound
	}
	return Result{Settings: best.settings, Provider: best.provider, Tried: tried, Note: e.getNote()}, nil
}

// Stream sends each strictly better answer as it arrives and is closed when
// no better answer can come: at once after a bundled answer, otherwise when
// every source has finished, ctx ends or StreamLimit passes. It is not
// capped by opt.Wait, so the window can improve the form while the user has
// not edited it. A malformed address gives a closed, empty channel. The
// channel is buffered for every possible answer, so an abandoned reader
// never blocks the discovery; cancel ctx to stop it early.
//
// A Result with empty Settings carries instead a Note (what discovery
// learnt, such as an Exchange without IMAP; opt.OnNote is still called) or,
// when opt.ConfirmRedirect is nil, a Question: Exchange Autodiscover asks
// the reader whether it may follow a redirect out of the address's domain
// and waits for Question.Answer (no answer by the end counts as no).
func Stream(ctx context.Context, email string, opt Options) <-chan Result {
	out := &streamOut{ch: make(chan Result, int(numRanks)+1+streamExtra)}
	addr, err := mailcfg.ParseAddress(email)
	if err != nil {
		out.close()
		return out.ch
	}
	go func() {
		defer out.close()
		var e *engine
		if opt.ConfirmRedirect == nil {
			opt.ConfirmRedirect = func(ctx context.Context, domain, host string) bool {
				q, answer := NewRedirectQuestion(domain, host)
				if !out.send(Result{Question: q, Tried: e.log.snapshot("running")}) {
					return false
				}
				select {
				case yes := <-answer:
					return yes
				case <-ctx.Done():
					return false
				}
			}
		}
		onNote := opt.OnNote
		opt.OnNote = func(n Note) {
			if onNote != nil {
				onNote(n)
			}
			out.send(Result{Note: n, Tried: e.log.snapshot("running")})
		}
		e = newEngine(addr, opt)
		if r, ok := e.bundled(); ok {
			out.send(r)
			return
		}
		if opt.Offline {
			return
		}
		rctx, cancel := context.WithTimeout(ctx, StreamLimit)
		defer cancel()
		defer e.close()
		e.run(rctx, nil, func(c *candidate) {
			out.send(Result{Settings: c.settings, Provider: c.provider, Tried: e.log.snapshot("running")})
		})
	}()
	return out.ch
}

// streamExtra is the room a Stream keeps for notes and questions next to
// its answers.
const streamExtra = 8

// RedirectQuestion is Exchange Autodiscover asking, through a Stream,
// whether it may follow a redirect to Host, outside the address's Domain.
type RedirectQuestion struct {
	Domain, Host string
	answer       chan bool
}

// NewRedirectQuestion makes a question and the channel its answer arrives
// on (for Stream, and for stand-in streams in tests).
func NewRedirectQuestion(domain, host string) (*RedirectQuestion, <-chan bool) {
	q := &RedirectQuestion{Domain: domain, Host: host, answer: make(chan bool, 1)}
	return q, q.answer
}

// Answer gives the person's answer; only the first counts. It never blocks.
func (q *RedirectQuestion) Answer(yes bool) {
	select {
	case q.answer <- yes:
	default:
	}
}

// streamOut is a Stream's channel, safe against sends from sources still
// finishing after it closed, and never blocking them.
type streamOut struct {
	mu     sync.Mutex
	ch     chan Result
	closed bool
}

// send queues r; false when the stream is closed or its reader has left
// the buffer full.
func (o *streamOut) send(r Result) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return false
	}
	select {
	case o.ch <- r:
		return true
	default:
		return false
	}
}

func (o *streamOut) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.closed {
		o.closed = true
		close(o.ch)
	}
}

// rank orders the sources: a lower rank always wins. Trusted answers rank
// above low-trust ones whatever their source.
type rank int

const (
	rankBundled          rank = iota
	rankAutoconfig            // https://autoconfig.<domain>/mail/config-v1.1.xml
	rankWellKnown             // https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml
	rankISPDB                 // ISPDB <domain>
	rankMXTable               // an MX host matches the bundled table
	rankMXSubAutoconfig       // https://autoconfig.<MX host minus first label>/…
	rankMXSubISPDB            // ISPDB <MX host minus first label>
	rankMXBaseAutoconfig      // https://autoconfig.<MX registrable domain>/…
	rankMXBaseISPDB           // ISPDB <MX registrable domain>
	rankSRV                   // RFC 6186/8314 SRV records
	rankAutodiscover          // Exchange Autodiscover (POX)
	rankHTTPAutoconfig        // http://autoconfig.<domain>/… (low trust)
	rankGuess                 // probed host names (low trust)
	numRanks
)

// candidate is one usable answer.
type candidate struct {
	settings mailcfg.Settings
	provider *mailcfg.Provider
}

// outcome is a finished source: cand nil means it failed.
type outcome struct {
	rank rank
	cand *candidate
}

type engine struct {
	addr     mailcfg.Address
	proto    mailcfg.Protocol
	table    *mailcfg.Table
	resolver *net.Resolver
	client   *http.Client
	closeFn  func()
	prober   func(ctx context.Context, host string, port int, security mailcfg.Security) error
	allowed  func(string) bool
	log      *attemptLog
	out      chan outcome

	adClient *http.Client // the client without redirects, for Autodiscover
	password string
	consent  *consent
	onNote   func(Note)
	noteMu   sync.Mutex
	note     Note
}

func newEngine(addr mailcfg.Address, opt Options) *engine {
	e := &engine{
		addr:     addr,
		proto:    opt.Protocol,
		table:    opt.Table,
		resolver: opt.Resolver,
		allowed:  opt.Allowed,
		prober:   opt.Prober,
		log:      &attemptLog{},
		out:      make(chan outcome, int(numRanks)),
		closeFn:  func() {},
		password: opt.Password,
		consent:  newConsent(opt.ConfirmRedirect),
		onNote:   opt.OnNote,
	}
	if e.proto != mailcfg.POP3 {
		e.proto = mailcfg.IMAP
	}
	if e.table == nil {
		e.table = mailcfg.Bundled()
	}
	if e.resolver == nil {
		e.resolver = net.DefaultResolver
	}
	if opt.Offline {
		return e
	}
	e.client, e.closeFn = httpClient(opt.HTTPClient, opt.Resolver)
	e.adClient = noRedirects(e.client)
	if e.prober == nil {
		d := opt.Dialer
		if d == nil {
			d = &net.Dialer{Timeout: ProbeTimeout, Resolver: e.resolver}
		}
		e.prober = func(ctx context.Context, host string, port int, sec mailcfg.Security) error {
			return Probe(ctx, d, opt.RootCAs, host, port, sec)
		}
	}
	return e
}

func (e *engine) close() { e.closeFn() }

func (e *engine) setNote(n Note) {
	e.noteMu.Lock()
	e.note = n
	e.noteMu.Unlock()
	if e.onNote != nil {
		e.onNote(n)
	}
}

func (e *engine) getNote() Note {
	e.noteMu.Lock()
	defer e.noteMu.Unlock()
	return e.note
}

// bundled answers from the table, instantly and offline.
func (e *engine) bundled() (Result, bool) {
	p := e.table.ByDomain(e.addr.Domain)
	if p == nil {
		e.log.add(Attempt{Source: mailcfg.SourceBundled, URL: "table:" + e.addr.Domain, Err: "domain not in the table"})
		return Result{}, false
	}
	s := p.Settings(e.addr, e.proto)
	if err := e.checkAllowed(s); err != nil {
		e.log.add(Attempt{Source: mailcfg.SourceBundled, URL: "table:" + e.addr.Domain, Err: err.Error()})
		return Result{}, false
	}
	e.log.add(Attempt{Source: mailcfg.SourceBundled, URL: "table:" + e.addr.Domain + " → " + p.ID, OK: true})
	return Result{Settings: s, Provider: p, Tried: e.log.snapshot("")}, true
}

type runEnd int

const (
	endFinished runEnd = iota // every source finished
	endFinal                  // the best answer can no longer be beaten
	endContext                // ctx ended
	endCap                    // the cap passed
)

// run starts every network source and calls emit for each strictly better
// answer. It returns as soon as the answer is final (nothing still running
// outranks it), every source has finished, ctx ends or capC fires; the
// caller cancels ctx to stop the rest.
func (e *engine) run(ctx context.Context, capC <-chan time.Time, emit func(c *candidate)) runEnd {
	var done [numRanks]bool
	done[rankBundled] = true
	best := numRanks
	var bestCand *candidate
	pending := 0
	launch := func(n int, f func()) {
		pending += n
		go f()
	}
	d := e.addr.Domain
	q := "?emailaddress=" + url.QueryEscape(e.addr.String())
	launch(1, func() {
		e.fetchJob(ctx, rankAutoconfig, mailcfg.SourceAutoconfig, "https://autoconfig."+d+"/mail/config-v1.1.xml"+q)
	})
	launch(1, func() {
		e.fetchJob(ctx, rankWellKnown, mailcfg.SourceAutoconfig, "https://"+d+"/.well-known/autoconfig/mail/config-v1.1.xml")
	})
	launch(1, func() { e.fetchJob(ctx, rankISPDB, mailcfg.SourceISPDB, ISPDBURL+d) })
	launch(int(rankMXBaseISPDB-rankMXTable)+1, func() { e.mxJob(ctx) })
	launch(1, func() { e.srvJob(ctx) })
	launch(1, func() { e.autodiscoverJob(ctx) })
	// No address in the clear: the http variant is asked without it.
	launch(1, func() {
		e.fetchJob(ctx, rankHTTPAutoconfig, mailcfg.SourceAutoconfig, "http://autoconfig."+d+"/mail/config-v1.1.xml")
	})
	guessStarted := false
	doneBelow := func(r rank) bool {
		for i := rank(0); i < r; i++ {
			if !done[i] {
				return false
			}
		}
		return true
	}
	for pending > 0 {
		var o outcome
		select {
		case o = <-e.out:
		case <-ctx.Done():
			return endContext
		case <-capC:
			return endCap
		}
		pending--
		done[o.rank] = true
		if o.cand != nil && o.rank < best {
			best, bestCand = o.rank, o.cand
			emit(bestCand)
		}
		if bestCand != nil && doneBelow(best) {
			return endFinal
		}
		if doneBelow(rankAutodiscover) {
			// Nothing better is coming: Autodiscover may ask about a
			// redirect now.
			e.consent.open()
		}
		if bestCand == nil && !guessStarted && doneBelow(rankGuess) && ctx.Err() == nil {
			guessStarted = true
			launch(1, func() { e.guessJob(ctx) })
		}
	}
	return endFinished
}

// send reports a finished rank unless the run is over.
func (e *engine) send(ctx context.Context, r rank, c *candidate) {
	select {
	case e.out <- outcome{rank: r, cand: c}:
	case <-ctx.Done():
	}
}

// finish turns settings from a network source into a candidate: it maps
// them to a bundled provider, settles the sign-in and applies Allowed.
func (e *engine) finish(s mailcfg.Settings, src mailcfg.Source, lowTrust bool, hints []string) (*candidate, error) {
	s.Source = src
	s.LowTrust = lowTrust
	p := e.matchProvider(s, hints)
	if p != nil {
		s.Provider = &mailcfg.ProviderRef{ID: p.ID, Name: p.Name}
		if p.OAuth == "microsoft" {
			s.Auth = mailcfg.AuthOAuth2
		}
	}
	if s.Auth == mailcfg.AuthOAuth2 && (p == nil || p.OAuth != "microsoft") {
		return nil, errors.New("servers accept only OAuth2 sign-in with a provider this app does not know")
	}
	if err := e.checkAllowed(s); err != nil {
		return nil, err
	}
	return &candidate{settings: s, provider: p}, nil
}

func (e *engine) checkAllowed(s mailcfg.Settings) error {
	if e.allowed == nil {
		return nil
	}
	for _, h := range []string{s.Incoming.Host, s.Outgoing.Host} {
		if !e.allowed(h) {
			return fmt.Errorf("server %s is not allowed by policy", h)
		}
	}
	return nil
}

// matchProvider finds the bundled provider whose fixed server names are the
// answer's: both servers match beats only the incoming one; ties go to the
// provider the hints (the file's domains, MX hosts) point at, then to table
// order. Templates with %EMAILDOMAIN% never match: they name every domain.
func (e *engine) matchProvider(s mailcfg.Settings, hints []string) *mailcfg.Provider {
	has := func(list []mailcfg.ServerTemplate, host string) bool {
		for _, t := range list {
			if !strings.Contains(t.Host, "%") && strings.EqualFold(t.Host, host) {
				return true
			}
		}
		return false
	}
	hinted := map[*mailcfg.Provider]bool{}
	for _, h := range hints {
		if p := e.table.ByDomain(h); p != nil {
			hinted[p] = true
		}
		if p := e.table.ByMX(h); p != nil {
			hinted[p] = true
		}
		if p := e.table.ByMX("mx." + h); p != nil {
			hinted[p] = true
		}
	}
	var best *mailcfg.Provider
	bestScore := 0
	for _, p := range e.table.Providers {
		if !has(p.Incoming, s.Incoming.Host) {
			continue
		}
		score := 2
		if has(p.Outgoing, s.Outgoing.Host) {
			score += 2
		}
		if hinted[p] {
			score++
		}
		if score > bestScore {
			best, bestScore = p, score
		}
	}
	return best
}

// attemptLog collects attempts from every goroutine of one discovery.
type attemptLog struct {
	mu   sync.Mutex
	recs []*attemptRec
}

type attemptRec struct {
	a     Attempt
	start time.Time
	done  bool
}

func (l *attemptLog) add(a Attempt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, &attemptRec{a: a, done: true})
}

func (l *attemptLog) begin(src mailcfg.Source, what string) *attemptRec {
	r := &attemptRec{a: Attempt{Source: src, URL: what}, start: time.Now()}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, r)
	return r
}

func (l *attemptLog) end(r *attemptRec, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.done {
		return
	}
	r.done = true
	r.a.Elapsed = time.Since(r.start)
	r.a.OK = err == nil
	if err != nil {
		r.a.Err = errText(err)
	}
}

// freeze ends every unfinished attempt with note as its error (later
// reports from them are ignored) and returns the attempts.
func (l *attemptLog) freeze(note string) []Attempt {
	l.mu.Lock()
	for _, r := range l.recs {
		if !r.done {
			r.done = true
			r.a.Elapsed = time.Since(r.start)
			r.a.Err = note
		}
	}
	l.mu.Unlock()
	return l.snapshot("")
}

// snapshot copies the attempts; unfinished ones carry note as their error.
func (l *attemptLog) snapshot(note string) []Attempt {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Attempt, 0, len(l.recs))
	for _, r := range l.recs {
		a := r.a
		if !r.done {
			a.Elapsed = time.Since(r.start)
			a.Err = note
			if a.Err == "" {
				a.Err = "running"
			}
		}
		out = append(out, a)
	}
	return out
}

// errText is an error for the report: without the URL (it may carry the
// address in its query), one line, bounded.
func errText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound {
		return "no such record"
	}
	s := err.Error()
	s = strings.Join(strings.Fields(s), " ")
	return limitString(s, 200)
}
