package oauthloopback

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// shutdownTimeout bounds the graceful part of the listener shutdown.
	shutdownTimeout = time.Second
	// listenAttempts is how often a new port is tried when the port is
	// free on one loopback address but taken on the other.
	listenAttempts = 10
)

// loopback is the listener core of a browser round trip, shared by the
// authorization-code flow (Session) and the one-off answer (Receiver): the
// loopback listeners, the random state, the request checks every answer
// passes before it is parsed, the pages, the overall timeout and the
// shutdown. What an answer means is its owner's business.
type loopback struct {
	uri       string   // the redirect URI, e.g. "http://127.0.0.1:53127/"
	state     string   // the state the answer must carry
	path      string   // the redirect URI path
	hosts     []string // accepted Host header values
	pages     []PageText
	listeners []net.Listener

	ctx      context.Context // ends with the round trip; its cause says why
	cancel   context.CancelCauseFunc
	srv      *http.Server
	deadline *time.Timer
	stopOnce sync.Once
}

// checkLoopback applies the redirect rules: a loopback host (HostIPv4 by
// default; "::1" is read as HostIPv6), a plain absolute path ("/" by
// default) and a port in range (0: any free one).
func checkLoopback(redirectHost, redirectPath string, port int) (host, path string, err error) {
	switch host = strings.ToLower(redirectHost); host {
	case "":
		host = HostIPv4
	case HostLocalhost, HostIPv4, HostIPv6:
	case "::1":
		host = HostIPv6
	default:
		return "", "", fmt.Errorf("oauthloopback: RedirectHost %q is not a loopback host (use %q, %q or %q)",
			redirectHost, HostLocalhost, HostIPv4, HostIPv6)
	}
	path = redirectPath
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#%\\ ") || strings.Contains(path, "//") ||
		strings.ContainsFunc(path, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		return "", "", fmt.Errorf("oauthloopback: RedirectPath %q must be a plain absolute path", redirectPath)
	}
	if port < 0 || port > 65535 {
		return "", "", fmt.Errorf("oauthloopback: Port %d out of range", port)
	}
	return host, path, nil
}

// bindLoopback draws the state and binds the loopback listeners for host
// and path (as checkLoopback returned them). Nothing is served yet: call
// serve, or release if the round trip does not start after all.
func bindLoopback(ctx context.Context, host, path string, port int, pages []PageText) (*loopback, error) {
	state, err := randomState()
	if err != nil {
		return nil, err
	}
	listeners, err := listenLoopback(ctx, host, port)
	if err != nil {
		return nil, err
	}
	p := strconv.Itoa(listeners[0].Addr().(*net.TCPAddr).Port)
	if len(pages) == 0 {
		pages = PagesFor("")
	}
	return &loopback{
		uri:       "http://" + host + ":" + p + path,
		state:     state,
		path:      path,
		hosts:     []string{"127.0.0.1:" + p, "localhost:" + p, "[::1]:" + p},
		pages:     pages,
		listeners: listeners,
	}, nil
}

// listenLoopback binds the loopback address of the redirect host (required)
// and the other loopback address on the same port (best effort). If the
// other stack works but that port is taken there (another process could
// swallow the redirect), it starts over with a new random port.
func listenLoopback(ctx context.Context, host string, port int) ([]net.Listener, error) {
	type addr struct{ network, ip string }
	primary, secondary := addr{"tcp4", "127.0.0.1"}, addr{"tcp6", "::1"}
	if host == HostIPv6 {
		primary, secondary = secondary, primary
	}
	var lc net.ListenConfig
	for range listenAttempts {
		lp, err := lc.Listen(ctx, primary.network, net.JoinHostPort(primary.ip, strconv.Itoa(port)))
		if err != nil {
			return nil, fmt.Errorf("oauthloopback: cannot listen on loopback: %w", err)
		}
		p := strconv.Itoa(lp.Addr().(*net.TCPAddr).Port)
		ls, err := lc.Listen(ctx, secondary.network, net.JoinHostPort(secondary.ip, p))
		if err == nil {
			return []net.Listener{lp, ls}, nil
		}
		probe, perr := lc.Listen(ctx, secondary.network, net.JoinHostPort(secondary.ip, "0"))
		if perr != nil {
			return []net.Listener{lp}, nil // that IP version is unavailable
		}
		probe.Close()
		lp.Close()
		if port != 0 {
			return nil, fmt.Errorf("oauthloopback: port %d is in use on %s: %w", port, secondary.ip, err)
		}
	}
	return nil, errors.New("oauthloopback: no port free on both loopback addresses")
}

// randomState returns 32 random bytes, base64url-encoded without padding.
func randomState() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("oauthloopback: generating state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// release closes the listeners of a round trip that never served.
func (l *loopback) release() {
	for _, ln := range l.listeners {
		ln.Close()
	}
}

// serve starts answering with h on every listener. The round trip's context
// derives from ctx. After timeout (0: DefaultTimeout, negative: none)
// expire runs; nil means the round trip ends with ErrTimeout. writeTimeout
// bounds the writing of one answer page.
func (l *loopback) serve(ctx context.Context, h http.HandlerFunc, writeTimeout, timeout time.Duration, expire func()) {
	l.ctx, l.cancel = context.WithCancelCause(ctx)
	l.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       5 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	for _, ln := range l.listeners {
		go l.srv.Serve(ln) //nolint:errcheck // returns ErrServerClosed on shutdown
	}
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if expire == nil {
		expire = func() { l.cancel(ErrTimeout) }
	}
	if timeout > 0 {
		l.deadline = time.AfterFunc(timeout, expire)
	}
}

// stop ends the round trip once: it stops the timeout, runs last (under
// which the owner stops accepting answers), stops the HTTP server
// gracefully for up to shutdownTimeout and then forcibly, closes the
// listeners and cancels the context with ErrClosed. Later calls do nothing.
func (l *loopback) stop(last func()) {
	l.stopOnce.Do(func() {
		if l.deadline != nil {
			l.deadline.Stop()
		}
		last()
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := l.srv.Shutdown(ctx); err != nil {
			l.srv.Close()
		}
		// Shutdown closes only the listeners Serve has already taken up; a
		// Serve goroutine that has not started yet would otherwise leave its
		// port open.
		l.release()
		l.cancel(ErrClosed)
	})
}

// open runs opener for url unless the round trip has ended (ErrClosed).
func (l *loopback) open(ctx context.Context, opener Opener, url string) error {
	if err := l.ctx.Err(); err != nil {
		return ErrClosed
	}
	return opener(ctx, url)
}

// openInBackground opens url in its own goroutine with the round trip's
// context and hands the result to onOpen (if set).
func (l *loopback) openInBackground(opener Opener, url string, onOpen func(error)) {
	go func() {
		err := l.open(l.ctx, opener, url)
		if onOpen != nil {
			onOpen(err)
		}
	}()
}

// interrupted ends the round trip because the caller's ctx ended.
func (l *loopback) interrupted(ctx context.Context, what string) error {
	l.cancel(ctx.Err())
	return fmt.Errorf("oauthloopback: %s: %w", what, ctx.Err())
}

// abortErr is the error for a round trip whose own context ended: the
// timeout (ErrTimeout, matching context.DeadlineExceeded too), Close
// (ErrClosed) or the parent context.
func (l *loopback) abortErr(what string) error {
	cause := context.Cause(l.ctx)
	switch {
	case errors.Is(cause, ErrTimeout):
		return fmt.Errorf("%w: %w", ErrTimeout, context.DeadlineExceeded)
	case errors.Is(cause, ErrClosed):
		return ErrClosed
	}
	return fmt.Errorf("oauthloopback: %s: %w", what, cause)
}

// admit applies the checks every request passes before its query is read:
// the security headers, the Host header (it defeats DNS rebinding; browsers
// send the redirect host), the redirect path (favicon.ico and anything else
// get a plain 404) and GET. It answers a request that fails and reports
// false.
func (l *loopback) admit(w http.ResponseWriter, r *http.Request) bool {
	setSecurityHeaders(w.Header())
	if !l.hostAllowed(r.Host) {
		l.writePage(w, http.StatusMisdirectedRequest, pageInvalid, "")
		return false
	}
	if r.URL.Path != l.path {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "404 not found\n") //nolint:errcheck
		return false
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		l.writePage(w, http.StatusMethodNotAllowed, pageInvalid, "")
		return false
	}
	return true
}

// stateMatches compares an answer's state with the round trip's in
// constant time.
func (l *loopback) stateMatches(state string) bool {
	return subtle.ConstantTimeCompare([]byte(state), []byte(l.state)) == 1
}

func (l *loopback) hostAllowed(host string) bool {
	for _, h := range l.hosts {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}

// addrs are the addresses the listeners are bound to.
func (l *loopback) addrs() []net.Addr {
	out := make([]net.Addr, len(l.listeners))
	for i, ln := range l.listeners {
		out[i] = ln.Addr()
	}
	return out
}
