package signin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/microsoft"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/urlcheck"
)

func (c Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c Config) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return &http.Client{Timeout: DefaultHTTPTimeout}
}

// oidcClient is the client for discovery documents and keys: a redirect
// may stay on the server asked (same scheme and host), never lead to
// another one, so the keys that vouch for ID tokens come only from the
// provider's configured server.
func (c Config) oidcClient() *http.Client {
	hc := *c.httpClient()
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("stopped after 5 redirects")
		}
		if req.URL.Scheme != via[0].URL.Scheme || !strings.EqualFold(req.URL.Host, via[0].URL.Host) {
			return errors.New("redirected to another server")
		}
		return nil
	}
	return &hc
}

func (c Config) table() *mailcfg.Table {
	if c.Table != nil {
		return c.Table
	}
	return mailcfg.Bundled()
}

func (c Config) oauth() *mailcfg.OAuthTable {
	if c.OAuth != nil {
		return c.OAuth
	}
	return mailcfg.BundledOAuth()
}

func (c Config) policyFile() string {
	if c.PolicyFile != "" {
		return c.PolicyFile
	}
	p, _ := policy.FilePath(nil)
	return p
}

// isMicrosoft: the provider's tenant rules are Microsoft's.
func isMicrosoft(p *mailcfg.OAuthProvider) bool {
	return p.Tenant != nil && p.Tenant.Hook == "microsoft"
}

// offer describes one provider for the faces.
func (s *Service) offer(p *mailcfg.OAuthProvider) OAuthProvider {
	cl := s.cfg.Policy.Client(p.ID)
	o := OAuthProvider{ID: p.ID, Name: p.Name, SharedMailbox: p.SharedMailbox}
	allowed := s.cfg.Policy.Allows(p.ID) || len(s.cfg.Policy.AllowedMethods) == 0
	o.Configured = strings.TrimSpace(cl.ClientID) != "" && allowed
	if !o.Configured {
		o.Setup = setupText(p, s.cfg.policyFile(), runtime.GOOS, allowed)
	}
	return o
}

// All lists every provider of the OAuth table, configured or not.
func (s *Service) All() []OAuthProvider {
	var out []OAuthProvider
	for _, p := range s.cfg.oauth().Providers {
		out = append(out, s.offer(p))
	}
	return out
}

// Provider is one provider by id.
func (s *Service) Provider(id string) (OAuthProvider, bool) {
	p := s.cfg.oauth().ByID(id)
	if p == nil {
		return OAuthProvider{}, false
	}
	return s.offer(p), true
}

// ProvidersFor lists the sign-ins for an address, best first: the provider
// table's entry for the domain, else the MX hosts (Config.LookupMX) for
// firm domains on Google Workspace or Microsoft 365. Providers that are not
// configured are listed too (Configured false, Setup says what IT must
// set). An address without a known provider gives nil.
func (s *Service) ProvidersFor(ctx context.Context, address string) []OAuthProvider {
	addr, err := mailcfg.ParseAddress(address)
	if err != nil {
		return nil
	}
	entry, byMX := s.mailProvider(ctx, addr.Domain)
	if entry == nil || entry.OAuth == "" {
		return nil
	}
	p := s.cfg.oauth().ByID(entry.OAuth)
	if p == nil {
		return nil
	}
	o := s.offer(p)
	o.MailProvider, o.ByMX = entry.ID, byMX
	if isMicrosoft(p) {
		o.PasswordRefused = true
		o.PasswordWarning = passwordWarning(p, entry.Name)
	}
	return []OAuthProvider{o}
}

// mailProvider finds the provider table entry of a domain: by the table,
// else by its MX hosts.
func (s *Service) mailProvider(ctx context.Context, domain string) (*mailcfg.Provider, bool) {
	t := s.cfg.table()
	if p := t.ByDomain(domain); p != nil {
		return p, false
	}
	if s.cfg.LookupMX == nil {
		return nil, false
	}
	hosts, err := s.cfg.LookupMX(ctx, domain)
	if err != nil {
		return nil, false
	}
	for _, h := range hosts {
		if p := t.ByMX(h); p != nil {
			return p, true
		}
	}
	return nil, false
}

// endpoints is a provider resolved for one sign-in: the policy's client and
// authority applied, templates filled, discovery read where needed.
type endpoints struct {
	p            *mailcfg.OAuthProvider
	clientID     string
	clientSecret string
	authority    string
	tenant       string // Microsoft: the tenant path segment
	issuer       string // "" for Microsoft's per-tenant issuer (checked by the hook)
	authURL      string
	tokenURL     string
	jwksURL      string
	requireIss   bool
}

func fill(tmpl, authority, tenant string) string {
	return strings.NewReplacer("{authority}", authority, "{tenant}", url.PathEscape(tenant)).Replace(tmpl)
}

// resolve applies the policy to a provider: client id (required), secret,
// authority (https, loopback http aside), tenant; with an authority that
// replaces the provider's, endpoints that are not written relative to it
// come from the OpenID discovery document there (whose issuer must still be
// the provider's).
func (s *Service) resolve(ctx context.Context, id, tenant string) (*endpoints, error) {
	p := s.cfg.oauth().ByID(id)
	if p == nil {
		return nil, &Error{Provider: id, Code: CodeUnknownProvider,
			Message: mailcfg.Text{PL: "Nieznany dostawca logowania: " + id + ".", EN: "Unknown sign-in provider: " + id + "."},
			Hint:    mailcfg.Text{PL: "Dostępni: " + strings.Join(ids(s.cfg.oauth()), ", ") + ".", EN: "Known: " + strings.Join(ids(s.cfg.oauth()), ", ") + "."}}
	}
	o := s.offer(p)
	if !o.Configured {
		return nil, &Error{Provider: id, Code: CodeNotConfigured, Message: notConfiguredMessage(p), Hint: o.Setup}
	}
	cl := s.cfg.Policy.Client(id)
	e := &endpoints{p: p, clientID: strings.TrimSpace(cl.ClientID), authority: strings.TrimRight(strings.TrimSpace(cl.Authority), "/")}
	if p.ClientSecret {
		e.clientSecret = cl.ClientSecret
	}
	if e.authority == "" {
		e.authority = p.Authority
	}
	if err := urlcheck.Check(e.authority, true); err != nil {
		return nil, misconfigured(p, fmt.Errorf("authority: %w", err), authorityKey(p))
	}
	if p.Tenant != nil {
		e.tenant = tenant
		if e.tenant == "" {
			e.tenant = strings.TrimSpace(cl.Tenant)
		}
		if e.tenant == "" {
			e.tenant = p.Tenant.Default
		}
	}
	e.authURL = fill(p.AuthorizationEndpoint, e.authority, e.tenant)
	e.tokenURL = fill(p.TokenEndpoint, e.authority, e.tenant)
	e.jwksURL = fill(p.JWKSURI, e.authority, e.tenant)
	if !isMicrosoft(p) {
		e.issuer = p.Issuer
	}
	e.requireIss = p.IssInRedirect
	overridden := e.authority != p.Authority
	relative := func(t string) bool { return t == "" || strings.HasPrefix(t, "{authority}") }
	if overridden && !(relative(p.AuthorizationEndpoint) && relative(p.TokenEndpoint) && relative(p.JWKSURI)) {
		if p.Discovery == "" {
			return nil, misconfigured(p, errors.New("the provider's endpoints cannot follow another authority"), authorityKey(p))
		}
		if err := s.discover(ctx, e); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// discover reads the OpenID configuration at the replaced authority. Its
// issuer must be the provider's own identifier (a stand-in keeps the
// identity it stands in for); RFC 9207 iss becomes required when it says
// authorization_response_iss_parameter_supported.
func (s *Service) discover(ctx context.Context, e *endpoints) error {
	doc := fill(e.p.Discovery, e.authority, e.tenant)
	base := strings.TrimSuffix(doc, "/.well-known/openid-configuration")
	if base == doc {
		return misconfigured(e.p, errors.New("discovery URL does not end in /.well-known/openid-configuration"), "")
	}
	dctx := oidc.InsecureIssuerURLContext(oidc.ClientContext(ctx, s.cfg.oidcClient()), e.p.Issuer)
	prov, err := oidc.NewProvider(dctx, base)
	if err != nil {
		var mm *oidc.IssuerMismatchError
		if errors.As(err, &mm) {
			return misconfigured(e.p, errors.New("the discovery document names another issuer"), authorityKey(e.p))
		}
		if ctx.Err() != nil {
			return &Error{Provider: e.p.ID, Code: CodeCancelled, Message: texts[CodeCancelled].msg.with(e.p), Err: ctx.Err()}
		}
		return newError(e.p, CodeNetwork, err)
	}
	var meta struct {
		JWKS   string `json:"jwks_uri"`
		IssReq bool   `json:"authorization_response_iss_parameter_supported"`
	}
	if err := prov.Claims(&meta); err != nil {
		return newError(e.p, CodeServer, err)
	}
	ep := prov.Endpoint()
	for _, u := range []string{ep.AuthURL, ep.TokenURL, meta.JWKS} {
		if err := urlcheck.Check(u, true); err != nil {
			return misconfigured(e.p, fmt.Errorf("discovery: endpoint %w", err), authorityKey(e.p))
		}
	}
	e.authURL, e.tokenURL, e.jwksURL = ep.AuthURL, ep.TokenURL, meta.JWKS
	e.requireIss = e.requireIss || meta.IssReq
	return nil
}

// issuerMatch judges an iss from a server whose issuer is per tenant
// (Microsoft's): an issuer of the authority, and of the policy's tenant
// when that is a tenant id; nil for the others, whose issuer is one string.
func (e *endpoints) issuerMatch() func(string) bool {
	if !isMicrosoft(e.p) {
		return nil
	}
	authority, tenant := e.authority, e.tenant
	return func(iss string) bool {
		if !microsoft.ValidIssuer(iss, authority) {
			return false
		}
		// Endpoints of one tenant (its id in the policy) answer as that
		// tenant's issuer; common and organizations as any tenant's.
		return !tenantGUID.MatchString(tenant) || strings.EqualFold(iss, authority+"/"+tenant+"/v2.0")
	}
}

func (e *endpoints) oauth2(scopes []string) oauth2.Config {
	return oauth2.Config{ClientID: e.clientID, ClientSecret: e.clientSecret, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: e.authURL, TokenURL: e.tokenURL, AuthStyle: oauth2.AuthStyleInParams}}
}

func ids(t *mailcfg.OAuthTable) []string {
	var out []string
	for _, p := range t.Providers {
		out = append(out, p.ID)
	}
	return out
}

// policyKey is the policy key of a provider's setting ("clientId",
// "authority"): microsoft.* for Microsoft, oauth.<id>.* for the others.
func policyKey(p *mailcfg.OAuthProvider, field string) string {
	if isMicrosoft(p) {
		return "microsoft." + field
	}
	return "oauth." + p.ID + "." + field
}

func authorityKey(p *mailcfg.OAuthProvider) string { return policyKey(p, "authority") }
