package signin

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/oauthloopback"
)

// consentScopes are every resource scope of the provider (IMAP, POP3 and
// SMTP at once, so one approval covers either choice) and its identity
// scopes.
func consentScopes(p *mailcfg.OAuthProvider) []string {
	var out []string
	for _, proto := range []mailcfg.Protocol{mailcfg.IMAP, mailcfg.POP3, mailcfg.SMTP} {
		for _, s := range p.Scopes[proto] {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	for _, s := range p.IdentityScopes {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

var tenantInError = regexp.MustCompile(`(?i)tenant[^0-9a-f]{0,24}([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})`)

// tenantFromError finds the tenant id an error description names, or "".
func tenantFromError(desc string) string {
	if m := tenantInError.FindStringSubmatch(desc); m != nil {
		return strings.ToLower(m[1])
	}
	return ""
}

var tenantGUID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// validTenant accepts what may name a tenant in an endpoint path: a tenant
// id (GUID), a domain name (letters, digits and hyphens in dot-separated
// labels) or "organizations"/"common". Anything else (a slash, "..", a
// query, spaces) could reshape the URL an administrator is sent to.
func validTenant(t string) bool {
	if tenantGUID.MatchString(t) || t == "organizations" || t == "common" {
		return true
	}
	if len(t) > 253 || !strings.Contains(t, ".") {
		return false
	}
	for _, l := range strings.Split(t, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' ||
			strings.ContainsFunc(l, func(r rune) bool {
				return !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
			}) {
			return false
		}
	}
	return true
}

func badTenant(p *mailcfg.OAuthProvider) *Error {
	return &Error{Provider: p.ID, Code: CodeMisconfigured,
		Message: mailcfg.Text{PL: "Dzierżawa musi być identyfikatorem dzierżawy (GUID) albo domeną organizacji, np. kancelaria.onmicrosoft.com.",
			EN: "The tenant must be a tenant ID (GUID) or a domain of the organisation, e.g. kancelaria.onmicrosoft.com."}}
}

// consentTenant picks the tenant an administrator approves for: the one
// named (error, flag), else a specific tenant from the policy, else the
// address's domain (a verified domain names its tenant), else
// "organizations" (the administrator's own).
func consentTenant(named, policyTenant, address string) string {
	if t := strings.TrimSpace(named); t != "" {
		return t
	}
	switch t := strings.ToLower(strings.TrimSpace(policyTenant)); t {
	case "", "common", "organizations", "consumers":
	default:
		return t
	}
	if a, err := mailcfg.ParseAddress(address); err == nil {
		return a.Domain
	}
	return "organizations"
}

// adminConsentURL is the v2.0 adminconsent link.
func adminConsentURL(e *endpoints, tenant, redirect, state string, scopes []string) string {
	return fill(e.p.AdminConsentEndpoint, e.authority, tenant) + "?" + url.Values{
		"client_id":    {e.clientID},
		"scope":        {strings.Join(scopes, " ")},
		"redirect_uri": {redirect},
		"state":        {state},
	}.Encode()
}

// consent builds the link and the request to IT for a tenant.
func (s *Service) consent(e *endpoints, tenant, address string) (*ConsentNeeded, error) {
	p := e.p
	if p.AdminConsentEndpoint == "" {
		return nil, fmt.Errorf("signin: %s has no admin consent", p.ID)
	}
	tenant = consentTenant(tenant, e.tenant, address)
	if !validTenant(tenant) {
		return nil, badTenant(p)
	}
	scopes := consentScopes(p)
	redirect := "http://localhost"
	u := adminConsentURL(e, tenant, redirect, rand.Text(), scopes)
	return &ConsentNeeded{Provider: p.ID, Tenant: tenant, URL: u, Scopes: scopes, RedirectURI: redirect,
		Request: consentRequest(p, tenant, e.clientID, u, scopes)}, nil
}

// consentRequest is the ready message a user sends to IT.
func consentRequest(p *mailcfg.OAuthProvider, tenant, clientID, link string, scopes []string) mailcfg.Text {
	var short []string
	for _, s := range scopes {
		if i := strings.LastIndex(s, "/"); i >= 0 && strings.Contains(s, ".") {
			short = append(short, s[i+1:])
		}
	}
	perms := strings.Join(short, ", ")
	return mailcfg.Text{
		PL: fmt.Sprintf(`Dzień dobry,

chcę podłączyć swoją skrzynkę pocztową do Infino Legal programem Infino Mailbox, ale %s prosi o zgodę administratora organizacji („Wymagane zatwierdzenie przez administratora”).

Proszę o udzielenie zgody administratora dla aplikacji Infino Mailbox (identyfikator aplikacji: %s) w dzierżawie %s, z uprawnieniami delegowanymi %s. Wystarczy otworzyć ten link jako administrator globalny (lub administrator aplikacji w chmurze) i zaakceptować:

%s

Można też: centrum administracyjne Microsoft Entra → Aplikacje dla przedsiębiorstw → Infino Mailbox → Uprawnienia → „Udziel zgody administratora”, albo z wiersza poleceń: infino-mailbox admin-consent microsoft --tenant %s

Po udzieleniu zgody kliknę w programie „Sprawdź ponownie”. Jeśli wysyłanie poczty zostanie odrzucone, dla mojej skrzynki trzeba jeszcze włączyć uwierzytelnione SMTP (Set-CASMailbox -Identity <mój adres> -SmtpClientAuthenticationDisabled $false).

Dziękuję`, p.Name.PL, clientID, tenant, perms, link, tenant),
		EN: fmt.Sprintf(`Hello,

I want to connect my mailbox to Infino Legal with the Infino Mailbox app, but %s asks for the organisation's administrator's approval ("Need admin approval").

Please grant admin consent for the Infino Mailbox app (application ID: %s) in the tenant %s, with the delegated permissions %s. Open this link as a Global Administrator (or Cloud Application Administrator) and accept:

%s

Alternatively: Microsoft Entra admin center → Enterprise applications → Infino Mailbox → Permissions → "Grant admin consent", or from the command line: infino-mailbox admin-consent microsoft --tenant %s

Once consent is granted I will click "Check again" in the app. If sending mail is then refused, authenticated SMTP must also be switched on for my mailbox (Set-CASMailbox -Identity <my address> -SmtpClientAuthenticationDisabled $false).

Thank you`, p.Name.EN, clientID, tenant, perms, link, tenant),
	}
}

// ConsentFor builds the admin-consent link and the IT request for a tenant
// (a tenant id or domain; "": the policy's tenant or the domain of
// address) without a failed sign-in, e.g. for „Microsoft prosi o zgodę
// administratora?” while the sign-in waits.
//
// It does no network I/O: a provider with admin consent (Microsoft) has
// its endpoints relative to its authority, so nothing is discovered.
func (s *Service) ConsentFor(provider, tenant, address string) (*ConsentNeeded, error) {
	if p := s.cfg.oauth().ByID(provider); p != nil && p.AdminConsentEndpoint == "" {
		return nil, fmt.Errorf("signin: %s has no admin consent", provider)
	}
	e, err := s.resolve(context.Background(), provider, "")
	if err != nil {
		return nil, err
	}
	return s.consent(e, tenant, address)
}

// AdminConsent runs the administrator's approval in the browser and
// receives the answer on the loopback redirect (loopback only, state
// checked). admin_consent=True is success; an error answer is an *Error
// (e.g. CodeCancelled when the administrator declined).
func (s *Service) AdminConsent(ctx context.Context, r AdminConsentRequest) (*AdminConsentResult, error) {
	e, err := s.resolve(ctx, r.Provider, "")
	if err != nil {
		return nil, err
	}
	p := e.p
	if p.AdminConsentEndpoint == "" {
		return nil, &Error{Provider: p.ID, Code: CodeMisconfigured,
			Message: mailcfg.Text{PL: p.Name.PL + " nie ma zgody administratora.", EN: p.Name.EN + " has no admin consent."}}
	}
	tenant := consentTenant(r.Tenant, e.tenant, "")
	if !validTenant(tenant) {
		return nil, badTenant(p)
	}
	scopes := consentScopes(p)
	rc, err := oauthloopback.ReceiveStart(ctx, oauthloopback.ReceiveConfig{
		URL: func(redirect, state string) (string, error) {
			return adminConsentURL(e, tenant, redirect, state, scopes), nil
		},
		Params:       []string{"admin_consent", "tenant", "scope", "error", "error_description", "error_uri", "error_subcode"},
		RedirectHost: p.RedirectHost,
		Opener:       s.cfg.Opener,
		OnURL:        r.OnURL,
		OnOpen:       r.OnOpen,
		Timeout:      s.cfg.Timeout,
		Pages:        oauthloopback.PagesFor(s.cfg.Lang),
		Failed:       func(v url.Values) bool { return !strings.EqualFold(v.Get("admin_consent"), "true") },
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, newError(p, CodeCancelled, err)
		}
		return nil, newError(p, CodeLoopback, err)
	}
	defer rc.Close()
	v, err := rc.Wait(ctx)
	if err != nil {
		return nil, s.flowError(e, "", err)
	}
	if code := v.Get("error"); code != "" || !strings.EqualFold(v.Get("admin_consent"), "true") {
		if code == "" {
			code = "access_denied"
		}
		out := oauthError(p, oauthAnswer{Error: code, Description: v.Get("error_description")}, errors.New("admin consent refused"))
		if out.Code == CodeCancelled {
			out.Message = mailcfg.Text{PL: "Zgoda administratora nie została udzielona.", EN: "Admin consent was not granted."}
			out.Hint = mailcfg.Text{PL: "Zaloguj się kontem administratora globalnego (lub administratora aplikacji w chmurze) i zaakceptuj uprawnienia.",
				EN: "Sign in with a Global Administrator (or Cloud Application Administrator) account and accept the permissions."}
		}
		return nil, out
	}
	// The answer names the tenant that approved: a tenant id, the one
	// asked for when that was one.
	got := v.Get("tenant")
	if !tenantGUID.MatchString(got) || tenantGUID.MatchString(tenant) && !strings.EqualFold(got, tenant) {
		return nil, &Error{Provider: p.ID, Code: CodeServer,
			Message: mailcfg.Text{PL: "Odpowiedź " + p.Name.PL + " nie wskazuje dzierżawy, o którą proszono o zgodę.",
				EN: "The answer from " + p.Name.EN + " does not name the tenant the consent was asked for."},
			Err: errors.New("admin consent answer: tenant is not the one asked for")}
	}
	return &AdminConsentResult{Granted: true, Tenant: strings.ToLower(got), Scope: v.Get("scope")}, nil
}
