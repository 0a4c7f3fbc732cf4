package microsoft_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"infino.legal/mailbox/internal/microsofttest"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/microsoft"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/secrets"
)

func config(as *microsofttest.Server, store secrets.Store) microsoft.Config {
	return microsoft.Config{
		Policy:     as.Policy(),
		Store:      store,
		HTTPClient: as.HTTPClient(),
		Opener:     as.Browser().Open,
		Timeout:    30 * time.Second,
	}
}

func signIn(t *testing.T, as *microsofttest.Server, store secrets.Store) *microsoft.Account {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	acc, err := microsoft.SignIn(ctx, config(as, store))
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	return acc
}

func asError(t *testing.T, err error) *microsoft.Error {
	t.Helper()
	var e *microsoft.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *microsoft.Error", err, err)
	}
	if e.Message.PL == "" || e.Message.EN == "" {
		t.Fatalf("error %v has no translated message: %+v", e, e.Message)
	}
	return e
}

func TestEndpointsFromPolicy(t *testing.T) {
	c := microsoft.Config{Policy: policy.Default().Microsoft}
	ep, err := c.Endpoint()
	if err != nil {
		t.Fatal(err)
	}
	if ep.AuthURL != "https://login.microsoftonline.com/common/oauth2/v2.0/authorize" ||
		ep.TokenURL != "https://login.microsoftonline.com/common/oauth2/v2.0/token" {
		t.Fatalf("endpoint %+v", ep)
	}
	c.Policy = policy.Microsoft{ClientID: "x", Tenant: "kancelaria.onmicrosoft.com", Authority: "https://login.microsoftonline.us/"}
	oc, err := c.OAuth2Config()
	if err != nil {
		t.Fatal(err)
	}
	if oc.Endpoint.TokenURL != "https://login.microsoftonline.us/kancelaria.onmicrosoft.com/oauth2/v2.0/token" {
		t.Fatalf("token URL %s", oc.Endpoint.TokenURL)
	}
	if got := strings.Join(oc.Scopes, " "); got != microsofttest.Scopes {
		t.Fatalf("scopes %q", got)
	}
	c.Policy.Authority = "http://login.example"
	if _, err := c.OAuth2Config(); asError(t, err).Code != microsoft.CodeMisconfigured {
		t.Fatalf("http authority: %v", err)
	}
}

func TestNotConfiguredTellsITWhatToSet(t *testing.T) {
	c := microsoft.Config{Policy: policy.Default().Microsoft, PolicyFile: "/etc/infino-mailbox/policy.json"}
	if c.Configured() {
		t.Fatal("default policy has a client id")
	}
	_, err := microsoft.Start(context.Background(), c)
	e := asError(t, err)
	if e.Code != microsoft.CodeNotConfigured {
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
	t.Setenv(policy.EnvPath, "/srv/policy.json")
	if got := microsoft.NotConfigured("").Hint.EN; !strings.Contains(got, "/srv/policy.json") {
		t.Errorf("default policy file: %s", got)
	}
}

func TestSignInWorkAccount(t *testing.T) {
	as := microsofttest.NewServer(t)
	store := secrets.NewMemory()
	acc := signIn(t, as, store)

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
	if acc.Personal || acc.TenantID != microsofttest.Work.TenantID || acc.Name != "Anna Nowak" {
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

func TestSignInPersonalAccount(t *testing.T) {
	as := microsofttest.NewServer(t)
	as.SetAccount(microsofttest.Personal)
	acc := signIn(t, as, secrets.NewMemory())
	s := acc.Settings
	if !acc.Personal || s.Outgoing.Host != "smtp-mail.outlook.com" || s.Outgoing.Port != 587 ||
		s.Outgoing.Security != mailcfg.SecurityStartTLS || s.Incoming.Host != "outlook.office365.com" ||
		s.Provider == nil || s.Provider.ID != "outlook.com" || s.Email != "jan.kowalski@outlook.com" {
		t.Fatalf("personal settings %+v", s)
	}
}

func TestIDTokenClaims(t *testing.T) {
	cases := []struct {
		name    string
		account microsofttest.Account
		tenant  string
		edit    func(map[string]any)
		code    microsoft.Code
		email   string
	}{
		{name: "email fallback", account: microsofttest.Account{PreferredUsername: "+48600100200", Email: "Ewa@Kancelaria.example", TenantID: microsofttest.Work.TenantID},
			email: "Ewa@kancelaria.example"},
		{name: "no address", account: microsofttest.Account{PreferredUsername: "+48600100200", TenantID: microsofttest.ConsumerTenantID},
			code: microsoft.CodeNoAddress},
		{name: "aud", edit: func(c map[string]any) { c["aud"] = "another-app" }, code: microsoft.CodeIDToken},
		{name: "aud list", edit: func(c map[string]any) { c["aud"] = []string{c["aud"].(string)} }},
		{name: "iss host", edit: func(c map[string]any) { c["iss"] = "https://evil.example/" + c["tid"].(string) + "/v2.0" }, code: microsoft.CodeIDToken},
		{name: "iss tenant", edit: func(c map[string]any) {
			c["iss"] = strings.Replace(c["iss"].(string), c["tid"].(string), microsofttest.ConsumerTenantID, 1)
		}, code: microsoft.CodeIDToken},
		{name: "iss v1", edit: func(c map[string]any) { c["iss"] = strings.TrimSuffix(c["iss"].(string), "/v2.0") }, code: microsoft.CodeIDToken},
		{name: "no tid", edit: func(c map[string]any) { delete(c, "tid") }, code: microsoft.CodeIDToken},
		{name: "expired", edit: func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }, code: microsoft.CodeIDToken},
		{name: "no exp", edit: func(c map[string]any) { delete(c, "exp") }, code: microsoft.CodeIDToken},
		{name: "future nbf", edit: func(c map[string]any) { c["nbf"] = time.Now().Add(time.Hour).Unix() }, code: microsoft.CodeIDToken},
		{name: "policy tenant", tenant: "11111111-2222-3333-4444-555555555555", code: microsoft.CodeIDToken},
		{name: "policy tenant matches", tenant: microsofttest.Work.TenantID},
		{name: "consumers only", tenant: "consumers", code: microsoft.CodeIDToken},
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
			acc, err := microsoft.SignIn(context.Background(), config(as, store))
			if c.code != "" {
				if e := asError(t, err); e.Code != c.code {
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

func TestRefreshTokenRotationIsPersisted(t *testing.T) {
	as := microsofttest.NewServer(t)
	store := secrets.NewMemory()
	acc := signIn(t, as, store)
	ctx := context.Background()
	key := secrets.MicrosoftRefreshKey(acc.Address)
	first, _ := store.Get(ctx, key)

	// A fresh process: only the store knows the refresh token.
	tokens := microsoft.NewTokens(config(as, store), "Anna.Nowak@kancelaria.example")
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
	// Another process reading the store continues the chain.
	if _, err := microsoft.NewTokens(config(as, store), acc.Address).AccessToken(ctx); err != nil {
		t.Fatalf("second process: %v", err)
	}
	if c := as.Counts(); c.Refreshed != 4 || c.RefreshRejected != 0 {
		t.Fatalf("counts %+v", c)
	}
}

func TestTokensCachesAndSerializes(t *testing.T) {
	as := microsofttest.NewServer(t)
	store := secrets.NewMemory()
	acc := signIn(t, as, store)
	tokens := microsoft.NewTokens(config(as, store), acc.Address)
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

func TestRotatedTokenThatCannotBeStored(t *testing.T) {
	as := microsofttest.NewServer(t)
	store := &failingStore{Memory: secrets.NewMemory()}
	acc := signIn(t, as, store)
	ctx := context.Background()
	tokens := microsoft.NewTokens(config(as, store), acc.Address)
	store.fail = true
	_, err := tokens.AccessToken(ctx)
	e := asError(t, err)
	if e.Code != microsoft.CodeKeyring || !errors.Is(err, secrets.ErrTimeout) || !strings.Contains(e.Message.EN, "keyring") {
		t.Fatalf("error %v", e)
	}
	store.mu.Lock()
	store.fail = false
	store.mu.Unlock()
	// The next call writes the pending token before handing out the access token.
	if _, err := tokens.AccessToken(ctx); err != nil {
		t.Fatal(err)
	}
	rt, _ := store.Get(ctx, secrets.MicrosoftRefreshKey(acc.Address))
	if !as.ValidRefreshToken(rt) {
		t.Fatal("the rotated token was not stored after the keyring recovered")
	}
}

func TestNotSignedIn(t *testing.T) {
	as := microsofttest.NewServer(t)
	_, err := microsoft.NewTokens(config(as, secrets.NewMemory()), "x@kancelaria.example").AccessToken(context.Background())
	if e := asError(t, err); e.Code != microsoft.CodeNotSignedIn {
		t.Fatalf("code %s", e.Code)
	}
	c := config(as, secrets.NewMemory())
	c.Policy.ClientID = ""
	_, err = microsoft.NewTokens(c, "x@kancelaria.example").AccessToken(context.Background())
	if e := asError(t, err); e.Code != microsoft.CodeNotConfigured {
		t.Fatalf("code %s", e.Code)
	}
}

func TestAuthorizeErrors(t *testing.T) {
	for _, c := range []struct {
		err    microsofttest.ErrorResponse
		code   microsoft.Code
		aadsts int
	}{
		{microsofttest.ErrorResponse{Error: "access_denied", Description: "AADSTS65004: User declined to consent to access the app."}, microsoft.CodeCancelled, 65004},
		{microsofttest.ErrorResponse{Error: "access_denied", Description: "The user has cancelled."}, microsoft.CodeCancelled, 0},
		{microsofttest.ErrorResponse{Error: "access_denied", Description: "AADSTS50020: User account 'jan@outlook.com' from identity provider 'live.com' does not exist in tenant 'Kancelaria' and cannot access the application."}, microsoft.CodePersonalNotAllowed, 50020},
		{microsofttest.ErrorResponse{Error: "consent_required", Description: "AADSTS90094: The grant requires admin permission."}, microsoft.CodeAdminConsent, 90094},
		{microsofttest.ErrorResponse{Error: "unauthorized_client", Description: "AADSTS700016: Application with identifier 'x' was not found in the directory 'Kancelaria'."}, microsoft.CodeAppNotFound, 700016},
		{microsofttest.ErrorResponse{Error: "invalid_request", Description: "AADSTS9002331: Application 'x' is configured for use by Microsoft Account users only."}, microsoft.CodeMisconfigured, 9002331},
		{microsofttest.ErrorResponse{Error: "invalid_request", Description: "AADSTS50194: Application 'x' is not configured as a multi-tenant application."}, microsoft.CodeMisconfigured, 50194},
		{microsofttest.ErrorResponse{Error: "server_error", Description: "AADSTS90033: A transient error has occurred."}, microsoft.CodeServer, 90033},
	} {
		t.Run(fmt.Sprint(c.aadsts, c.err.Error), func(t *testing.T) {
			as := microsofttest.NewServer(t)
			as.SetAuthorizeError(&c.err)
			store := secrets.NewMemory()
			_, err := microsoft.SignIn(context.Background(), config(as, store))
			e := asError(t, err)
			if e.Code != c.code || e.AADSTS != c.aadsts || e.OAuthError != c.err.Error {
				t.Fatalf("got %s AADSTS%d %s, want %s AADSTS%d", e.Code, e.AADSTS, e.OAuthError, c.code, c.aadsts)
			}
			if e.AADSTS != 0 && !strings.Contains(e.Error(), fmt.Sprint(e.AADSTS)) {
				t.Fatalf("Error() lacks the number: %s", e.Error())
			}
			if len(store.Keys()) != 0 || as.Counts().CodeRedeemed != 0 {
				t.Fatal("a denied sign-in stored or redeemed something")
			}
		})
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	for _, c := range []struct {
		err  microsofttest.ErrorResponse
		code microsoft.Code
	}{
		{aad("invalid_grant", "AADSTS65001: The user or administrator has not consented to use the application.", 65001), microsoft.CodeAdminConsent},
		{aad("invalid_client", "AADSTS700016: Application not found in the directory.", 700016), microsoft.CodeAppNotFound},
		{aad("invalid_request", "AADSTS500200: User account is a personal Microsoft account.", 500200), microsoft.CodePersonalNotAllowed},
		{aad("invalid_client", "AADSTS7000218: The request body must contain client_assertion or client_secret.", 7000218), microsoft.CodeMisconfigured},
	} {
		t.Run(c.err.Description[:13], func(t *testing.T) {
			as := microsofttest.NewServer(t)
			as.SetTokenError(&c.err)
			_, err := microsoft.SignIn(context.Background(), config(as, secrets.NewMemory()))
			e := asError(t, err)
			if e.Code != c.code || e.AADSTS != c.err.Codes[0] || e.TraceID == "" || e.Detail() == "" {
				t.Fatalf("got %+v", e)
			}
		})
	}
}

func TestRefreshErrors(t *testing.T) {
	for _, c := range []struct {
		err  microsofttest.ErrorResponse
		code microsoft.Code
	}{
		{aad("invalid_grant", "AADSTS70008: The refresh token has expired due to inactivity.", 70008), microsoft.CodeSignInAgain},
		{aad("invalid_grant", "AADSTS700082: The refresh token has expired due to inactivity.", 700082), microsoft.CodeSignInAgain},
		{aad("invalid_grant", "AADSTS50173: The provided grant has expired due to it being revoked.", 50173), microsoft.CodeSignInAgain},
		{aad("invalid_grant", ""), microsoft.CodeSignInAgain},
		{aad("interaction_required", "AADSTS65001: consent", 65001), microsoft.CodeAdminConsent},
		{aad("temporarily_unavailable", "AADSTS90033: transient", 90033), microsoft.CodeServer},
	} {
		t.Run(c.err.Description, func(t *testing.T) {
			as := microsofttest.NewServer(t)
			store := secrets.NewMemory()
			acc := signIn(t, as, store)
			as.SetTokenError(&c.err)
			tokens := microsoft.NewTokens(config(as, store), acc.Address)
			_, err := tokens.AccessToken(context.Background())
			if e := asError(t, err); e.Code != c.code {
				t.Fatalf("code %s, want %s", e.Code, c.code)
			}
		})
	}
	// A spent refresh token (another copy rotated it) means signing in again.
	as := microsofttest.NewServer(t)
	store := secrets.NewMemory()
	acc := signIn(t, as, store)
	key := secrets.MicrosoftRefreshKey(acc.Address)
	old, _ := store.Get(context.Background(), key)
	if _, err := microsoft.NewTokens(config(as, store), acc.Address).AccessToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	store.Set(context.Background(), key, old)
	_, err := microsoft.NewTokens(config(as, store), acc.Address).AccessToken(context.Background())
	if e := asError(t, err); e.Code != microsoft.CodeSignInAgain || e.AADSTS != 70008 {
		t.Fatalf("spent token: %+v", e)
	}
}

func TestNetworkFailure(t *testing.T) {
	as := microsofttest.NewServer(t)
	store := secrets.NewMemory()
	acc := signIn(t, as, store)
	as.TLS.Close()
	_, err := microsoft.NewTokens(config(as, store), acc.Address).AccessToken(context.Background())
	if e := asError(t, err); e.Code != microsoft.CodeNetwork {
		t.Fatalf("code %s", e.Code)
	}
}

func TestCancelAndTimeout(t *testing.T) {
	as := microsofttest.NewServer(t)
	c := config(as, secrets.NewMemory())
	c.Opener = func(context.Context, string) error { return nil } // nobody signs in
	urls := make(chan string, 1)
	c.OnURL = func(u string) {
		select {
		case urls <- u:
		default:
		}
	}
	s, err := microsoft.Start(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if u := <-urls; u != s.AuthURL || !strings.HasPrefix(u, as.URL+"/common/oauth2/v2.0/authorize?") ||
		!strings.Contains(u, "prompt=select_account") || !strings.Contains(u, "redirect_uri=http%3A%2F%2Flocalhost%3A") {
		t.Fatalf("auth URL %s", u)
	}
	go func() { time.Sleep(50 * time.Millisecond); s.Close() }()
	_, err = s.Wait(context.Background())
	if e := asError(t, err); e.Code != microsoft.CodeCancelled {
		t.Fatalf("Close: %s", e.Code)
	}

	c.Timeout = 100 * time.Millisecond
	_, err = microsoft.SignIn(context.Background(), c)
	if e := asError(t, err); e.Code != microsoft.CodeTimeout {
		t.Fatalf("timeout: %s", e.Code)
	}

	ctx, cancel := context.WithCancel(context.Background())
	c.Timeout = time.Minute
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = microsoft.SignIn(ctx, c)
	if e := asError(t, err); e.Code != microsoft.CodeCancelled {
		t.Fatalf("ctx cancel: %s", e.Code)
	}
}

func aad(oauthErr, description string, codes ...int) microsofttest.ErrorResponse {
	return microsofttest.ErrorResponse{Error: oauthErr, Description: description, Codes: codes}
}

func TestSMTPAuthDisabledText(t *testing.T) {
	m := microsoft.SMTPAuthDisabled
	for _, s := range []string{m.Hint.PL, m.Hint.EN} {
		if !strings.Contains(s, "Set-CASMailbox") || !strings.Contains(s, "aka.ms/smtp_auth_disabled") {
			t.Errorf("hint %q", s)
		}
	}
	if m.Message.PL == "" || m.Message.EN == "" {
		t.Error("empty message")
	}
}

// An access token is reused until RefreshMargin (or half its lifetime)
// before it expires, then refreshed.
func TestTokensRefreshBeforeExpiry(t *testing.T) {
	as := microsofttest.NewServer(t)
	store := secrets.NewMemory()
	acc := signIn(t, as, store)
	var mu sync.Mutex
	now := time.Now()
	cfg := config(as, store)
	cfg.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	tokens := microsoft.NewTokens(cfg, acc.Address)
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
