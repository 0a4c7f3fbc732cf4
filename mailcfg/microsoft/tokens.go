package microsoft

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

	"infino.legal/mailbox/mailcfg/secrets"
)

// RefreshMargin: an access token this close to expiry is refreshed first
// (Exchange Online drops an IMAP session when its token expires). For
// short-lived tokens the margin is half their lifetime.
const RefreshMargin = 5 * time.Minute

// maxTokenResponse bounds a token endpoint response.
const maxTokenResponse = 1 << 20

// Tokens hands out access tokens for one mailbox. It refreshes with the
// refresh token from Config.Store (read on first use) and, because Microsoft
// rotates refresh tokens on every use, writes each new one back to the store
// before the access token is handed out. Access tokens are kept in memory
// only. Methods are safe for concurrent use; refreshes are serialized.
type Tokens struct {
	cfg     Config
	address string
	key     string

	mu      sync.Mutex
	access  *oauth2.Token
	margin  time.Duration // of access
	refresh string        // "" until read from the store
	unsaved bool          // refresh differs from the store (a failed write)
}

// NewTokens returns the token source of a mailbox signed in earlier.
func NewTokens(c Config, address string) *Tokens {
	return &Tokens{cfg: c, address: address, key: secrets.MicrosoftRefreshKey(address)}
}

// AccessToken returns a valid access token; its signature fits
// verify.TokenFunc. Errors are *Error (CodeNotSignedIn, CodeSignInAgain,
// CodeKeyring, CodeNetwork, …).
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
		if err := t.cfg.Store.Set(ctx, t.key, t.refresh); err != nil {
			return nil, keyringError(err)
		}
		t.unsaved = false
	}
	if t.access != nil && t.access.AccessToken != "" &&
		(t.access.Expiry.IsZero() || t.cfg.now().Add(t.margin).Before(t.access.Expiry)) {
		return &oauth2.Token{AccessToken: t.access.AccessToken, TokenType: "Bearer", Expiry: t.access.Expiry}, nil
	}
	if err := t.refreshLocked(ctx); err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: t.access.AccessToken, TokenType: "Bearer", Expiry: t.access.Expiry}, nil
}

// Invalidate drops the cached access token, so the next call refreshes
// (after a server said "AccessTokenExpired").
func (t *Tokens) Invalidate() {
	t.mu.Lock()
	t.access = nil
	t.mu.Unlock()
}

// TokenSource adapts Tokens to oauth2.TokenSource under ctx.
func (t *Tokens) TokenSource(ctx context.Context) oauth2.TokenSource {
	return tokenSource{ctx, t}
}

type tokenSource struct {
	ctx context.Context
	t   *Tokens
}

func (s tokenSource) Token() (*oauth2.Token, error) { return s.t.Token(s.ctx) }

func (t *Tokens) refreshLocked(ctx context.Context) error {
	if t.cfg.Store == nil {
		return keyringError(errors.New("no secret store"))
	}
	oc, err := t.cfg.OAuth2Config()
	if err != nil {
		return err
	}
	if t.refresh == "" {
		rt, err := t.cfg.Store.Get(ctx, t.key)
		switch {
		case errors.Is(err, secrets.ErrNotFound):
			return newError(CodeNotSignedIn, err)
		case err != nil:
			return keyringError(err)
		case rt == "":
			return newError(CodeNotSignedIn, errors.New("empty refresh token"))
		}
		t.refresh = rt
	}
	resp, err := t.redeem(ctx, oc)
	if err != nil {
		if e := (*Error)(nil); errors.As(err, &e) && e.Code == CodeSignInAgain {
			// The stored sign-in is dead: forget the in-memory copy so
			// that a new sign-in's token is read next time.
			t.refresh = ""
		}
		return err
	}
	now := t.cfg.now()
	t.access = &oauth2.Token{AccessToken: resp.AccessToken, Expiry: resp.expiry(now)}
	t.margin = marginFor(now, t.access.Expiry)
	if resp.RefreshToken != "" && resp.RefreshToken != t.refresh {
		t.refresh = resp.RefreshToken
		if err := t.cfg.Store.Set(ctx, t.key, t.refresh); err != nil {
			t.unsaved = true
			return keyringError(err)
		}
	}
	return nil
}

func marginFor(obtained, expiry time.Time) time.Duration {
	return min(RefreshMargin, expiry.Sub(obtained)/2)
}

type tokenResponse struct {
	AccessToken  string          `json:"access_token"`
	TokenType    string          `json:"token_type"`
	ExpiresIn    json.RawMessage `json:"expires_in"`
	RefreshToken string          `json:"refresh_token"`
	IDToken      string          `json:"id_token"`

	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
}

func (r *tokenResponse) expiry(now time.Time) time.Time {
	s := strings.Trim(string(r.ExpiresIn), `"`)
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return now.Add(time.Hour / 2) // unknown: assume short
	}
	return now.Add(time.Duration(min(n, 24*3600)) * time.Second) // Entra issues at most a day
}

// redeem is the refresh_token grant (RFC 6749 §6). It is written out
// rather than left to x/oauth2 because Microsoft wants the scopes on every
// refresh and x/oauth2 sends none, and to read error_codes.
func (t *Tokens) redeem(ctx context.Context, oc oauth2.Config) (*tokenResponse, error) {
	form := url.Values{
		"client_id":     {oc.ClientID},
		"grant_type":    {"refresh_token"},
		"refresh_token": {t.refresh},
		"scope":         {strings.Join(oc.Scopes, " ")},
	}
	rctx, cancel := context.WithTimeout(ctx, DefaultHTTPTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, oc.Endpoint.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, newError(CodeMisconfigured, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// Never follow a redirect: net/http would post the refresh token on
	// to wherever Location points, plain http included.
	hc := *t.cfg.httpClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, newError(CodeCancelled, ctx.Err())
		}
		return nil, newError(CodeNetwork, stripURLError(err))
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxTokenResponse+1))
	if err != nil {
		return nil, newError(CodeNetwork, err)
	}
	if len(body) > maxTokenResponse {
		return nil, newError(CodeServer, fmt.Errorf("token endpoint: HTTP %d, an answer larger than %d bytes", res.StatusCode, maxTokenResponse))
	}
	var r tokenResponse
	mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if jerr := json.Unmarshal(body, &r); jerr != nil {
		return nil, newError(CodeServer, fmt.Errorf("token endpoint: HTTP %d, %s that is not JSON", res.StatusCode, mt))
	}
	if res.StatusCode != http.StatusOK || r.Error != "" {
		return nil, oauthFailure(r.Error, r.ErrorDescription, r.ErrorCodes, r.TraceID, r.CorrelationID,
			fmt.Errorf("token endpoint: HTTP %d %q", res.StatusCode, r.Error))
	}
	if r.AccessToken == "" {
		return nil, newError(CodeServer, errors.New("token endpoint: no access_token"))
	}
	if r.TokenType != "" && !strings.EqualFold(r.TokenType, "Bearer") {
		return nil, newError(CodeServer, fmt.Errorf("token endpoint: token_type %q", r.TokenType))
	}
	return &r, nil
}

// stripURLError drops the URL from a *url.Error (it is not secret, but the
// query of a token request could be in some proxies' errors).
func stripURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s token endpoint: %w", ue.Op, ue.Err)
	}
	return err
}
