// Package sandbox runs, in-process on loopback, everything Infino Mailbox
// talks to, so that the app works end to end with no network: an IMAP and an
// SMTP server for a demo domain (internal/fakemail), the
// Infino mailbox API with its OAuth authorization server, and a "Microsoft"
// authorization server whose tokens the mail servers accept with XOAUTH2.
// `infino-mailbox --demo` and the tests use it.
//
// Every TLS endpoint uses a certificate from a throw-away CA (Sandbox.CA);
// only clients given Sandbox.RootCAs (or Sandbox.HTTPClient) trust it.
//
// Demo accounts:
//
//	jan@kancelaria-demo.test   password DemoPassword   IMAP/SMTP with a password
//	anna@kancelaria-m365.test  "Sign in with Microsoft" (any address works there)
//	jan@kancelaria-gw.test     "Sign in with Google" (Google Workspace; any address works there)
//	ewa@kancelaria-zgoda.test  "Sign in with Microsoft" in a tenant whose administrator must
//	                           approve the app first (the IT consent path)
package sandbox

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"infino.legal/mailbox/internal/fakeidp"
	"infino.legal/mailbox/internal/fakemail"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/policy"
)

// The demo accounts and registrations.
const (
	// DemoDomain is the password-account demo domain.
	DemoDomain = "kancelaria-demo.test"
	// DemoEmail logs in with DemoPassword.
	DemoEmail = "jan@kancelaria-demo.test"
	// DemoPassword is the demo account's password (it is printed in the
	// README; it protects nothing).
	DemoPassword = "Demo-Haslo-2024!"
	// MicrosoftDomain is the demo domain whose provider prefers
	// "Sign in with Microsoft".
	MicrosoftDomain = "kancelaria-m365.test"
	// MicrosoftEmail is the default account of the sandbox Microsoft.
	MicrosoftEmail = "anna@kancelaria-m365.test"
	// DemoTenantID is the tid of the sandbox Microsoft's id_tokens.
	DemoTenantID = "9f1c3a7e-5b2d-4c8a-9e6f-1d2c3b4a5e6f"
	// MicrosoftClientID is the sandbox Microsoft's registered client id.
	MicrosoftClientID = "5a9d3c1e-0000-4000-8000-00000000de30"
	// DemoInfinoUser is who signs in at the sandbox Infino.
	DemoInfinoUser = "kancelaria-demo"
	// ProviderID and MicrosoftProviderID are the ids of the demo providers.
	ProviderID          = "sandbox"
	MicrosoftProviderID = "sandbox-m365"

	// GoogleDomain is the demo Google Workspace domain; GoogleEmail (and
	// DemoGoogleAddress, for the demo header) signs in with Google there.
	GoogleDomain      = "kancelaria-gw.test"
	GoogleEmail       = "jan@kancelaria-gw.test"
	DemoGoogleAddress = GoogleEmail
	// GoogleClientID and GoogleClientSecret are the sandbox Google's
	// desktop client.
	GoogleClientID     = "123456789012-sandbox.apps.googleusercontent.com"
	GoogleClientSecret = "GOCSPX-sandbox-not-confidential"
	GoogleProviderID   = "sandbox-google"
	// ConsentDomain is a Microsoft 365 tenant whose administrator has not
	// approved the app: DemoConsentAddress gets "Need admin approval" until
	// "admin-consent microsoft" (or the link sent to IT) approves it.
	ConsentDomain      = "kancelaria-zgoda.test"
	ConsentTenantID    = "c0a5e27e-2d1b-4f3a-8e6d-7b9c0d1e2f3a"
	DemoConsentAddress = "ewa@kancelaria-zgoda.test"
	ConsentProviderID  = "sandbox-m365-consent"
)

// MicrosoftScopes are the scopes a mail app asks Microsoft for.
var MicrosoftScopes = strings.Fields(fakeidp.MicrosoftScopes)

// Options configure Start. The zero value is what tests want.
type Options struct {
	// Demo is for a person with a real browser: the authorization servers
	// show a visible approve page for a moment instead of a bare redirect.
	// Open sign-in pages with Sandbox.Opener, which sends the browser to
	// the plain-http loopback twin of the sandbox's https origin (a real
	// browser would warn about the sandbox CA).
	Demo bool
	// InfinoClientID is the client id the sandbox Infino accepts; empty
	// means the policy default ("infino-mailbox").
	InfinoClientID string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logf, if set, receives one line per HTTP request (method, path,
	// status); never bodies or tokens.
	Logf func(format string, args ...any)
}

// Sandbox is a running set of sandbox servers. Close stops them.
type Sandbox struct {
	// CA is the throw-away CA; RootCAs its pool.
	CA      *CA
	RootCAs *x509.CertPool

	// InfinoURL is the sandbox Infino base URL (https://127.0.0.1:port).
	InfinoURL string
	// BrowserURL is the plain-http loopback base URL of the same HTTP
	// handlers (what Opener sends a real browser to).
	BrowserURL string

	// Mail server addresses (host:port on 127.0.0.1).
	IMAPAddr, IMAPStartTLSAddr, SMTPAddr, SMTPStartTLSAddr string

	Infino    *Infino
	Microsoft *Microsoft
	Google    *Google
	Mail      *fakemail.Server

	opts      Options
	table     *mailcfg.Table
	https     *http.Server
	plain     *http.Server
	done      chan struct{}
	closeOnce sync.Once
	tmpDirs   []string
	mu        sync.Mutex
}

// Start runs every sandbox server on 127.0.0.1 with random ports.
func Start(ctx context.Context, opts Options) (*Sandbox, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.InfinoClientID == "" {
		opts.InfinoClientID = policy.Default().Infino.ClientID
	}
	ca, err := NewCA(opts.Now())
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	var lns []net.Listener
	listen := func() net.Listener {
		if err != nil {
			return nil
		}
		var l net.Listener
		l, err = lc.Listen(ctx, "tcp4", "127.0.0.1:0")
		if l != nil {
			lns = append(lns, l)
		}
		return l
	}
	httpsLn, plainLn := listen(), listen()
	imapTLS, imapPlain, smtpTLS, smtpPlain := listen(), listen(), listen(), listen()
	if err != nil {
		for _, l := range lns {
			l.Close()
		}
		return nil, errorf("listen: %v", err)
	}
	sb := &Sandbox{
		CA: ca, RootCAs: ca.Pool, opts: opts, done: make(chan struct{}),
		InfinoURL:        "https://" + httpsLn.Addr().String(),
		BrowserURL:       "http://" + plainLn.Addr().String(),
		IMAPAddr:         imapTLS.Addr().String(),
		IMAPStartTLSAddr: imapPlain.Addr().String(),
		SMTPAddr:         smtpTLS.Addr().String(),
		SMTPStartTLSAddr: smtpPlain.Addr().String(),
	}
	sb.Infino, err = newInfino(sb.InfinoURL, sb.InfinoURL, opts.InfinoClientID, opts.Now, opts.Demo, sb.done)
	if err == nil {
		sb.Microsoft, err = newMicrosoft(sb.InfinoURL+"/ms", MicrosoftClientID, opts.Now, opts.Demo)
	}
	if err == nil {
		sb.Google, err = newGoogle(sb.InfinoURL+"/google", opts.Now, opts.Demo)
	}
	if err != nil {
		for _, l := range lns {
			l.Close()
		}
		return nil, err
	}
	sb.Mail = fakemail.New(fakemail.Options{TLS: ca.ServerTLS(), Domain: "smtp." + DemoDomain, CheckToken: func(protocol, user, token string) bool {
		return sb.Microsoft.checkMailToken(protocol, user, token) || sb.Google.checkMailToken(user, token)
	}})
	sb.Mail.AddUser(DemoEmail, DemoPassword)
	if sb.table, err = sb.buildTable(); err != nil {
		for _, l := range lns {
			l.Close()
		}
		return nil, err
	}

	mux := http.NewServeMux()
	sb.Infino.routes(mux)
	sb.Microsoft.Mount(mux, "/ms")
	sb.Google.Mount(mux, "/google")
	mux.HandleFunc("GET /{$}", sb.serveIndex)
	handler := sb.logRequests(mux)
	quiet := log.New(io.Discard, "", 0)
	sb.https = &http.Server{Handler: handler, TLSConfig: ca.ServerTLS(), ErrorLog: quiet, ReadHeaderTimeout: 10 * time.Second}
	sb.plain = &http.Server{Handler: browserOnly(handler), ErrorLog: quiet, ReadHeaderTimeout: 10 * time.Second}
	go sb.https.Serve(tls.NewListener(httpsLn, ca.ServerTLS()))
	go sb.plain.Serve(plainLn)
	sb.Mail.ServeIMAP(imapTLS, imapPlain)
	sb.Mail.ServeSMTP(smtpTLS, smtpPlain)
	return sb, nil
}

// Close stops every server and removes the directories made by ConfigDir.
func (sb *Sandbox) Close() error {
	sb.closeOnce.Do(func() {
		close(sb.done)
		sb.https.Close()
		sb.plain.Close()
		sb.Mail.Close()
		sb.mu.Lock()
		for _, d := range sb.tmpDirs {
			os.RemoveAll(d)
		}
		sb.mu.Unlock()
	})
	return nil
}

// Done is closed when the sandbox stops.
func (sb *Sandbox) Done() <-chan struct{} { return sb.done }

func (sb *Sandbox) logRequests(h http.Handler) http.Handler {
	if sb.opts.Logf == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(rw, r)
		sb.opts.Logf("sandbox: %s %s → %d", r.Method, r.URL.Path, rw.status)
	})
}

// browserOnly lets through only what a browser needs on the plain-http
// twin: the authorization pages (GET). Tokens and the API stay on https.
func browserOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if r.Method == http.MethodGet && (p == "/" || p == "/oauth/authorize" || p == "/google/o/oauth2/v2/auth" ||
			(strings.HasPrefix(p, "/ms/") && (strings.HasSuffix(p, "/oauth2/v2.0/authorize") || strings.HasSuffix(p, "/v2.0/adminconsent")))) {
			h.ServeHTTP(w, r)
			return
		}
		http.Error(w, "only the sign-in pages are served over http; use https", http.StatusForbidden)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
	w.ResponseWriter.WriteHeader(s)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (sb *Sandbox) serveIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "Infino Mailbox sandbox\n\nInfino API:  %s%s\nMicrosoft:   %s\nGoogle:      %s\nIMAP (TLS):  %s\nSMTP (TLS):  %s\n\ndemo account: %s / %s\nGoogle: %s\nMicrosoft, admin consent needed: %s\n",
		sb.InfinoURL, "/api/v1/mailboxes", sb.Microsoft.Authority(), sb.Google.Authority(), sb.IMAPAddr, sb.SMTPAddr, DemoEmail, DemoPassword,
		DemoGoogleAddress, DemoConsentAddress)
}

// Browser is a fake browser that trusts the sandbox CA, for tests: its Open
// method is an opener that approves every sign-in.
func (sb *Sandbox) Browser() fakeidp.Browser { return fakeidp.Browser{HTTP: sb.HTTPClient()} }

// TLSConfig is a client TLS configuration that trusts the sandbox CA only.
func (sb *Sandbox) TLSConfig() *tls.Config { return sb.CA.ClientTLS() }

// HTTPClient is an HTTP client that trusts the sandbox CA only and uses no
// proxy.
func (sb *Sandbox) HTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{TLSClientConfig: sb.CA.ClientTLS(), ForceAttemptHTTP2: true,
			MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second},
		Timeout: 30 * time.Second,
	}
}

// Policy points infinoUrl, infino.clientId and the Microsoft registration
// (client id, tenant "common", authority) at the sandbox.
func (sb *Sandbox) Policy() policy.Policy {
	p := policy.Default()
	err := p.Set("sandbox", map[string]any{
		"infinoUrl":                 sb.InfinoURL,
		"infino.clientId":           sb.opts.InfinoClientID,
		"microsoft.clientId":        MicrosoftClientID,
		"microsoft.tenant":          "common",
		"microsoft.authority":       sb.Microsoft.Authority(),
		"oauth.google.clientId":     GoogleClientID,
		"oauth.google.clientSecret": GoogleClientSecret,
		"oauth.google.authority":    sb.Google.Authority(),
	})
	if err != nil {
		panic("sandbox: policy: " + err.Error())
	}
	return p
}

// Opener wraps a browser opener (nil: none) for a real browser: a URL on
// the sandbox's https origin is opened on its plain-http loopback twin
// (BrowserURL), which a browser shows without a certificate warning; other
// URLs are passed on unchanged. Its type converts to oauthloopback.Opener.
func (sb *Sandbox) Opener(next func(ctx context.Context, url string) error) func(ctx context.Context, url string) error {
	return func(ctx context.Context, u string) error {
		u = sb.ForBrowser(u)
		if next == nil {
			return nil
		}
		return next(ctx, u)
	}
}

// ForBrowser rewrites a URL on the sandbox's https origin to BrowserURL.
func (sb *Sandbox) ForBrowser(u string) string {
	if rest, ok := strings.CutPrefix(u, sb.InfinoURL+"/"); ok {
		return sb.BrowserURL + "/" + rest
	}
	return u
}

// PolicyJSON is Policy as a policy file (for tests that run the binary with
// INFINO_MAILBOX_POLICY).
func (sb *Sandbox) PolicyJSON() []byte {
	p := sb.Policy()
	b, _ := json.MarshalIndent(map[string]any{
		"infinoUrl": p.InfinoURL,
		"infino":    map[string]string{"clientId": p.Infino.ClientID},
		"microsoft": map[string]string{"clientId": p.Microsoft.ClientID, "tenant": p.Microsoft.Tenant, "authority": p.Microsoft.Authority},
		"oauth":     map[string]any{"google": p.OAuth["google"]},
	}, "", "  ")
	return b
}

// ConfigDir makes an empty private directory for the app's non-secret
// settings and outbox; Close removes it. The demo uses it so that it never
// touches the real outbox.
func (sb *Sandbox) ConfigDir() (string, error) {
	d, err := os.MkdirTemp("", "infino-mailbox-sandbox-")
	if err != nil {
		return "", err
	}
	sb.mu.Lock()
	sb.tmpDirs = append(sb.tmpDirs, d)
	sb.mu.Unlock()
	return d, nil
}

func port(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}

func (sb *Sandbox) buildTable() (*mailcfg.Table, error) {
	servers := func() (in, out []mailcfg.ServerTemplate) {
		in = []mailcfg.ServerTemplate{
			{Protocol: mailcfg.IMAP, Host: "127.0.0.1", Port: port(sb.IMAPAddr), Security: mailcfg.SecurityTLS, Username: mailcfg.UsernameAddress},
			{Protocol: mailcfg.IMAP, Host: "127.0.0.1", Port: port(sb.IMAPStartTLSAddr), Security: mailcfg.SecurityStartTLS, Username: mailcfg.UsernameAddress},
		}
		out = []mailcfg.ServerTemplate{
			{Protocol: mailcfg.SMTP, Host: "127.0.0.1", Port: port(sb.SMTPAddr), Security: mailcfg.SecurityTLS, Username: mailcfg.UsernameAddress},
			{Protocol: mailcfg.SMTP, Host: "127.0.0.1", Port: port(sb.SMTPStartTLSAddr), Security: mailcfg.SecurityStartTLS, Username: mailcfg.UsernameAddress},
		}
		return
	}
	in, out := servers()
	pw := &mailcfg.Provider{
		ID: ProviderID, Name: "Sandbox (demo)", Domains: []string{DemoDomain}, Incoming: in, Outgoing: out,
		Help: mailcfg.Text{
			PL: "Serwery demonstracyjne działające w aplikacji. Hasło konta " + DemoEmail + ": " + DemoPassword,
			EN: "Demo servers running inside the app. Password of " + DemoEmail + ": " + DemoPassword},
		Sources: []string{"sandbox"},
	}
	in2, out2 := servers()
	ms := &mailcfg.Provider{
		ID: MicrosoftProviderID, Name: "Sandbox Microsoft 365 (demo)", Domains: []string{MicrosoftDomain},
		Incoming: in2, Outgoing: out2, OAuth: "microsoft",
		Help: mailcfg.Text{
			PL: "Demonstracyjne konto Microsoft: kliknij „Zaloguj przez Microsoft”; logowanie zatwierdza się samo.",
			EN: "Demo Microsoft account: click \"Sign in with Microsoft\"; the sign-in approves itself."},
		Sources: []string{"sandbox"},
	}
	in3, out3 := servers()
	gw := &mailcfg.Provider{
		ID: GoogleProviderID, Name: "Sandbox Google Workspace (demo)", Domains: []string{GoogleDomain},
		Incoming: in3, Outgoing: out3, OAuth: "google",
		Help: mailcfg.Text{
			PL: "Demonstracyjne konto Google Workspace: kliknij „Zaloguj przez Google”; logowanie zatwierdza się samo.",
			EN: "Demo Google Workspace account: click \"Sign in with Google\"; the sign-in approves itself."},
		Sources: []string{"sandbox"},
	}
	in4, out4 := servers()
	mc := &mailcfg.Provider{
		ID: ConsentProviderID, Name: "Sandbox Microsoft 365, admin consent needed (demo)", Domains: []string{ConsentDomain},
		Incoming: in4, Outgoing: out4, OAuth: "microsoft",
		Help: mailcfg.Text{
			PL: "Demonstracyjna organizacja Microsoft 365, w której administrator musi najpierw zatwierdzić aplikację: logowanie pokaże ścieżkę zgody działu IT.",
			EN: "Demo Microsoft 365 organisation whose administrator must approve the app first: the sign-in shows the IT consent path."},
		Sources: []string{"sandbox"},
	}
	t, err := mailcfg.NewTable(1, []*mailcfg.Provider{pw, ms, gw, mc})
	if err != nil {
		return nil, fmt.Errorf("sandbox: provider table: %w", err)
	}
	return t, nil
}

// Table is a provider table with the two demo providers (sandbox and
// sandbox-m365); their servers are the sandbox IMAP/SMTP.
func (sb *Sandbox) Table() *mailcfg.Table { return sb.table }

// Providers are the demo providers (add them in front of the bundled table).
func (sb *Sandbox) Providers() []*mailcfg.Provider { return sb.table.Providers }

// Settings are the settings for an address in a demo domain, as autofill
// gives them (implicit TLS).
func (sb *Sandbox) Settings(email string) (mailcfg.Settings, error) {
	return sb.table.Autofill(email, mailcfg.IMAP)
}

// MicrosoftSettings are "Sign in with Microsoft" settings for any address,
// with the sandbox IMAP/SMTP servers instead of Microsoft's (the demo puts
// them in place of microsoft.SettingsFor after the sandbox sign-in).
func (sb *Sandbox) MicrosoftSettings(email string) (mailcfg.Settings, error) {
	addr, err := mailcfg.ParseAddress(email)
	if err != nil {
		return mailcfg.Settings{}, err
	}
	s := sb.table.ByID(MicrosoftProviderID).Settings(addr, mailcfg.IMAP)
	s.Source = mailcfg.SourceMicrosoft
	return s, nil
}

// TableWith is a provider table with the demo providers first and then
// those of base (nil: mailcfg.Bundled()), for autofill in the demo.
func (sb *Sandbox) TableWith(base *mailcfg.Table) (*mailcfg.Table, error) {
	if base == nil {
		base = mailcfg.Bundled()
	}
	all := append(append([]*mailcfg.Provider{}, sb.table.Providers...), base.Providers...)
	return mailcfg.NewTable(base.Version, all)
}

// DemoSettings are the settings of DemoEmail.
func (sb *Sandbox) DemoSettings() mailcfg.Settings {
	s, err := sb.Settings(DemoEmail)
	if err != nil {
		panic(err)
	}
	return s
}
