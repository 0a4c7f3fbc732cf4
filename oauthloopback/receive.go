package oauthloopback

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// ReceiveConfig describes a browser round trip that is not an
// authorization-code flow: a page at the provider that redirects back once
// with parameters of its own (Microsoft's admin consent answers
// admin_consent=True&tenant=…). The listener rules are Start's: loopback
// only, the Host header checked, only the right state ends the wait; its
// pages never show what the answer carried.
type ReceiveConfig struct {
	// URL builds the page's address from the redirect URI and the state
	// (both must go into it).
	URL func(redirectURI, state string) (string, error)
	// Params are the parameters the answer may carry besides state; each
	// at most once, printable ASCII (error_description: any UTF-8). Other
	// parameters are dropped.
	Params []string
	// RedirectHost, RedirectPath, Port, Opener, OnURL, OnOpen, Timeout and
	// Pages are as in Config.
	RedirectHost string
	RedirectPath string
	Port         int
	Opener       Opener
	OnURL        func(url string)
	OnOpen       func(err error)
	Timeout      time.Duration
	Pages        []PageText
	// Failed tells, from an accepted answer, whether the page should say
	// it failed (e.g. it carries error); nil: it carries "error".
	Failed func(url.Values) bool
}

// Receiver is a running ReceiveStart.
type Receiver struct {
	// URL is the page opened in the browser; RedirectURL the redirect URI.
	URL, RedirectURL string

	cfg    ReceiveConfig
	state  string
	path   string
	hosts  []string
	pages  []PageText
	srv    *http.Server
	ls     []net.Listener
	ctx    context.Context
	cancel context.CancelCauseFunc
	timer  *time.Timer

	mu     sync.Mutex
	got    url.Values
	result chan url.Values
	once   sync.Once
}

// ReceiveStart binds the loopback listener, builds the page address and
// opens it (in a goroutine). Wait returns the answer.
func ReceiveStart(ctx context.Context, cfg ReceiveConfig) (*Receiver, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg.URL == nil {
		return nil, errors.New("oauthloopback: ReceiveConfig.URL is nil")
	}
	// validate wants an OAuth2 config; borrow its host and path rules.
	probe := Config{RedirectHost: cfg.RedirectHost, RedirectPath: cfg.RedirectPath, Port: cfg.Port}
	probe.OAuth2.ClientID, probe.OAuth2.Endpoint.AuthURL, probe.OAuth2.Endpoint.TokenURL = "x", "x", "x"
	host, path, err := validate(&probe)
	if err != nil {
		return nil, err
	}
	for _, p := range cfg.Params {
		if p == "state" || p == "" {
			return nil, fmt.Errorf("oauthloopback: Params may not list %q", p)
		}
	}
	state, err := randomState()
	if err != nil {
		return nil, err
	}
	ls, err := listenLoopback(ctx, host, cfg.Port)
	if err != nil {
		return nil, err
	}
	port := strconv.Itoa(ls[0].Addr().(*net.TCPAddr).Port)
	r := &Receiver{
		RedirectURL: "http://" + host + ":" + port + path,
		cfg:         cfg, state: state, path: path, ls: ls,
		hosts:  []string{"127.0.0.1:" + port, "localhost:" + port, "[::1]:" + port},
		pages:  cfg.Pages,
		result: make(chan url.Values, 1),
	}
	if len(r.pages) == 0 {
		r.pages = PagesFor("")
	}
	r.URL, err = cfg.URL(r.RedirectURL, state)
	if err != nil {
		for _, l := range ls {
			l.Close()
		}
		return nil, err
	}
	r.ctx, r.cancel = context.WithCancelCause(ctx)
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serveHTTP), ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: 5 * time.Second,
		MaxHeaderBytes: 32 << 10, ErrorLog: log.New(io.Discard, "", 0)}
	for _, l := range ls {
		go r.srv.Serve(l) //nolint:errcheck // ErrServerClosed on shutdown
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if timeout > 0 {
		r.timer = time.AfterFunc(timeout, func() { r.cancel(ErrTimeout) })
	}
	go func() { <-r.ctx.Done(); r.shutdown() }()
	if cfg.OnURL != nil {
		cfg.OnURL(r.URL)
	}
	opener := cfg.Opener
	if opener == nil {
		opener = DefaultOpener
	}
	go func() {
		err := opener(r.ctx, r.URL)
		if cfg.OnOpen != nil {
			cfg.OnOpen(err)
		}
	}()
	return r, nil
}

// Wait blocks until the answer with the right state arrives (its
// parameters, state left out), or the timeout (ErrTimeout), Close
// (ErrClosed) or ctx ends the wait. The listener is shut down before Wait
// returns.
func (r *Receiver) Wait(ctx context.Context) (url.Values, error) {
	defer r.shutdown()
	select {
	case v := <-r.result:
		return v, nil
	case <-ctx.Done():
		r.cancel(ctx.Err())
		return nil, fmt.Errorf("oauthloopback: aborted: %w", ctx.Err())
	case <-r.ctx.Done():
		switch cause := context.Cause(r.ctx); {
		case errors.Is(cause, ErrTimeout):
			return nil, fmt.Errorf("%w: %w", ErrTimeout, context.DeadlineExceeded)
		case errors.Is(cause, ErrClosed):
			return nil, ErrClosed
		default:
			return nil, fmt.Errorf("oauthloopback: aborted: %w", cause)
		}
	}
}

// Close abandons the wait.
func (r *Receiver) Close() error { r.cancel(ErrClosed); r.shutdown(); return nil }

func (r *Receiver) shutdown() {
	r.once.Do(func() {
		if r.timer != nil {
			r.timer.Stop()
		}
		r.mu.Lock()
		if r.got == nil {
			r.got = url.Values{} // no answer is accepted any more
		}
		r.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := r.srv.Shutdown(ctx); err != nil {
			r.srv.Close()
		}
		for _, l := range r.ls {
			l.Close()
		}
		r.cancel(ErrClosed)
	})
}

func (r *Receiver) serveHTTP(w http.ResponseWriter, req *http.Request) {
	setSecurityHeaders(w.Header())
	s := &Session{pages: r.pages} // for writePage
	if !slices.ContainsFunc(r.hosts, func(h string) bool { return strings.EqualFold(h, req.Host) }) {
		s.writePage(w, http.StatusMisdirectedRequest, pageInvalid, "")
		return
	}
	if req.URL.Path != r.path {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "404 not found\n") //nolint:errcheck
		return
	}
	if req.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		s.writePage(w, http.StatusMethodNotAllowed, pageInvalid, "")
		return
	}
	v, err := ParseAnswer(req.URL.RawQuery, r.cfg.Params)
	if err != nil || subtle.ConstantTimeCompare([]byte(v.Get("state")), []byte(r.state)) != 1 {
		s.writePage(w, http.StatusBadRequest, pageInvalid, "")
		return
	}
	v.Del("state")
	r.mu.Lock()
	first := r.got == nil
	if first {
		r.got = v
		r.result <- v
	}
	r.mu.Unlock()
	if !first {
		s.writePage(w, http.StatusBadRequest, pageInvalid, "")
		return
	}
	failed := v.Get("error") != ""
	if r.cfg.Failed != nil {
		failed = r.cfg.Failed(v)
	}
	w.Header().Set("Connection", "close")
	if failed {
		// Nothing of the answer is shown: the page is served from this
		// machine, so text put into it would look like the app's own. The
		// caller reports the error.
		s.writePage(w, http.StatusOK, pageDenied, "")
		return
	}
	s.writePage(w, http.StatusOK, pageSuccess, "")
}

// ParseAnswer parses a redirect query: state (required) and the listed
// parameters, each at most once and printable ASCII (error_description any
// valid UTF-8); other parameters are dropped. Errors never quote the input.
func ParseAnswer(rawQuery string, params []string) (url.Values, error) {
	if len(rawQuery) > maxQueryLen {
		return nil, errMalformedRedirect
	}
	vals, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, errMalformedRedirect
	}
	for k, v := range vals {
		if k != "state" && !slices.Contains(params, k) {
			delete(vals, k) // providers add parameters of their own
			continue
		}
		valid := isVSChars
		if k == "error_description" {
			valid = utf8.ValidString
		}
		if len(v) != 1 || !valid(v[0]) {
			return nil, errMalformedRedirect
		}
	}
	if vals.Get("state") == "" {
		return nil, errMalformedRedirect
	}
	return vals, nil
}
