package infino

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"infino.legal/mailbox/mailcfg"
)

type fixedToken string

func (f fixedToken) Token(context.Context) (string, error)         { return string(f), nil }
func (f fixedToken) Renew(context.Context, string) (string, error) { return string(f), nil }

// An answer larger than maxResponse is not cut to size and trusted: a 201
// whose body is padded past the limit must not read as created (nor as any
// other verdict); it is a network-level failure, retried with the same key.
func TestOversizedAnswerIsNotTrusted(t *testing.T) {
	var posts atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		// Valid JSON within the first 64 KiB, then more than the limit.
		w.Write([]byte(`{"id":"mbx-1","email":"jan@wp.pl"}` + strings.Repeat(" ", maxResponse)))
	}))
	defer srv.Close()
	c := &Client{
		BaseURL: srv.URL, Tokens: fixedToken("t"), ClientOptions: ClientOptions{HTTP: srv.Client(),
			Retry: Retry{Attempts: 2},
			Sleep: func(context.Context, time.Duration) error { return nil },
		},
	}
	s, _ := mailcfg.Autofill("jan@wp.pl", "")
	_, err := c.CreateMailbox(t.Context(), "11111111-1111-4111-8111-111111111111",
		Submission{Settings: s, Secret: Secret{Type: "password", Password: "pw"}, VerifiedAt: time.Now()})
	if err == nil {
		t.Fatal("an oversized answer was taken as created")
	}
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, errTooLargeAnswer) {
		t.Fatalf("got %v, want the too-large error", err)
	}
	if posts.Load() != 2 {
		t.Fatalf("%d attempts, want 2 (retried with the same key)", posts.Load())
	}
}
