package sandbox_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"infino.legal/mailbox/internal/sandbox"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/signin"
	"infino.legal/mailbox/mailcfg/verify"
	"infino.legal/mailbox/mailcfg/world"
)

// demoWorld is the --demo world with the fake browser approving sign-ins.
func demoWorld(tb testing.TB, sb *sandbox.Sandbox) *world.World {
	tb.Helper()
	w, err := sb.World(sb.Browser().Open)
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

// googleFlow is the demo's Google sign-in: the button's provider for the
// address, the browser sign-in, and the verification of both servers with
// the token.
func googleFlow(ctx context.Context, w *world.World) error {
	svc := w.SignIn()
	offers := svc.ProvidersFor(ctx, sandbox.DemoGoogleAddress)
	if len(offers) != 1 || offers[0].ID != "google" || !offers[0].Configured {
		return errors.New("no Google button for the demo address")
	}
	acc, err := svc.SignIn(ctx, signin.Request{Provider: "google", LoginHint: sandbox.DemoGoogleAddress})
	if err != nil {
		return err
	}
	s, err := w.SignedInSettings(acc)
	if err != nil {
		return err
	}
	if r := verify.Verify(ctx, s, verify.TokenFunc(acc.Tokens().AccessToken), w.VerifyOptions()); !r.OK {
		return errors.New("verify failed: " + r.Incoming.Failure.Error())
	}
	return nil
}

// consentFlow is the demo's IT path: "Need admin approval", the admin
// consent for the tenant the link names, and the sign-in again.
func consentFlow(ctx context.Context, w *world.World) (*signin.ConsentNeeded, error) {
	svc := w.SignIn()
	req := signin.Request{Provider: "microsoft", LoginHint: sandbox.DemoConsentAddress}
	_, err := svc.SignIn(ctx, req)
	var ce *signin.ConsentNeeded
	if !errors.As(err, &ce) {
		return nil, errors.New("no consent error: " + errString(err))
	}
	if _, err := svc.AdminConsent(ctx, signin.AdminConsentRequest{Provider: "microsoft", Tenant: ce.Tenant}); err != nil {
		return ce, err
	}
	acc, err := svc.SignIn(ctx, req)
	if err != nil {
		return ce, err
	}
	s, err := w.SignedInSettings(acc)
	if err != nil {
		return ce, err
	}
	if r := verify.Verify(ctx, s, verify.TokenFunc(acc.Tokens().AccessToken), w.VerifyOptions()); !r.OK {
		return ce, errors.New("verify failed")
	}
	return ce, nil
}

func errString(err error) string {
	if err == nil {
		return "none"
	}
	return err.Error()
}

// The demo offers Google and the consent path, end to end on its servers.
func TestDemoSignInFlows(t *testing.T) {
	t.Setenv(secrets.LockDirEnv, t.TempDir())
	sb := start(t, sandbox.Options{})
	w := demoWorld(t, sb)
	if w.Demo.GoogleEmail != sandbox.DemoGoogleAddress || w.Demo.ConsentEmail != sandbox.DemoConsentAddress {
		t.Fatalf("demo header accounts %+v", w.Demo)
	}
	if err := googleFlow(ctx(t), w); err != nil {
		t.Fatal(err)
	}
	ce, err := consentFlow(ctx(t), w)
	if err != nil {
		t.Fatal(err)
	}
	if ce.Tenant != sandbox.ConsentDomain || !sb.Microsoft.ConsentGiven(sandbox.ConsentTenantID) {
		t.Fatalf("consent %+v", ce)
	}
	// The other demo Microsoft tenant never needed consent.
	if _, err := w.SignIn().SignIn(ctx(t), signin.Request{Provider: "microsoft", LoginHint: sandbox.MicrosoftEmail}); err != nil {
		t.Fatal(err)
	}
	if p := w.SignIn().ProvidersFor(ctx(t), sandbox.DemoConsentAddress); len(p) != 1 || p[0].ID != "microsoft" || !p[0].SharedMailbox {
		t.Fatalf("consent address offers %+v", p)
	}
}

// BenchmarkDemoGoogleSignIn measures the demo's Google flow: button lookup,
// browser sign-in (discovery, code, token, ID token against the JWKS) and
// verification of IMAP and SMTP with XOAUTH2.
func BenchmarkDemoGoogleSignIn(b *testing.B) {
	b.Setenv(secrets.LockDirEnv, b.TempDir())
	sb, err := sandbox.Start(context.Background(), sandbox.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	w := demoWorld(b, sb)
	for b.Loop() {
		if err := googleFlow(context.Background(), w); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDemoConsentPath measures the demo's IT consent path: the refused
// sign-in with the consent link, the admin consent on the loopback
// redirect, the sign-in again and the verification (a fresh sandbox each
// time, so consent is needed each time).
func BenchmarkDemoConsentPath(b *testing.B) {
	b.Setenv(secrets.LockDirEnv, b.TempDir())
	for b.Loop() {
		b.StopTimer()
		sb, err := sandbox.Start(context.Background(), sandbox.Options{})
		if err != nil {
			b.Fatal(err)
		}
		w := demoWorld(b, sb)
		b.StartTimer()
		if _, err := consentFlow(context.Background(), w); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		sb.Close()
		b.StartTimer()
	}
}

// The link the user copies to IT works as it is: the administrator opens
// it, the tenant is approved (the final redirect to http://localhost goes
// nowhere, as on a real administrator's machine), and the user's "check
// again" signs in.
func TestDemoConsentLinkForIT(t *testing.T) {
	t.Setenv(secrets.LockDirEnv, t.TempDir())
	sb := start(t, sandbox.Options{})
	w := demoWorld(t, sb)
	req := signin.Request{Provider: "microsoft", LoginHint: sandbox.DemoConsentAddress}
	_, err := w.SignIn().SignIn(ctx(t), req)
	var ce *signin.ConsentNeeded
	if !errors.As(err, &ce) {
		t.Fatalf("%v", err)
	}
	hc := sb.HTTPClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := hc.Get(ce.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || loc.Host != "localhost" || loc.Query().Get("admin_consent") != "True" ||
		loc.Query().Get("tenant") != sandbox.ConsentTenantID {
		t.Fatalf("%d %s", res.StatusCode, loc)
	}
	if _, err := w.SignIn().SignIn(ctx(t), req); err != nil {
		t.Fatalf("check again: %v", err)
	}
}
