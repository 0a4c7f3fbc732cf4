package oauthloopback

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// redirectWith follows the authorization URL without delivering the
// redirect, then delivers it to the loopback listener with the "iss"
// parameter set to iss ("" removes it, "\x00" leaves it as the server sent
// it). It returns the page the listener answered.
func redirectWith(t *testing.T, b *fakeBrowser, s *Session, iss string, extra url.Values) page {
	t.Helper()
	u, err := url.Parse(b.location(t, s.AuthURL))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	switch iss {
	case "":
		q.Del("iss")
	case "\x00":
	default:
		q.Set("iss", iss)
	}
	for k, v := range extra {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return b.get(t.Context(), u.String())
}

func TestIssuer(t *testing.T) {
	const issuer = "https://login.example.test/tenant/v2.0"
	for _, tc := range []struct {
		name     string
		cfgIss   string
		require  bool
		sent     string // "" sends none
		mismatch bool
	}{
		{"matching iss", issuer, false, issuer, false},
		{"matching iss, required", issuer, true, issuer, false},
		{"no iss, not announced", issuer, false, "", false},
		{"no iss, announced", issuer, true, "", true},
		{"forged iss, not announced", issuer, false, "https://evil.example.test", true},
		{"forged iss, announced", issuer, true, "https://evil.example.test", true},
		{"iss differing only in a trailing slash", issuer, true, issuer + "/", true},
		{"iss differing only in case", issuer, true, strings.ToUpper(issuer), true},
		{"issuer unknown, iss ignored", "", false, "https://anything.example.test", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as := newTestAS(t, HostLocalhost, "/")
			b := newFakeBrowser(as, false)
			cfg := as.config()
			cfg.Issuer, cfg.RequireIssuer = tc.cfgIss, tc.require
			s := start(t, t.Context(), cfg)
			ch := waitAsync(t.Context(), s)
			p := redirectWith(t, b, s, tc.sent, nil)
			r := result(t, ch)
			if tc.mismatch {
				if !errors.Is(r.err, ErrIssuerMismatch) || r.tok != nil {
					t.Fatalf("Wait = %v, %v; want ErrIssuerMismatch", r.tok, r.err)
				}
				if n := as.tokenRequests.Load(); n != 0 {
					t.Errorf("token requests = %d, want none after an issuer mismatch", n)
				}
				if p.status != http.StatusOK || strings.Contains(p.body, "You are signed in") {
					t.Errorf("page %d %q", p.status, p.body)
				}
				return
			}
			if r.err != nil || r.tok == nil {
				t.Fatalf("Wait = %v, %v", r.tok, r.err)
			}
			if n := as.tokenRequests.Load(); n != 1 {
				t.Errorf("token requests = %d", n)
			}
		})
	}
}

// Without a fixed issuer, IssuerMatch judges an iss that arrives (a
// per-tenant issuer); an answer without iss is not its business.
func TestIssuerMatch(t *testing.T) {
	match := func(iss string) bool {
		return strings.HasPrefix(iss, "https://login.example.test/") && strings.HasSuffix(iss, "/v2.0")
	}
	for _, tc := range []struct {
		name, sent string
		mismatch   bool
	}{
		{"tenant issuer", "https://login.example.test/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0", false},
		{"none", "", false},
		{"forged", "https://evil.example.test/x/v2.0", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as := newTestAS(t, HostLocalhost, "/")
			b := newFakeBrowser(as, false)
			cfg := as.config()
			cfg.IssuerMatch = match
			s := start(t, t.Context(), cfg)
			ch := waitAsync(t.Context(), s)
			redirectWith(t, b, s, tc.sent, nil)
			r := result(t, ch)
			if tc.mismatch != errors.Is(r.err, ErrIssuerMismatch) || !tc.mismatch && r.err != nil {
				t.Fatalf("Wait = %v", r.err)
			}
			if tc.mismatch && as.tokenRequests.Load() != 0 {
				t.Error("a code was redeemed after an issuer mismatch")
			}
		})
	}
}

// An error answer with another server's iss is a mix-up too: it must not be
// reported as the provider's refusal.
func TestIssuerCheckedOnErrorAnswers(t *testing.T) {
	const issuer = "https://login.example.test"
	as := newTestAS(t, HostLocalhost, "/")
	b := newFakeBrowser(as, false)
	cfg := as.config()
	cfg.Issuer = issuer
	s := start(t, t.Context(), cfg)
	ch := waitAsync(t.Context(), s)
	u, _ := url.Parse(b.location(t, s.AuthURL))
	q := url.Values{"state": {u.Query().Get("state")}, "error": {"access_denied"}, "iss": {"https://evil.example.test"}}
	u.RawQuery = q.Encode()
	b.get(t.Context(), u.String())
	if r := result(t, ch); !errors.Is(r.err, ErrIssuerMismatch) {
		t.Fatalf("Wait = %v, want ErrIssuerMismatch", r.err)
	}
}

// A repeated iss is a malformed answer: ignored like a forged state, the
// flow goes on waiting for the real one.
func TestRepeatedIssIgnored(t *testing.T) {
	const issuer = "https://login.example.test"
	as := newTestAS(t, HostLocalhost, "/")
	b := newFakeBrowser(as, false)
	cfg := as.config()
	cfg.Issuer, cfg.RequireIssuer = issuer, true
	s := start(t, t.Context(), cfg)
	ch := waitAsync(t.Context(), s)
	loc := b.location(t, s.AuthURL)
	u, _ := url.Parse(loc)
	q := u.Query()
	q["iss"] = []string{issuer, issuer}
	u.RawQuery = q.Encode()
	if p := b.get(t.Context(), u.String()); p.status != http.StatusBadRequest {
		t.Errorf("repeated iss: status %d", p.status)
	}
	stillWaiting(t, s, ch)
	q.Set("iss", issuer)
	u.RawQuery = q.Encode()
	b.get(t.Context(), u.String())
	if r := result(t, ch); r.err != nil {
		t.Fatal(r.err)
	}
}

func TestRequireIssuerNeedsIssuer(t *testing.T) {
	as := newTestAS(t, HostLocalhost, "/")
	cfg := as.config()
	cfg.RequireIssuer = true
	if _, err := Start(t.Context(), cfg); err == nil {
		t.Fatal("RequireIssuer without Issuer accepted")
	}
}

// TokenParams reach the token request (RFC 8707 §2.2 repeats the resource
// there); the parameters the flow owns cannot be overridden.
func TestTokenParams(t *testing.T) {
	as := newTestAS(t, HostLocalhost, "/")
	b := newFakeBrowser(as, true)
	cfg := as.config()
	cfg.Opener = b.open
	cfg.TokenParams = map[string]string{"resource": "https://kancelaria.infino.example"}
	s := start(t, t.Context(), cfg)
	if _, err := s.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	as.mu.Lock()
	got := as.lastToken.Get("resource")
	as.mu.Unlock()
	if got != "https://kancelaria.infino.example" {
		t.Errorf("token request resource = %q", got)
	}
	for _, k := range []string{"code", "grant_type", "code_verifier", "redirect_uri", "client_id", ""} {
		cfg := as.config()
		cfg.TokenParams = map[string]string{k: "x"}
		if _, err := Start(t.Context(), cfg); err == nil {
			t.Errorf("TokenParams %q accepted", k)
		}
	}
}
