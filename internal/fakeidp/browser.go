package fakeidp

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// Browser is a fake system browser for tests: it loads an authorization
// URL with HTTP (a client that trusts the fake's certificate) and follows
// the redirects to the app's loopback listener, as a user who picks the
// account and consents does.
type Browser struct {
	HTTP *http.Client
}

// Open is an opener (oauthloopback.Opener, signin.Config.Opener,
// infino.Browser.Opener): like a real browser it returns at once and loads
// the page in the background, so it never waits for the app that called it.
func (b Browser) Open(ctx context.Context, url string) error {
	go b.Visit(ctx, url)
	return nil
}

// Visit loads url and follows the redirects to the end; it fails unless the
// last page answers 200 OK.
func (b Browser) Visit(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := b.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("fake browser: HTTP %d from %s", res.StatusCode, res.Request.URL.Host)
	}
	return nil
}
