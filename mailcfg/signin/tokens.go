package signin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/secrets"
)

// RefreshMargin: an access token this close to expiry is refreshed first.
// For short-lived tokens the margin is half their lifetime.
const RefreshMargin = 5 * time.Minute

const maxTokenResponse = 1 << 20

// Tokens hands out access tokens for one mailbox. Refresh tokens rotate, so
// every refresh runs under the lock all processes of the app share for the
// mailbox's keyring entry (Config.Lock): it re-reads the refresh token from
// the keyring, redeems it, and writes the new one back before unlocking.
// So the window and the command line (or two windows) never present a
// refresh token another process has already spent, which strict servers
// punish by revoking the whole grant. Access tokens stay in memory.
// Methods are safe for concurrent use.
type Tokens struct {
	svc     *Service
	p       *mailcfg.OAuthProvider
	proto   mailcfg.Protocol
	address string
	key     string

	mu      sync.Mutex
	access  *oauth2.Token
	margin  time.Duration
	refresh string // the last refresh token this process held
	unsaved bool   // refresh is newer than the keyring's (a failed write)
}

func (s *Service) newTokens(p *mailcfg.OAuthProvider, address string, proto mailcfg.Protocol) *Tokens {
	if proto == "" {
		proto = mailcfg.IMAP
	}
	return &Tokens{svc: s, p: p, proto: proto, address: address, key: secrets.RefreshKey(address, p.ID)}
}

// Tokens is the access token source of a mailbox signed in earlier with a
// provider (its refresh token in the keyring), for IMAP (and SMTP).
func (s *Service) Tokens(provider, address string) *Tokens {
	p := s.cfg.oauth().ByID(provider)
	if p == nil {
		p = &mailcfg.OAuthProvider{ID: provider, Name: mailcfg.Text{PL: provider, EN: provider}}
	}
	return s.newTokens(p, address, mailcfg.IMAP)
}

// TokensFor is the token source for saved settings (auth oauth2): the
// provider from Source microsoft or the provider table's entry, the keyring
// entry of the mailbox (Email), the scopes of the incoming protocol.
func (s *Service) TokensFor(st mailcfg.Settings) (*Tokens, error) {
	if st.Auth != mailcfg.AuthOAuth2 {
		return nil, errors.New("signin: the settings do not sign in with OAuth")
	}
	id := ""
	if st.Source == mailcfg.SourceMicrosoft {
		id = "microsoft"
	} else if e := s.cfg.table().ProviderFor(st); e != nil {
		id = e.OAuth
	}
	p := s.cfg.oauth().ByID(id)
	if p == nil {
		return nil, fmt.Errorf("signin: no sign-in provider known for %s", st.Email)
	}
	return s.newTokens(p, st.Email, st.Incoming.Protocol), nil
}

// AccessToken returns a valid access token; its signature fits
// verify.TokenFunc. Errors are *Error.
func (t *Tokens) AccessToken(ctx context.Context) (string, error) {
	tok, err := t.Token(ctx)
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// Token returns a valid access token with its expiry (no refresh token).
func (t *Tokens) Token(ctx context.Context) (*oauth2.Token, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.unsaved {
		// The last rotation could not be written: write it before handing
		// out anything, so that the keyring never keeps a spent token.
		unlock, err := t.lock(ctx)
		if err != nil {
			return nil, keyringError(t.p, err)
		}
		err = t.svc.cfg.Store.Set(ctx, t.key, t.refresh)
		unlock()
		if err != nil {
			return nil, keyringError(t.p, err)
		}
		t.unsaved = false
	}
	if t.access != nil && t.access.AccessToken != "" &&
		(t.access.Expiry.IsZero() || t.svc.cfg.now().Add(t.margin).Before(t.access.Expiry)) {
		return &oauth2.Token{AccessToken: t.access.AccessToken, TokenType: "Bearer", Expiry: t.access.Expiry}, nil
	}
	if err := t.refreshLocked(ctx); err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: t.access.AccessToken, TokenType: "Bearer", Expiry: t.access.Expiry}, nil
}

// Invalidate drops the cached access token, so the next call refreshes.
func (t *Tokens) Invalidate() {
	t.mu.Lock()
	t.access = nil
	t.mu.Unlock()
}

// TokenSource adapts Tokens to oauth2.TokenSource under ctx.
func (t *Tokens) TokenSource(ctx context.Context) oauth2.TokenSource { return tokenSource{ctx, t} }

type tokenSource struct {
	ctx context.Context
	t   *Tokens
}

func (s tokenSource) Token() (*oauth2.Token, error) { return s.t.Token(s.ctx) }

func (t *Tokens) lock(ctx context.Context) (func(), error) {
	if t.svc.cfg.Lock != nil {
		return t.svc.cfg.Lock(ctx, t.key)
	}
	return secrets.LockKey(ctx, t.key)
}

func (t *Tokens) refreshLocked(ctx context.Context) error {
	store := t.svc.cfg.Store
	if store == nil {
		return keyringError(t.p, errors.New("no secret store"))
	}
	e, err := t.svc.resolve(ctx, t.p.ID, "")
	if err != nil {
		return err
	}
	unlock, err := t.lock(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return newError(t.p, CodeCancelled, err)
		}
		return keyringError(t.p, err)
	}
	defer unlock()
	if t.unsaved {
		// This process rotated the token last and could not write the new
		// one: the keyring holds a spent one, ours is the live one.
		if err := store.Set(ctx, t.key, t.refresh); err != nil {
			return keyringError(t.p, err)
		}
		t.unsaved = false
	}
	rt, err := store.Get(ctx, t.key)
	switch {
	case errors.Is(err, secrets.ErrNotFound):
		return newError(t.p, CodeNotSignedIn, err)
	case err != nil:
		return keyringError(t.p, err)
	case rt == "":
		return newError(t.p, CodeNotSignedIn, errors.New("empty refresh token"))
	}
	t.refresh = rt // another process may have rotated it since
	resp, err := t.redeem(ctx, e)
	if err != nil {
		return err
	}
	now := t.svc.cfg.now()
	t.access = &oauth2.Token{AccessToken: resp.AccessToken, Expiry: resp.expiry(now)}
	t.margin = marginFor(now, t.access.Expiry)
	if resp.RefreshToken != "" && resp.RefreshToken != t.refresh {
		t.refresh = resp.RefreshToken
		if err := store.Set(ctx, t.key, t.refresh); err != nil {
			t.unsaved = true
			return keyringError(t.p, err)
		}
	}
	return nil
}

func marginFor(obtained, expiry time.Time) time.Duration {
	if expiry.IsZero() {
		return RefreshMargin
	}
	return min(RefreshMargin, expiry.Sub(obtained)/2)
}

type tokenResponse struct {
	AccessToken      string          `json:"access_token"`
	TokenType        string          `json:"token_type"`
	ExpiresIn        json.RawMessage `json:"expires_in"`
	RefreshToken     string          `json:"refresh_token"`
	Error            string          `json:"error"`
	ErrorDescription string          `json:"error_description"`
	ErrorCodes       []int           `json:"error_codes"`
	TraceID          string          `json:"trace_id"`
	CorrelationID    string          `json:"correlation_id"`
}

func (r *tokenResponse) expiry(now time.Time) time.Time {
	n, err := strconv.Atoi(strings.Trim(string(r.ExpiresIn), `"`))
	if err != nil || n <= 0 {
		return now.Add(time.Hour / 2)
	}
	return now.Add(time.Duration(min(n, 24*3600)) * time.Second)
}

// redeem is the refresh_token grant (RFC 6749 §6), written out so that
// Microsoft gets its scopes on every refresh and its error_codes are read,
// and so that a redirect is never followed with the token in the body.
func (t *Tokens) redeem(ctx context.Context, e *endpoints) (*tokenResponse, error) {
	form := url.Values{"client_id": {e.clientID}, "grant_type": {"refresh_token"}, "refresh_token": {t.refresh}}
	if e.clientSecret != "" {
		form.Set("client_secret", e.clientSecret)
	}
	if isMicrosoft(t.p) {
		form.Set("scope", strings.Join(t.p.ScopesFor(t.proto), " "))
	}
	rctx, cancel := context.WithTimeout(ctx, DefaultHTTPTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, e.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, newError(t.p, CodeMisconfigured, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	hc := *t.svc.cfg.httpClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, newError(t.p, CodeCancelled, ctx.Err())
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = fmt.Errorf("%s token endpoint: %w", ue.Op, ue.Err)
		}
		return nil, newError(t.p, CodeNetwork, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxTokenResponse+1))
	if err != nil {
		return nil, newError(t.p, CodeNetwork, err)
	}
	if len(body) > maxTokenResponse {
		return nil, newError(t.p, CodeServer, fmt.Errorf("token endpoint: HTTP %d, an answer larger than %d bytes", res.StatusCode, maxTokenResponse))
	}
	var r tokenResponse
	mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if json.Unmarshal(body, &r) != nil {
		return nil, newError(t.p, CodeServer, fmt.Errorf("token endpoint: HTTP %d, %s that is not JSON", res.StatusCode, mt))
	}
	if res.StatusCode != http.StatusOK || r.Error != "" {
		cause := fmt.Errorf("token endpoint: HTTP %d %q", res.StatusCode, safeOAuthCode(r.Error))
		return nil, oauthError(t.p, oauthAnswer{Error: r.Error, Description: r.ErrorDescription, ErrorCodes: r.ErrorCodes,
			TraceID: r.TraceID, CorrelationID: r.CorrelationID}, cause)
	}
	if r.AccessToken == "" {
		return nil, newError(t.p, CodeServer, errors.New("token endpoint: no access_token"))
	}
	if r.TokenType != "" && !strings.EqualFold(r.TokenType, "Bearer") {
		return nil, newError(t.p, CodeServer, fmt.Errorf("token endpoint: token_type %q", r.TokenType))
	}
	return &r, nil
}

// Provider is the OAuth provider id of the token source.
func (t *Tokens) Provider() string { return t.p.ID }

// DisplayName is a provider's display name (its id if unknown).
func (s *Service) DisplayName(id string) mailcfg.Text {
	if p := s.cfg.oauth().ByID(id); p != nil {
		return p.Name
	}
	return mailcfg.Text{PL: id, EN: id}
}

// Scopes are the scopes a provider's sign-in asks for an incoming protocol.
func (s *Service) Scopes(id string, proto mailcfg.Protocol) []string {
	if p := s.cfg.oauth().ByID(id); p != nil {
		return p.ScopesFor(proto)
	}
	return nil
}
