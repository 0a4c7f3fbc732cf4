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
	"time"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/urlcheck"
)

// MetadataPath is the well-known suffix of authorization server metadata
// (RFC 8414); for an issuer with a path it goes between the host and the
// path (RFC 8414 §3.1).
const MetadataPath = "/.well-known/oauth-authorization-server"

// OpenIDConfigurationPath is the OpenID Connect Discovery suffix, appended
// to the issuer (path included). RFC 8414 §5 lets a client fall back to it.
const OpenIDConfigurationPath = "/.well-known/openid-configuration"

// Metadata is the part of RFC 8414 authorization server metadata (or of an
// OpenID Connect discovery document) the app uses.
type Metadata struct {
	Issuer                        string   `json:"issuer"`
	AuthorizationEndpoint         string   `json:"authorization_endpoint"`
	TokenEndpoint                 string   `json:"token_endpoint"`
	ScopesSupported               []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported        []string `json:"response_types_supported"`
	GrantTypesSupported           []string `json:"grant_types_supported,omitempty"`
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported"`
	RevocationEndpoint            string   `json:"revocation_endpoint,omitempty"`
	// IssParameterSupported: the server puts iss into every authorization
	// response (RFC 9207); the app then refuses one without it.
	IssParameterSupported bool `json:"authorization_response_iss_parameter_supported,omitempty"`
	// PromptValuesSupported (OpenID Connect) lists the prompt values.
	PromptValuesSupported []string `json:"prompt_values_supported,omitempty"`
}

// OfflineAccess reports whether the server lists the offline_access scope:
// an OpenID Connect provider then issues refresh tokens only when it is
// asked for (with prompt=consent, OpenID Connect Core §11).
func (m *Metadata) OfflineAccess() bool {
	return slices.Contains(m.ScopesSupported, ScopeOfflineAccess)
}

// MetadataURLs are where the metadata of issuer is looked for, in order:
// the RFC 8414 location (the well-known suffix between host and path), then
// the OpenID Connect location (the suffix after the path).
func MetadataURLs(issuer string) []string {
	u, err := url.Parse(strings.TrimRight(issuer, "/"))
	if err != nil {
		return nil
	}
	origin := u.Scheme + "://" + u.Host
	path := strings.TrimRight(u.EscapedPath(), "/")
	return []string{origin + MetadataPath + path, origin + path + OpenIDConfigurationPath}
}

// Discover fetches and checks the metadata of the Infino at base (its
// issuer): first at the RFC 8414 location, then, if that is missing, at the
// OpenID Connect one. The issuer must be base itself, the endpoints https
// (http only to loopback), and PKCE S256 must be offered. Every failure is
// an *Error that keeps a waiting submission: KindUnavailable or KindTLS when
// Infino could not be reached, KindSignInSetup when it answered without
// usable metadata.
func Discover(ctx context.Context, hc *http.Client, base string) (*Metadata, error) {
	base, err := CheckBaseURL(base)
	if err != nil {
		return nil, &Error{Kind: KindConfig, Err: err, Message: messages[KindConfig]}
	}
	if hc == nil {
		hc = NewHTTPClient()
	}
	var tried []string
	unavailable := 0
	for _, u := range MetadataURLs(base) {
		m, status, err := fetchMetadata(ctx, hc, u)
		if err != nil {
			return nil, err // not reached: the other location is on the same host
		}
		switch {
		case status == http.StatusOK:
			if err := m.check(base); err != nil {
				return nil, setupError(fmt.Errorf("authorization server metadata at %s: %w", u, err), metadataMessage)
			}
			return m, nil
		case status == http.StatusTooManyRequests || status >= 500:
			unavailable = status
		}
		tried = append(tried, fmt.Sprintf("%s (HTTP %d)", u, status))
	}
	if unavailable != 0 {
		return nil, newError(KindUnavailable, unavailable, fmt.Errorf("authorization server metadata: %s", strings.Join(tried, ", ")))
	}
	return nil, setupError(fmt.Errorf("no authorization server metadata at %s", strings.Join(tried, " nor ")), metadataMessage)
}

// fetchMetadata gets one metadata document: (metadata, 200, nil), (nil,
// status, nil) for another answer, or an *Error when nothing usable came.
func fetchMetadata(ctx context.Context, hc *http.Client, u string) (*Metadata, int, error) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, newError(KindConfig, 0, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, transportError(parent, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, 0, transportError(parent, err)
	}
	if len(data) > maxResponse {
		return nil, 0, transportError(parent, errTooLargeAnswer)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode, nil
	}
	var m Metadata
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, 0, setupError(fmt.Errorf("authorization server metadata at %s: %w", u, err), metadataMessage)
	}
	return &m, http.StatusOK, nil
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

// setupError is a sign-in that cannot work until Infino's authorization
// server is configured differently. The message says what to pass on; the
// submission waits.
func setupError(err error, msg mailcfg.Text) *Error {
	return &Error{Kind: KindSignInSetup, Err: err, Message: msg}
}

var metadataMessage = mailcfg.Text{
	PL: "Infino nie udostępnia opisu swojego logowania (metadanych serwera autoryzacji, RFC 8414 lub OpenID Connect), więc aplikacja nie może się zalogować. Niczego nie wysłano; ustawienia czekają w skrzynce nadawczej. Przekaż tę wiadomość działowi IT lub pomocy Infino.",
	EN: "Infino does not publish how to sign in to it (authorization server metadata, RFC 8414 or OpenID Connect), so the app cannot sign in. Nothing was sent; the settings are waiting in the outbox. Pass this message on to your IT department or Infino support.",
}
