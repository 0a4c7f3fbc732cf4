// Package verify checks mail settings for real: it signs in to the incoming
// server (IMAP or POP3) and to the outgoing server (SMTP) at the same time and
// reports, per side and step, what worked and, classified by Classify, what
// did not.
//
// # Rules that never bend
//
//   - TLS 1.2 or newer. Implicit TLS or STARTTLS/STLS; STARTTLS must be
//     offered and must succeed, otherwise the side fails with
//     tls_unavailable before any credential is sent. There is no fallback
//     to plain text.
//   - Security "none" is refused (insecure_refused, nothing is dialled)
//     unless Options.AllowInsecure (the policy) and Options.InsecureOverride
//     (the user's explicit consent) are both true.
//   - A certificate is trusted only if it chains to Options.RootCAs (the
//     system roots when nil) for the server's host name at Options.Now, or
//     if its leaf is exactly the one pinned in Server.CertSHA256 (then only
//     the pin counts). Otherwise tls_certificate, with the leaf described in
//     Failure.Certificate.
//   - Nothing is ever sent: SMTP stops after AUTH and says QUIT; IMAP says
//     LOGOUT; POP3 says QUIT without touching a message. The result is
//     known when the sign-in is answered, so the goodbye is written and its
//     answer is left to the background (goodbye.go).
//   - Credentials never appear in events, results, failures or errors.
//
// # Limits
//
// Each side has Options.ConnectTimeout for the name lookup plus the TCP
// connection, Options.StepTimeout for every later step (TLS, greeting,
// sign-in, sign-out), and both sides share Options.Timeout. A server may
// send at most MaxRead bytes per connection; POP3 lines are bounded too.
// Cancelling the context stops everything at once and closes the
// connections.
//
// A wrong setting is named rather than waited out: a greeting that does not
// come within Options.ProbeAfter starts a TLS probe on a second connection
// (probe.go), so STARTTLS on an implicit-TLS port or a web server on the
// port fails in about a second, saying what the port expects; the server's
// first bytes name a plain greeting where TLS was chosen, or another
// protocol.
package verify

import (
	"context"
	"crypto/x509"
	"net"
	"strings"
	"sync"
	"time"

	"infino.legal/mailbox/mailcfg"
)

// Side is one half of the settings.
type Side string

const (
	Incoming Side = "incoming"
	Outgoing Side = "outgoing"
)

// Step is one stage of a check, in the order they happen. With STARTTLS the
// greeting comes before TLS; with implicit TLS after it.
type Step string

const (
	StepResolve  Step = "resolve"  // DNS lookup of the host name
	StepConnect  Step = "connect"  // TCP connection
	StepTLS      Step = "tls"      // TLS handshake (and the STARTTLS/STLS exchange before it)
	StepGreeting Step = "greeting" // the server's greeting
	StepLogin    Step = "login"    // capabilities and sign-in
	StepDone     Step = "done"     // sign-out; Elapsed is the whole side
)

// Event reports a finished step. The next step starts at once, so a window
// shows the step after the last event as "in progress".
type Event struct {
	Side Side
	Step Step
	// Elapsed is how long the step took; for StepDone, the whole side.
	Elapsed time.Duration
	// Failure is set on the step that failed, which is the side's last
	// event (there is no StepDone event after it).
	Failure *mailcfg.Failure
}

// Dialer opens TCP connections; *net.Dialer and proxies satisfy it.
type Dialer interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// Defaults for the zero Options fields.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultStepTimeout    = 15 * time.Second
	DefaultTimeout        = 30 * time.Second
	// MaxRead bounds what one server may send on one connection (TLS records
	// included): greetings, capability lists and replies of a sign-in are a
	// few kilobytes; a hostile endless stream stops here.
	MaxRead = 256 << 10
)

// Options tune a check. The zero value is ready to use.
type Options struct {
	// Dialer opens TCP connections to resolved addresses; nil: net.Dialer.
	Dialer Dialer
	// Resolver looks up host names in the "resolve" step; nil:
	// net.DefaultResolver.
	Resolver *net.Resolver
	// RootCAs are the trusted roots; nil: the system's.
	RootCAs *x509.CertPool
	// Now is the time certificates are checked against; nil: time.Now.
	// Durations are always measured with the real monotonic clock.
	Now func() time.Time
	// ConnectTimeout bounds resolve+connect of a side (default 10 s),
	// StepTimeout every later step (default 15 s), Timeout the whole check
	// (default 30 s).
	ConnectTimeout, StepTimeout, Timeout time.Duration
	// AllowInsecure is the policy's allowInsecure; InsecureOverride the
	// user's explicit, warned consent. Both are needed for security "none".
	AllowInsecure, InsecureOverride bool
	// Progress receives an Event after every step. It is called from the
	// sides' worker goroutines, possibly concurrently, and must not block
	// for long (a window hands the event to its UI thread). May be nil.
	Progress func(Event)
	// Table finds provider help texts for hints; nil: mailcfg.Bundled().
	Table *mailcfg.Table
	// ProbeAfter is how long a greeting may be silent before a TLS probe on
	// a second connection checks whether the port expects another security
	// (probe.go); 0: DefaultProbeAfter or three connection times, whichever
	// is longer; negative: never probe.
	ProbeAfter time.Duration

	// Shared: the mailbox is a shared one reached with another user's
	// token (Settings.SignedInAs), so a refused XOAUTH2 sign-in is a
	// missing permission (mailcfg.KindPermission). Verify sets it from the
	// settings.
	Shared bool

	// mailDomain is the address's domain (Verify sets it): a certificate
	// name under it may be offered as the server to use instead.
	mailDomain string
}

func (o Options) withDefaults() Options {
	if o.Dialer == nil {
		o.Dialer = &net.Dialer{}
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.StepTimeout <= 0 {
		o.StepTimeout = DefaultStepTimeout
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Table == nil {
		o.Table = mailcfg.Bundled()
	}
	return o
}

// SideResult is the outcome of one server.
type SideResult struct {
	OK      bool
	Elapsed time.Duration
	// Steps are the events of this side, in order.
	Steps   []Event
	Failure *mailcfg.Failure
	// Capabilities the server announced (IMAP CAPABILITY, POP3 CAPA, SMTP
	// EHLO keywords) on the connection used to sign in.
	Capabilities []string
}

// Result is the outcome of both servers.
type Result struct {
	OK                 bool
	Incoming, Outgoing SideResult
	Elapsed            time.Duration
}

// Verify signs in to the incoming and the outgoing server of s in parallel
// and reports both. It returns when both sides are done, when opt.Timeout
// passes, or soon after ctx is cancelled.
func Verify(ctx context.Context, s mailcfg.Settings, cred Credential, opt Options) Result {
	start := time.Now()
	opt = opt.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	if fn, ok := cred.(TokenFunc); ok && fn != nil {
		cred = onceToken(ctx, fn)
	}
	provider := opt.Table.ProviderFor(s)
	if _, domain, ok := strings.Cut(s.Email, "@"); ok {
		opt.mailDomain = domain
	}
	if s.SignedInAs != "" && !strings.EqualFold(s.SignedInAs, s.Email) {
		opt.Shared = true
	}
	var r Result
	var wg sync.WaitGroup
	wg.Go(func() { r.Incoming = verifyServer(ctx, Incoming, s.Incoming, cred, &opt, provider) })
	wg.Go(func() { r.Outgoing = verifyServer(ctx, Outgoing, s.Outgoing, cred, &opt, provider) })
	wg.Wait()
	r.OK = r.Incoming.OK && r.Outgoing.OK
	r.Elapsed = time.Since(start)
	return r
}

// VerifyServer signs in to one server. The provider for hints is found by the
// server's host name.
func VerifyServer(ctx context.Context, side Side, srv mailcfg.Server, cred Credential, opt Options) SideResult {
	opt = opt.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	if fn, ok := cred.(TokenFunc); ok && fn != nil {
		cred = onceToken(ctx, fn)
	}
	return verifyServer(ctx, side, srv, cred, &opt, opt.Table.ByServerHost(srv.Host))
}

func verifyServer(ctx context.Context, side Side, srv mailcfg.Server, cred Credential, opt *Options, provider *mailcfg.Provider) SideResult {
	s := newSession(ctx, side, srv, opt, provider)
	defer s.close()
	return s.result(s.run(cred))
}

func (s *session) run(cred Credential) error {
	s.begin(StepConnect)
	s.oauth = isOAuth(cred)
	switch cr := cred.(type) {
	case Password, OAuth2Token:
	case TokenFunc:
		if cr == nil {
			return s.usage("credential")
		}
	default:
		return s.usage("credential")
	}
	// A line break in a user name or password would end a POP3 or SMTP
	// command line early and start another (say, DELE): refuse it before
	// dialling. No real password contains one.
	if strings.ContainsAny(s.srv.Username, "\r\n\x00") {
		return s.usage("username")
	}
	if pw, ok := cred.(Password); ok && strings.ContainsAny(string(pw), "\r\n\x00") {
		return s.usage("credential")
	}
	if t, ok := cred.(OAuth2Token); ok && strings.ContainsAny(t.Username+t.AccessToken, "\r\n\x00\x01") {
		return s.usage("credential")
	}
	host, ok := mailcfg.NormalizeHost(s.srv.Host)
	if !ok {
		return s.usage("host")
	}
	s.host = host
	if s.srv.Port < 1 || s.srv.Port > 65535 {
		return s.usage("port")
	}
	switch s.srv.Security {
	case mailcfg.SecurityTLS, mailcfg.SecurityStartTLS:
	case mailcfg.SecurityNone:
		if !s.opt.AllowInsecure || !s.opt.InsecureOverride {
			return ErrInsecureRefused
		}
	default:
		return s.usage("security")
	}
	switch {
	case s.side == Incoming && s.srv.Protocol == mailcfg.IMAP:
		return s.imap(cred)
	case s.side == Incoming && s.srv.Protocol == mailcfg.POP3:
		return s.pop3(cred)
	case s.side == Outgoing && s.srv.Protocol == mailcfg.SMTP:
		return s.smtp(cred)
	}
	return s.usage("protocol")
}

// usage is a settings value the check cannot use (Validate would have said
// so); it is reported as a protocol failure on that field.
func (s *session) usage(field string) error {
	f := mailcfg.NewFailure(mailcfg.KindProtocol, string(s.side), s.provider)
	f.Detail = "invalid setting: " + field
	switch field {
	case "credential":
		f.Field = "password"
	default:
		f.Field = string(s.side) + "." + field
	}
	return f
}
