package oauthloopback

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A receiver hands over exactly the answer with its state: a wrong state, a
// wrong Host and a second answer are refused, unknown parameters dropped.
func TestReceive(t *testing.T) {
	ctx := context.Background()
	r, u := startConsentReceiver(t, ReceiveConfig{
		Params:       []string{"admin_consent", "tenant", "error", "error_description"},
		RedirectHost: HostLocalhost,
	})
	state := u.Query().Get("state")
	if u.Query().Get("redirect_uri") != r.RedirectURL || !strings.HasPrefix(r.RedirectURL, "http://localhost:") || len(state) < 32 {
		t.Fatalf("url %s redirect %s", u, r.RedirectURL)
	}
	get := func(q string) int {
		res, err := http.Get(r.RedirectURL + "?" + q)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	if c := get("admin_consent=True&tenant=t&state=wrong"); c != http.StatusBadRequest {
		t.Fatalf("wrong state: %d", c)
	}
	if c := get("admin_consent=True&admin_consent=False&state=" + state); c != http.StatusBadRequest {
		t.Fatalf("repeated parameter: %d", c)
	}
	if c := get("admin_consent=True&tenant=t&session_state=x&state=" + state); c != http.StatusOK {
		t.Fatalf("answer: %d", c)
	}
	if c := get("admin_consent=True&tenant=t&state=" + state); c != http.StatusBadRequest && c != 0 {
		t.Logf("second answer: %d", c)
	}
	v, err := r.Wait(ctx)
	if err != nil || v.Get("admin_consent") != "True" || v.Get("tenant") != "t" || v.Has("state") || v.Has("session_state") {
		t.Fatalf("%v %v", v, err)
	}
}

func TestReceiveClose(t *testing.T) {
	r, err := ReceiveStart(context.Background(), ReceiveConfig{
		URL:    func(redirect, state string) (string, error) { return "https://idp.example/", nil },
		Opener: func(context.Context, string) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if _, err := r.Wait(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("%v", err)
	}
}

func FuzzParseAnswer(f *testing.F) {
	f.Add("admin_consent=True&tenant=72f988bf-86f1-41af-91ab-2d7cd011db47&scope=a+b&state=xyz")
	f.Add("error=access_denied&error_description=AADSTS65004%3A+declined&state=s")
	f.Add("state=&tenant=%ff")
	params := []string{"admin_consent", "tenant", "scope", "error", "error_description"}
	f.Fuzz(func(t *testing.T, q string) {
		v, err := ParseAnswer(q, params)
		if err != nil {
			if len(q) > 12 && strings.Contains(err.Error(), q) {
				t.Fatalf("error quotes input")
			}
			return
		}
		if v.Get("state") == "" {
			t.Fatal("no state accepted")
		}
		for k, vs := range v {
			if len(vs) != 1 || (k != "state" && !strings.Contains(strings.Join(params, ","), k)) {
				t.Fatalf("%s=%v", k, vs)
			}
		}
	})
}

// The page answering a refusal shows nothing the answer carried (error,
// error_description): it comes from this machine, so injected text would
// read as the app's own words.
func TestReceivePageReflectsNothing(t *testing.T) {
	ctx := context.Background()
	r, u := startConsentReceiver(t, ReceiveConfig{
		Params:       []string{"admin_consent", "tenant", "error", "error_description"},
		RedirectHost: HostIPv4,
	})
	q := url.Values{"state": {u.Query().Get("state")}, "error": {"call_0800_123_456_now"},
		"error_description": {"Your account is locked. Call IT support at 0800 123 456 and read them your password."}}
	res, err := http.Get(r.RedirectURL + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || strings.Contains(string(body), "0800") || strings.Contains(string(body), "password") ||
		!strings.Contains(string(body), "Sign-in was cancelled or denied") {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if v, err := r.Wait(ctx); err != nil || v.Get("error") != "call_0800_123_456_now" {
		t.Fatalf("%v %v", v, err)
	}
}

// A request naming another host (DNS rebinding: a web page whose name now
// points at 127.0.0.1) is refused even with the right state, and the
// receiver keeps waiting for the real answer.
func TestReceiveHostChecked(t *testing.T) {
	ctx := context.Background()
	r, u := startConsentReceiver(t, ReceiveConfig{
		Params: []string{"admin_consent", "tenant"},
	})
	q := "admin_consent=True&tenant=t&state=" + url.QueryEscape(u.Query().Get("state"))
	req, _ := http.NewRequest(http.MethodGet, r.RedirectURL+"?"+q, nil)
	req.Host = "rebound.example"
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMisdirectedRequest {
		t.Fatalf("foreign Host: %d", res.StatusCode)
	}
	res, err = http.Get(r.RedirectURL + "?" + q)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if v, err := r.Wait(ctx); err != nil || v.Get("admin_consent") != "True" {
		t.Fatalf("%v %v", v, err)
	}
}

// The receiver applies the session's request checks: only a GET on the
// redirect path counts (a POST with the right state, or another path, is
// refused), and every answer carries the no-store security headers.
func TestReceiveOnlyGETOnThePath(t *testing.T) {
	ctx := context.Background()
	r, u := startConsentReceiver(t, ReceiveConfig{
		RedirectPath: "/consent",
		Params:       []string{"admin_consent"},
	})
	q := "admin_consent=True&state=" + url.QueryEscape(u.Query().Get("state"))
	base := strings.TrimSuffix(r.RedirectURL, "/consent")
	for _, c := range []struct {
		method, url string
		want        int
	}{
		{http.MethodPost, r.RedirectURL + "?" + q, http.StatusMethodNotAllowed},
		{http.MethodGet, base + "/other?" + q, http.StatusNotFound},
		{http.MethodGet, r.RedirectURL + "?" + q, http.StatusOK},
	} {
		req, _ := http.NewRequest(c.method, c.url, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.want || res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("%s %s: %d %q, want %d", c.method, c.url, res.StatusCode, res.Header.Get("Cache-Control"), c.want)
		}
	}
	if v, err := r.Wait(ctx); err != nil || v.Get("admin_consent") != "True" {
		t.Fatalf("%v %v", v, err)
	}
}

// startConsentReceiver starts a receiver for an admin-consent style
// request (cfg's URL and Opener are filled in), closed when the test ends,
// and returns it with the URL it opened.
func startConsentReceiver(t *testing.T, cfg ReceiveConfig) (*Receiver, *url.URL) {
	t.Helper()
	opened := make(chan string, 1)
	cfg.URL = func(redirect, state string) (string, error) {
		return "https://idp.example/adminconsent?" + url.Values{"redirect_uri": {redirect}, "state": {state}}.Encode(), nil
	}
	cfg.Opener = func(_ context.Context, u string) error { opened <- u; return nil }
	r, err := ReceiveStart(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	u, err := url.Parse(<-opened)
	if err != nil {
		t.Fatal(err)
	}
	return r, u
}
