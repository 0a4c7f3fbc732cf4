package sandbox

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// AuthProfile makes the sandbox Infino's authorization server behave like a
// stricter, standards-following one (an OpenID Connect provider as Infino's
// backend team might deploy it), or like a misconfigured one. The zero value
// is the lenient default: RFC 8414 metadata, a refresh token with every
// grant, every requested scope granted.
type AuthProfile struct {
	// OpenIDOnly serves the metadata only at the OpenID Connect location
	// ({issuer}/.well-known/openid-configuration); the RFC 8414 location
	// answers 404.
	OpenIDOnly bool
	// NoMetadata answers 404 at both locations.
	NoMetadata bool
	// MetadataIssuer, if set, is the issuer the metadata claims (a server
	// that names another issuer).
	MetadataIssuer string
	// OfflineAccess lists offline_access (and openid) in scopes_supported
	// and issues a refresh token only when offline_access was requested
	// together with prompt=consent (OpenID Connect Core §11).
	OfflineAccess bool
	// NeverRefresh never issues a refresh token.
	NeverRefresh bool
	// RequireResource grants mailboxes:write only when the authorization
	// request names the issuer as its resource (RFC 8707).
	RequireResource bool
	// NarrowScope grants mailboxes:read instead of mailboxes:write.
	NarrowScope bool
	// IssParameter announces authorization_response_iss_parameter_supported
	// and sends iss in every redirect back (RFC 9207).
	IssParameter bool
	// ForgeIss, if set, is sent as iss instead of the issuer (a mix-up).
	ForgeIss string
}

// Strict is the profile of a standards-following OpenID Connect provider:
// metadata only at the OpenID location, refresh tokens only for
// offline_access with consent, resource indicators required, iss in the
// redirect.
var Strict = AuthProfile{OpenIDOnly: true, OfflineAccess: true, RequireResource: true, IssParameter: true}

// SetProfile changes how the authorization server behaves from now on.
func (s *Infino) SetProfile(p AuthProfile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.profile = p
}

// Profile is the current AuthProfile.
func (s *Infino) Profile() AuthProfile {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.profile
}

// Issuer is the issuer identifier (the Infino URL, with its path).
func (s *Infino) Issuer() string { return s.issuer }

func (s *Infino) issParam() string {
	p := s.Profile()
	switch {
	case p.ForgeIss != "":
		return p.ForgeIss
	case p.IssParameter:
		return s.issuer
	}
	return ""
}

func (s *Infino) grantScopes(q url.Values, requested []string) []string {
	p := s.Profile()
	if res := q.Get("resource"); res != "" && res != s.issuer {
		// RFC 8707: not this API; no scope of it.
		requested = slices.DeleteFunc(slices.Clone(requested), func(sc string) bool { return sc == InfinoScope })
	}
	consent := slices.Contains(strings.Fields(q.Get("prompt")), "consent")
	var out []string
	for _, sc := range requested {
		switch sc {
		case "offline_access":
			if p.OfflineAccess && !consent {
				continue // OpenID Connect Core §11: ignored without consent
			}
		case InfinoScope:
			if p.RequireResource && q.Get("resource") != s.issuer {
				continue
			}
			if p.NarrowScope {
				out = append(out, "mailboxes:read")
				continue
			}
		}
		out = append(out, sc)
	}
	return out
}

func (s *Infino) refreshAllowed(scopes []string) bool {
	p := s.Profile()
	switch {
	case p.NeverRefresh:
		return false
	case p.OfflineAccess:
		return slices.Contains(scopes, "offline_access")
	}
	return true
}

// StartInfinoAt runs a second, separate sandbox Infino whose issuer has a
// path (e.g. "/tenant/infino", as a multi-tenant OpenID provider has), on
// its own loopback port with a certificate of the sandbox CA. It behaves as
// profile says and stops with the sandbox.
func (sb *Sandbox) StartInfinoAt(ctx context.Context, path string, profile AuthProfile) (*Infino, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, errorf("listen: %v", err)
	}
	issuer := "https://" + ln.Addr().String() + "/" + strings.Trim(path, "/")
	issuer = strings.TrimRight(issuer, "/")
	inf, err := newInfino(issuer, issuer, sb.opts.InfinoClientID, sb.opts.Now, false, sb.done)
	if err != nil {
		ln.Close()
		return nil, err
	}
	inf.profile = profile
	mux := http.NewServeMux()
	inf.routes(mux)
	srv := &http.Server{Handler: sb.logRequests(mux), TLSConfig: sb.CA.ServerTLS(),
		ErrorLog: log.New(io.Discard, "", 0), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(tls.NewListener(ln, sb.CA.ServerTLS()))
	go func() {
		<-sb.done
		srv.Close()
	}()
	return inf, nil
}
