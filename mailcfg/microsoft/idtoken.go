package microsoft

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Claims are the parts of a Microsoft identity platform v2.0 ID token the
// app uses (https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference).
type Claims struct {
	Issuer            string `json:"iss"`
	Audience          string `json:"-"` // "aud" (a string, or a one-element list)
	Expires           int64  `json:"exp"`
	NotBefore         int64  `json:"nbf"`
	IssuedAt          int64  `json:"iat"`
	TenantID          string `json:"tid"`
	ObjectID          string `json:"oid"`
	PreferredUsername string `json:"preferred_username"`
	Email             string `json:"email"`
	Name              string `json:"name"`
	Version           string `json:"ver"`
}

// Personal reports whether the account is a personal Microsoft account
// (Outlook.com, Hotmail, Live): its tenant is the consumer tenant.
func (c *Claims) Personal() bool { return strings.EqualFold(c.TenantID, ConsumerTenantID) }

// clockSkew is how far the token's times may disagree with this clock.
const clockSkew = 5 * time.Minute

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ParseIDToken reads the payload of an ID token and checks it is meant for
// this app: aud is clientID, iss is "<authority host>/<tid>/v2.0" over
// https, tid is a GUID (and the policy's tenant, when that is a GUID or
// "consumers"/"organizations"), and it has not expired. The signature is not
// checked: the token came straight from the token endpoint over TLS (OpenID
// Connect Core §3.1.3.7 allows this), so only a mix-up is guarded against.
func ParseIDToken(raw, clientID, authority, tenant string, now time.Time) (*Claims, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 || parts[1] == "" {
		return nil, errors.New("ID token is not a JWS compact serialization")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, errors.New("ID token payload is not base64url")
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("ID token payload: %w", err)
	}
	var aud struct {
		Aud json.RawMessage `json:"aud"`
	}
	_ = json.Unmarshal(payload, &aud)
	c.Audience, err = audience(aud.Aud, clientID)
	if err != nil {
		return nil, err
	}
	if c.Audience != clientID {
		return nil, errors.New("ID token is for another app (aud)")
	}
	if !guidRE.MatchString(c.TenantID) {
		return nil, errors.New("ID token has no tenant id (tid)")
	}
	if err := checkIssuer(c.Issuer, authority, c.TenantID); err != nil {
		return nil, err
	}
	switch t := strings.ToLower(tenant); {
	case guidRE.MatchString(t) && !strings.EqualFold(t, c.TenantID):
		return nil, errors.New("ID token is from another tenant than the policy's")
	case t == "consumers" && !c.Personal():
		return nil, errors.New("ID token is not from the consumer tenant")
	case t == "organizations" && c.Personal():
		return nil, errors.New("ID token is from the consumer tenant")
	}
	if c.Expires == 0 {
		return nil, errors.New("ID token has no expiry (exp)")
	}
	if now.After(time.Unix(c.Expires, 0).Add(clockSkew)) {
		return nil, errors.New("ID token has expired (check the computer's clock)")
	}
	if c.NotBefore != 0 && c.NotBefore > now.Add(clockSkew).Unix() {
		return nil, errors.New("ID token is not valid yet (check the computer's clock)")
	}
	return &c, nil
}

func audience(raw json.RawMessage, clientID string) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", errors.New("ID token has no audience (aud)")
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil && len(list) == 1 {
		return list[0], nil
	}
	return "", errors.New("ID token audience (aud) is not this app alone")
}

// checkIssuer accepts https://<authority host and path>/<tid>/v2.0.
func checkIssuer(iss, authority, tid string) error {
	u, err := url.Parse(iss)
	if err != nil || u.Scheme != "https" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("ID token issuer (iss) is not an https URL")
	}
	a, err := url.Parse(authority)
	if err != nil || !strings.EqualFold(u.Host, a.Host) {
		return errors.New("ID token issuer (iss) is not the configured authority")
	}
	if !strings.EqualFold(u.Path, strings.TrimRight(a.Path, "/")+"/"+tid+"/v2.0") {
		return errors.New("ID token issuer (iss) does not name the token's tenant")
	}
	return nil
}

// ValidIssuer reports whether iss is an issuer of the authority: the
// authority's host and path followed by /<tenant id>/v2.0, over https.
// Microsoft does not send iss in the authorization response (RFC 9207);
// one that arrives anyway must be this.
func ValidIssuer(iss, authority string) bool {
	u, err := url.Parse(iss)
	if err != nil {
		return false
	}
	a, err := url.Parse(authority)
	if err != nil {
		return false
	}
	rest, ok := strings.CutPrefix(u.Path, strings.TrimRight(a.Path, "/")+"/")
	tid, ok2 := strings.CutSuffix(rest, "/v2.0")
	return ok && ok2 && guidRE.MatchString(tid) && checkIssuer(iss, authority, tid) == nil
}
