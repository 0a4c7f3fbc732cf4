package infino

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/oauthloopback"
)

// Scope is the OAuth scope that lets the app add mailboxes.
const Scope = "mailboxes:write"

// ScopeOfflineAccess asks an OpenID Connect provider for a refresh token.
const ScopeOfflineAccess = "offline_access"

// TokenKey is the secrets.Store key of the Infino sign-in for a base URL:
// "infino:<base URL>:refresh" (the key scheme of package secrets has
// "mailbox:<address>:<kind>" for mailboxes).
func TokenKey(base string) string { return "infino:" + strings.TrimRight(base, "/") + ":refresh" }

// storedToken is what the Store keeps of a sign-in: the refresh token only
// (access tokens live in memory, as for Microsoft; see secrets/keys.go).
type storedToken struct {
	RefreshToken string `json:"refreshToken"`
}

// Browser is how an interactive sign-in reaches the user.
type Browser struct {
	// Opener opens the sign-in page; nil means the system browser.
	Opener oauthloopback.Opener
	// OnURL is called with the sign-in address before the browser opens,
	// so that a face can show it with a Copy button.
	OnURL func(authURL string)
	// Pages are the texts of the browser pages; nil means Polish and
	// English.
	Pages []oauthloopback.PageText
	// Timeout bounds the wait for the browser (0: oauthloopback's default).
	Timeout time.Duration
}

// Auth is the Infino sign-in of one base URL: it keeps the tokens in the
// Store, refreshes them (persisting every rotated refresh token), and signs
// in through the browser when there is nothing to refresh. It implements
// TokenSource. Its methods are safe for concurrent use.
type Auth struct {
	BaseURL  string
	ClientID string
	HTTP     *http.Client
	Store    secrets.Store
	// Browser, when non-nil, allows an interactive sign-in; nil means
	// Token fails with KindSignIn when no stored sign-in works (flushing
	// the outbox in the background).
	Browser *Browser
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// LockKey takes the cross-process lock of a keyring key (refreshes
	// run under it); nil means secrets.LockKey.
	LockKey func(ctx context.Context, key string) (unlock func(), err error)

	mu   sync.Mutex
	meta *Metadata
	tok  *oauth2.Token
}

func (a *Auth) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Auth) metadata(ctx context.Context) (*Metadata, error) {
	if a.meta != nil {
		return a.meta, nil
	}
	m, err := Discover(ctx, a.HTTP, a.BaseURL)
	if err != nil {
		return nil, err
	}
	a.meta = m
	return m, nil
}

// oauthConfig asks for mailboxes:write, and for offline_access where the
// server lists it (an OpenID Connect provider issues refresh tokens only
// then).
func (a *Auth) oauthConfig(m *Metadata) oauth2.Config {
	scopes := []string{Scope}
	if m.OfflineAccess() {
		scopes = append(scopes, ScopeOfflineAccess)
	}
	return oauth2.Config{
		ClientID: a.ClientID,
		Endpoint: oauth2.Endpoint{AuthURL: m.AuthorizationEndpoint, TokenURL: m.TokenEndpoint,
			AuthStyle: oauth2.AuthStyleInParams},
		Scopes: scopes,
	}
}

// authParams are the extra authorization request parameters: the resource
// the token is for (RFC 8707: the Infino URL), and prompt=consent with
// offline_access (OpenID Connect Core §11: without it the scope is ignored).
func (a *Auth) authParams(m *Metadata) map[string]string {
	p := map[string]string{"resource": a.resource()}
	if m.OfflineAccess() {
		p["prompt"] = "consent"
	}
	return p
}

// resource is the resource indicator (RFC 8707) of Infino's API: the
// Infino URL.
func (a *Auth) resource() string { return strings.TrimRight(a.BaseURL, "/") }

func (a *Auth) valid(t *oauth2.Token) bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || t.Expiry.After(a.now().Add(30*time.Second)))
}

// Token returns a valid access token (see TokenSource).
func (a *Auth) Token(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.valid(a.tok) {
		return a.tok.AccessToken, nil
	}
	if a.tok == nil {
		st, err := a.load(ctx)
		if err != nil {
			return "", err
		}
		if st != nil {
			a.tok = &oauth2.Token{RefreshToken: st.RefreshToken}
		}
	}
	return a.renewLocked(ctx)
}

// Renew drops the rejected access token and gets a new one (see
// TokenSource).
func (a *Auth) Renew(ctx context.Context, rejected string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tok != nil && a.tok.AccessToken != rejected && a.valid(a.tok) {
		return a.tok.AccessToken, nil // someone else renewed already
	}
	if a.tok != nil {
		a.tok.AccessToken = ""
	}
	return a.renewLocked(ctx)
}

func (a *Auth) renewLocked(ctx context.Context) (string, error) {
	if a.tok != nil && a.tok.RefreshToken != "" {
		tok, err := a.refreshShared(ctx)
		if err == nil {
			return tok, nil
		}
		var ge *grantError
		if !errors.As(err, &ge) {
			// Network trouble, a busy server, a setup problem: the
			// refresh token may still be good.
			return "", err
		}
		// invalid_grant and friends: the sign-in is over.
		a.tok = nil
		_ = a.Store.Delete(ctx, TokenKey(a.BaseURL))
	}
	if a.Browser == nil {
		return "", newError(KindSignIn, 0, errors.New("not signed in to Infino"))
	}
	tok, err := a.signInLocked(ctx)
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// refreshShared redeems the refresh token under the lock every process of
// the app shares for it (the window's background retries, the command
// line, a second window), after reading the keyring again: another process
// may have rotated it meanwhile, and presenting a spent refresh token makes
// many servers revoke the whole sign-in. Without the lock (no lock
// directory) it refreshes anyway.
func (a *Auth) refreshShared(ctx context.Context) (string, error) {
	lock := a.LockKey
	if lock == nil {
		lock = secrets.LockKey
	}
	unlock, err := lock(ctx, TokenKey(a.BaseURL))
	if err != nil {
		if ctx.Err() != nil {
			return "", newError(KindCancelled, 0, err)
		}
	} else {
		defer unlock()
	}
	if st, err := a.load(ctx); err == nil && st != nil && st.RefreshToken != a.tok.RefreshToken {
		a.tok = &oauth2.Token{RefreshToken: st.RefreshToken}
	}
	return a.refresh(ctx, a.tok.RefreshToken)
}

// grantError: the token endpoint refused the refresh token (a 400 or 401
// answer such as invalid_grant): the sign-in is over.
type grantError struct {
	status int
	code   string
}

func (e *grantError) Error() string {
	return fmt.Sprintf("token endpoint refused the refresh token (HTTP %d %s)", e.status, serverText(e.code, 100))
}

// tokenAnswer is a token endpoint's answer (RFC 6749 §5.1).
type tokenAnswer struct {
	AccessToken  string  `json:"access_token"`
	TokenType    string  `json:"token_type"`
	ExpiresIn    float64 `json:"expires_in"`
	RefreshToken string  `json:"refresh_token"`
	Scope        *string `json:"scope"`
	Error        string  `json:"error"`
}

// refresh redeems the refresh token at the token endpoint, with the
// resource (RFC 8707), keeping the rotated refresh token and checking the
// granted scope.
func (a *Auth) refresh(ctx context.Context, rt string) (string, error) {
	m, err := a.metadata(ctx)
	if err != nil {
		return "", err
	}
	hc := a.HTTP
	if hc == nil {
		hc = NewHTTPClient()
	}
	// Never follow a redirect: net/http would post the refresh token on to
	// wherever Location points, plain http included.
	nr := *hc
	nr.CheckRedirect = noRedirect
	hc = &nr
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {a.ClientID},
		"resource": {a.resource()}}
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, m.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", newError(KindConfig, 0, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return "", transportError(ctx, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err == nil && len(data) > maxResponse {
		err = errTooLargeAnswer
	}
	if err != nil {
		return "", transportError(ctx, err)
	}
	var ans tokenAnswer
	jerr := json.Unmarshal(data, &ans)
	switch st := resp.StatusCode; {
	case st == http.StatusTooManyRequests || st >= 500:
		return "", newError(KindUnavailable, st, errors.New("token endpoint unavailable"))
	case st == http.StatusBadRequest || st == http.StatusUnauthorized:
		return "", &grantError{status: st, code: ans.Error}
	case st != http.StatusOK:
		return "", setupError(fmt.Errorf("token endpoint answered HTTP %d to a refresh", st), messages[KindSignInSetup])
	case jerr != nil || ans.AccessToken == "" || !strings.EqualFold(ans.TokenType, "bearer"):
		return "", setupError(fmt.Errorf("token endpoint: no usable bearer token in the answer (%v)", jerr), messages[KindSignInSetup])
	}
	tok := &oauth2.Token{AccessToken: ans.AccessToken, TokenType: "Bearer", RefreshToken: ans.RefreshToken}
	if ans.ExpiresIn > 0 && ans.ExpiresIn < 1e9 {
		tok.Expiry = a.now().Add(time.Duration(ans.ExpiresIn) * time.Second)
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = rt
	}
	// The rotated refresh token is kept first: the old one may no longer
	// work, whatever this answer grants.
	if err := a.save(ctx, tok); err != nil {
		return "", err
	}
	if err := checkScope(ans.Scope); err != nil {
		a.tok = &oauth2.Token{RefreshToken: tok.RefreshToken}
		return "", err
	}
	a.tok = tok
	return tok.AccessToken, nil
}

// checkScope checks the scope a token answer grants: absent means what was
// asked (RFC 6749 §5.1); present, it must include mailboxes:write.
func checkScope(granted *string) error {
	if granted == nil || slices.Contains(strings.Fields(*granted), Scope) {
		return nil
	}
	return setupError(fmt.Errorf("Infino granted the scope %q, without %s", serverText(*granted, 200), Scope), scopeMessage)
}

// SignIn signs in through the browser now, whatever is stored, and keeps the
// result. It needs Browser.
func (a *Auth) SignIn(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.Browser == nil {
		return newError(KindSignIn, 0, errors.New("no browser to sign in with"))
	}
	_, err := a.signInLocked(ctx)
	return err
}

func (a *Auth) signInLocked(ctx context.Context) (*oauth2.Token, error) {
	m, err := a.metadata(ctx)
	if err != nil {
		return nil, err
	}
	b := a.Browser
	s, err := oauthloopback.Start(ctx, oauthloopback.Config{
		OAuth2:     a.oauthConfig(m),
		AuthParams: a.authParams(m),
		// RFC 8707 §2.2: the token request names the resource too, so a
		// server that binds tokens to it issues one for Infino's API.
		TokenParams: map[string]string{"resource": a.resource()},
		// RFC 9207: the answer must come from the issuer the metadata
		// named; required when the server says it always sends iss.
		Issuer:        m.Issuer,
		RequireIssuer: m.IssParameterSupported,
		RedirectHost:  oauthloopback.HostIPv4,
		Opener:        b.Opener,
		OnURL:         b.OnURL,
		HTTPClient:    a.HTTP,
		Timeout:       b.Timeout,
		Pages:         b.Pages,
	})
	if err != nil {
		return nil, newError(KindSignIn, 0, err)
	}
	defer s.Close()
	tok, err := s.Wait(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, newError(KindCancelled, 0, err)
		}
		var te *oauthloopback.TokenError
		if errors.As(err, &te) && (te.StatusCode == http.StatusTooManyRequests || te.StatusCode >= 500) {
			return nil, newError(KindUnavailable, te.StatusCode, err)
		}
		if errors.Is(err, oauthloopback.ErrIssuerMismatch) {
			return nil, &Error{Kind: KindSignIn, Err: err, Message: issMessage}
		}
		return nil, newError(KindSignIn, 0, err)
	}
	var granted *string
	if v, ok := tok.Extra("scope").(string); ok {
		granted = &v
	}
	if err := checkScope(granted); err != nil {
		return nil, err
	}
	if tok.RefreshToken == "" {
		// Without a refresh token nothing can be sent later (the outbox,
		// a flush in the background) without the browser again: a
		// configuration problem of the server, said as such.
		return nil, setupError(errors.New("Infino's token endpoint issued no refresh token"), noRefreshMessage)
	}
	a.tok = tok
	if err := a.save(ctx, tok); err != nil {
		return nil, err
	}
	return tok, nil
}

var noRefreshMessage = mailcfg.Text{
	PL: "Infino zalogowało, ale nie wydało aplikacji tokenu odświeżania, więc nie może ona wysyłać ustawień później ani w tle. Serwer autoryzacji Infino musi wydawać tokeny odświeżania klientowi infino-mailbox (zob. docs/infino-api.md). Niczego nie wysłano; ustawienia czekają w skrzynce nadawczej. Przekaż tę wiadomość działowi IT lub pomocy Infino.",
	EN: "Infino signed you in but issued the app no refresh token, so it cannot send settings later or in the background. Infino's authorization server must issue refresh tokens to the client infino-mailbox (see docs/infino-api.md). Nothing was sent; the settings are waiting in the outbox. Pass this message on to your IT department or Infino support.",
}

var issMessage = mailcfg.Text{
	PL: "Odpowiedź logowania nie przyszła od serwera Infino, do którego aplikacja się zwróciła (RFC 9207), więc ją odrzucono. Niczego nie wysłano; ustawienia czekają w skrzynce nadawczej. Zaloguj się ponownie; jeśli to się powtarza, skontaktuj się z działem IT.",
	EN: "The sign-in answer did not come from the Infino server the app asked (RFC 9207), so it was refused. Nothing was sent; the settings are waiting in the outbox. Sign in again; if this keeps happening, contact your IT department.",
}

var scopeMessage = mailcfg.Text{
	PL: "Infino zalogowało, ale nie przyznało aplikacji prawa do dodawania skrzynek (zakres mailboxes:write). Niczego nie wysłano; ustawienia czekają w skrzynce nadawczej. Poproś administratora Infino w kancelarii o to uprawnienie.",
	EN: "Infino signed you in but did not grant the app the right to add mailboxes (scope mailboxes:write). Nothing was sent; the settings are waiting in the outbox. Ask your firm's Infino administrator for this permission.",
}

// SignedIn reports whether a sign-in is stored (it may still have expired
// at Infino).
func (a *Auth) SignedIn(ctx context.Context) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tok != nil {
		return true, nil
	}
	st, err := a.load(ctx)
	return st != nil, err
}

func (a *Auth) load(ctx context.Context) (*storedToken, error) {
	if a.Store == nil {
		return nil, storeError(errors.New("no secret store"))
	}
	v, err := a.Store.Get(ctx, TokenKey(a.BaseURL))
	if errors.Is(err, secrets.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, storeError(err)
	}
	var st storedToken
	if json.Unmarshal([]byte(v), &st) != nil || st.RefreshToken == "" {
		return nil, nil // unreadable: as if not signed in
	}
	return &st, nil
}

func (a *Auth) save(ctx context.Context, tok *oauth2.Token) error {
	if a.Store == nil {
		return storeError(errors.New("no secret store"))
	}
	if tok.RefreshToken == "" {
		return nil // nothing that outlives the process; the next run signs in again
	}
	data, _ := json.Marshal(storedToken{RefreshToken: tok.RefreshToken})
	if err := a.Store.Set(ctx, TokenKey(a.BaseURL), string(data)); err != nil {
		return storeError(err)
	}
	return nil
}

// StoreError is the error for a secret store that refused: the user is
// asked to unlock the system keyring.
func StoreError(err error) *Error { return storeError(err) }

// storeError is a secret store that does not work: the keyring is locked,
// missing or refused.
func storeError(err error) *Error {
	return &Error{Kind: KindConfig, Err: fmt.Errorf("secret store: %w", err), Message: storeMessage}
}

var storeMessage = mailcfg.Text{
	PL: "Nie udało się użyć systemowego sejfu na hasła (pęku kluczy). Odblokuj go i spróbuj ponownie.",
	EN: "The system keyring could not be used. Unlock it and try again.",
}
