package signin_test

// The Microsoft sign-in (moved here from mailcfg/microsoft, whose flow and
// token code it replaced): settings from the ID token, Entra's tenant and
// issuer rules, AADSTS errors, refresh-token rotation, cancel and timeout.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"infino.legal/mailbox/internal/microsofttest"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/signin"
	"infino.legal/mailbox/mailcfg/verify"
)

func msConfig(t testing.TB, as *microsofttest.Server, store secrets.Store) signin.Config {
	p := as.Policy()
	pol := policy.Default()
	if err := pol.Set("test", map[string]any{"microsoft.clientId": p.ClientID, "microsoft.tenant": p.Tenant, "microsoft.authority": p.Authority}); err != nil {
		t.Fatal(err)
	}
	return signin.Config{Policy: pol, Store: store, HTTPClient: as.HTTPClient(), Opener: as.Browser().Open, Timeout: 30 * time.Second,
		Lock: memLock()}
}

// memLock is an in-process stand-in for the cross-process lock (tested
// with real processes in process_test.go).
func memLock() func(context.Context, string) (func(), error) {
	var mu sync.Mutex
	return func(context.Context, string) (func(), error) { mu.Lock(); return mu.Unlock, nil }
}

func msSignIn(t *testing.T, as *microsofttest.Server, store secrets.Store) *signin.Account {
	t.Helper()
	acc, err := signin.New(msConfig(t, as, store)).SignIn(testCtx(t), signin.Request{Provider: "microsoft"})
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	return acc
}

func msTokens(t *testing.T, cfg signin.Config, address string) *signin.Tokens {
	return signin.New(cfg).Tokens("microsoft", address)
}

func asErr(t *testing.T, err error) *signin.Error {
	t.Helper()
	var e *signin.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *signin.Error", err, err)
	}
	if e.Message.PL == "" || e.Message.EN == "" {
		t.Fatalf("error %v has no translated message: %+v", e, e.Message)
	}
	return e
}

func TestMicrosoftEndpointsFromPolicy(t *testing.T) {
	pol := policy.Default()
	pol.Set("t", map[string]any{"microsoft.clientId": "x", "microsoft.tenant": "kancelaria.onmicrosoft.com", "microsoft.authority": "https://login.microsoftonline.us/"})
	urls := make(chan string, 1)
	s, err := signin.New(signin.Config{Policy: pol, Opener: func(context.Context, string) error { return nil }}).
		Start(context.Background(), signin.Request{Provider: "microsoft", OnURL: func(u string) { urls <- u }})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	u := <-urls
	if !strings.HasPrefix(u, "https://login.microsoftonline.us/kancelaria.onmicrosoft.com/oauth2/v2.0/authorize?") ||
		!strings.Contains(u, "scope=https%3A%2F%2Foutlook.office.com%2FIMAP.AccessAsUser.All+https%3A%2F%2Foutlook.office.com%2FSMTP.Send+offline_access+openid+email+profile") ||
		!strings.Contains(u, "code_challenge_method=S256") || !strings.Contains(u, "prompt=select_account") {
		t.Fatalf("auth URL %s", u)
	}
	pol.Microsoft.Authority = "http://login.example"
	_, err = signin.New(signin.Config{Policy: pol}).Start(context.Background(), signin.Request{Provider: "microsoft"})
	if e := asErr(t, err); e.Code != signin.CodeMisconfigured || !strings.Contains(e.Hint.EN, "microsoft.authority") {
		t.Fatalf("http authority: %v", err)
	}
}

func TestMicrosoftNotConfiguredTellsITWhatToSet(t *testing.T) {
	svc := signin.New(signin.Config{Policy: policy.Default(), PolicyFile: "/etc/infino-mailbox/policy.json"})
	_, err := svc.Start(context.Background(), signin.Request{Provider: "microsoft"})
	e := asErr(t, err)
	if e.Code != signin.CodeNotConfigured {
		t.Fatalf("code %s", e.Code)
	}
	for _, lang := range []string{"pl", "en"} {
		txt := e.Text().In(lang)
		for _, want := range []string{"microsoft.clientId", "/etc/infino-mailbox/policy.json", "http://localhost", policy.EnvPath} {
			if !strings.Contains(txt, want) {
				t.Errorf("%s message lacks %q: %s", lang, want, txt)
			}
		}
	}
	if !strings.Contains(e.Text().PL, "Dział IT") {
		t.Errorf("Polish text: %s", e.Text().PL)
	}
}

func TestMicrosoftSignInWorkAccount(t *testing.T) {
	as := microsofttest.NewServer(t)
	store := secrets.NewMemory()
	acc := msSignIn(t, as, store)

	want := mailcfg.Settings{
		Email: "anna.nowak@kancelaria.example",
		Auth:  mailcfg.AuthOAuth2,
		Incoming: mailcfg.Server{Protocol: mailcfg.IMAP, Host: "outlook.office365.com", Port: 993,
			Security: mailcfg.SecurityTLS, Username: "anna.nowak@kancelaria.example"},
		Outgoing: mailcfg.Server{Protocol: mailcfg.SMTP, Host: "smtp.office365.com", Port: 587,
			Security: mailcfg.SecurityStartTLS, Username: "anna.nowak@kancelaria.example"},
		Provider: &mailcfg.ProviderRef{ID: "microsoft365", Name: "Microsoft 365 (Exchange Online)"},
		Source:   mailcfg.SourceMicrosoft,
	}
	if !reflect.DeepEqual(acc.Settings, want) {
		t.Fatalf("settings\n got %+v\nwant %+v", acc.Settings, want)
	}
	if err := acc.Settings.Validate(mailcfg.ValidateOptions{}); err != nil {
		t.Fatalf("settings invalid: %v", err)
	}
	if acc.Personal || acc.TenantID != microsofttest.Work.TenantID || acc.Name != "Anna Nowak" || acc.Provider != "microsoft" {
		t.Fatalf("account %+v", acc)
	}
	// Only the refresh token is kept, under the documented key.
	if keys := store.Keys(); len(keys) != 1 || keys[0] != "mailbox:anna.nowak@kancelaria.example:microsoft-refresh" {
		t.Fatalf("stored keys %v", keys)
	}
	rt, _ := store.Get(context.Background(), secrets.MicrosoftRefreshKey(acc.Address))
	if !as.ValidRefreshToken(rt) {
		t.Fatal("stored refresh token is not the one issued")
	}
	// The account never prints a token.
	for _, s := range []string{fmt.Sprint(acc), fmt.Sprintf("%+v", *acc), fmt.Sprintf("%#v", *acc)} {
		if strings.Contains(s, rt) || strings.Contains(s, "eyJ") {
			t.Fatalf("account prints a token: %s", s)
		}
	}
	// The sign-in's access token is used without a refresh.
	at, err := acc.Tokens().AccessToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := as.ValidAccessToken(at); !ok || a != microsofttest.Work {
		t.Fatal("access token not issued by the server")
	}
	if c := as.Counts(); c.Refreshed != 0 || c.CodeRedeemed != 1 {
		t.Fatalf("counts %+v", c)
	}
}

func TestMicrosoftSignInPersonalAccount(t *testing.T) {
	as := microsofttest.NewServer(t)
	as.SetAccount(microsofttest.Personal)
	acc := msSignIn(t, as, secrets.NewMemory())
	s := acc.Settings
	if !acc.Personal || s.Outgoing.Host != "smtp-mail.outlook.com" || s.Outgoing.Port != 587 ||
		s.Outgoing.Security != mailcfg.SecurityStartTLS || s.Incoming.Host != "outlook.office365.com" ||
		s.Provider == nil || s.Provider.ID != "outlook.com" || s.Email != "jan.kowalski@outlook.com" {
		t.Fatalf("personal settings %+v", s)
	}
}

func TestMicrosoftIDTokenClaims(t *testing.T) {
	cases := []struct {
		name    string
		account microsofttest.Account
		tenant  string
		edit    func(map[string]any)
		code    signin.Code
		email   string
	}{
		{name: "email fallback", account: microsofttest.Account{PreferredUsername: "+48600100200", Email: "Ewa@Outlook.example", TenantID: microsofttest.ConsumerTenantID},
			email: "Ewa@outlook.example"},
		// A work tenant's email claim is set by its administrator, to any
		// domain: it names the mailbox only with xms_edov (domain verified).
		{name: "work email unverified", account: microsofttest.Account{PreferredUsername: "+48600100200", Email: "Ewa@Kancelaria.example", TenantID: microsofttest.Work.TenantID},
			code: signin.CodeNoAddress},
		{name: "work email verified domain", account: microsofttest.Account{PreferredUsername: "+48600100200", Email: "Ewa@Kancelaria.example", TenantID: microsofttest.Work.TenantID},
			edit: func(c map[string]any) { c["xms_edov"] = true }, email: "Ewa@kancelaria.example"},
		{name: "no address", account: microsofttest.Account{PreferredUsername: "+48600100200", TenantID: microsofttest.ConsumerTenantID},
			code: signin.CodeNoAddress},
		{name: "aud", edit: func(c map[string]any) { c["aud"] = "another-app" }, code: signin.CodeIDToken},
		{name: "aud list", edit: func(c map[string]any) { c["aud"] = []string{c["aud"].(string)} }},
		{name: "iss host", edit: func(c map[string]any) { c["iss"] = "https://evil.example/" + c["tid"].(string) + "/v2.0" }, code: signin.CodeIDToken},
		{name: "iss tenant", edit: func(c map[string]any) {
			c["iss"] = strings.Replace(c["iss"].(string), c["tid"].(string), microsofttest.ConsumerTenantID, 1)
		}, code: signin.CodeIDToken},
		{name: "iss v1", edit: func(c map[string]any) { c["iss"] = strings.TrimSuffix(c["iss"].(string), "/v2.0") }, code: signin.CodeIDToken},
		{name: "no tid", edit: func(c map[string]any) { delete(c, "tid") }, code: signin.CodeIDToken},
		{name: "expired", edit: func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }, code: signin.CodeIDToken},
		{name: "no exp", edit: func(c map[string]any) { delete(c, "exp") }, code: signin.CodeIDToken},
		{name: "future nbf", edit: func(c map[string]any) { c["nbf"] = time.Now().Add(time.Hour).Unix() }, code: signin.CodeIDToken},
		{name: "policy tenant", tenant: "11111111-2222-3333-4444-555555555555", code: signin.CodeIDToken},
		{name: "policy tenant matches", tenant: microsofttest.Work.TenantID},
		{name: "consumers only", tenant: "consumers", code: signin.CodeIDToken},
		{name: "organizations", tenant: "organizations"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			as := microsofttest.NewServer(t)
			if c.tenant != "" {
				as.SetTenant(c.tenant)
			}
			if c.account.TenantID != "" {
				as.SetAccount(c.account)
			}
			as.SetClaims(c.edit)
			store := secrets.NewMemory()
			acc, err := signin.New(msConfig(t, as, store)).SignIn(testCtx(t), signin.Request{Provider: "microsoft"})
			if c.code != "" {
				if e := asErr(t, err); e.Code != c.code {
					t.Fatalf("code %s, want %s (%v)", e.Code, c.code, e.Err)
				}
				if len(store.Keys()) != 0 {
					t.Fatal("a refresh token was stored for a refused sign-in")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.email != "" && acc.Settings.Email != c.email {
				t.Fatalf("email %q", acc.Settings.Email)
			}
		})
	}
}

func TestMicrosoftRefreshTokenRotationIsPersisted(t *testing.T) {
	as := microsofttest.NewServer(t)
	store := secrets.NewMemory()
	acc := msSignIn(t, as, store)
	ctx := context.Background()
	key := secrets.MicrosoftRefreshKey(acc.Address)
	first, _ := store.Get(ctx, key)

	// A fresh process: only the store knows the refresh token.
	cfg := msConfig(t, as, store)
	tokens := msTokens(t, cfg, "Anna.Nowak@kancelaria.example")
	seen := map[string]bool{first: true}
	for i := range 3 {
		tokens.Invalidate() // as if the access token had expired
		at, err := tokens.AccessToken(ctx)
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		if _, ok := as.ValidAccessToken(at); !ok {
			t.Fatalf("refresh %d: unknown access token", i)
		}
		rt, _ := store.Get(ctx, key)
		if seen[rt] {
			t.Fatalf("refresh %d: the rotated refresh token was not stored", i)
		}
		seen[rt] = true
		if !as.ValidRefreshToken(rt) {
			t.Fatalf("refresh %d: stored refresh token is not the current one", i)
		}
	}
	if as.ValidRefreshToken(first) {
		t.Fatal("the fake did not rotate")
	}
	// Another token source reading the store continues the chain.
	if _, err := msTokens(t, cfg, acc.Address).AccessToken(ctx); err != nil {
		t.Fatalf("second source: %v", err)
	}
	// And the first one, whose in-memory token is now spent, reads the
	// store again before refreshing instead of presenting it.
	tokens.Invalidate()
	if _, err := tokens.AccessToken(ctx); err != nil {
		t.Fatalf("first source after the second: %v", err)
	}
	if c := as.Counts(); c.Refreshed != 5 || c.RefreshRejected != 0 || as.Stats().RefreshReused != 0 {
		t.Fatalf("counts %+v", c)
	}
}

func TestMicrosoftTokensCachesAndSerializes(t *testing.T) {
	as := microsofttest.NewServer(t)
	store := secrets.NewMemory()
	acc := msSignIn(t, as, store)
	tokens := msTokens(t, msConfig(t, as, store), acc.Address)
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Go(func() {
			at, err := tokens.AccessToken(context.Background())
			if err != nil {
				t.Error(err)
			}
			got[i] = at
		})
	}
	wg.Wait()
	for _, at := range got[1:] {
		if at != got[0] {
			t.Fatal("concurrent callers got different tokens")
		}
	}
	if c := as.Counts(); c.Refreshed != 1 {
		t.Fatalf("%d refreshes for concurrent callers", c.Refreshed)
	}
	tokens.Invalidate()
	if _, err := tokens.AccessToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c := as.Counts(); c.Refreshed != 2 {
		t.Fatalf("Invalidate did not force a refresh: %+v", c)
	}
}

// failingStore fails Set while fail is true.
type failingStore struct {
	*secrets.Memory
	mu   sync.Mutex
	fail bool
}

func (s *failingStore) Set(ctx context.Context, k, v string) error {
	s.mu.Lock()
	fail := s.fail
	s.mu.Unlock()
	if fail {
		return &secrets.Error{Op: "set", Key: k, Kind: secrets.ErrTimeout, Timeout: 30 * time.Second}
	}
	return s.Memory.Set(ctx, k, v)
}

func TestMicrosoftRotatedTokenThatCannotBeStored(t *testing.T) {
	as := microsofttest.NewServer(t)
	store := &failingStore{Memory: secrets.NewMemory()}
	acc := msSignIn(t, as, store)
	ctx := context.Background()
	tokens := msTokens(t, msConfig(t, as, store), acc.Address)
	store.mu.Lock()
	store.fail = true
	store.mu.Unlock()
	_, err := tokens.AccessToken(ctx)
	e := asErr(t, err)
	if e.Code != signin.CodeKeyring || !errors.Is(err, secrets.ErrTimeout) || !strings.Contains(e.Message.EN, "keyring") {
		t.Fatalf("error %v", e)
	}
	store.mu.Lock()
	store.fail = false
	store.mu.Unlock()
	// The next call writes the pending token first, and refreshes with it.
	if _, err := tokens.AccessToken(ctx); err != nil {
		t.Fatal(err)
	}
	rt, _ := store.Get(ctx, secrets.MicrosoftRefreshKey(acc.Address))
	if !as.ValidRefreshToken(rt) || as.Stats().RefreshReused != 0 {
		t.Fatal("the rotated token was not stored after the keyring recovered")
	}
}

func TestMicrosoftNotSignedIn(t *testing.T) {
	as := microsofttest.NewServer(t)
	_, err := msTokens(t, msConfig(t, as, secrets.NewMemory()), "x@kancelaria.example").AccessToken(context.Background())
	if e := asErr(t, err); e.Code != signin.CodeNotSignedIn || !strings.Contains(e.Hint.EN, "signin microsoft") {
		t.Fatalf("code %s %s", e.Code, e.Hint.EN)
	}
	c := msConfig(t, as, secrets.NewMemory())
	c.Policy.Microsoft.ClientID = ""
	_, err = msTokens(t, c, "x@kancelaria.example").AccessToken(context.Background())
	if e := asErr(t, err); e.Code != signin.CodeNotConfigured {
		t.Fatalf("code %s", e.Code)
	}
}

func TestMicrosoftAuthorizeErrors(t *testing.T) {
	for _, c := range []struct {
		err    microsofttest.ErrorResponse
		code   signin.Code
		aadsts int
	}{
		{microsofttest.ErrorResponse{Error: "access_denied", Description: "AADSTS65004: User declined to consent to access the app."}, signin.CodeCancelled, 65004},
		{microsofttest.ErrorResponse{Error: "access_denied", Description: "The user has cancelled."}, signin.CodeCancelled, 0},
		{microsofttest.ErrorResponse{Error: "access_denied", Description: "AADSTS50020: User account 'jan@outlook.com' from identity provider 'live.com' does not exist in tenant 'Kancelaria' and cannot access the application."}, signin.CodePersonalNotAllowed, 50020},
		{microsofttest.ErrorResponse{Error: "consent_required", Description: "AADSTS90094: The grant requires admin permission."}, signin.CodeAdminConsent, 90094},
		{microsofttest.ErrorResponse{Error: "access_denied", Description: "AADSTS90095: Admin consent is required. An admin consent request was sent."}, signin.CodeAdminConsent, 90095},
		{microsofttest.ErrorResponse{Error: "unauthorized_client", Description: "AADSTS700016: Application with identifier 'x' was not found in the directory 'Kancelaria'."}, signin.CodeAppNotFound, 700016},
		{microsofttest.ErrorResponse{Error: "invalid_request", Description: "AADSTS9002331: Application 'x' is configured for use by Microsoft Account users only."}, signin.CodeMisconfigured, 9002331},
		{microsofttest.ErrorResponse{Error: "invalid_request", Description: "AADSTS50194: Application 'x' is not configured as a multi-tenant application."}, signin.CodeMisconfigured, 50194},
		{microsofttest.ErrorResponse{Error: "server_error", Description: "AADSTS90033: A transient error has occurred."}, signin.CodeServer, 90033},
	} {
		t.Run(fmt.Sprint(c.aadsts, c.err.Error), func(t *testing.T) {
			as := microsofttest.NewServer(t)
			as.SetAuthorizeError(&c.err)
			store := secrets.NewMemory()
			_, err := signin.New(msConfig(t, as, store)).SignIn(testCtx(t), signin.Request{Provider: "microsoft"})
			e := asErr(t, err)
			if e.Code != c.code || e.AADSTS != c.aadsts || e.OAuthError != c.err.Error {
				t.Fatalf("got %s AADSTS%d %s, want %s AADSTS%d", e.Code, e.AADSTS, e.OAuthError, c.code, c.aadsts)
			}
			if e.AADSTS != 0 && !strings.Contains(e.Error(), fmt.Sprint(e.AADSTS)) {
				t.Fatalf("Error() lacks the number: %s", e.Error())
			}
			if c.code == signin.CodeAdminConsent && (e.Consent == nil || e.Consent.AADSTS != c.aadsts) {
				t.Fatalf("no consent link: %+v", e)
			}
			if len(store.Keys()) != 0 || as.Counts().CodeRedeemed != 0 {
				t.Fatal("a denied sign-in stored or redeemed something")
			}
		})
	}
}

func TestMicrosoftTokenEndpointErrors(t *testing.T) {
	for _, c := range []struct {
		err  microsofttest.ErrorResponse
		code signin.Code
	}{
		{aad("invalid_grant", "AADSTS65001: The user or administrator has not consented to use the application.", 65001), signin.CodeAdminConsent},
		{aad("invalid_client", "AADSTS700016: Application not found in the directory.", 700016), signin.CodeAppNotFound},
		{aad("invalid_request", "AADSTS500200: User account is a personal Microsoft account.", 500200), signin.CodePersonalNotAllowed},
		{aad("invalid_client", "AADSTS7000218: The request body must contain client_assertion or client_secret.", 7000218), signin.CodeMisconfigured},
	} {
		t.Run(c.err.Description[:13], func(t *testing.T) {
			as := microsofttest.NewServer(t)
			as.SetTokenError(&c.err)
			_, err := signin.New(msConfig(t, as, secrets.NewMemory())).SignIn(testCtx(t), signin.Request{Provider: "microsoft"})
			e := asErr(t, err)
			if e.Code != c.code || e.AADSTS != c.err.Codes[0] || e.TraceID == "" || e.Detail() == "" {
				t.Fatalf("got %+v", e)
			}
		})
	}
}

func TestMicrosoftRefreshErrors(t *testing.T) {
	for _, c := range []struct {
		err  microsofttest.ErrorResponse
		code signin.Code
	}{
		{aad("invalid_grant", "AADSTS70008: The refresh token has expired due to inactivity.", 70008), signin.CodeSignInAgain},
		{aad("invalid_grant", "AADSTS700082: The refresh token has expired due to inactivity.", 700082), signin.CodeSignInAgain},
		{aad("invalid_grant", "AADSTS50173: The provided grant has expired due to it being revoked.", 50173), signin.CodeSignInAgain},
		{aad("invalid_grant", ""), signin.CodeSignInAgain},
		{aad("interaction_required", "AADSTS65001: consent", 65001), signin.CodeAdminConsent},
		{aad("temporarily_unavailable", "AADSTS90033: transient", 90033), signin.CodeServer},
	} {
		t.Run(c.err.Description, func(t *testing.T) {
			as := microsofttest.NewServer(t)
			store := secrets.NewMemory()
			acc := msSignIn(t, as, store)
			as.SetTokenError(&c.err)
			_, err := msTokens(t, msConfig(t, as, store), acc.Address).AccessToken(context.Background())
			if e := asErr(t, err); e.Code != c.code {
				t.Fatalf("code %s, want %s", e.Code, c.code)
			}
		})
	}
	// A spent refresh token (another copy rotated it and the keyring was
	// rolled back) means signing in again; the fake revokes the grant.
	as := microsofttest.NewServer(t)
	store := secrets.NewMemory()
	acc := msSignIn(t, as, store)
	key := secrets.MicrosoftRefreshKey(acc.Address)
	old, _ := store.Get(context.Background(), key)
	cfg := msConfig(t, as, store)
	if _, err := msTokens(t, cfg, acc.Address).AccessToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	store.Set(context.Background(), key, old)
	_, err := msTokens(t, cfg, acc.Address).AccessToken(context.Background())
	if e := asErr(t, err); e.Code != signin.CodeSignInAgain || e.AADSTS != 70008 || as.Stats().RefreshReused != 1 {
		t.Fatalf("spent token: %+v", e)
	}
}

func TestMicrosoftNetworkFailure(t *testing.T) {
	as := microsofttest.NewServer(t)
	store := secrets.NewMemory()
	acc := msSignIn(t, as, store)
	cfg := msConfig(t, as, store)
	as.TLS.Close()
	_, err := msTokens(t, cfg, acc.Address).AccessToken(context.Background())
	if e := asErr(t, err); e.Code != signin.CodeNetwork {
		t.Fatalf("code %s", e.Code)
	}
}

func TestMicrosoftCancelAndTimeout(t *testing.T) {
	as := microsofttest.NewServer(t)
	c := msConfig(t, as, secrets.NewMemory())
	c.Opener = func(context.Context, string) error { return nil } // nobody signs in
	urls := make(chan string, 1)
	req := signin.Request{Provider: "microsoft", OnURL: func(u string) {
		select {
		case urls <- u:
		default:
		}
	}}
	s, err := signin.New(c).Start(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if u := <-urls; u != s.AuthURL || !strings.HasPrefix(u, as.URL+"/common/oauth2/v2.0/authorize?") ||
		!strings.Contains(u, "prompt=select_account") || !strings.Contains(u, "redirect_uri=http%3A%2F%2Flocalhost%3A") {
		t.Fatalf("auth URL %s", u)
	}
	go func() { time.Sleep(50 * time.Millisecond); s.Close() }()
	_, err = s.Wait(context.Background())
	if e := asErr(t, err); e.Code != signin.CodeCancelled {
		t.Fatalf("Close: %s", e.Code)
	}

	c.Timeout = 100 * time.Millisecond
	_, err = signin.New(c).SignIn(context.Background(), signin.Request{Provider: "microsoft"})
	if e := asErr(t, err); e.Code != signin.CodeTimeout {
		t.Fatalf("timeout: %s", e.Code)
	}

	ctx, cancel := context.WithCancel(context.Background())
	c.Timeout = time.Minute
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = signin.New(c).SignIn(ctx, signin.Request{Provider: "microsoft"})
	if e := asErr(t, err); e.Code != signin.CodeCancelled {
		t.Fatalf("ctx cancel: %s", e.Code)
	}
}

func aad(oauthErr, description string, codes ...int) microsofttest.ErrorResponse {
	return microsofttest.ErrorResponse{Error: oauthErr, Description: description, Codes: codes}
}

// An access token is reused until RefreshMargin (or half its lifetime)
// before it expires, then refreshed.
func TestMicrosoftTokensRefreshBeforeExpiry(t *testing.T) {
	as := microsofttest.NewServer(t)
	store := secrets.NewMemory()
	acc := msSignIn(t, as, store)
	var mu sync.Mutex
	now := time.Now()
	cfg := msConfig(t, as, store)
	cfg.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	tokens := msTokens(t, cfg, acc.Address)
	ctx := context.Background()
	first, err := tokens.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := first.Expiry.Sub(now); d < 59*time.Minute || d > time.Hour {
		t.Fatalf("expiry in %v", d)
	}
	advance(50 * time.Minute)
	if tok, _ := tokens.Token(ctx); tok.AccessToken != first.AccessToken {
		t.Fatal("refreshed 10 minutes before expiry")
	}
	advance(6 * time.Minute)
	tok, err := tokens.Token(ctx)
	if err != nil || tok.AccessToken == first.AccessToken {
		t.Fatalf("not refreshed 4 minutes before expiry (%v)", err)
	}
	if c := as.Counts(); c.Refreshed != 2 {
		t.Fatalf("counts %+v", c)
	}
	// A 2-minute token is good for its first minute.
	as.SetAccessTokenTTL(2 * time.Minute)
	tokens.Invalidate()
	short, _ := tokens.Token(ctx)
	advance(50 * time.Second)
	if tok, _ := tokens.Token(ctx); tok.AccessToken != short.AccessToken {
		t.Fatal("a short-lived token was refreshed at once")
	}
	advance(20 * time.Second)
	if tok, _ := tokens.Token(ctx); tok.AccessToken == short.AccessToken {
		t.Fatal("a short-lived token was not refreshed after half its lifetime")
	}
}

// The refresh request carries the refresh token in its body, which
// net/http re-posts on a 307/308 to any host, plain http included. A token
// endpoint that redirects gets an error, not the token.
func TestMicrosoftRefreshNotRedirected(t *testing.T) {
	as := microsofttest.NewServer(t)
	store := secrets.NewMemory()
	acc := msSignIn(t, as, store)
	var stolen atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"x","token_type":"Bearer","expires_in":3600}`))
	}))
	t.Cleanup(evil.Close)
	redirector := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, evil.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)
	cfg := msConfig(t, as, store)
	cfg.Policy.Microsoft.Authority = redirector.URL
	cfg.HTTPClient = redirector.Client()
	_, err := msTokens(t, cfg, acc.Address).AccessToken(context.Background())
	if err == nil {
		t.Error("refresh succeeded through a redirect")
	}
	if n := stolen.Load(); n != 0 {
		t.Fatalf("the refresh token was posted on to %s (%d requests)", evil.URL, n)
	}
	asErr(t, err)
}

// The signed-in account logs in to IMAP and SMTP by XOAUTH2, first with
// the sign-in's token, then with a refreshed one (read from the store, as
// after a restart); a forged token, no stored sign-in and SMTP AUTH off
// are each reported as such.
func TestMicrosoftVerifyXOAUTH2(t *testing.T) {
	as := microsofttest.NewServer(t)
	mail := as.StartMail(t)
	store := secrets.NewMemory()
	acc := msSignIn(t, as, store)
	s := mail.Settings(acc.Settings)
	opt := verify.Options{RootCAs: mail.RootCAs}
	ctx := testCtx(t)

	r := verify.Verify(ctx, s, verify.TokenFunc(acc.Tokens().AccessToken), opt)
	if !r.OK {
		t.Fatalf("verify: %+v / %+v", r.Incoming.Failure, r.Outgoing.Failure)
	}
	for _, l := range mail.Logins() {
		if l.Mechanism != "XOAUTH2" || !l.OK || l.User != acc.Address {
			t.Fatalf("login %+v", l)
		}
	}
	as.SetAccessTokenTTL(time.Minute)
	cfg := msConfig(t, as, store)
	before, _ := store.Get(ctx, secrets.MicrosoftRefreshKey(acc.Address))
	r = verify.Verify(ctx, s, verify.TokenFunc(msTokens(t, cfg, acc.Address).AccessToken), opt)
	after, _ := store.Get(ctx, secrets.MicrosoftRefreshKey(acc.Address))
	if !r.OK || after == before || !as.ValidRefreshToken(after) || as.Counts().Refreshed != 1 {
		t.Fatalf("verify after refresh: %+v / %+v", r.Incoming.Failure, r.Outgoing.Failure)
	}

	r = verify.Verify(ctx, s, verify.OAuth2Token{AccessToken: "forged"}, opt)
	if r.OK || r.Incoming.Failure.Kind != mailcfg.KindAuthFailed ||
		r.Outgoing.Failure.Kind != mailcfg.KindAuthFailed && r.Outgoing.Failure.Kind != mailcfg.KindAuthDisabled {
		t.Fatalf("forged token: %+v / %+v", r.Incoming.Failure, r.Outgoing.Failure)
	}
	r = verify.Verify(ctx, s, verify.TokenFunc(msTokens(t, cfg, "nobody@kancelaria.example").AccessToken), opt)
	f := r.Incoming.Failure
	if r.OK || f == nil || f.Kind != mailcfg.KindAuthFailed || !strings.Contains(f.Detail, "not_signed_in") ||
		!strings.Contains(f.Hint.EN, "signin microsoft") {
		t.Fatalf("not signed in: %+v", f)
	}
	mail.SetSMTPAuthDisabled(true)
	r = verify.Verify(ctx, s, verify.TokenFunc(acc.Tokens().AccessToken), opt)
	if !r.Incoming.OK || r.Outgoing.OK || r.Outgoing.Failure.Kind != mailcfg.KindAuthDisabled ||
		!strings.Contains(r.Outgoing.Failure.Detail, "5.7.139") {
		t.Fatalf("SMTP AUTH disabled: %+v", r.Outgoing.Failure)
	}
}
