// Package microsoft is "Sign in with Microsoft" for Outlook.com and Microsoft
// 365 mailboxes: the authorization-code flow with PKCE through the system
// browser and a loopback redirect (package oauthloopback) against the
// Microsoft identity platform, the mailbox settings filled from the ID token,
// the refresh token kept in a secrets.Store, and access tokens for IMAP and
// SMTP XOAUTH2 refreshed from it (Tokens).
//
// A window uses it like this:
//
//	cfg := microsoft.Config{Policy: pol.Microsoft, Store: keyring, Lang: "pl"}
//	s, err := microsoft.Start(ctx, cfg) // *Error CodeNotConfigured without a client id
//	show(s.AuthURL)                     // with Copy; Cancel calls s.Close()
//	acc, err := s.Wait(ctx)             // settings filled, refresh token stored
//	tokens := acc.Tokens()              // tokens.AccessToken is a verify.TokenFunc
//
// Every failure is an *Error with a stable Code and a Polish and English
// message and hint; Microsoft's AADSTS numbers are mapped in errors.go.
package microsoft

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/oauthloopback"
)

// Microsoft's fixed values.
const (
	// DefaultAuthority and DefaultTenant apply when the policy sets none.
	DefaultAuthority = "https://login.microsoftonline.com"
	DefaultTenant    = "common"
	// ConsumerTenantID is the tenant of every personal Microsoft account.
	ConsumerTenantID = "9188040d-6c67-4c5b-b112-36a304b66dad"

	IMAPHost         = "outlook.office365.com"
	IMAPPort         = 993
	SMTPWorkHost     = "smtp.office365.com"    // Microsoft 365 work and school accounts
	SMTPPersonalHost = "smtp-mail.outlook.com" // Outlook.com, Hotmail, Live
	SMTPPort         = 587

	// Provider table ids of the two kinds of account.
	ProviderWork     = "microsoft365"
	ProviderPersonal = "outlook.com"
)

// Scopes are requested at sign-in and at every refresh: IMAP and SMTP
// (one resource, so one access token serves both), a refresh token, and an
// ID token with the address.
var Scopes = []string{
	"https://outlook.office.com/IMAP.AccessAsUser.All",
	"https://outlook.office.com/SMTP.Send",
	"offline_access", "openid", "email", "profile",
}

// DefaultHTTPTimeout bounds a token request when Config.HTTPClient is nil.
const DefaultHTTPTimeout = 30 * time.Second

// Config is everything a Microsoft sign-in and its token refreshes need.
// Only Policy is required; Start refuses without Policy.ClientID.
type Config struct {
	// Policy is the policy's "microsoft" section (client id, tenant,
	// authority).
	Policy policy.Microsoft
	// PolicyFile is named in the "not configured" message; "" means
	// policy.FilePath's answer for this process.
	PolicyFile string
	// Store keeps the refresh token. Session.Wait stores it there when
	// set; Tokens needs it.
	Store secrets.Store
	// HTTPClient makes the token requests; nil: a client with
	// DefaultHTTPTimeout (proxy from the environment, system roots).
	HTTPClient *http.Client

	// Opener opens the sign-in page; nil: the system browser.
	Opener oauthloopback.Opener
	// OnURL is called with the sign-in address before the browser opens;
	// OnOpen with the browser's result. Either may be nil.
	OnURL  func(authURL string)
	OnOpen func(err error)
	// Lang is the language of the page shown in the browser after the
	// sign-in: "pl", "en", or "" for both.
	Lang string
	// Timeout bounds the wait for the browser; 0: 5 minutes.
	Timeout time.Duration
	// LoginHint pre-fills the account at Microsoft (re-authentication).
	LoginHint string

	// Now is the clock for token expiry; nil: time.Now.
	Now func() time.Time
}

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

func (c Config) authority() string {
	a := strings.TrimRight(strings.TrimSpace(c.Policy.Authority), "/")
	if a == "" {
		return DefaultAuthority
	}
	return a
}

func (c Config) tenant() string {
	if t := strings.TrimSpace(c.Policy.Tenant); t != "" {
		return t
	}
	return DefaultTenant
}

// Configured reports whether a client id is set.
func (c Config) Configured() bool { return strings.TrimSpace(c.Policy.ClientID) != "" }

// Endpoint returns the authorize and token endpoints
// {authority}/{tenant}/oauth2/v2.0/authorize|token, with the client id sent
// in the request body (a public client).
func (c Config) Endpoint() (oauth2.Endpoint, error) {
	a := c.authority()
	u, err := url.Parse(a)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		e := newError(CodeMisconfigured, errors.New("microsoft.authority must be an https URL"))
		e.Message = mailcfg.Text{
			PL: "Klucz microsoft.authority w pliku zasad nie jest adresem https.",
			EN: "The key microsoft.authority in the policy file is not an https address.",
		}
		return oauth2.Endpoint{}, e
	}
	base := a + "/" + url.PathEscape(c.tenant()) + "/oauth2/v2.0/"
	return oauth2.Endpoint{AuthURL: base + "authorize", TokenURL: base + "token", AuthStyle: oauth2.AuthStyleInParams}, nil
}

// OAuth2Config is the oauth2 configuration of the sign-in; *Error
// CodeNotConfigured without a client id.
func (c Config) OAuth2Config() (oauth2.Config, error) {
	if !c.Configured() {
		return oauth2.Config{}, NotConfigured(c.PolicyFile)
	}
	ep, err := c.Endpoint()
	if err != nil {
		return oauth2.Config{}, err
	}
	return oauth2.Config{ClientID: strings.TrimSpace(c.Policy.ClientID), Endpoint: ep, Scopes: append([]string(nil), Scopes...)}, nil
}

// Session is one running sign-in. Show AuthURL to the user (with a Copy
// button: a browser that did not open is common); Close cancels.
type Session struct {
	// AuthURL is the Microsoft sign-in page for this session.
	AuthURL string

	cfg Config
	lb  *oauthloopback.Session
}

// Start begins a sign-in: it binds the loopback redirect listener
// (http://localhost:PORT/) and opens the sign-in page in the browser. The
// error is an *Error: CodeNotConfigured or CodeMisconfigured (IT must act
// before a sign-in can start), CodeLoopback, CodeCancelled.
func Start(ctx context.Context, c Config) (*Session, error) {
	oc, err := c.OAuth2Config()
	if err != nil {
		return nil, err
	}
	params := map[string]string{"prompt": "select_account"}
	if h := strings.TrimSpace(c.LoginHint); h != "" {
		params["login_hint"] = h
	}
	lb, err := oauthloopback.Start(ctx, oauthloopback.Config{
		OAuth2:       oc,
		RedirectHost: oauthloopback.HostLocalhost, // Entra matches http://localhost with any port
		AuthParams:   params,
		Opener:       c.Opener,
		OnURL:        c.OnURL,
		OnOpen:       c.OnOpen,
		HTTPClient:   c.httpClient(),
		Timeout:      c.Timeout,
		Pages:        oauthloopback.PagesFor(c.Lang),
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, newError(CodeCancelled, err)
		}
		return nil, newError(CodeLoopback, err)
	}
	return &Session{AuthURL: lb.AuthURL, cfg: c, lb: lb}, nil
}

// OpenBrowser opens the sign-in page again (an "Open browser" button).
func (s *Session) OpenBrowser(ctx context.Context) error { return s.lb.OpenBrowser(ctx) }

// Close cancels the sign-in; a pending Wait returns CodeCancelled.
func (s *Session) Close() error { return s.lb.Close() }

// Wait blocks until the sign-in completes in the browser, then checks the
// ID token, fills the settings and, when Config.Store is set, stores the
// refresh token under secrets.MicrosoftRefreshKey(address). Every error is an
// *Error.
func (s *Session) Wait(ctx context.Context) (*Account, error) {
	tok, err := s.lb.Wait(ctx)
	if err != nil {
		return nil, flowError(err)
	}
	acc, err := s.cfg.account(tok)
	if err != nil {
		return nil, err
	}
	if s.cfg.Store != nil {
		if err := acc.Save(ctx); err != nil {
			return nil, err
		}
	}
	return acc, nil
}

// SignIn is Start followed by Wait.
func SignIn(ctx context.Context, c Config) (*Account, error) {
	s, err := Start(ctx, c)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Wait(ctx)
}

// Account is a signed-in Microsoft mailbox.
type Account struct {
	// Settings are complete: servers, auth oauth2, user name = Address,
	// provider, Source "microsoft".
	Settings mailcfg.Settings
	Address  string // as the servers see it (ASCII domain)
	Name     string // display name, may be empty
	TenantID string
	Personal bool // a personal account (consumer tenant)

	cfg   Config
	token *oauth2.Token
}

func (c Config) account(tok *oauth2.Token) (*Account, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, newError(CodeIDToken, errors.New("no id_token in the token response"))
	}
	claims, err := ParseIDToken(raw, strings.TrimSpace(c.Policy.ClientID), c.authority(), c.tenant(), c.now())
	if err != nil {
		return nil, newError(CodeIDToken, err)
	}
	addr, err := claimsAddress(claims)
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken == "" {
		return nil, newError(CodeNoRefreshToken, errors.New("no refresh_token in the token response"))
	}
	return &Account{
		Settings: SettingsFor(addr, claims.Personal()),
		Address:  addr.String(),
		Name:     claims.Name,
		TenantID: claims.TenantID,
		Personal: claims.Personal(),
		cfg:      c,
		token:    tok,
	}, nil
}

// claimsAddress is the mailbox address: preferred_username (what the user
// typed at Microsoft; a UPN, which Exchange Online accepts as the XOAUTH2
// user), else email.
func claimsAddress(c *Claims) (mailcfg.Address, error) {
	for _, s := range []string{c.PreferredUsername, c.Email} {
		if a, err := mailcfg.ParseAddress(s); err == nil {
			return a, nil
		}
	}
	return mailcfg.Address{}, newError(CodeNoAddress, errors.New("neither preferred_username nor email is an address"))
}

// SettingsFor are the settings of a Microsoft mailbox: IMAP
// outlook.office365.com:993 TLS, SMTP smtp.office365.com:587 STARTTLS for
// work accounts or smtp-mail.outlook.com:587 for personal ones, auth oauth2,
// the address as user name.
func SettingsFor(addr mailcfg.Address, personal bool) mailcfg.Settings {
	smtpHost, providerID, providerName := SMTPWorkHost, ProviderWork, "Microsoft 365 (Exchange Online)"
	if personal {
		smtpHost, providerID, providerName = SMTPPersonalHost, ProviderPersonal, "Outlook.com (Hotmail, Live, MSN)"
	}
	if p := mailcfg.Bundled().ByID(providerID); p != nil {
		providerName = p.Name
	}
	user := addr.String()
	return mailcfg.Settings{
		Email:    user,
		Auth:     mailcfg.AuthOAuth2,
		Incoming: mailcfg.Server{Protocol: mailcfg.IMAP, Host: IMAPHost, Port: IMAPPort, Security: mailcfg.SecurityTLS, Username: user},
		Outgoing: mailcfg.Server{Protocol: mailcfg.SMTP, Host: smtpHost, Port: SMTPPort, Security: mailcfg.SecurityStartTLS, Username: user},
		Provider: &mailcfg.ProviderRef{ID: providerID, Name: providerName},
		Source:   mailcfg.SourceMicrosoft,
	}
}

// Save stores the account's refresh token in Config.Store.
func (a *Account) Save(ctx context.Context) error {
	if a.cfg.Store == nil {
		return keyringError(errors.New("no secret store"))
	}
	if err := a.cfg.Store.Set(ctx, secrets.MicrosoftRefreshKey(a.Address), a.token.RefreshToken); err != nil {
		return keyringError(err)
	}
	return nil
}

// Tokens returns access tokens for this account, starting with the one the
// sign-in got.
func (a *Account) Tokens() *Tokens {
	t := NewTokens(a.cfg, a.Address)
	t.access = &oauth2.Token{AccessToken: a.token.AccessToken, Expiry: a.token.Expiry}
	t.margin = marginFor(a.cfg.now(), a.token.Expiry)
	t.refresh = a.token.RefreshToken
	return t
}

// String describes the account without any token.
func (a Account) String() string {
	kind := "work"
	if a.Personal {
		kind = "personal"
	}
	return "microsoft.Account{" + a.Address + ", " + kind + ", tenant " + a.TenantID + "}"
}

// GoString is String: %#v never prints a token either.
func (a Account) GoString() string { return a.String() }

// Format makes every fmt verb use String.
func (a Account) Format(f fmt.State, _ rune) { io.WriteString(f, a.String()) }
