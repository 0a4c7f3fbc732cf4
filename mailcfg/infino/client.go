package infino

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/urlcheck"
)

// MailboxesPath is the path of the endpoint that creates mailboxes, below
// the Infino URL.
const MailboxesPath = "/api/v1/mailboxes"

// maxResponse bounds what is read of any answer.
const maxResponse = 64 << 10

// errTooLargeAnswer: Infino (or something in the way) answered with more
// than maxResponse bytes; such an answer is not read, let alone trusted.
var errTooLargeAnswer = errors.New("infino: answer larger than 64 KiB")

// TokenSource gives the Bearer token for Infino's API.
type TokenSource interface {
	// Token returns a valid access token, refreshing or signing in as
	// needed. An *Error of KindSignIn means no token could be had now.
	Token(ctx context.Context) (string, error)
	// Renew is called once after Infino answered 401 to token: it drops
	// that token and returns a new one (refresh, else a new sign-in).
	Renew(ctx context.Context, rejected string) (string, error)
}

// Retry says how often and how long a submission is retried within one
// call before it is left in the outbox.
type Retry struct {
	// Attempts is the number of requests in one go (default 4).
	Attempts int
	// Initial is the first wait (default 1 s); each later wait doubles, up
	// to Max (default 30 s). Waits are jittered: a random value between
	// half and all of the step.
	Initial, Max time.Duration
	// MaxRetryAfter: a Retry-After longer than this (default 60 s) is not
	// waited for; the submission goes to the outbox at once and is tried
	// again after the time Infino asked for.
	MaxRetryAfter time.Duration
}

// DefaultRetry is used for zero fields of Retry.
var DefaultRetry = Retry{Attempts: 4, Initial: time.Second, Max: 30 * time.Second, MaxRetryAfter: time.Minute}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = DefaultRetry.Attempts
	}
	if r.Initial <= 0 {
		r.Initial = DefaultRetry.Initial
	}
	if r.Max <= 0 {
		r.Max = DefaultRetry.Max
	}
	if r.MaxRetryAfter <= 0 {
		r.MaxRetryAfter = DefaultRetry.MaxRetryAfter
	}
	return r
}

// step is the un-jittered wait before attempt n+1 (n counts from 1).
func (r Retry) step(n int) time.Duration {
	d := r.Initial
	for i := 1; i < n && d < r.Max; i++ {
		d *= 2
	}
	return min(d, r.Max)
}

// Client speaks the Infino mailbox API. All fields but BaseURL and Tokens
// have defaults.
type Client struct {
	// BaseURL is the Infino URL (https://, or http:// to loopback).
	BaseURL string
	Tokens  TokenSource
	// HTTP sends the requests; nil means NewHTTPClient(). Redirects are
	// never followed (the body carries a secret).
	HTTP *http.Client
	// Info is sent as "client"; zero means DefaultClientInfo().
	Info ClientInfo
	// Lang is the preferred language of Infino's messages ("pl", "en").
	Lang  string
	Retry Retry
	// Sleep waits between attempts; nil means a timer that ends with ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock (for Retry-After dates); nil means time.Now.
	Now func() time.Time
	// Jitter returns a random duration in [0, d); nil means crypto/rand.
	Jitter func(d time.Duration) time.Duration
	// OnAttempt, if set, is called before each request with its number.
	OnAttempt func(n int)
	// RequestTimeout bounds each request (default 60 s): an answer that
	// does not come counts as a network error and is retried.
	RequestTimeout time.Duration
}

// DefaultRequestTimeout bounds one request when Client.RequestTimeout is 0.
const DefaultRequestTimeout = time.Minute

// NewHTTPClient is the default client for Infino: system roots, proxy from
// the environment, a 30 s overall timeout, TLS 1.2 or newer.
// Redirects are followed only to https (plain http only to loopback, for
// tests and the demo), at most five times: Infino is reached over HTTPS only.
func NewHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	return &http.Client{Transport: t, Timeout: 30 * time.Second, CheckRedirect: httpsRedirectsOnly}
}

func httpsRedirectsOnly(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("infino: stopped after 5 redirects")
	}
	if err := urlcheck.Check(req.URL.Scheme+"://"+req.URL.Host, true); err != nil {
		return fmt.Errorf("infino: refusing a redirect to %s: %v", req.URL.Redacted(), err)
	}
	return nil
}

// SleepContext waits for d or until ctx ends.
func SleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func randomJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	n, err := rand.Int(rand.Reader, big.NewInt(int64(d)))
	if err != nil {
		return d / 2
	}
	return time.Duration(n.Int64())
}

// CheckBaseURL accepts an Infino URL: absolute https (http only to a
// loopback address), no credentials, query or fragment. It returns the URL
// without a trailing slash.
func CheckBaseURL(u string) (string, error) {
	u = strings.TrimRight(strings.TrimSpace(u), "/")
	if u == "" {
		return "", errors.New("no Infino URL")
	}
	if err := urlcheck.Check(u, true); err != nil {
		return "", fmt.Errorf("Infino URL %q: %w", u, err)
	}
	return u, nil
}

// noRedirect refuses every redirect: the request body holds a secret, and a
// 307/308 would send it on to wherever the answer points.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func (c *Client) httpClient() *http.Client {
	hc := c.HTTP
	if hc == nil {
		hc = NewHTTPClient()
	}
	cp := *hc
	cp.CheckRedirect = noRedirect
	return &cp
}

// CreateMailbox sends one submission with the given Idempotency-Key,
// retrying network errors, 429 and 5xx with exponential backoff and jitter
// (honouring Retry-After), and signing in again once after a 401. It
// returns the receipt or an *Error.
func (c *Client) CreateMailbox(ctx context.Context, key string, sub Submission) (Receipt, error) {
	return c.write(ctx, http.MethodPost, MailboxesPath, key, "", sub)
}

// write sends one submission as a POST (creation) or a PUT (replacement,
// guarded by ifMatch) with the retries of CreateMailbox.
func (c *Client) write(ctx context.Context, method, path, key, ifMatch string, sub Submission) (Receipt, error) {
	base, err := CheckBaseURL(c.BaseURL)
	if err != nil {
		return Receipt{}, &Error{Kind: KindConfig, Err: err, Message: messages[KindConfig]}
	}
	if c.Tokens == nil {
		return Receipt{}, &Error{Kind: KindConfig, Err: errors.New("no token source"), Message: messages[KindConfig]}
	}
	info := c.Info
	if info.Name == "" {
		info = DefaultClientInfo()
	}
	body, err := encodeBody(sub, info)
	if err != nil {
		return Receipt{}, &Error{Kind: KindConfig, Err: err, Message: messages[KindConfig]}
	}
	retry := c.Retry.withDefaults()
	sleep, now, jitter := c.Sleep, c.Now, c.Jitter
	if sleep == nil {
		sleep = SleepContext
	}
	if now == nil {
		now = time.Now
	}
	if jitter == nil {
		jitter = randomJitter
	}
	hc := c.httpClient()

	token, err := c.Tokens.Token(ctx)
	if err != nil {
		return Receipt{}, tokenErr(ctx, err)
	}
	renewed := false
	for attempt := 1; ; attempt++ {
		if c.OnAttempt != nil {
			c.OnAttempt(attempt)
		}
		rec, e := c.post(ctx, hc, method, base+path, key, ifMatch, token, body, info, now)
		if e == nil {
			return rec, nil
		}
		if e.Kind == KindUnauthorized && !renewed {
			renewed = true
			token, err = c.Tokens.Renew(ctx, token)
			if err != nil {
				return Receipt{}, tokenErr(ctx, err)
			}
			attempt-- // the sign-in does not use up an attempt
			continue
		}
		if e.Kind != KindUnavailable || attempt >= retry.Attempts || e.RetryAfter > retry.MaxRetryAfter {
			return Receipt{}, e
		}
		wait := retry.step(attempt)
		wait = wait/2 + jitter(wait/2+1)
		if e.RetryAfter > 0 {
			// Never earlier than asked; a little later so that many
			// clients told the same second do not come back together.
			wait = e.RetryAfter + jitter(min(e.RetryAfter/10, time.Second)+1)
		}
		if err := sleep(ctx, wait); err != nil {
			return Receipt{}, newError(KindCancelled, 0, err)
		}
	}
}

func tokenErr(ctx context.Context, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if ctx.Err() != nil {
		return newError(KindCancelled, 0, err)
	}
	return newError(KindSignIn, 0, err)
}

// post makes one request and classifies the answer.
func (c *Client) post(ctx context.Context, hc *http.Client, method, url, key, ifMatch, token string, body []byte,
	info ClientInfo, now func() time.Time) (Receipt, *Error) {
	timeout := c.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return Receipt{}, newError(KindConfig, 0, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", key)
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Accept-Language", acceptLanguage(c.Lang))
	req.Header.Set("User-Agent", info.userAgent())
	resp, err := hc.Do(req)
	if err != nil {
		return Receipt{}, transportError(parent, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err == nil && len(data) > maxResponse {
		err = errTooLargeAnswer
	}
	if err != nil {
		// The answer was cut off or is too large to trust: the mailbox may
		// or may not exist; the retry with the same key tells.
		return Receipt{}, transportError(parent, err)
	}
	return classify(resp, data, now, method == http.MethodPut)
}

// classify maps an answer to a receipt or an error (see docs/infino-api.md).
func classify(resp *http.Response, data []byte, now func() time.Time, replace bool) (Receipt, *Error) {
	st := resp.StatusCode
	var eb errorBody
	if st >= 300 {
		_ = json.Unmarshal(data, &eb)
	}
	fail := func(kind Kind) *Error {
		e := newError(kind, st, nil)
		e.Code = eb.Error
		if eb.Message != "" || eb.Error != "" {
			e.Err = fmt.Errorf("%s %s", serverText(eb.Error, 100), serverText(eb.Message, 500))
		}
		return e
	}
	switch {
	case st == http.StatusCreated || st == http.StatusOK:
		var r Receipt
		if err := json.Unmarshal(data, &r); err != nil || r.ID == "" {
			// A success we cannot read: the retry with the same key is
			// answered from Infino's record, so it is safe to ask again.
			e := newError(KindUnavailable, st, fmt.Errorf("unreadable answer: %v", err))
			return Receipt{}, e
		}
		r.Replayed = (st == http.StatusOK && !replace) || strings.EqualFold(resp.Header.Get("Idempotent-Replayed"), "true")
		if r.ETag == "" {
			r.ETag = serverText(resp.Header.Get("ETag"), 200)
		}
		return r, nil
	case st == http.StatusBadRequest:
		e := fail(KindInvalid)
		e.Fields = eb.fieldErrors()
		if len(e.Fields) == 0 {
			e.Kind = KindRejected
			e.Message = messages[KindRejected]
		}
		return Receipt{}, e
	case st == http.StatusUnauthorized:
		return Receipt{}, fail(KindUnauthorized)
	case st == http.StatusForbidden:
		return Receipt{}, fail(KindForbidden)
	case st == http.StatusConflict && eb.Error == "mailbox_exists":
		e := fail(KindExists)
		e.Mailbox = eb.Mailbox.clean()
		return Receipt{}, e
	case replace && (st == http.StatusPreconditionFailed || st == http.StatusNotFound):
		// The mailbox changed (or went) since its ETag was read.
		e := fail(KindChanged)
		e.Mailbox = eb.Mailbox.clean()
		return Receipt{}, e
	case st == http.StatusConflict && eb.Error == "request_in_progress":
		// The same key is still being processed (an earlier attempt whose
		// answer was lost): ask again shortly.
		e := fail(KindUnavailable)
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), now)
		return Receipt{}, e
	case st == http.StatusTooManyRequests || st >= 500:
		e := fail(KindUnavailable)
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), now)
		return Receipt{}, e
	case !replace && (st == http.StatusNotFound || st == http.StatusMethodNotAllowed):
		// Nothing at this address takes mailboxes: the Infino address (or
		// a proxy in the way) is wrong, not the settings. It waits.
		e := fail(KindConfig)
		e.Message = noAPIMessage
		return Receipt{}, e
	case st >= 300 && st < 400:
		e := fail(KindRejected)
		e.Err = fmt.Errorf("unexpected redirect to %q (not followed)", resp.Header.Get("Location"))
		return Receipt{}, e
	default:
		return Receipt{}, fail(KindRejected)
	}
}

var noAPIMessage = mailcfg.Text{
	PL: "Pod tym adresem Infino nie ma usługi przyjmującej skrzynki (HTTP 404), więc ustawień nie przyjęto. Sprawdź adres Infino albo przekaż tę wiadomość działowi IT; ustawienia czekają w skrzynce nadawczej.",
	EN: "There is no mailbox service at this Infino address (HTTP 404), so the settings were not taken. Check the Infino address or pass this message on to your IT department; the settings are waiting in the outbox.",
}

// retryAfter reads Retry-After: delta-seconds or an HTTP date.
func retryAfter(v string, now func() time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(min(n, 24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now()); d > 0 {
			return min(d, 24*time.Hour)
		}
	}
	return 0
}

func acceptLanguage(lang string) string {
	if strings.HasPrefix(strings.ToLower(lang), "pl") {
		return "pl, en;q=0.5"
	}
	return "en, pl;q=0.5"
}
