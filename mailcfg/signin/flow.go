package signin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/microsoft"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/oauthloopback"
)

// Start begins a sign-in: it resolves the provider (policy, discovery),
// binds the loopback redirect listener and opens the sign-in page. Errors
// are *Error: CodeNotConfigured / CodeMisconfigured (IT must act first),
// CodeUnknownProvider, CodeNotShared, CodeLoopback, CodeCancelled.
func (s *Service) Start(ctx context.Context, r Request) (*Session, error) {
	e, err := s.resolve(ctx, r.Provider, "")
	if err != nil {
		return nil, err
	}
	p := e.p
	if strings.TrimSpace(r.Shared) != "" {
		if !p.SharedMailbox {
			return nil, newError(p, CodeNotShared, nil)
		}
		if _, err := mailcfg.ParseAddress(r.Shared); err != nil {
			return nil, err
		}
	}
	proto := r.Protocol
	if proto == "" {
		proto = mailcfg.IMAP
	}
	if proto != mailcfg.IMAP && proto != mailcfg.POP3 {
		return nil, fmt.Errorf("signin: protocol %q", proto)
	}
	hint := strings.TrimSpace(r.LoginHint)
	if p.IDToken == nil {
		if _, err := mailcfg.ParseAddress(hint); err != nil {
			e := newError(p, CodeNoAddress, err)
			e.Hint = mailcfg.Text{PL: "Wpisz adres skrzynki przed logowaniem przez " + p.Name.PL + ".", EN: "Type the mailbox address before signing in with " + p.Name.EN + "."}
			return nil, e
		}
	}
	params := map[string]string{}
	for k, v := range p.AuthParams {
		params[k] = v
	}
	if p.LoginHint && hint != "" {
		params["login_hint"] = hint
	}
	// The nonce binds the ID token to this sign-in (OpenID Connect Core
	// §3.1.2.1), beside PKCE, which binds the code.
	var nonce string
	if p.IDToken != nil {
		nonce = rand.Text()
		params["nonce"] = nonce
	}
	lb, err := oauthloopback.Start(ctx, oauthloopback.Config{
		OAuth2:        e.oauth2(p.ScopesFor(proto)),
		RedirectHost:  p.RedirectHost,
		AuthParams:    params,
		Opener:        s.cfg.Opener,
		OnURL:         r.OnURL,
		OnOpen:        r.OnOpen,
		HTTPClient:    s.cfg.httpClient(),
		Timeout:       s.cfg.Timeout,
		Pages:         oauthloopback.PagesFor(s.cfg.Lang),
		Issuer:        e.issuer,
		IssuerMatch:   e.issuerMatch(),
		RequireIssuer: e.requireIss && e.issuer != "",
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, newError(p, CodeCancelled, err)
		}
		return nil, newError(p, CodeLoopback, err)
	}
	r.Protocol = proto
	return &Session{AuthURL: lb.AuthURL, svc: s, req: r, p: p, e: e, lb: lb, nonce: nonce}, nil
}

// SignIn is Start followed by Wait.
func (s *Service) SignIn(ctx context.Context, r Request) (*Account, error) {
	sess, err := s.Start(ctx, r)
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	return sess.Wait(ctx)
}

// OpenBrowser opens the sign-in page again (an "Open browser" button).
func (s *Session) OpenBrowser(ctx context.Context) error { return s.lb.OpenBrowser(ctx) }

// Close cancels the sign-in; a pending Wait returns CodeCancelled.
func (s *Session) Close() error { return s.lb.Close() }

// Wait blocks until the sign-in completes in the browser, verifies the ID
// token (signature, audience, expiry, issuer; Microsoft's tenant rules),
// fills the settings and, when Config.Store is set, stores the refresh
// token. Errors are *Error; an administrator-consent refusal holds a
// *ConsentNeeded too.
func (s *Session) Wait(ctx context.Context) (*Account, error) {
	tok, err := s.lb.Wait(ctx)
	if err != nil {
		return nil, s.svc.flowError(s.e, s.req.LoginHint, err)
	}
	acc, err := s.svc.account(ctx, s.e, s.req, tok, s.nonce)
	if err != nil {
		return nil, err
	}
	if s.svc.cfg.Store != nil {
		// Under the refresh lock: a refresh of an earlier sign-in under way
		// in another process must not write its token over this one.
		unlock, err := acc.tokens.lock(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, newError(s.p, CodeCancelled, err)
			}
			return nil, keyringError(s.p, err)
		}
		err = s.svc.cfg.Store.Set(ctx, acc.tokens.key, tok.RefreshToken)
		unlock()
		if err != nil {
			return nil, keyringError(s.p, err)
		}
	}
	return acc, nil
}

// flowError classifies an error of the loopback flow.
func (s *Service) flowError(e *endpoints, hint string, err error) *Error {
	p := e.p
	if errors.Is(err, oauthloopback.ErrIssuerMismatch) {
		return newError(p, CodeIssuerMismatch, err)
	}
	var a oauthAnswer
	var ae *oauthloopback.AuthError
	var te *oauthloopback.TokenError
	switch {
	case errors.As(err, &ae):
		a = oauthAnswer{Error: ae.Code, Description: ae.Description}
	case errors.As(err, &te):
		a = oauthAnswer{Error: te.Code, Description: te.Description, ErrorCodes: te.ErrorCodes, TraceID: te.TraceID, CorrelationID: te.CorrelationID}
	case errors.Is(err, oauthloopback.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return newError(p, CodeTimeout, err)
	case errors.Is(err, oauthloopback.ErrClosed), errors.Is(err, context.Canceled):
		return newError(p, CodeCancelled, err)
	default:
		return newError(p, CodeNetwork, err)
	}
	out := oauthError(p, a, err)
	if out.Code == CodeAdminConsent && isMicrosoft(p) {
		// Microsoft's consent can be asked for with a link IT opens.
		if c, cerr := s.consent(e, tenantFromError(a.Description), hint); cerr == nil {
			c.AADSTS = out.AADSTS
			out.Consent = c
			out.Message = texts[CodeAdminConsent].msg.with(p)
			out.Hint = texts[CodeAdminConsent].hint.with(p)
		}
	}
	return out
}

// oauthAnswer is an OAuth error answer of the redirect (RFC 6749 §4.1.2.1)
// or the token endpoint (§5.2), with the extras Microsoft sends.
type oauthAnswer struct {
	Error, Description     string
	ErrorCodes             []int // Microsoft's error_codes (AADSTS numbers)
	TraceID, CorrelationID string
}

// oauthError classifies an OAuth error answer. The standard error value
// decides the code, unless Microsoft's error numbers say more (package
// microsoft reads them and has its own words for some codes).
func oauthError(p *mailcfg.OAuthProvider, a oauthAnswer, err error) *Error {
	var ms microsoft.Reading
	if isMicrosoft(p) {
		ms = microsoft.Read(a.Description, a.ErrorCodes)
		if ms.Code == "" {
			ms.Code = string(standardCode(a.Error))
			ms.Message, ms.Hint = microsoft.Words(ms.Code)
		}
	}
	c := Code(ms.Code)
	if c == "" {
		c = standardCode(a.Error)
	}
	e := newError(p, c, err)
	if !ms.Message.IsZero() {
		e.Message, e.Hint = ms.Message, ms.Hint
	}
	e.AADSTS, e.OAuthError, e.TraceID, e.CorrelationID = ms.AADSTS, safeOAuthCode(a.Error), a.TraceID, a.CorrelationID
	return e
}

// standardCode maps a standard OAuth error value (RFC 6749 §4.1.2.1, §5.2).
func standardCode(oauthErr string) Code {
	switch oauthErr {
	case "access_denied":
		return CodeCancelled
	case "invalid_grant", "interaction_required", "login_required":
		return CodeSignInAgain
	case "consent_required":
		return CodeAdminConsent
	case "unauthorized_client", "invalid_client", "unsupported_response_type", "invalid_scope", "invalid_request":
		return CodeMisconfigured
	}
	return CodeServer
}

// safeOAuthCode keeps an OAuth error value only when it looks like one.
func safeOAuthCode(s string) string {
	if len(s) > 64 || strings.ContainsFunc(s, func(r rune) bool { return !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }) {
		return "other"
	}
	return s
}

// idTokenAlgs are the ID token signatures accepted: public-key ones only
// (RS256 at Google and Microsoft; others may publish EC keys), never
// "none" or an HMAC, which a key from the provider's JWKS cannot check.
var idTokenAlgs = []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.PS256, oidc.PS384, oidc.PS512,
	oidc.ES256, oidc.ES384, oidc.ES512, oidc.EdDSA}

// idClaims are the ID token claims the app reads.
type idClaims struct {
	Email             string `json:"email"`
	EmailVerified     any    `json:"email_verified"` // Google: bool; some providers: "true"
	PreferredUsername string `json:"preferred_username"`
	Name              string `json:"name"`
	HD                string `json:"hd"`
	AZP               string `json:"azp"`
	// EDOV is Microsoft's xms_edov: the email's domain is verified by the
	// tenant.
	EDOV any `json:"xms_edov"`
}

func (c idClaims) domainVerified() bool {
	switch v := c.EDOV.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true") || v == "1"
	case float64:
		return v == 1
	}
	return false
}

func (c idClaims) claim(name string) string {
	switch name {
	case "email":
		return c.Email
	case "preferred_username":
		return c.PreferredUsername
	}
	return ""
}

func (c idClaims) verified() bool {
	switch v := c.EmailVerified.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

// account turns the token answer into an account: the ID token verified
// against the provider's keys, the address from its claims (or the login
// hint without ID tokens), the settings of the provider's servers.
func (s *Service) account(ctx context.Context, e *endpoints, r Request, tok *oauth2.Token, nonce string) (*Account, error) {
	p := e.p
	if tok.RefreshToken == "" {
		return nil, newError(p, CodeNoRefreshToken, errors.New("no refresh_token in the token response"))
	}
	acc := &Account{Provider: p.ID}
	var addr mailcfg.Address
	if p.IDToken == nil {
		a, err := mailcfg.ParseAddress(r.LoginHint)
		if err != nil {
			return nil, newError(p, CodeNoAddress, err)
		}
		addr = a
	} else {
		raw, _ := tok.Extra("id_token").(string)
		if raw == "" {
			return nil, newError(p, CodeIDToken, errors.New("no id_token in the token response"))
		}
		keys := oidc.NewRemoteKeySet(oidc.ClientContext(ctx, s.cfg.oidcClient()), e.jwksURL)
		v := oidc.NewVerifier(e.issuer, keys, &oidc.Config{ClientID: e.clientID, Now: s.cfg.now, SkipIssuerCheck: isMicrosoft(p),
			SupportedSigningAlgs: idTokenAlgs})
		idt, err := v.Verify(ctx, raw)
		if err != nil {
			return nil, newError(p, CodeIDToken, err)
		}
		if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
			return nil, newError(p, CodeIDToken, errors.New("ID token nonce is not this sign-in's"))
		}
		var c idClaims
		if err := idt.Claims(&c); err != nil {
			return nil, newError(p, CodeIDToken, err)
		}
		// OpenID Connect Core §3.1.3.7: a token for several audiences must
		// name this client as its authorized party.
		if len(idt.Audience) > 1 && c.AZP != e.clientID {
			return nil, newError(p, CodeIDToken, errors.New("ID token has several audiences and another authorized party (azp)"))
		}
		if isMicrosoft(p) {
			mc, err := microsoft.ParseIDToken(raw, e.clientID, e.authority, e.tenant, s.cfg.now())
			if err != nil {
				return nil, newError(p, CodeIDToken, err)
			}
			acc.TenantID, acc.Personal = mc.TenantID, mc.Personal()
		}
		if p.IDToken.EmailVerified && !c.verified() {
			return nil, newError(p, CodeEmailUnverified, errors.New("email_verified is not true"))
		}
		found := false
		for _, name := range p.IDToken.AddressClaims {
			if isMicrosoft(p) && name == "email" && !acc.Personal && !c.domainVerified() {
				// A work tenant's email claim is whatever its administrator
				// typed (any domain); only Microsoft's own accounts, or a
				// domain the tenant has verified (xms_edov), vouch for it.
				continue
			}
			if a, err := mailcfg.ParseAddress(c.claim(name)); err == nil {
				addr, found = a, true
				break
			}
		}
		if !found {
			return nil, newError(p, CodeNoAddress, errors.New("no address claim"))
		}
		acc.Name = c.Name
	}
	acc.SignedInAs = addr.String()
	acc.Address = acc.SignedInAs
	mailbox := addr
	if sh := strings.TrimSpace(r.Shared); sh != "" {
		a, err := mailcfg.ParseAddress(sh)
		if err != nil {
			return nil, err
		}
		if !strings.EqualFold(a.String(), addr.String()) {
			mailbox, acc.Shared, acc.Address = a, true, a.String()
		}
	}
	acc.Settings = s.settingsFor(p, mailbox, r.Protocol, acc.Personal)
	if acc.Shared {
		// IMAP and POP3 reach the shared mailbox with its address as the
		// XOAUTH2 user; SMTP signs in as the user, who sends as the shared
		// address (Send As).
		acc.Settings.SignedInAs = acc.SignedInAs
		acc.Settings.Outgoing.Username = acc.SignedInAs
	}
	acc.tokens = s.newTokens(p, acc.Address, r.Protocol)
	acc.tokens.access = &oauth2.Token{AccessToken: tok.AccessToken, Expiry: tok.Expiry}
	acc.tokens.margin = marginFor(s.cfg.now(), tok.Expiry)
	acc.tokens.refresh = tok.RefreshToken
	return acc, nil
}

// settingsFor are a mailbox's settings with the provider's servers: the
// provider table's entry for the domain when it signs in with this
// provider, else the provider's entry found by MX (a firm domain), else its
// first; Microsoft's by its work/personal rule.
func (s *Service) settingsFor(p *mailcfg.OAuthProvider, addr mailcfg.Address, proto mailcfg.Protocol, personal bool) mailcfg.Settings {
	if isMicrosoft(p) {
		st := microsoft.SettingsFor(addr, personal)
		if proto == mailcfg.POP3 {
			if e := s.cfg.table().ByID(st.Provider.ID); e != nil && e.Offers(mailcfg.POP3) {
				st.Incoming = e.Settings(addr, mailcfg.POP3).Incoming
			}
		}
		return st
	}
	t := s.cfg.table()
	entry := t.ByDomain(addr.Domain)
	if entry == nil || entry.OAuth != p.ID {
		entry = nil
		for _, e := range t.Providers {
			if e.OAuth == p.ID && (entry == nil || len(e.Domains) == 0 && len(entry.Domains) > 0) {
				entry = e
			}
		}
	}
	if entry == nil {
		return mailcfg.Settings{Email: addr.String(), Auth: mailcfg.AuthOAuth2, Source: mailcfg.SourceOAuth}
	}
	st := entry.Settings(addr, proto)
	st.Auth = mailcfg.AuthOAuth2
	st.Source = mailcfg.SourceOAuth
	return st
}

func keyringError(p *mailcfg.OAuthProvider, err error) *Error {
	e := newError(p, CodeKeyring, err)
	var ke *secrets.Error
	if errors.As(err, &ke) {
		e.Message = ke.Message()
		e.Hint = mailcfg.Text{}
	}
	return e
}

// String describes the account without any token.
func (a Account) String() string {
	s := a.Provider + " account " + a.Address
	if a.Shared {
		s += " (shared, signed in as " + a.SignedInAs + ")"
	}
	return s
}

// GoString is String: %#v never prints a token either.
func (a Account) GoString() string { return a.String() }

// Format makes every fmt verb use String.
func (a Account) Format(f fmt.State, _ rune) { io.WriteString(f, a.String()) }
