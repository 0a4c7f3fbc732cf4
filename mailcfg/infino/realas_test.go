package infino_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/internal/sandbox"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/oauthloopback"
)

// newEnvAt is newEnv with the service pointed at a second sandbox Infino
// with a path-ful issuer that behaves as profile says.
func newEnvAt(t *testing.T, profile sandbox.AuthProfile) (*env, *sandbox.Infino) {
	t.Helper()
	e := newEnv(t)
	inf, err := e.sb.StartInfinoAt(e.ctx(), "/tenant/infino", profile)
	if err != nil {
		t.Fatal(err)
	}
	pol := e.opts.Policy
	pol.InfinoURL = inf.Issuer()
	e.opts.Policy = pol
	e.svc = infino.NewService(e.opts)
	return e, inf
}

func TestMetadataURLs(t *testing.T) {
	for issuer, want := range map[string][2]string{
		"https://kancelaria.infino.legal": {"https://kancelaria.infino.legal/.well-known/oauth-authorization-server",
			"https://kancelaria.infino.legal/.well-known/openid-configuration"},
		"https://login.example/tenant/infino/": {"https://login.example/.well-known/oauth-authorization-server/tenant/infino",
			"https://login.example/tenant/infino/.well-known/openid-configuration"},
	} {
		got := infino.MetadataURLs(issuer)
		if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("%s: %v", issuer, got)
		}
	}
}

// A standards-following OpenID Connect provider: metadata only at the
// OpenID location of a path-ful issuer, refresh tokens only for
// offline_access with consent, mailboxes:write only for the named resource,
// iss in the redirect. The sign-in works, keeps a refresh token, and the
// hand-off and a later refresh go through.
func TestStrictOpenIDProvider(t *testing.T) {
	e, inf := newEnvAt(t, sandbox.Strict)
	out := demoSubmit(e)
	wantState(t, out, infino.StateSent)
	if inf.Count() != 1 || e.sb.Infino.Count() != 0 {
		t.Fatalf("mailboxes: strict %d, default %d", inf.Count(), e.sb.Infino.Count())
	}
	if _, err := e.store.Get(e.ctx(), infino.TokenKey(inf.Issuer())); err != nil {
		t.Fatalf("no refresh token kept: %v", err)
	}
	if n := inf.MetadataRequests(); n != 2 {
		t.Errorf("%d metadata requests, want 2 (RFC 8414 location 404, then OpenID)", n)
	}
	// The access token is revoked: the refresh (with the resource) renews it.
	inf.RevokeAccessTokens()
	s2, _ := e.sb.Settings("druga@" + sandbox.DemoDomain)
	wantState(t, e.svc.Submit(e.ctx(), s2, infino.PasswordSecret("pw-druga-1"), time.Now()), infino.StateSent)
	if st := inf.AuthStats(); st.RefreshGrants != 1 || st.Authorizations != 1 || e.browsers.Load() != 1 {
		t.Fatalf("stats %+v, browsers %d", st, e.browsers.Load())
	}
}

// Without offline_access in the metadata's scopes the provider still has to
// be asked correctly: a server that requires it is only satisfied when the
// app sends it with prompt=consent, which the strict test covers. Here the
// server never issues a refresh token: a clear error, nothing kept, and the
// submission waits.
func TestNoRefreshTokenIsAConfigurationError(t *testing.T) {
	e, inf := newEnvAt(t, sandbox.AuthProfile{NeverRefresh: true})
	err := e.svc.SignIn(e.ctx())
	if infino.KindOf(err) != infino.KindSignInSetup {
		t.Fatalf("sign-in without a refresh token: %v", err)
	}
	var ie *infino.Error
	errors.As(err, &ie)
	if !strings.Contains(ie.Message.In("en"), "refresh token") || !strings.Contains(ie.Message.In("pl"), "tokenu odświeżania") {
		t.Fatalf("message %+v", ie.Message)
	}
	if ok, _ := e.svc.SignedIn(e.ctx()); ok {
		t.Fatal("signed in without a refresh token")
	}
	out := demoSubmit(e)
	wantState(t, out, infino.StateQueued)
	if out.Kind() != infino.KindSignInSetup || inf.Count() != 0 {
		t.Fatalf("%s, %d mailboxes", out.Kind(), inf.Count())
	}
	if p, _, _ := e.svc.Pending(e.ctx()); len(p) != 1 {
		t.Fatal("the submission was not kept")
	}
}

func TestForgedIssRefused(t *testing.T) {
	e, inf := newEnvAt(t, sandbox.AuthProfile{IssParameter: true, ForgeIss: "https://evil.example"})
	err := e.svc.SignIn(e.ctx())
	if infino.KindOf(err) != infino.KindSignIn || !errors.Is(err, oauthloopback.ErrIssuerMismatch) {
		t.Fatalf("forged iss: %v", err)
	}
	if st := inf.AuthStats(); st.CodeGrants != 0 {
		t.Fatalf("the code was redeemed despite a forged iss: %+v", st)
	}
	// The right iss works.
	inf.SetProfile(sandbox.AuthProfile{IssParameter: true})
	if err := e.svc.SignIn(e.ctx()); err != nil {
		t.Fatal(err)
	}
}

func TestNarrowerScopeIsSaidAtSignIn(t *testing.T) {
	e, inf := newEnvAt(t, sandbox.AuthProfile{NarrowScope: true})
	out := demoSubmit(e)
	wantState(t, out, infino.StateQueued)
	if out.Kind() != infino.KindSignInSetup || !strings.Contains(out.Message().In("en"), "mailboxes:write") {
		t.Fatalf("%s %+v", out.Kind(), out.Message())
	}
	if n := len(inf.Requests()); n != 0 {
		t.Fatalf("%d API requests with a token that cannot add mailboxes", n)
	}
}

// A server that needs a resource indicator grants the scope because the app
// names Infino as the resource; one that serves no metadata at all makes
// the submission wait with a message that says why, and it is delivered
// once the server is fixed.
func TestMetadataMissingKeepsTheSubmission(t *testing.T) {
	e := newEnv(t)
	e.sb.Infino.SetProfile(sandbox.AuthProfile{NoMetadata: true})
	out := demoSubmit(e)
	wantState(t, out, infino.StateQueued)
	if out.Kind() != infino.KindSignInSetup || !strings.Contains(out.Message().In("en"), "metadata") ||
		strings.Contains(out.Message().In("en"), "rejected") {
		t.Fatalf("%s %+v", out.Kind(), out.Message())
	}
	var ie *infino.Error
	if !errors.As(out.Err, &ie) || !strings.Contains(ie.Err.Error(), "/.well-known/openid-configuration") {
		t.Fatalf("detail %v", out.Err)
	}
	pending, _, _ := e.svc.Pending(e.ctx())
	if len(pending) != 1 || pending[0].LastError == nil || pending[0].LastError.Kind != infino.KindSignInSetup {
		t.Fatalf("pending %+v", pending)
	}
	e.sb.Infino.SetProfile(sandbox.AuthProfile{RequireResource: true})
	svc := infino.NewService(e.opts) // a new start of the app: metadata is fetched again
	if s, _, _ := svc.Flush(e.ctx(), true).Counts(); s != 1 || e.sb.Infino.Count() != 1 {
		t.Fatalf("not delivered once the server was fixed (%d mailboxes)", e.sb.Infino.Count())
	}
}

func TestDiscoverFallsBackOnlyOnMissingDocument(t *testing.T) {
	e := newEnv(t)
	e.sb.Infino.SetProfile(sandbox.AuthProfile{OpenIDOnly: true})
	m, err := infino.Discover(e.ctx(), e.sb.HTTPClient(), e.sb.InfinoURL)
	if err != nil || m.Issuer != e.sb.InfinoURL {
		t.Fatalf("%+v %v", m, err)
	}
	// Another issuer in the document is refused, as a setup problem.
	e.sb.Infino.SetProfile(sandbox.AuthProfile{MetadataIssuer: "https://other.example"})
	if _, err := infino.Discover(e.ctx(), e.sb.HTTPClient(), e.sb.InfinoURL); infino.KindOf(err) != infino.KindSignInSetup {
		t.Fatalf("other issuer: %v", err)
	}
	// Infino down: unavailable, not a setup problem.
	e.down.Store(true)
	if _, err := infino.Discover(context.Background(), e.httpClient(), e.sb.InfinoURL); infino.KindOf(err) != infino.KindUnavailable {
		t.Fatalf("down: %v", err)
	}
}

// An Infino address where nothing takes mailboxes (404): the address is
// wrong, not the settings; the submission waits and says so.
func TestNoMailboxAPIAtTheAddressKeeps(t *testing.T) {
	e := newEnv(t)
	access, _ := e.sb.Infino.Mint()
	e.opts.Tokens = &staticTokens{tok: access}
	pol := e.opts.Policy
	pol.InfinoURL = e.sb.InfinoURL + "/wrong"
	e.opts.Policy = pol
	e.svc = infino.NewService(e.opts)
	out := demoSubmit(e)
	wantState(t, out, infino.StateQueued)
	if out.Kind() != infino.KindConfig || !strings.Contains(out.Message().In("en"), "no mailbox service") ||
		strings.Contains(out.Message().In("en"), "rejected") {
		t.Fatalf("%s %+v", out.Kind(), out.Message())
	}
}
