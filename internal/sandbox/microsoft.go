package sandbox

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"infino.legal/mailbox/internal/fakemail"
	"infino.legal/mailbox/mailcfg"
)

// Microsoft is the sandbox "Microsoft identity platform": the v2.0
// authorize and token endpoints at {authority}/{tenant}/oauth2/v2.0/…, an
// OpenID configuration and signing keys, and id_tokens with
// preferred_username and tid. Its access tokens are what the sandbox IMAP
// and SMTP servers accept with XOAUTH2.
type Microsoft struct {
	as        *authServer
	authority string // e.g. https://127.0.0.1:1234/ms
	tenantID  string
	key       *rsa.PrivateKey
	kid       string
}

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
	rsaErr  error
)

// signingKey is made once per process: RSA key generation is slow, and the
// sandbox's id_tokens need no secrecy.
func signingKey() (*rsa.PrivateKey, error) {
	rsaOnce.Do(func() { rsaKey, rsaErr = rsa.GenerateKey(rand.Reader, 2048) })
	return rsaKey, rsaErr
}

func newMicrosoft(authority, clientID string, now func() time.Time, page bool) (*Microsoft, error) {
	key, err := signingKey()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(key.PublicKey.N.Bytes())
	return &Microsoft{
		as:        newAuthServer("Microsoft", clientID, now, page),
		authority: authority, tenantID: DemoTenantID, key: key,
		kid: base64.RawURLEncoding.EncodeToString(sum[:8]),
	}, nil
}

// tenantOK accepts the tenant names Entra ID accepts in the path.
func (m *Microsoft) tenantOK(t string) bool {
	switch t {
	case "common", "organizations", "consumers", m.tenantID, MicrosoftDomain:
		return true
	}
	return false
}

func (m *Microsoft) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /ms/{tenant}/oauth2/v2.0/authorize", func(w http.ResponseWriter, r *http.Request) {
		if !m.tenantOK(r.PathValue("tenant")) {
			http.Error(w, "AADSTS90002: tenant not found", http.StatusBadRequest)
			return
		}
		m.as.authorize(w, r, m.user, func(sc []string) bool { return len(sc) > 0 })
	})
	mux.HandleFunc("POST /ms/{tenant}/oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) {
		if !m.tenantOK(r.PathValue("tenant")) {
			writeTokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS90002: tenant not found")
			return
		}
		m.as.token(w, r, m.issue)
	})
	mux.HandleFunc("GET /ms/{tenant}/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		t := r.PathValue("tenant")
		base := m.authority + "/" + t
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer":                                m.authority + "/" + m.tenantID + "/v2.0",
			"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
			"token_endpoint":                        base + "/oauth2/v2.0/token",
			"jwks_uri":                              base + "/discovery/v2.0/keys",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"pairwise"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"code_challenge_methods_supported":      []string{"S256"},
			"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		}, nil)
	})
	mux.HandleFunc("GET /ms/{tenant}/discovery/v2.0/keys", func(w http.ResponseWriter, r *http.Request) {
		pub := m.key.PublicKey
		writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": m.kid,
			"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		}}}, nil)
	})
}

// user is the account that "signs in": the login_hint if it is an address,
// else the demo Microsoft user.
func (m *Microsoft) user(q url.Values) string {
	if a, err := mailcfg.ParseAddress(q.Get("login_hint")); err == nil {
		return a.String()
	}
	return MicrosoftEmail
}

func (m *Microsoft) issue(g *grant, access, refresh string) tokenResponse {
	now := m.as.now()
	resp := tokenResponse{
		"token_type": "Bearer", "scope": strings.Join(g.scopes, " "),
		"expires_in": int(m.as.accessTTL.Seconds()), "ext_expires_in": int(m.as.accessTTL.Seconds()),
		"access_token": access,
	}
	if hasScope(g.scopes, "offline_access") {
		resp["refresh_token"] = refresh
	}
	if hasScope(g.scopes, "openid") {
		claims := map[string]any{
			"aud": m.as.clientID, "iss": m.authority + "/" + m.tenantID + "/v2.0",
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
			"sub": "sandbox-sub-" + g.user, "oid": "00000000-0000-4000-8000-" + oidSuffix(g.user),
			"tid": m.tenantID, "preferred_username": g.user, "email": g.user,
			"name": displayName(g.user), "ver": "2.0",
		}
		if g.nonce != "" {
			claims["nonce"] = g.nonce
		}
		resp["id_token"] = m.sign(claims)
	}
	return resp
}

func oidSuffix(user string) string {
	sum := sha256.Sum256([]byte(user))
	const hex = "0123456789abcdef"
	b := make([]byte, 12)
	for i := range b {
		b[i] = hex[sum[i]&0x0f]
	}
	return string(b)
}

func displayName(user string) string {
	local, _, _ := strings.Cut(user, "@")
	if local == "" {
		return user
	}
	return strings.ToUpper(local[:1]) + local[1:] + " (sandbox)"
}

// sign makes an RS256 JWT.
func (m *Microsoft) sign(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256", "kid": m.kid})
	c, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, m.key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// PublicKey verifies the id_tokens (tests).
func (m *Microsoft) PublicKey() *rsa.PublicKey { return &m.key.PublicKey }

// Authority is the authority URL (policy microsoft.authority).
func (m *Microsoft) Authority() string { return m.authority }

// TenantID is the tid in the id_tokens.
func (m *Microsoft) TenantID() string { return m.tenantID }

// ClientID is the registered client id (policy microsoft.clientId).
func (m *Microsoft) ClientID() string { return m.as.clientID }

// Mint issues tokens for user without the browser, with the IMAP and SMTP
// scopes.
func (m *Microsoft) Mint(user string) (access, refresh string) {
	return m.as.mint(user, MicrosoftScopes)
}

// CheckToken returns the user of a valid access token whose scopes include
// one ending in scopeSuffix (e.g. "IMAP.AccessAsUser.All").
func (m *Microsoft) CheckToken(token, scopeSuffix string) (string, bool) {
	g, ok := m.as.check(token)
	if !ok {
		return "", false
	}
	for _, s := range g.scopes {
		if strings.HasSuffix(s, scopeSuffix) {
			return g.user, true
		}
	}
	return "", false
}

// checkMailToken is the mail servers' XOAUTH2 check: a valid access token
// of user with the protocol's Outlook scope.
func (m *Microsoft) checkMailToken(protocol, user, token string) bool {
	scope := "SMTP.Send"
	if protocol == fakemail.IMAP {
		scope = "IMAP.AccessAsUser.All"
	}
	who, ok := m.CheckToken(token, scope)
	return ok && strings.EqualFold(who, user)
}

// AuthStats counts what the authorization server was asked.
func (m *Microsoft) AuthStats() AuthStats { return m.as.snapshot() }

// RevokeAccessTokens makes every access token invalid.
func (m *Microsoft) RevokeAccessTokens() { m.as.revokeAccess() }

// RevokeAll makes every token invalid.
func (m *Microsoft) RevokeAll() { m.as.revokeAll() }

// DenyNextSignIn makes the next n authorization requests end with
// access_denied.
func (m *Microsoft) DenyNextSignIn(n int) { m.as.denyNextAuthorization(n) }
