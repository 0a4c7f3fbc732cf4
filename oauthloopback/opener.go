package oauthloopback

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"sync"
	"time"

	"github.com/pkg/browser"
)

// launchTimeout: on Linux xdg-open may not return until the browser exits,
// so an opener still running after this long is assumed to have launched.
const launchTimeout = 5 * time.Second

var quietOnce sync.Once

// quietBrowser stops github.com/pkg/browser from copying the output of the
// launched command ("Opening in existing browser session.") to our
// stdout/stderr. The variables are process-wide.
func quietBrowser() {
	quietOnce.Do(func() {
		browser.Stdout = io.Discard
		browser.Stderr = io.Discard
	})
}

// DefaultOpener opens rawURL in the system browser with github.com/pkg/browser.
// It accepts only absolute http/https URLs, so that nothing else is handed to
// the OS "open" machinery. It returns nil if the launcher is still running
// after a few seconds (it then keeps running in the background).
func DefaultOpener(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("oauthloopback: refusing to open a non-http(s) URL in the browser")
	}
	quietBrowser()
	errc := make(chan error, 1)
	go func() { errc <- browser.OpenURL(rawURL) }()
	t := time.NewTimer(launchTimeout)
	defer t.Stop()
	select {
	case err := <-errc:
		if err != nil {
			return fmt.Errorf("oauthloopback: could not open the system browser: %w", err)
		}
		return nil
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
