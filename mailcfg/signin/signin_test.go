package signin_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/internal/fakeidp"
	"infino.legal/mailbox/internal/fakemail"
	"infino.legal/mailbox/internal/googletest"
	"infino.legal/mailbox/internal/microsofttest"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/signin"
	"infino.legal/mailbox/mailcfg/verify"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func withPolicy(t *testing.T, values map[string]any) policy.Policy {
	t.Helper()
	p := policy.Default()
	if err := p.Set("test", values); err != nil {
		t.Fatal(err)
	}
	return p
}

func googleService(t *testing.T, g *googletest.Server, store secrets.Store) *signin.Service {
	t.Setenv(secrets.LockDirEnv, t.TempDir())
	return signin.New(signin.Config{Policy: withPolicy(t, g.Policy()), Store: store, HTTPClient: g.HTTPClient(),
		Opener: g.Browser().Open, Lang: "en"})
}

func microsoftService(t *testing.T, ms *microsofttest.Server, store secrets.Store) *signin.Service {
	t.Setenv(secrets.LockDirEnv, t.TempDir())
	p := ms.Policy()
	return signin.New(signin.Config{Policy: withPolicy(t, map[string]any{"microsoft.clientId": p.ClientID, "microsoft.tenant": p.Tenant,
		"microsoft.authority": p.Authority}), Store: store, HTTPClient: ms.HTTPClient(), Opener: ms.Browser().Open, Lang: "en"})
}

// Google end to end: the sign-in at a strict Google (discovery at the
// policy's authority, iss in the redirect, the client secret, a signed ID
// token with email_verified), the refresh token in the keyring, and
// XOAUTH2 to IMAP and SMTP servers that accept only the tokens it issued;
// then a refresh with the stored token, rotated and written back.
func TestGoogleSignInEndToEnd(t *testing.T) {
	ctx := testCtx(t)
	g := googletest.NewServer(t)
	mail := g.StartMail(t)
	store := secrets.NewMemory()
	svc := googleService(t, g, store)

	acc, err := svc.SignIn(ctx, signin.Request{Provider: "google", LoginHint: googletest.Gmail.Email})
	if err != nil {
		t.Fatal(err)
	}
	st := acc.Settings
	if acc.Address != googletest.Gmail.Email || st.Auth != mailcfg.AuthOAuth2 || st.Incoming.Host != "imap.gmail.com" ||
		st.Incoming.Port != 993 || st.Outgoing.Host != "smtp.gmail.com" || st.Outgoing.Port != 465 || st.Provider.ID != "gmail.com" || acc.Shared {
		t.Fatalf("account %v settings %+v", acc, st)
	}
	rt, err := store.Get(ctx, secrets.RefreshKey(acc.Address, "google"))
	if err != nil || !g.ValidRefreshToken(rt) {
		t.Fatalf("stored refresh token: %v", err)
	}
	opt := verify.Options{RootCAs: mail.RootCAs}
	r := verify.Verify(ctx, mail.Settings(st), verify.TokenFunc(acc.Tokens().AccessToken), opt)
	if !r.OK || !slices.Equal(mail.XOAUTH2Logins(), []string{fakemail.IMAP, fakemail.SMTP}) && !slices.Equal(mail.XOAUTH2Logins(), []string{fakemail.SMTP, fakemail.IMAP}) {
		t.Fatalf("verify: %+v / %+v, logins %v", r.Incoming.Failure, r.Outgoing.Failure, mail.Logins())
	}
	// A token the fake never issued is refused by both.
	r = verify.Verify(ctx, mail.Settings(st), verify.OAuth2Token{AccessToken: "ya29.forged"}, opt)
	if r.Incoming.OK || r.Outgoing.OK {
		t.Fatal("a forged token was accepted")
	}

	// After a restart: the stored refresh token, rotated and kept.
	tokens, err := svc.TokensFor(st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.AccessToken(ctx); err != nil {
		t.Fatal(err)
	}
	after, _ := store.Get(ctx, secrets.RefreshKey(acc.Address, "google"))
	if after == rt || !g.ValidRefreshToken(after) || g.ValidRefreshToken(rt) || g.Stats().RefreshGrants != 1 {
		t.Fatalf("rotation not kept: %+v", g.Stats())
	}
}

// Google Workspace: a firm domain found by its MX hosts gets the Google
// sign-in and Gmail's servers.
func TestGoogleWorkspaceByMX(t *testing.T) {
	ctx := testCtx(t)
	g := googletest.NewServer(t)
	g.SetAccount(googletest.Workspace)
	svc := signin.New(signin.Config{Policy: withPolicy(t, g.Policy()), Store: secrets.NewMemory(), HTTPClient: g.HTTPClient(),
		Opener: g.Browser().Open, LookupMX: func(_ context.Context, d string) ([]string, error) {
			if d == "kancelaria-gw.example" {
				return []string{"aspmx.l.google.com."}, nil
			}
			return nil, errors.New("no MX")
		}})
	t.Setenv(secrets.LockDirEnv, t.TempDir())
	offers := svc.ProvidersFor(ctx, googletest.Workspace.Email)
	if len(offers) != 1 || offers[0].ID != "google" || !offers[0].ByMX || !offers[0].Configured || offers[0].MailProvider != "google-workspace" ||
		offers[0].ButtonText().PL != "Zaloguj przez Google" {
		t.Fatalf("offers %+v", offers)
	}
	acc, err := svc.SignIn(ctx, signin.Request{Provider: "google", LoginHint: googletest.Workspace.Email, Protocol: mailcfg.POP3})
	if err != nil {
		t.Fatal(err)
	}
	if acc.Settings.Provider.ID != "google-workspace" || acc.Settings.Incoming.Protocol != mailcfg.POP3 || acc.Settings.Incoming.Host != "pop.gmail.com" {
		t.Fatalf("settings %+v", acc.Settings)
	}
}

// The providers offered for an address: by the table, by MX, none; a
// provider without a client id is listed as not configured with what IT
// must set.
func TestProvidersFor(t *testing.T) {
	ctx := context.Background()
	svc := signin.New(signin.Config{Policy: policy.Default(), PolicyFile: "/etc/infino-mailbox/policy.json",
		LookupMX: func(_ context.Context, d string) ([]string, error) {
			return map[string][]string{"kancelaria.pl": {"kancelaria-pl.mail.protection.outlook.com"}}[d], nil
		}})
	g := svc.ProvidersFor(ctx, "jan@gmail.com")
	if len(g) != 1 || g[0].ID != "google" || g[0].Configured || !strings.Contains(g[0].Setup.EN, "oauth.google.clientId") ||
		!strings.Contains(g[0].Setup.PL, "/etc/infino-mailbox/policy.json") || g[0].SharedMailbox || g[0].PasswordRefused || !g[0].PasswordWarning.IsZero() {
		t.Fatalf("gmail %+v", g)
	}
	m := svc.ProvidersFor(ctx, "anna@kancelaria.pl")
	if len(m) != 1 || m[0].ID != "microsoft" || !m[0].ByMX || !m[0].SharedMailbox || !m[0].PasswordRefused || !strings.Contains(m[0].Setup.EN, "microsoft.clientId") ||
		!strings.Contains(m[0].PasswordWarning.PL, "Zaloguj przez Microsoft") || !strings.Contains(m[0].PasswordWarning.EN, "5.7.30") {
		t.Fatalf("m365 %+v", m)
	}
	for _, a := range []string{"jan@yahoo.com", "jan@aol.com", "jan@fastmail.com"} {
		if p := svc.ProvidersFor(ctx, a); len(p) != 1 || p[0].Configured {
			t.Errorf("%s: %+v", a, p)
		}
	}
	if p := svc.ProvidersFor(ctx, "jan@wp.pl"); p != nil {
		t.Errorf("wp.pl: %+v", p)
	}
	if len(svc.All()) != 5 {
		t.Errorf("all: %+v", svc.All())
	}
	// Not allowed by the policy: the setup text says which key.
	pol := policy.Default()
	pol.Set("t", map[string]any{"allowedMethods": []any{"microsoft", "manual"}, "oauth.google.clientId": "x.apps.googleusercontent.com"})
	p, _ := signin.New(signin.Config{Policy: pol}).Provider("google")
	if p.Configured || !strings.Contains(p.Setup.EN, "allowedMethods") {
		t.Errorf("not allowed: %+v", p)
	}
}

// forgingOpener is a hostile browser: it follows the sign-in page to the
// redirect and delivers it to the app with iss changed by edit.
func forgingOpener(t *testing.T, hc *http.Client, edit func(url.Values)) func(context.Context, string) error {
	return func(ctx context.Context, authURL string) error {
		go func() {
			c := *hc
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			res, err := c.Get(authURL)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			u, err := url.Parse(res.Header.Get("Location"))
			if err != nil {
				t.Error(err)
				return
			}
			q := u.Query()
			edit(q)
			u.RawQuery = q.Encode()
			if res, err := http.Get(u.String()); err == nil {
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		}()
		return nil
	}
}

// RFC 9207: a redirect whose iss names another server, or none where
// Google announces it, ends the sign-in as an attack; no code is redeemed.
func TestForgedIssRefused(t *testing.T) {
	for name, edit := range map[string]func(url.Values){
		"forged":  func(q url.Values) { q.Set("iss", "https://accounts.evil.example") },
		"missing": func(q url.Values) { q.Del("iss") },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			g := googletest.NewServer(t)
			t.Setenv(secrets.LockDirEnv, t.TempDir())
			svc := signin.New(signin.Config{Policy: withPolicy(t, g.Policy()), Store: secrets.NewMemory(), HTTPClient: g.HTTPClient(),
				Opener: forgingOpener(t, g.HTTPClient(), edit)})
			_, err := svc.SignIn(ctx, signin.Request{Provider: "google", LoginHint: googletest.Gmail.Email})
			var se *signin.Error
			if !errors.As(err, &se) || se.Code != signin.CodeIssuerMismatch || se.Message.PL == "" {
				t.Fatalf("%v", err)
			}
			if st := g.Stats(); st.Authorizations != 1 || st.CodeGrants != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// Microsoft sends no iss; one that arrives must be an issuer of the
// authority (its per-tenant form), else the answer is refused as a mix-up.
func TestMicrosoftForgedIssRefused(t *testing.T) {
	for name, c := range map[string]struct {
		iss  func(authority string) string
		code signin.Code
	}{
		"other server":                     {func(string) string { return "https://login.evil.example/" + microsofttest.Work.TenantID + "/v2.0" }, signin.CodeIssuerMismatch},
		"not a tenant":                     {func(a string) string { return a + "/common/v2.0" }, signin.CodeIssuerMismatch},
		"tenant issuer":                    {func(a string) string { return a + "/" + microsofttest.Work.TenantID + "/v2.0" }, ""},
		"another tenant than the policy's": {func(a string) string { return a + "/" + microsofttest.ConsumerTenantID + "/v2.0" }, signin.CodeIssuerMismatch},
	} {
		t.Run(name, func(t *testing.T) {
			ms := microsofttest.NewServer(t)
			ms.SetTenant(microsofttest.Work.TenantID)
			cfg := microsoftService(t, ms, secrets.NewMemory()).Config()
			cfg.Opener = forgingOpener(t, ms.HTTPClient(), func(q url.Values) { q.Set("iss", c.iss(ms.URL)) })
			_, err := signin.New(cfg).SignIn(testCtx(t), signin.Request{Provider: "microsoft"})
			var se *signin.Error
			if c.code == "" && err != nil || c.code != "" && (!errors.As(err, &se) || se.Code != c.code) {
				t.Fatalf("%v", err)
			}
			if c.code != "" && ms.Stats().CodeGrants != 0 {
				t.Fatal("a code was redeemed after a mix-up")
			}
		})
	}
}

// An ID token that does not vouch for the address (email_verified false),
// or is not signed by the provider's key, is refused.
func TestGoogleIDTokenChecks(t *testing.T) {
	for name, edit := range map[string]func(map[string]any){
		"unverified": func(c map[string]any) { c["email_verified"] = false },
		"audience":   func(c map[string]any) { c["aud"] = "someone-else.apps.googleusercontent.com" },
		"audiences with another azp": func(c map[string]any) {
			c["aud"] = []string{c["aud"].(string), "someone-else.apps.googleusercontent.com"}
			c["azp"] = "someone-else.apps.googleusercontent.com"
		},
		"audiences without azp": func(c map[string]any) {
			c["aud"] = []string{c["aud"].(string), "someone-else.apps.googleusercontent.com"}
			delete(c, "azp")
		},
		"issuer":      func(c map[string]any) { c["iss"] = "https://accounts.evil.example" },
		"expired":     func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() },
		"other nonce": func(c map[string]any) { c["nonce"] = "a-nonce-of-another-sign-in" },
		"no nonce":    func(c map[string]any) { delete(c, "nonce") },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			g := googletest.NewServer(t)
			g.SetClaims(edit)
			svc := googleService(t, g, secrets.NewMemory())
			_, err := svc.SignIn(ctx, signin.Request{Provider: "google"})
			var se *signin.Error
			if !errors.As(err, &se) || (se.Code != signin.CodeIDToken && se.Code != signin.CodeEmailUnverified) {
				t.Fatalf("%v", err)
			}
		})
	}
}

// Microsoft 365 that needs admin consent: the sign-in fails with the
// consent error (tenant, link with client id, scopes and redirect, a
// request to IT); "admin-consent" at the adminconsent endpoint approves
// the app for the tenant; then the sign-in succeeds.
func TestMicrosoftAdminConsentPath(t *testing.T) {
	ctx := testCtx(t)
	ms := microsofttest.NewServer(t)
	ms.RequireAdminConsent(microsofttest.Work.TenantID)
	svc := microsoftService(t, ms, secrets.NewMemory())

	_, err := svc.SignIn(ctx, signin.Request{Provider: "microsoft", LoginHint: microsofttest.Work.Email})
	var ce *signin.ConsentNeeded
	var se *signin.Error
	if !errors.As(err, &ce) || !errors.As(err, &se) || se.Code != signin.CodeAdminConsent || se.AADSTS != 90094 {
		t.Fatalf("%v", err)
	}
	u, perr := url.Parse(ce.URL)
	if perr != nil {
		t.Fatal(perr)
	}
	q := u.Query()
	if ce.Tenant != "kancelaria.example" || u.Path != "/kancelaria.example/v2.0/adminconsent" || !strings.HasPrefix(ce.URL, ms.URL+"/") ||
		q.Get("client_id") != ms.ClientID || q.Get("redirect_uri") != "http://localhost" || q.Get("state") == "" ||
		!strings.Contains(q.Get("scope"), "https://outlook.office.com/IMAP.AccessAsUser.All") ||
		!strings.Contains(q.Get("scope"), "https://outlook.office.com/POP.AccessAsUser.All") ||
		!strings.Contains(q.Get("scope"), "https://outlook.office.com/SMTP.Send") {
		t.Fatalf("consent link %s", ce.URL)
	}
	for _, s := range []string{ce.Request.PL, ce.Request.EN} {
		if !strings.Contains(s, ce.URL) || !strings.Contains(s, ms.ClientID) || !strings.Contains(s, "kancelaria.example") ||
			!strings.Contains(s, "SmtpClientAuthenticationDisabled") {
			t.Fatalf("request to IT: %s", s)
		}
	}
	var f *mailcfg.Failure
	if !errors.As(err, &f) || f.Kind != mailcfg.KindAuthDisabled || !strings.Contains(f.Message.PL, "zgody administratora") {
		t.Fatalf("failure %+v", f)
	}
	// The same link without a failed sign-in (the waiting screen).
	if c2, err := svc.ConsentFor("microsoft", "", microsofttest.Work.Email); err != nil || c2.Tenant != ce.Tenant {
		t.Fatalf("ConsentFor: %+v %v", c2, err)
	}

	res, err := svc.AdminConsent(ctx, signin.AdminConsentRequest{Provider: "microsoft", Tenant: microsofttest.Work.TenantID})
	if err != nil || !res.Granted || res.Tenant != microsofttest.Work.TenantID || !ms.ConsentGiven(microsofttest.Work.TenantID) {
		t.Fatalf("admin consent: %+v %v", res, err)
	}
	acc, err := svc.SignIn(ctx, signin.Request{Provider: "microsoft", LoginHint: microsofttest.Work.Email})
	if err != nil || acc.TenantID != microsofttest.Work.TenantID || acc.Settings.Source != mailcfg.SourceMicrosoft {
		t.Fatalf("after consent: %v %v", acc, err)
	}
}

// A shared mailbox: the user signs in as themselves; IMAP reaches the
// shared address with the user's token when they have Full Access, SMTP
// signs in as the user; without Full Access the failure says to ask IT.
func TestSharedMailbox(t *testing.T) {
	ctx := testCtx(t)
	ms := microsofttest.NewServer(t)
	mail := ms.StartMail(t)
	store := secrets.NewMemory()
	svc := microsoftService(t, ms, store)
	const shared = "biuro@kancelaria.example"
	mail.SetFullAccess(shared, microsofttest.Work.PreferredUsername, true)

	acc, err := svc.SignIn(ctx, signin.Request{Provider: "microsoft", LoginHint: microsofttest.Work.Email, Shared: shared})
	if err != nil {
		t.Fatal(err)
	}
	st := acc.Settings
	if !acc.Shared || acc.Address != shared || acc.SignedInAs != microsofttest.Work.Email || st.Email != shared ||
		st.Incoming.Username != shared || st.Outgoing.Username != microsofttest.Work.Email || st.SignedInAs != microsofttest.Work.Email {
		t.Fatalf("%v %+v", acc, st)
	}
	if _, err := store.Get(ctx, secrets.MicrosoftRefreshKey(shared)); err != nil {
		t.Fatalf("the refresh token is kept for the shared mailbox: %v", err)
	}
	opt := verify.Options{RootCAs: mail.RootCAs}
	r := verify.Verify(ctx, mail.Settings(st), verify.TokenFunc(acc.Tokens().AccessToken), opt)
	if !r.OK {
		t.Fatalf("verify: %+v / %+v", r.Incoming.Failure, r.Outgoing.Failure)
	}

	mail.SetFullAccess(shared, microsofttest.Work.PreferredUsername, false)
	r = verify.Verify(ctx, mail.Settings(st), verify.TokenFunc(acc.Tokens().AccessToken), opt)
	f := r.Incoming.Failure
	if r.Incoming.OK || f.Kind != mailcfg.KindPermission || !strings.Contains(f.Hint.EN, "Full Access") || !strings.Contains(f.Hint.PL, "Full Access") {
		t.Fatalf("no full access: %+v", f)
	}
	// Google has no shared mailboxes this way.
	g := googletest.NewServer(t)
	_, err = googleService(t, g, store).Start(ctx, signin.Request{Provider: "google", Shared: shared})
	var se *signin.Error
	if !errors.As(err, &se) || se.Code != signin.CodeNotShared {
		t.Fatalf("google shared: %v", err)
	}
}

// POP3 with OAuth: Microsoft's POP scope is asked and the incoming server
// is POP3.
func TestMicrosoftPOP3(t *testing.T) {
	ctx := testCtx(t)
	ms := microsofttest.NewServer(t)
	var scope string
	svc := microsoftService(t, ms, secrets.NewMemory())
	cfg := svc.Config()
	cfg.Opener = func(ctx context.Context, u string) error {
		pu, _ := url.Parse(u)
		scope = pu.Query().Get("scope")
		return ms.Browser().Open(ctx, u)
	}
	acc, err := signin.New(cfg).SignIn(ctx, signin.Request{Provider: "microsoft", Protocol: mailcfg.POP3})
	if err != nil {
		t.Fatal(err)
	}
	if scope != fakeidp.MicrosoftPOPScopes || acc.Settings.Incoming.Protocol != mailcfg.POP3 || acc.Settings.Incoming.Port != 995 {
		t.Fatalf("scope %q settings %+v", scope, acc.Settings.Incoming)
	}
	// Its refresh asks for the POP scopes again.
	tok, err := signin.New(cfg).TokensFor(acc.Settings)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tok.AccessToken(ctx); err != nil {
		t.Fatal(err)
	}
}

// Microsoft's errors are *signin.Error like every provider's: not
// configured names Microsoft's key and its setup in Entra ID.
func TestMicrosoftErrorIsASigninError(t *testing.T) {
	svc := signin.New(signin.Config{Policy: policy.Default(), Store: secrets.NewMemory()})
	_, err := svc.Start(context.Background(), signin.Request{Provider: "microsoft"})
	var se *signin.Error
	if !errors.As(err, &se) || se.Code != signin.CodeNotConfigured || se.Provider != "microsoft" ||
		!strings.Contains(se.Hint.EN, "microsoft.clientId") || !strings.Contains(se.Hint.EN, "Entra ID") {
		t.Fatalf("%v", err)
	}
	_, err = svc.Start(context.Background(), signin.Request{Provider: "nobody"})
	if !errors.As(err, &se) || se.Code != signin.CodeUnknownProvider {
		t.Fatalf("%v", err)
	}
}

// The tenant of an admin-consent link is a tenant id or a domain: one
// typed with a slash, "..", a query or a space (which could send the
// administrator to another page of the sign-in server) is refused before
// any browser opens, for the command and for the link sent to IT alike.
func TestAdminConsentTenantValidated(t *testing.T) {
	ms := microsofttest.NewServer(t)
	cfg := microsoftService(t, ms, secrets.NewMemory()).Config()
	opened := 0
	cfg.Opener = func(context.Context, string) error { opened++; return nil }
	svc := signin.New(cfg)
	for _, tenant := range []string{"..", "../common/oauth2/v2.0/authorize", "kancelaria.pl/x", "kancelaria.pl?x=1",
		"kancelaria pl", "-kancelaria.pl", "kancelaria..pl", "localhost", "consumers"} {
		_, err := svc.AdminConsent(testCtx(t), signin.AdminConsentRequest{Provider: "microsoft", Tenant: tenant})
		var se *signin.Error
		if !errors.As(err, &se) || se.Code != signin.CodeMisconfigured || !strings.Contains(se.Message.EN, "tenant ID") {
			t.Errorf("AdminConsent tenant %q: %v", tenant, err)
		}
		if _, err := svc.ConsentFor("microsoft", tenant, ""); err == nil {
			t.Errorf("ConsentFor tenant %q accepted", tenant)
		}
	}
	if opened != 0 || ms.Stats().AdminConsents != 0 {
		t.Fatalf("a browser opened %d times, %d consents", opened, ms.Stats().AdminConsents)
	}
	for _, tenant := range []string{microsofttest.Work.TenantID, "kancelaria.onmicrosoft.com", "organizations"} {
		if c, err := svc.ConsentFor("microsoft", tenant, ""); err != nil || c.Tenant != tenant {
			t.Errorf("ConsentFor %q: %+v %v", tenant, c, err)
		}
	}
}

// An admin-consent answer that names another tenant than the tenant id
// asked for (or none) is not reported as a grant.
func TestAdminConsentAnswerNamesTheTenant(t *testing.T) {
	ms := microsofttest.NewServer(t)
	cfg := microsoftService(t, ms, secrets.NewMemory()).Config()
	for name, edit := range map[string]func(url.Values){
		"other tenant": func(q url.Values) { q.Set("tenant", "00000000-0000-0000-0000-000000000001") },
		"no tenant":    func(q url.Values) { q.Del("tenant") },
	} {
		t.Run(name, func(t *testing.T) {
			cfg.Opener = forgingOpener(t, ms.HTTPClient(), edit)
			res, err := signin.New(cfg).AdminConsent(testCtx(t), signin.AdminConsentRequest{Provider: "microsoft", Tenant: microsofttest.Work.TenantID})
			if err == nil {
				t.Fatalf("granted: %+v", res)
			}
		})
	}
}

func jwt(t *testing.T, header, claims map[string]any, sign func([]byte) []byte) string {
	t.Helper()
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	return in + "." + base64.RawURLEncoding.EncodeToString(sign([]byte(in)))
}

// The ID token's signature is checked against the provider's published
// keys with a public-key algorithm: "none", HS256 keyed with the public
// key and a key the provider does not publish are refused; an ES256 key
// the provider publishes (Yahoo's and AOL's kind) is accepted.
func TestIDTokenSignature(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		sign func(t *testing.T, g *googletest.Server, claims map[string]any) string
		ok   bool
	}{
		"none": {sign: func(t *testing.T, _ *googletest.Server, claims map[string]any) string {
			return jwt(t, map[string]any{"alg": "none", "typ": "JWT"}, claims, func([]byte) []byte { return nil })
		}},
		"HS256 keyed with the public key": {sign: func(t *testing.T, g *googletest.Server, claims map[string]any) string {
			der, _ := x509.MarshalPKIXPublicKey(g.PublicKey())
			secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
			return jwt(t, map[string]any{"alg": "HS256", "typ": "JWT"}, claims, func(in []byte) []byte {
				m := hmac.New(sha256.New, secret)
				m.Write(in)
				return m.Sum(nil)
			})
		}},
		"unpublished key": {sign: func(t *testing.T, _ *googletest.Server, claims map[string]any) string {
			return jwt(t, map[string]any{"alg": "RS256", "typ": "JWT"}, claims, func(in []byte) []byte {
				sum := sha256.Sum256(in)
				sig, _ := rsa.SignPKCS1v15(rand.Reader, other, crypto.SHA256, sum[:])
				return sig
			})
		}},
		"published ES256 key": {ok: true, sign: func(t *testing.T, _ *googletest.Server, claims map[string]any) string {
			return jwt(t, map[string]any{"alg": "ES256", "typ": "JWT", "kid": "ec-1"}, claims, func(in []byte) []byte {
				sum := sha256.Sum256(in)
				r, s, _ := ecdsa.Sign(rand.Reader, ec, sum[:])
				return append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
			})
		}},
	} {
		t.Run(name, func(t *testing.T) {
			g := googletest.NewServer(t)
			g.AddJWK(map[string]string{"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": "ec-1",
				"x": base64.RawURLEncoding.EncodeToString(ec.X.FillBytes(make([]byte, 32))),
				"y": base64.RawURLEncoding.EncodeToString(ec.Y.FillBytes(make([]byte, 32)))})
			g.SetIDTokenSigner(func(claims map[string]any) string { return c.sign(t, g, claims) })
			acc, err := googleService(t, g, secrets.NewMemory()).SignIn(testCtx(t), signin.Request{Provider: "google"})
			var se *signin.Error
			switch {
			case c.ok && (err != nil || acc.Address != googletest.Gmail.Email):
				t.Fatalf("%v %v", acc, err)
			case !c.ok && (!errors.As(err, &se) || se.Code != signin.CodeIDToken):
				t.Fatalf("accepted: %v %v", acc, err)
			}
		})
	}
}

// The keys that vouch for ID tokens come from the provider's server only:
// a JWKS endpoint redirecting to another server (whose key signed the
// token) is not followed.
func TestJWKSNotFromAnotherServer(t *testing.T) {
	evil, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "evil",
			"n": base64.RawURLEncoding.EncodeToString(evil.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(evil.E)).Bytes())}}})
	}))
	defer other.Close()
	g := googletest.NewServer(t) // httptest servers share one certificate: g's client trusts other too
	g.SetJWKSRedirect(other.URL + "/certs")
	g.SetIDTokenSigner(func(claims map[string]any) string {
		return jwt(t, map[string]any{"alg": "RS256", "typ": "JWT", "kid": "evil"}, claims, func(in []byte) []byte {
			sum := sha256.Sum256(in)
			sig, _ := rsa.SignPKCS1v15(rand.Reader, evil, crypto.SHA256, sum[:])
			return sig
		})
	})
	acc, err := googleService(t, g, secrets.NewMemory()).SignIn(testCtx(t), signin.Request{Provider: "google"})
	var se *signin.Error
	if !errors.As(err, &se) || se.Code != signin.CodeIDToken {
		t.Fatalf("accepted: %v %v", acc, err)
	}
}

// A new sign-in writes its refresh token under the lock the refreshes of
// every process hold, so a refresh of an earlier sign-in under way
// elsewhere cannot write its token over the new one; a lock that cannot
// be had leaves nothing stored.
func TestSignInStoresUnderTheRefreshLock(t *testing.T) {
	g := googletest.NewServer(t)
	store := secrets.NewMemory()
	cfg := googleService(t, g, store).Config()
	var locked []string
	cfg.Lock = func(_ context.Context, key string) (func(), error) {
		locked = append(locked, key)
		return nil, errors.New("another process holds the lock")
	}
	_, err := signin.New(cfg).SignIn(testCtx(t), signin.Request{Provider: "google"})
	var se *signin.Error
	if !errors.As(err, &se) || se.Code != signin.CodeKeyring {
		t.Fatalf("%v", err)
	}
	want := secrets.RefreshKey(googletest.Gmail.Email, "google")
	if !slices.Equal(locked, []string{want}) || len(store.Keys()) != 0 {
		t.Fatalf("locked %v, stored %v", locked, store.Keys())
	}
}

// The administrator declines (or Microsoft answers with an error): the
// loopback receives error=… instead of admin_consent=True, and
// admin-consent says consent was not granted and who can grant it, in
// both languages, never a grant.
func TestAdminConsentDeclined(t *testing.T) {
	ms := microsofttest.NewServer(t)
	cfg := microsoftService(t, ms, secrets.NewMemory()).Config()
	for name, edit := range map[string]func(url.Values){
		"declined": func(q url.Values) {
			q.Del("admin_consent")
			q.Del("tenant")
			q.Set("error", "access_denied")
			q.Set("error_description", "AADSTS65004: User declined to consent to access the app.")
		},
		"admin_consent False": func(q url.Values) { q.Set("admin_consent", "False") },
	} {
		t.Run(name, func(t *testing.T) {
			cfg.Opener = forgingOpener(t, ms.HTTPClient(), edit)
			res, err := signin.New(cfg).AdminConsent(testCtx(t), signin.AdminConsentRequest{Provider: "microsoft", Tenant: microsofttest.Work.TenantID})
			var se *signin.Error
			if res != nil || !errors.As(err, &se) {
				t.Fatalf("%+v %v", res, err)
			}
			txt := se.Text()
			if !strings.Contains(txt.EN, "not granted") || !strings.Contains(txt.PL, "nie została udzielona") ||
				!strings.Contains(txt.EN, "Global Administrator") || !strings.Contains(txt.PL, "administratora globalnego") {
				t.Errorf("says %q / %q", txt.EN, txt.PL)
			}
		})
	}
}
