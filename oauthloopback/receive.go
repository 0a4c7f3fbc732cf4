package oauthloopback

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
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

	*loopback
	cfg ReceiveConfig

	mu     sync.Mutex
	got    url.Values
	result chan url.Values
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
	host, path, err := checkLoopback(cfg.RedirectHost, cfg.RedirectPath, cfg.Port)
	if err != nil {
		return nil, err
	}
	for _, p := range cfg.Params {
		if p == "state" || p == "" {
			return nil, fmt.Errorf("oauthloopback: Params may not list %q", p)
		}
	}
	lb, err := bindLoopback(ctx, host, path, cfg.Port, cfg.Pages)
	if err != nil {
		return nil, err
	}
	r := &Receiver{RedirectURL: lb.uri, loopback: lb, cfg: cfg, result: make(chan url.Values, 1)}
	r.URL, err = cfg.URL(r.RedirectURL, r.state)
	if err != nil {
		lb.release()
		return nil, err
	}
	r.serve(ctx, r.serveHTTP, 10*time.Second, cfg.Timeout, nil)
	go func() { <-r.ctx.Done(); r.shutdown() }()
	if cfg.OnURL != nil {
		cfg.OnURL(r.URL)
	}
	opener := cfg.Opener
	if opener == nil {
		opener = DefaultOpener
	}
	r.openInBackground(opener, r.URL, cfg.OnOpen)
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
		return nil, r.interrupted(ctx, "aborted")
	case <-r.ctx.Done():
		return nil, r.abortErr("aborted")
	}
}

// Close abandons the wait.
func (r *Receiver) Close() error { r.cancel(ErrClosed); r.shutdown(); return nil }

// shutdown stops accepting answers and the listener (see loopback.stop).
func (r *Receiver) shutdown() {
	r.stop(func() {
		r.mu.Lock()
		if r.got == nil {
			r.got = url.Values{} // no answer is accepted any more
		}
		r.mu.Unlock()
	})
}

func (r *Receiver) serveHTTP(w http.ResponseWriter, req *http.Request) {
	if !r.admit(w, req) {
		return
	}
	v, err := ParseAnswer(req.URL.RawQuery, r.cfg.Params)
	if err != nil || !r.stateMatches(v.Get("state")) {
		r.writePage(w, http.StatusBadRequest, pageInvalid, "")
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
		r.writePage(w, http.StatusBadRequest, pageInvalid, "")
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
		r.writePage(w, http.StatusOK, pageDenied, "")
		return
	}
	r.writePage(w, http.StatusOK, pageSuccess, "")
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
