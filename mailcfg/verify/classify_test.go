package verify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"infino.legal/mailbox/mailcfg"
)

func TestClassify(t *testing.T) {
	ms := mailcfg.Bundled().ByID("microsoft365")
	gmail := mailcfg.Bundled().ByID("gmail.com")
	leaf := &x509.Certificate{Raw: []byte("leaf"), DNSNames: []string{"mail.example"}, NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1, 0)}
	wrap := func(sentinel, err error) error { return fmt.Errorf("%w: %w", sentinel, err) }
	cases := []struct {
		name     string
		err      error
		provider *mailcfg.Provider
		kind     mailcfg.Kind
		field    string
		detail   string
	}{
		{"canceled", fmt.Errorf("x: %w", context.Canceled), nil, mailcfg.KindCancelled, "", ""},
		{"deadline", context.DeadlineExceeded, nil, mailcfg.KindTimeout, "incoming.host", ""},
		{"net timeout", &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, nil, mailcfg.KindTimeout, "incoming.host", ""},
		{"nxdomain", &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}, nil, mailcfg.KindDNS, "incoming.host", "no such host"},
		{"dns temporary", &net.DNSError{Err: "server misbehaving", Name: "x"}, nil, mailcfg.KindDNS, "incoming.host", "dns error"},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, nil, mailcfg.KindConnect, "incoming.port", "connection refused"},
		{"unreachable", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.EHOSTUNREACH)}, nil, mailcfg.KindConnect, "incoming.host", "unreachable"},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, nil, mailcfg.KindProtocol, "incoming.port", "connection read failed"},
		{"eof", io.ErrUnexpectedEOF, nil, mailcfg.KindProtocol, "incoming.port", "connection closed"},
		{"not tls", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, nil, mailcfg.KindTLSUnavailable, "incoming.security", "not a TLS server on this port"},
		{"tls alert", wrap(ErrTLSHandshake, tls.AlertError(70)), nil, mailcfg.KindTLSUnavailable, "incoming.security", "tls alert 70"},
		{"starttls missing", wrap(ErrTLSUnavailable, errors.New("STARTTLS not advertised")), nil, mailcfg.KindTLSUnavailable, "incoming.security", ""},
		{"insecure", ErrInsecureRefused, nil, mailcfg.KindInsecureRefused, "incoming.security", ""},
		{"no mechanism", wrap(ErrNoAuthMechanism, errors.New("LOGINDISABLED")), nil, mailcfg.KindProtocol, "incoming.security", ""},
		{"imap authfailed", &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "Authentication failed."}, nil, mailcfg.KindAuthFailed, "password", "IMAP NO [AUTHENTICATIONFAILED]"},
		{"imap NO in auth", wrap(ErrAuthRejected, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "LOGIN failed."}), ms, mailcfg.KindAuthFailed, "password", "IMAP NO"},
		{"imap NO elsewhere", &imap.Error{Type: imap.StatusResponseTypeNo, Text: "nope"}, nil, mailcfg.KindProtocol, "incoming.port", "IMAP NO"},
		{"imap contactadmin", wrap(ErrAuthRejected, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeContactAdmin}), nil, mailcfg.KindAuthDisabled, "", "IMAP NO [CONTACTADMIN]"},
		{"imap BYE greeting", wrap(ErrGreetingRefused, &imap.Error{Type: "BYE", Text: "busy"}), nil, mailcfg.KindConnect, "incoming.host", "IMAP BYE"},
		{"gmail imap", wrap(ErrAuthRejected, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAlert, Text: "Application-specific password required: https://support.google.com/accounts/answer/185833 (mailcfg.Failure)"}), gmail, mailcfg.KindAppPasswordRequired, "password", "IMAP NO [ALERT]"},
		{"smtp 535", wrap(ErrAuthRejected, &textproto.Error{Code: 535, Msg: "5.7.8 Error: authentication failed: UGFzc3dvcmQ6"}), nil, mailcfg.KindAuthFailed, "password", "SMTP 535 5.7.8"},
		{"smtp 5.7.139", wrap(ErrAuthRejected, &textproto.Error{Code: 535, Msg: "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant."}), nil, mailcfg.KindAuthDisabled, "", "SMTP 535 5.7.139"},
		{"smtp 5.7.3 microsoft", wrap(ErrAuthRejected, &textproto.Error{Code: 535, Msg: "5.7.3 Authentication unsuccessful"}), ms, mailcfg.KindSignInRequired, "auth", "SMTP 535 5.7.3"},
		{"smtp 5.7.30 microsoft", wrap(ErrAuthRejected, &textproto.Error{Code: 550, Msg: "5.7.30 Basic authentication is not supported for Client Submission."}), ms, mailcfg.KindSignInRequired, "auth", "SMTP 550 5.7.30"},
		{"smtp 5.7.30 unknown provider", wrap(ErrAuthRejected, &textproto.Error{Code: 550, Msg: "5.7.30 Basic authentication is not supported for Client Submission."}), nil, mailcfg.KindSignInRequired, "auth", "SMTP 550 5.7.30"},
		{"smtp 5.7.3 elsewhere", wrap(ErrAuthRejected, &textproto.Error{Code: 535, Msg: "5.7.3 Authentication unsuccessful"}), nil, mailcfg.KindAuthFailed, "password", "SMTP 535 5.7.3"},
		{"smtp gmail 534", wrap(ErrAuthRejected, &textproto.Error{Code: 534, Msg: "5.7.9 Application-specific password required. Learn more at\n5.7.9 https://support.google.com/mail/?p=InvalidSecondFactor"}), gmail, mailcfg.KindAppPasswordRequired, "password", "SMTP 534 5.7.9"},
		{"smtp 534 weak mechanism", wrap(ErrAuthRejected, &textproto.Error{Code: 534, Msg: "5.7.9 Authentication mechanism is too weak"}), nil, mailcfg.KindAuthFailed, "password", "SMTP 534 5.7.9"},
		{"smtp 454 starttls", wrap(ErrTLSUnavailable, &textproto.Error{Code: 454, Msg: "4.7.0 TLS not available"}), nil, mailcfg.KindTLSUnavailable, "incoming.security", "SMTP 454 4.7.0"},
		{"smtp 421 greeting", wrap(ErrGreetingRefused, &textproto.Error{Code: 421, Msg: "4.3.2 Service not available"}), nil, mailcfg.KindConnect, "incoming.host", "SMTP 421 4.3.2"},
		// Some servers answer a wrong password with 454 4.7.0: the port works, the sign-in is the thing to check.
		// 421 in answer to AUTH (too many failed sign-ins, then the server
		// hangs up): the greeting came, so the sign-in is the thing to check.
		{"smtp 421 auth", wrap(ErrAuthRejected, &textproto.Error{Code: 421, Msg: "4.7.0 Too many authentication errors"}), nil, mailcfg.KindAuthFailed, "password", "SMTP 421 4.7.0"},
		{"smtp 454 auth temporary", wrap(ErrAuthRejected, &textproto.Error{Code: 454, Msg: "4.7.0 Temporary authentication failure"}), nil, mailcfg.KindAuthFailed, "password", "SMTP 454 4.7.0"},
		{"smtp 451 outside auth", &textproto.Error{Code: 451, Msg: "4.3.0 Try again later"}, nil, mailcfg.KindProtocol, "incoming.port", "SMTP 451 4.3.0"},
		{"smtp 530 before tls", &textproto.Error{Code: 530, Msg: "5.7.0 Must issue a STARTTLS command first"}, nil, mailcfg.KindTLSUnavailable, "incoming.security", "SMTP 530 5.7.0"},
		{"pop3 auth", wrap(ErrAuthRejected, &POP3Error{Command: "PASS", Code: "AUTH", Text: "bad"}), nil, mailcfg.KindAuthFailed, "password", "POP3 PASS -ERR [AUTH]"},
		{"pop3 sys/perm in auth", wrap(ErrAuthRejected, &POP3Error{Command: "PASS", Code: "SYS/PERM", Text: "not enabled for POP"}), nil, mailcfg.KindAuthDisabled, "", "POP3 PASS -ERR [SYS/PERM]"},
		{"pop3 plain -ERR in auth", wrap(ErrAuthRejected, &POP3Error{Command: "AUTH", Text: "no"}), nil, mailcfg.KindAuthFailed, "password", "POP3 AUTH -ERR"},
		{"pop3 in-use", wrap(ErrAuthRejected, &POP3Error{Command: "PASS", Code: "IN-USE"}), nil, mailcfg.KindProtocol, "incoming.port", "POP3 PASS -ERR [IN-USE]"},
		{"cert expired", &mailcfg.CertificateError{Leaf: leaf, Reason: mailcfg.CertExpired}, nil, mailcfg.KindTLSCertificate, "", mailcfg.CertExpired},
		{"cert wrong host", &mailcfg.CertificateError{Leaf: leaf, Reason: mailcfg.CertWrongHost}, nil, mailcfg.KindTLSCertificate, "incoming.host", mailcfg.CertWrongHost},
		{"cert unknown", &tls.CertificateVerificationError{UnverifiedCertificates: []*x509.Certificate{leaf}, Err: x509.UnknownAuthorityError{Cert: leaf}}, nil, mailcfg.KindTLSCertificate, "incoming.certSha256", mailcfg.CertUnknownAuthority},
		{"x509 hostname", x509.HostnameError{Certificate: leaf, Host: "other"}, nil, mailcfg.KindTLSCertificate, "incoming.host", mailcfg.CertWrongHost},
		{"unknown", errors.New("something odd"), nil, mailcfg.KindProtocol, "incoming.port", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := Classify(c.err, "incoming", c.provider)
			if f.Kind != c.kind || f.Field != c.field || f.Detail != c.detail {
				t.Fatalf("got kind=%s field=%q detail=%q, want %s %q %q", f.Kind, f.Field, f.Detail, c.kind, c.field, c.detail)
			}
			if f.Message.PL == "" || f.Message.EN == "" || f.Hint.PL == "" || f.Hint.EN == "" {
				t.Errorf("empty message or hint: %+v", f)
			}
			for _, s := range []string{f.Message.PL, f.Message.EN, f.Hint.PL, f.Hint.EN, f.Error()} {
				if strings.Contains(s, "%!") {
					t.Errorf("bad format: %s", s)
				}
			}
			if c.kind == mailcfg.KindTLSCertificate && (f.Certificate == nil || f.Certificate.Reason != c.detail) {
				t.Errorf("certificate %+v", f.Certificate)
			}
		})
	}
}

// The provider refusing passwords names the sign-in to offer: Microsoft for
// 5.7.30 and 5.7.3, Google for Gmail's app-password refusal; a failure of an
// XOAUTH2 sign-in never offers the sign-in that was just used, and on a
// shared mailbox it is a missing permission.
func TestClassifySignInOffer(t *testing.T) {
	ms := mailcfg.Bundled().ByID("microsoft365")
	gmail := mailcfg.Bundled().ByID("gmail.com")
	wrap := func(sentinel, err error) error { return fmt.Errorf("%w: %w", sentinel, err) }
	e530 := wrap(ErrAuthRejected, &textproto.Error{Code: 550, Msg: "5.7.30 Basic authentication is not supported for Client Submission."})
	e573 := wrap(ErrAuthRejected, &textproto.Error{Code: 535, Msg: "5.7.3 Authentication unsuccessful"})
	e579 := wrap(ErrAuthRejected, &textproto.Error{Code: 534, Msg: "5.7.9 Application-specific password required."})
	e578 := wrap(ErrAuthRejected, &textproto.Error{Code: 535, Msg: "5.7.8 Username and Password not accepted."})
	cases := []struct {
		name     string
		err      error
		p        *mailcfg.Provider
		oauth    bool
		shared   bool
		kind     mailcfg.Kind
		signIn   string
		variant  string // a word the English message must contain
		jsonWant string
	}{
		{"5.7.30 password", e530, ms, false, false, mailcfg.KindSignInRequired, "microsoft", "requires signing in", `"signIn":"microsoft"`},
		{"5.7.3 password", e573, ms, false, false, mailcfg.KindSignInRequired, "microsoft", "no longer accepts passwords", `"signIn":"microsoft"`},
		{"5.7.9 gmail password", e579, gmail, false, false, mailcfg.KindAppPasswordRequired, "google", "app password", `"signIn":"google"`},
		{"5.7.8 gmail password", e578, gmail, false, false, mailcfg.KindAuthFailed, "", "user name or password", ""},
		{"5.7.3 own token", e573, ms, true, false, mailcfg.KindAuthDisabled, "", "switched off", ""},
		{"5.7.3 shared token", e573, ms, true, true, mailcfg.KindPermission, "", "shared mailbox", ""},
		{"5.7.8 shared token", e578, ms, true, true, mailcfg.KindPermission, "", "shared mailbox", ""},
		{"5.7.139 shared token", wrap(ErrAuthRejected, &textproto.Error{Code: 535, Msg: "5.7.139 Authentication unsuccessful"}), ms, true, true, mailcfg.KindAuthDisabled, "", "does not allow", ""},
	}
	// 535 5.7.139 is for the tenant's administrator, whichever credential
	// met it: the hint names the switch (Set-CASMailbox), never the webmail
	// settings a user could change.
	for _, p := range []*mailcfg.Provider{nil, ms} {
		f := Classify(wrap(ErrAuthRejected, &textproto.Error{Code: 535, Msg: "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant."}), "outgoing", p)
		for _, lang := range []string{"pl", "en"} {
			if h := f.Hint.In(lang); !strings.Contains(h, "Set-CASMailbox") || !strings.Contains(h, "SmtpClientAuthenticationDisabled $false") {
				t.Errorf("%s hint for 5.7.139: %q", lang, h)
			}
			if m := f.Message.In(lang); !strings.Contains(m, "SMTP AUTH") {
				t.Errorf("%s message for 5.7.139: %q", lang, m)
			}
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := Classify(c.err, "outgoing", c.p)
			if c.oauth {
				f = ForToken(f, "outgoing", c.p, c.shared)
			}
			if f.Kind != c.kind || f.SignIn != c.signIn || !strings.Contains(f.Message.EN, c.variant) {
				t.Fatalf("got %s signIn=%q %q", f.Kind, f.SignIn, f.Message.EN)
			}
			if f.Hint.PL == "" || f.Hint.EN == "" {
				t.Fatalf("no hint: %+v", f)
			}
			if c.kind == mailcfg.KindPermission && !strings.Contains(f.Hint.EN, "Full Access") {
				t.Fatalf("permission hint %q", f.Hint.EN)
			}
			b, _ := json.Marshal(f.JSON("en"))
			if c.jsonWant != "" && !strings.Contains(string(b), c.jsonWant) || c.jsonWant == "" && strings.Contains(string(b), "signIn") {
				t.Fatalf("json %s", b)
			}
		})
	}
}

func TestClassifyProviderHints(t *testing.T) {
	tab := mailcfg.Bundled()
	for _, id := range []string{"wp.pl", "interia.pl", "onet.pl", "zoho.com", "gmail.com"} {
		p := tab.ByID(id)
		f := Classify(fmt.Errorf("%w: %w", ErrAuthRejected, &imap.Error{Type: imap.StatusResponseTypeNo}), "incoming", p)
		if f.Kind != mailcfg.KindAuthFailed || f.Hint != p.Help {
			t.Errorf("%s: kind %s hint %q", id, f.Kind, f.Hint.EN)
		}
	}
	// Without a provider: the generic hint.
	f := Classify(&imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed}, "incoming", nil)
	if f.Hint != mailcfg.NewFailure(mailcfg.KindAuthFailed, "incoming", nil).Hint {
		t.Errorf("generic hint: %q", f.Hint.EN)
	}
	// A wrong host name at a hoster that names servers after the domain:
	// the hoster's help follows the certificate hint.
	home := tab.ByID("home.pl")
	f = Classify(&mailcfg.CertificateError{Reason: mailcfg.CertWrongHost}, "outgoing", home)
	if !strings.Contains(f.Hint.PL, home.Help.PL) || f.Field != "outgoing.host" {
		t.Errorf("home.pl wrong host: %+v", f)
	}
}

func TestClassifyPassesFailureThrough(t *testing.T) {
	in := mailcfg.NewFailure(mailcfg.KindAuthDisabled, "outgoing", nil)
	if got := Classify(fmt.Errorf("ctx: %w", in), "incoming", nil); got != in {
		t.Fatalf("got %v", got)
	}
	if Classify(nil, "incoming", nil) != nil {
		t.Fatal("nil error classified")
	}
}

// knownMessages is every message Classify can produce for a side: each
// kind's own and each variant's.
func knownMessages(side string) map[string]bool {
	out := map[string]bool{}
	for _, k := range mailcfg.Kinds {
		out[mailcfg.NewFailure(k, side, nil).Message.EN] = true
		for _, v := range mailcfg.Variants {
			out[mailcfg.Cause{Kind: k, Variant: v}.Failure(side, nil).Message.EN] = true
		}
	}
	return out
}

var (
	smtpDetail = regexp.MustCompile(`^SMTP -?\d+( [245]\.\d{1,3}\.\d{1,3})?$`)
	imapDetail = regexp.MustCompile(`^IMAP [A-Za-z0-9_./-]*( \[[A-Za-z0-9_./-]*\])?$`)
)

// FuzzClassifySMTP feeds arbitrary SMTP replies, in and out of the sign-in:
// the result is always a known kind with a known message, and the detail
// carries codes only, never the server's text.
func FuzzClassifySMTP(f *testing.F) {
	f.Add(535, "5.7.8 Error: authentication failed", true)
	f.Add(534, "5.7.9 Application-specific password required", true)
	f.Add(535, "5.7.139 Authentication unsuccessful", false)
	f.Add(454, "4.7.0 TLS not available", false)
	f.Add(250, "", false)
	f.Add(-1, "5.7.8.9 x\x00\xff", true)
	msgs := knownMessages("outgoing")
	kinds := map[mailcfg.Kind]bool{}
	for _, k := range mailcfg.Kinds {
		kinds[k] = true
	}
	f.Fuzz(func(t *testing.T, code int, msg string, inAuth bool) {
		var err error = &textproto.Error{Code: code, Msg: msg}
		if inAuth {
			err = fmt.Errorf("%w: %w", ErrAuthRejected, err)
		}
		for _, p := range []*mailcfg.Provider{nil, mailcfg.Bundled().ByID("gmail.com"), mailcfg.Bundled().ByID("microsoft365")} {
			fl := Classify(err, "outgoing", p)
			if fl == nil || !kinds[fl.Kind] || !msgs[fl.Message.EN] || fl.Hint.EN == "" {
				t.Fatalf("%d %q: %+v", code, msg, fl)
			}
			if !smtpDetail.MatchString(fl.Detail) {
				t.Fatalf("detail %q carries more than codes", fl.Detail)
			}
		}
	})
}

// FuzzClassifyIMAP does the same for IMAP status responses.
func FuzzClassifyIMAP(f *testing.F) {
	f.Add("NO", "AUTHENTICATIONFAILED", "Authentication failed.", true)
	f.Add("NO", "ALERT", "Application-specific password required", true)
	f.Add("BAD", "", "", false)
	f.Add("BYE", "x]y [", "\x00", false)
	msgs := knownMessages("incoming")
	f.Fuzz(func(t *testing.T, typ, code, text string, inAuth bool) {
		var err error = &imap.Error{Type: imap.StatusResponseType(typ), Code: imap.ResponseCode(code), Text: text}
		if inAuth {
			err = fmt.Errorf("%w: %w", ErrAuthRejected, err)
		}
		fl := Classify(err, "incoming", nil)
		if fl == nil || !msgs[fl.Message.EN] {
			t.Fatalf("%+v", fl)
		}
		if fl.Kind != mailcfg.KindAppPasswordRequired && fl.Hint != mailcfg.NewFailure(fl.Kind, "incoming", nil).Hint {
			t.Fatalf("hint %q", fl.Hint.EN)
		}
		if !imapDetail.MatchString(fl.Detail) {
			t.Fatalf("detail %q carries more than codes", fl.Detail)
		}
	})
}
