package oauthloopback

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Redirect URI hosts. RFC 8252 §8.3 prefers the IP literals; some providers
// (Microsoft Entra ID) only accept "localhost" with an arbitrary port.
const (
	HostLocalhost = "localhost"
	HostIPv4      = "127.0.0.1"
	HostIPv6      = "[::1]"
)

// Defaults used when the corresponding Config field is zero.
const (
	DefaultTimeout         = 5 * time.Minute
	DefaultExchangeTimeout = 30 * time.Second
)

// pageWait bounds how long the redirect page waits for the token exchange
// to finish so that it can say "signed in" or "failed".
const pageWait = 20 * time.Second

var (
	// ErrTimeout is returned by Wait (together with
	// context.DeadlineExceeded) when no valid redirect arrived within
	// Config.Timeout.
	ErrTimeout = errors.New("oauthloopback: timed out waiting for the sign-in in the browser")
	// ErrClosed is returned by Wait after Session.Close.
	ErrClosed = errors.New("oauthloopback: session closed")
	// ErrIssuerMismatch is returned by Wait when the redirect carried the
	// right state but the wrong authorization server's identifier (RFC 9207
	// "iss"), or none where Config.RequireIssuer demands one: a mix-up
	// attack or a misconfigured provider. No token request is made.
	ErrIssuerMismatch = errors.New("oauthloopback: the sign-in answer came from another authorization server than the one asked (iss mismatch)")
)

// Opener opens url in a browser. It should return once the browser has been
// asked to open the page; a nil error does not prove the user sees it.
type Opener func(ctx context.Context, url string) error

// Config describes one authorization-code flow.
type Config struct {
	// OAuth2 holds the client ID, endpoints and scopes. RedirectURL must be
	// empty: the flow sets it from RedirectHost, the port and RedirectPath.
	// Without a ClientSecret (a public client) client_id is always sent in
	// the request body (oauth2.AuthStyleInParams); with a secret an
	// AuthStyleAutoDetect endpoint is also switched to AuthStyleInParams.
	OAuth2 oauth2.Config

	// RedirectHost is the host written into the redirect URI: HostIPv4
	// (default), HostLocalhost or HostIPv6. It must match what the client
	// registration at the provider allows.
	RedirectHost string
	// RedirectPath is the redirect URI path; default "/". It must start
	// with "/" and carry no query or fragment.
	RedirectPath string
	// Port is a fixed listening port; 0 (default) picks a random free port.
	Port int

	// AuthParams are extra authorization request parameters, for example
	// "prompt": "select_account" or "login_hint". Parameters the flow
	// sets itself (state, PKCE, redirect_uri, ...) are rejected.
	AuthParams map[string]string
	// TokenParams are extra token request parameters sent with the code,
	// for example "resource" (RFC 8707 §2.2: the resource the access token
	// is for, repeated from the authorization request). Parameters the flow
	// sets itself are rejected, as for AuthParams.
	TokenParams map[string]string

	// Opener opens the authorization URL; nil means DefaultOpener. It runs
	// in its own goroutine after the listener is up, with a context that
	// ends with the session. Its failure is not fatal: the flow keeps
	// waiting so that the user can open Session.AuthURL by hand.
	Opener Opener
	// OnURL, if set, is called with the authorization URL before the
	// opener starts (useful with Run; Start callers can read AuthURL).
	OnURL func(authURL string)
	// OnOpen, if set, is called from the opener goroutine with the
	// opener's result (nil on success).
	OnOpen func(err error)

	// HTTPClient is used for the token request; nil means a client with a
	// 30 s timeout using http.DefaultTransport (proxy from environment).
	// Redirects are never followed on the token request, whatever the
	// client's CheckRedirect says.
	HTTPClient *http.Client
	// Timeout bounds the wait for the redirect; 0 means DefaultTimeout,
	// a negative value means no timeout (context only).
	Timeout time.Duration
	// ExchangeTimeout bounds the token request; 0 means
	// DefaultExchangeTimeout.
	ExchangeTimeout time.Duration

	// Issuer is the authorization server's issuer identifier (RFC 8414 /
	// OpenID Connect "issuer"). When set, an "iss" parameter in the
	// redirect must equal it exactly (RFC 9207 §2.4, simple string
	// comparison); a different value ends the flow with ErrIssuerMismatch.
	// Empty: an "iss" that arrives cannot be checked and is ignored.
	Issuer string
	// IssuerMatch, when Issuer is empty, decides an "iss" that arrives for
	// a server whose identifier is not one fixed string (Microsoft's
	// per-tenant https://login.microsoftonline.com/{tid}/v2.0); false ends
	// the flow with ErrIssuerMismatch. nil: such an "iss" is ignored.
	IssuerMatch func(iss string) bool
	// RequireIssuer refuses a redirect without "iss" (ErrIssuerMismatch):
	// set it when the server's metadata says
	// authorization_response_iss_parameter_supported, or the provider is
	// known to send it. It needs Issuer.
	RequireIssuer bool

	// Pages are the texts of the pages shown in the browser, one entry per
	// language shown (side by side); nil means Polish and English.
	// See PagesFor.
	Pages []PageText
}

// tokenReserved are token request parameters the flow sets besides
// reservedParams.
var tokenReserved = map[string]bool{"grant_type": true, "code": true}

// reservedParams are set by the flow and may not be overridden.
var reservedParams = map[string]bool{
	"response_type": true, "client_id": true, "redirect_uri": true, "scope": true,
	"state": true, "code_challenge": true, "code_challenge_method": true,
	"code_verifier": true, "client_secret": true,
}

// Session is one running authorization flow, created by Start. Its methods
// are safe for concurrent use.
type Session struct {
	// AuthURL is the authorization URL opened in the browser. Show it to
	// the user (with a Copy button) in case no browser appears.
	AuthURL string
	// RedirectURL is the redirect URI sent to the provider, e.g.
	// "http://localhost:53127/".
	RedirectURL string

	*loopback

	cfg             oauth2.Config
	verifier        string
	opener          Opener
	onOpen          func(error)
	httpClient      *http.Client
	exchangeTimeout time.Duration
	tokenParams     map[string]string
	issuer          string
	issuerMatch     func(string) bool
	requireIssuer   bool

	mu       sync.Mutex
	accepted *redirectParams // first valid redirect
	closed   bool
	resultCh chan redirectParams
	outcome  outcome
	done     chan struct{} // closed once outcome is final

	waitMu sync.Mutex
	waited bool
	tok    *oauth2.Token
	err    error
}

type outcome int

const (
	outcomePending outcome = iota
	outcomeSuccess
	outcomeFailure // token exchange failed or flow aborted after the redirect
	outcomeDenied  // the authorization server returned an error
)

// Start validates cfg, binds the loopback listener, starts serving, and
// then asks the opener to open the authorization URL (in a goroutine).
// Cancelling ctx aborts the session, like Close. Call Wait to get the token,
// or Close to abandon the session; either shuts the listener down.
func Start(ctx context.Context, cfg Config) (*Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	host, path, err := validate(&cfg)
	if err != nil {
		return nil, err
	}

	lb, err := bindLoopback(ctx, host, path, cfg.Port, cfg.Pages)
	if err != nil {
		return nil, err
	}

	s := &Session{
		RedirectURL:     lb.uri,
		loopback:        lb,
		verifier:        oauth2.GenerateVerifier(),
		opener:          cfg.Opener,
		onOpen:          cfg.OnOpen,
		httpClient:      cfg.HTTPClient,
		exchangeTimeout: cfg.ExchangeTimeout,
		tokenParams:     maps.Clone(cfg.TokenParams),
		issuer:          cfg.Issuer,
		issuerMatch:     cfg.IssuerMatch,
		requireIssuer:   cfg.RequireIssuer,
		resultCh:        make(chan redirectParams, 1),
		done:            make(chan struct{}),
	}
	if s.opener == nil {
		s.opener = DefaultOpener
	}
	if s.httpClient == nil {
		s.httpClient = &http.Client{Timeout: DefaultExchangeTimeout}
	}
	s.httpClient = noRedirects(s.httpClient)
	if s.exchangeTimeout <= 0 {
		s.exchangeTimeout = DefaultExchangeTimeout
	}

	s.cfg = cfg.OAuth2
	s.cfg.Scopes = append([]string(nil), cfg.OAuth2.Scopes...)
	s.cfg.RedirectURL = s.RedirectURL // byte-identical in both requests
	if s.cfg.ClientSecret == "" || s.cfg.Endpoint.AuthStyle == oauth2.AuthStyleAutoDetect {
		s.cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(s.verifier)}
	for k, v := range cfg.AuthParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	s.AuthURL = s.cfg.AuthCodeURL(s.state, opts...)

	// The redirect page waits for the exchange, so it may take pageWait
	// to write.
	s.serve(ctx, s.serveHTTP, pageWait+10*time.Second, cfg.Timeout, s.expire)
	// Abort (and free the port) when ctx is cancelled or Close is called,
	// even if nobody calls Wait.
	go func() {
		select {
		case <-s.ctx.Done():
			s.shutdown(outcomeFailure)
		case <-s.done:
		}
	}()

	if cfg.OnURL != nil {
		cfg.OnURL(s.AuthURL)
	}
	s.openInBackground(s.opener, s.AuthURL, s.onOpen)
	return s, nil
}

// Run is Start followed by Wait. Use Config.OnURL to learn the
// authorization URL.
func Run(ctx context.Context, cfg Config) (*oauth2.Token, error) {
	s, err := Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Wait(ctx)
}

// OpenBrowser runs the configured opener for AuthURL again (for an "Open
// browser" button). Start already does this once.
func (s *Session) OpenBrowser(ctx context.Context) error {
	return s.open(ctx, s.opener, s.AuthURL)
}

// Addrs returns the addresses the loopback listener is bound to.
func (s *Session) Addrs() []net.Addr { return s.addrs() }

// Wait blocks until the browser delivers a redirect with the right state and
// the code has been exchanged for a token, or until the timeout, ctx, the
// Start context or Close ends the session. The listener is shut down before
// Wait returns. Later calls return the same result.
//
// Errors: ErrIssuerMismatch (RFC 9207: the answer names another
// authorization server; checked before anything else, no token request),
// *AuthError (the provider redirected with an error), *TokenError
// (the token endpoint refused), ErrTimeout (also matches
// context.DeadlineExceeded), ErrClosed, or the context's error.
func (s *Session) Wait(ctx context.Context) (*oauth2.Token, error) {
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	if s.waited {
		return s.tok, s.err
	}
	tok, err := s.wait(ctx)
	switch {
	case err == nil:
		s.shutdown(outcomeSuccess)
	case errors.As(err, new(*AuthError)):
		s.shutdown(outcomeDenied)
	default:
		s.shutdown(outcomeFailure)
	}
	s.waited, s.tok, s.err = true, tok, err
	return tok, err
}

func (s *Session) wait(ctx context.Context) (*oauth2.Token, error) {
	var r redirectParams
	select {
	case r = <-s.resultCh:
	case <-ctx.Done():
		return nil, s.interrupted(ctx, abortedSignIn)
	case <-s.ctx.Done():
		return nil, s.abortErr(abortedSignIn)
	}
	if !r.IssuerOK {
		return nil, ErrIssuerMismatch
	}
	if r.Error != "" {
		return nil, &AuthError{Code: r.Error, Description: r.ErrorDescription, URI: r.ErrorURI}
	}

	exCtx, cancel := context.WithTimeout(ctx, s.exchangeTimeout)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	exCtx = context.WithValue(exCtx, oauth2.HTTPClient, s.httpClient)
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(s.verifier)}
	for k, v := range s.tokenParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	tok, err := s.cfg.Exchange(exCtx, r.Code, opts...)
	if err != nil {
		if s.ctx.Err() != nil && ctx.Err() == nil {
			return nil, s.abortErr(abortedSignIn)
		}
		return nil, tokenError(err)
	}
	return tok, nil
}

// abortedSignIn names an aborted Session in its errors.
const abortedSignIn = "sign-in aborted"

// Close abandons the session: a pending Wait returns ErrClosed and the
// listener is shut down. Close after Wait is a no-op. It always returns nil.
func (s *Session) Close() error {
	s.cancel(ErrClosed)
	s.shutdown(outcomeFailure)
	return nil
}

// expire is the overall timeout: it aborts the session unless a valid
// redirect has already been accepted (then the exchange decides).
func (s *Session) expire() {
	s.mu.Lock()
	accepted := s.accepted != nil
	if !accepted {
		s.cancel(ErrTimeout)
	}
	s.mu.Unlock()
}

// shutdown records the final outcome (releasing redirect pages that wait for
// it) and stops the listener (see loopback.stop). Only the first call has an
// effect.
func (s *Session) shutdown(o outcome) {
	s.stop(func() {
		s.mu.Lock()
		s.outcome = o
		s.closed = true // no redirect is accepted any more
		close(s.done)
		s.mu.Unlock()
	})
}

// noRedirects is a copy of hc that never follows a redirect. The token
// request's body holds the authorization code and the PKCE verifier, and
// net/http re-posts the body on a 307/308 to any host, plain http included;
// a token endpoint has no business redirecting, so its 3xx is an error.
func noRedirects(hc *http.Client) *http.Client {
	cp := *hc
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

func validate(cfg *Config) (host, path string, err error) {
	if cfg.OAuth2.ClientID == "" {
		return "", "", errors.New("oauthloopback: OAuth2.ClientID is empty")
	}
	if cfg.OAuth2.Endpoint.AuthURL == "" || cfg.OAuth2.Endpoint.TokenURL == "" {
		return "", "", errors.New("oauthloopback: OAuth2.Endpoint needs AuthURL and TokenURL")
	}
	if cfg.OAuth2.RedirectURL != "" {
		return "", "", errors.New("oauthloopback: OAuth2.RedirectURL must be empty; use RedirectHost and RedirectPath")
	}
	if host, path, err = checkLoopback(cfg.RedirectHost, cfg.RedirectPath, cfg.Port); err != nil {
		return "", "", err
	}
	if cfg.RequireIssuer && cfg.Issuer == "" {
		return "", "", errors.New("oauthloopback: RequireIssuer needs Issuer")
	}
	for k := range cfg.AuthParams {
		if reservedParams[strings.ToLower(k)] || k == "" {
			return "", "", fmt.Errorf("oauthloopback: AuthParams may not set %q", k)
		}
	}
	for k := range cfg.TokenParams {
		if reservedParams[strings.ToLower(k)] || tokenReserved[strings.ToLower(k)] || k == "" {
			return "", "", fmt.Errorf("oauthloopback: TokenParams may not set %q", k)
		}
	}
	return host, path, nil
}
