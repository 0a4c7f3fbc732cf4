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
	"infino.legal/mailbox/mailcfg/urlcheck"
	"infino.legal/mailbox/oauthloopback"
)

// Scope is the OAuth scope that lets the app add mailboxes.
const Scope = "mailboxes:write"

// MetadataPath is where the authorization server metadata (RFC 8414) lives,
// below the Infino URL.
const MetadataPath = "/.well-known/oauth-authorization-server"

// Metadata is the part of RFC 8414 authorization server metadata the app
// uses.
type Metadata struct {
	Issuer                        string   `json:"issuer"`
	AuthorizationEndpoint         string   `json:"authorization_endpoint"`
	TokenEndpoint                 string   `json:"token_endpoint"`
	ScopesSupported               []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported        []string `json:"response_types_supported"`
	GrantTypesSupported           []string `json:"grant_types_supported,omitempty"`
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported"`
	RevocationEndpoint            string   `json:"revocation_endpoint,omitempty"`
}

// Discover fetches and checks the metadata of the Infino at base: the issuer
// must be base itself, the endpoints https (http only to loopback), and PKCE
// S256 must be offered.
func Discover(ctx context.Context, hc *http.Client, base string) (*Metadata, error) {
	base, err := CheckBaseURL(base)
	if err != nil {
		return nil, &Error{Kind: KindConfig, Err: err, Message: messages[KindConfig]}
	}
	if hc == nil {
		hc = NewHTTPClient()
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+MetadataPath, nil)
	if err != nil {
		return nil, newError(KindConfig, 0, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, transportError(parent, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, transportError(parent, err)
	}
	if len(data) > maxResponse {
		return nil, transportError(parent, errTooLargeAnswer)
	}
	if resp.StatusCode != http.StatusOK {
		kind := KindRejected
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			kind = KindUnavailable
		}
		return nil, newError(kind, resp.StatusCode, fmt.Errorf("authorization server metadata: HTTP %d", resp.StatusCode))
	}
	var m Metadata
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, newError(KindRejected, resp.StatusCode, fmt.Errorf("authorization server metadata: %w", err))
	}
	if err := m.check(base); err != nil {
		return nil, newError(KindRejected, resp.StatusCode, fmt.Errorf("authorization server metadata: %w", err))
	}
	return &m, nil
}

func (m *Metadata) check(base string) error {
	if strings.TrimRight(m.Issuer, "/") != base {
		return fmt.Errorf("issuer %q is not %q (RFC 8414 §3.3)", m.Issuer, base)
	}
	for name, ep := range map[string]string{"authorization_endpoint": m.AuthorizationEndpoint, "token_endpoint": m.TokenEndpoint} {
		u, err := url.Parse(ep)
		if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
			return fmt.Errorf("%s %q is not an absolute URL", name, ep)
		}
		if u.Scheme != "https" && !(u.Scheme == "http" && urlcheck.IsLoopbackHost(u.Hostname())) {
			return fmt.Errorf("%s %q must use https://", name, ep)
		}
	}
	if !slices.Contains(m.CodeChallengeMethodsSupported, "S256") {
		return errors.New("PKCE with S256 is not offered (code_challenge_methods_supported)")
	}
	if len(m.ResponseTypesSupported) > 0 && !slices.Contains(m.ResponseTypesSupported, "code") {
		return errors.New(`response type "code" is not offered`)
	}
	return nil
}

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

func (a *Auth) oauthConfig(m *Metadata) oauth2.Config {
	return oauth2.Config{
		ClientID: a.ClientID,
		Endpoint: oauth2.Endpoint{AuthURL: m.AuthorizationEndpoint, TokenURL: m.TokenEndpoint,
			AuthStyle: oauth2.AuthStyleInParams},
		Scopes: []string{Scope},
	}
}

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
		tok, err := a.refresh(ctx, a.tok.RefreshToken)
		if err == nil {
			return tok, nil
		}
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) {
			// Network trouble: the refresh token may still be good.
			return "", err
		}
		if re.Response != nil && (re.Response.StatusCode == http.StatusTooManyRequests || re.Response.StatusCode >= 500) {
			return "", newError(KindUnavailable, re.Response.StatusCode, errors.New("token endpoint unavailable"))
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

func (a *Auth) refresh(ctx context.Context, rt string) (string, error) {
	m, err := a.metadata(ctx)
	if err != nil {
		return "", err
	}
	cfg := a.oauthConfig(m)
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
	rctx = context.WithValue(rctx, oauth2.HTTPClient, hc)
	tok, err := cfg.TokenSource(rctx, &oauth2.Token{RefreshToken: rt, Expiry: time.Unix(1, 0)}).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return "", err
		}
		return "", transportError(ctx, err)
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = rt
	}
	a.tok = tok
	if err := a.save(ctx, tok); err != nil {
		return "", err
	}
	return tok.AccessToken, nil
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
		OAuth2:       a.oauthConfig(m),
		RedirectHost: oauthloopback.HostIPv4,
		Opener:       b.Opener,
		OnURL:        b.OnURL,
		HTTPClient:   a.HTTP,
		Timeout:      b.Timeout,
		Pages:        b.Pages,
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
		return nil, newError(KindSignIn, 0, err)
	}
	a.tok = tok
	if err := a.save(ctx, tok); err != nil {
		return nil, err
	}
	return tok, nil
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

// storeError is a secret store that does not work: the keyring is locked,
// missing or refused.
// StoreError is the error for a secret store that refused: the user is
// asked to unlock the system keyring.
func StoreError(err error) *Error { return storeError(err) }

func storeError(err error) *Error {
	return &Error{Kind: KindConfig, Err: fmt.Errorf("secret store: %w", err), Message: storeMessage}
}

var storeMessage = mailcfg.Text{
	PL: "Nie udało się użyć systemowego sejfu na hasła (pęku kluczy). Odblokuj go i spróbuj ponownie.",
	EN: "The system keyring could not be used. Unlock it and try again.",
}
