package discover

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"infino.legal/mailbox/mailcfg"
)

var errHTTPSDowngrade = errors.New("redirect from https to http refused")

// checkRedirect follows at most MaxRedirects redirects, only to http(s),
// and never from https down to http.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= MaxRedirects {
		return fmt.Errorf("stopped after %d redirects", MaxRedirects)
	}
	switch req.URL.Scheme {
	case "https":
	case "http":
		for _, v := range via {
			if v.URL.Scheme == "https" {
				return errHTTPSDowngrade
			}
		}
	default:
		return fmt.Errorf("redirect to a %q URL refused", req.URL.Scheme)
	}
	return nil
}

var defaultClient = sync.OnceValue(func() *http.Client { return newDefaultClient(nil) })

func newDefaultClient(resolver *net.Resolver) *http.Client {
	d := &net.Dialer{Timeout: FetchTimeout, Resolver: resolver}
	t := &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            d.DialContext,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    FetchTimeout,
		ResponseHeaderTimeout:  FetchTimeout,
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      true,
		IdleConnTimeout:        30 * time.Second,
	}
	return &http.Client{Transport: t, Timeout: FetchTimeout, CheckRedirect: checkRedirect}
}

// httpClient returns the client one discovery uses, with this package's
// redirect policy and time limit whatever the caller's client says, and a
// function that releases what it holds.
func httpClient(c *http.Client, resolver *net.Resolver) (*http.Client, func()) {
	if c == nil {
		if resolver == nil {
			return defaultClient(), func() {}
		}
		c = newDefaultClient(resolver)
		return c, c.CloseIdleConnections
	}
	cp := *c
	cp.CheckRedirect = checkRedirect
	if cp.Timeout <= 0 || cp.Timeout > FetchTimeout {
		cp.Timeout = FetchTimeout
	}
	return &cp, func() {}
}

// fetchJob fetches one autoconfig URL and reports its rank.
func (e *engine) fetchJob(ctx context.Context, r rank, src mailcfg.Source, rawURL string) {
	rec := e.log.begin(src, displayURL(rawURL))
	c, err := e.fetchCandidate(ctx, rawURL, src)
	e.log.end(rec, err)
	e.send(ctx, r, c)
}

func (e *engine) fetchCandidate(ctx context.Context, rawURL string, src mailcfg.Source) (*candidate, error) {
	cfg, lowTrust, err := e.fetchConfig(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	ch, err := cfg.choose(e.addr, e.proto)
	if err != nil {
		return nil, err
	}
	hints := append([]string{ch.provider.ID}, ch.provider.Domains...)
	return e.finish(ch.settings(e.addr), src, lowTrust, hints)
}

// fetchConfig GETs and parses one config-v1.1.xml. lowTrust is true when
// any part of the exchange was plain http.
func (e *engine) fetchConfig(ctx context.Context, rawURL string) (*Config, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("Accept", "application/xml, text/xml;q=0.9, */*;q=0.1")
	req.Header.Set("User-Agent", "InfinoMailbox/"+mailcfg.Version)
	lowTrust := req.URL.Scheme != "https"
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, lowTrust, err
	}
	defer resp.Body.Close()
	if resp.Request != nil && resp.Request.URL.Scheme != "https" {
		lowTrust = true
	}
	data, err := readOK(resp, MaxConfigSize)
	if err != nil {
		return nil, lowTrust, err
	}
	cfg, err := ParseConfig(data)
	return cfg, lowTrust, err
}

// readOK reads the body of a 200 answer, refusing any other status and a
// body of more than limit bytes: at once when the server declares such a
// length, else after limit+1 bytes, so a server that streams without end
// costs no more than that.
func readOK(resp *http.Response, limit int64) ([]byte, error) {
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("response of %d bytes is larger than %d", resp.ContentLength, limit)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("response is larger than %d bytes", limit)
	}
	return data, nil
}

// displayURL is a URL for the report: without its query, which carries the
// address.
func displayURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(bad URL)"
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.User = "", false, "", nil
	return u.String()
}
