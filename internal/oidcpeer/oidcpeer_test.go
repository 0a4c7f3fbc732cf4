package oidcpeer

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestLoadRejectsIncompleteEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(path, []byte("OIDCPEER_HOST=127.0.0.1\nOIDCPEER_PORT=x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), "OIDCPEER_ISSUER missing") ||
		!strings.Contains(err.Error(), `OIDCPEER_PORT="x" is not a port`) {
		t.Fatalf("Load: %v", err)
	}
}

func TestAudienceOneOrMany(t *testing.T) {
	for in, want := range map[string]string{`"https://a"`: "https://a", `["https://a","https://b"]`: "https://a https://b"} {
		var a audience
		if err := json.Unmarshal([]byte(in), &a); err != nil || strings.Join(a, " ") != want {
			t.Errorf("%s: %q %v", in, a, err)
		}
	}
}

// The running provider (when up) publishes what the hand-off relies on:
// OpenID discovery at the issuer's path, none at the RFC 8414 location,
// iss in authorization responses, offline_access, PKCE S256.
func TestProviderMetadata(t *testing.T) {
	p := Require(t)
	hc := p.HTTPClient()
	res, err := hc.Get("https://" + net.JoinHostPort(p.Host, strconv.Itoa(p.Port)) + "/.well-known/oauth-authorization-server" + p.Path)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Errorf("RFC 8414 location: HTTP %d (the tests expect the OpenID fallback)", res.StatusCode)
	}
	res, err = hc.Get(p.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m struct {
		Issuer  string   `json:"issuer"`
		Iss     bool     `json:"authorization_response_iss_parameter_supported"`
		Scopes  []string `json:"scopes_supported"`
		PKCE    []string `json:"code_challenge_methods_supported"`
		Intro   string   `json:"introspection_endpoint"`
		JWKSURI string   `json:"jwks_uri"`
	}
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	if m.Issuer != p.Issuer || !m.Iss || !strings.Contains(strings.Join(m.Scopes, " "), "offline_access") ||
		strings.Join(m.PKCE, " ") != "S256" || m.Intro == "" || m.JWKSURI != p.Issuer+"/jwks" {
		t.Errorf("metadata %+v", m)
	}
}
