package mailcfg

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
)

func TestClassify(t *testing.T) {
	ms := Bundled().ByID("microsoft365")
	gmail := Bundled().ByID("gmail.com")
	leaf := &x509.Certificate{Raw: []byte("leaf"), DNSNames: []string{"mail.example"}, NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1, 0)}
	wrap := func(sentinel, err error) error { return fmt.Errorf("%w: %w", sentinel, err) }
	cases := []struct {
		name     string
		err      error
		provider *Provider
		kind     Kind
		field    string
		detail   string
	}{
		{"canceled", fmt.Errorf("x: %w", context.Canceled), nil, KindCancelled, "", ""},
		{"deadline", context.DeadlineExceeded, nil, KindTimeout, "incoming.host", ""},
		{"net timeout", &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, nil, KindTimeout, "incoming.host", ""},
		{"nxdomain", &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}, nil, KindDNS, "incoming.host", "no such host"},
		{"dns temporary", &net.DNSError{Err: "server misbehaving", Name: "x"}, nil, KindDNS, "incoming.host", "dns error"},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, nil, KindConnect, "incoming.port", "connection refused"},
		{"unreachable", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.EHOSTUNREACH)}, nil, KindConnect, "incoming.host", "unreachable"},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, nil, KindProtocol, "incoming.port", "connection read failed"},
		{"eof", io.ErrUnexpectedEOF, nil, KindProtocol, "incoming.port", "connection closed"},
		{"not tls", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, nil, KindTLSUnavailable, "incoming.security", "not a TLS server on this port"},
		{"tls alert", wrap(ErrTLSHandshake, tls.AlertError(70)), nil, KindTLSUnavailable, "incoming.security", "tls alert 70"},
		{"starttls missing", wrap(ErrTLSUnavailable, errors.New("STARTTLS not advertised")), nil, KindTLSUnavailable, "incoming.security", ""},
		{"insecure", ErrInsecureRefused, nil, KindInsecureRefused, "incoming.security", ""},
		{"no mechanism", wrap(ErrNoAuthMechanism, errors.New("LOGINDISABLED")), nil, KindProtocol, "incoming.security", ""},
		{"imap authfailed", &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "Authentication failed."}, nil, KindAuthFailed, "password", "IMAP NO [AUTHENTICATIONFAILED]"},
		{"imap NO in auth", wrap(ErrAuthRejected, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "LOGIN failed."}), ms, KindAuthFailed, "password", "IMAP NO"},
		{"imap NO elsewhere", &imap.Error{Type: imap.StatusResponseTypeNo, Text: "nope"}, nil, KindProtocol, "incoming.port", "IMAP NO"},
		{"imap contactadmin", wrap(ErrAuthRejected, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeContactAdmin}), nil, KindAuthDisabled, "", "IMAP NO [CONTACTADMIN]"},
		{"imap BYE greeting", wrap(ErrGreetingRefused, &imap.Error{Type: "BYE", Text: "busy"}), nil, KindConnect, "incoming.host", "IMAP BYE"},
		{"gmail imap", wrap(ErrAuthRejected, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAlert, Text: "Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)"}), gmail, KindAppPasswordRequired, "password", "IMAP NO [ALERT]"},
		{"smtp 535", wrap(ErrAuthRejected, &textproto.Error{Code: 535, Msg: "5.7.8 Error: authentication failed: UGFzc3dvcmQ6"}), nil, KindAuthFailed, "password", "SMTP 535 5.7.8"},
		{"smtp 5.7.139", wrap(ErrAuthRejected, &textproto.Error{Code: 535, Msg: "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant."}), nil, KindAuthDisabled, "", "SMTP 535 5.7.139"},
		{"smtp 5.7.3 microsoft", wrap(ErrAuthRejected, &textproto.Error{Code: 535, Msg: "5.7.3 Authentication unsuccessful"}), ms, KindAuthDisabled, "", "SMTP 535 5.7.3"},
		{"smtp 5.7.3 elsewhere", wrap(ErrAuthRejected, &textproto.Error{Code: 535, Msg: "5.7.3 Authentication unsuccessful"}), nil, KindAuthFailed, "password", "SMTP 535 5.7.3"},
		{"smtp gmail 534", wrap(ErrAuthRejected, &textproto.Error{Code: 534, Msg: "5.7.9 Application-specific password required. Learn more at\n5.7.9 https://support.google.com/mail/?p=InvalidSecondFactor"}), gmail, KindAppPasswordRequired, "password", "SMTP 534 5.7.9"},
		{"smtp 534 weak mechanism", wrap(ErrAuthRejected, &textproto.Error{Code: 534, Msg: "5.7.9 Authentication mechanism is too weak"}), nil, KindAuthFailed, "password", "SMTP 534 5.7.9"},
		{"smtp 454 starttls", wrap(ErrTLSUnavailable, &textproto.Error{Code: 454, Msg: "4.7.0 TLS not available"}), nil, KindTLSUnavailable, "incoming.security", "SMTP 454 4.7.0"},
		{"smtp 421 greeting", wrap(ErrGreetingRefused, &textproto.Error{Code: 421, Msg: "4.3.2 Service not available"}), nil, KindConnect, "incoming.host", "SMTP 421 4.3.2"},
		{"smtp 454 auth temporary", wrap(ErrAuthRejected, &textproto.Error{Code: 454, Msg: "4.7.0 Temporary authentication failure"}), nil, KindProtocol, "incoming.port", "SMTP 454 4.7.0"},
		{"smtp 530 before tls", &textproto.Error{Code: 530, Msg: "5.7.0 Must issue a STARTTLS command first"}, nil, KindTLSUnavailable, "incoming.security", "SMTP 530 5.7.0"},
		{"pop3 auth", wrap(ErrAuthRejected, &POP3Error{Command: "PASS", Code: "AUTH", Text: "bad"}), nil, KindAuthFailed, "password", "POP3 PASS -ERR [AUTH]"},
		{"pop3 sys/perm in auth", wrap(ErrAuthRejected, &POP3Error{Command: "PASS", Code: "SYS/PERM", Text: "not enabled for POP"}), nil, KindAuthDisabled, "", "POP3 PASS -ERR [SYS/PERM]"},
		{"pop3 plain -ERR in auth", wrap(ErrAuthRejected, &POP3Error{Command: "AUTH", Text: "no"}), nil, KindAuthFailed, "password", "POP3 AUTH -ERR"},
		{"pop3 in-use", wrap(ErrAuthRejected, &POP3Error{Command: "PASS", Code: "IN-USE"}), nil, KindProtocol, "incoming.port", "POP3 PASS -ERR [IN-USE]"},
		{"cert expired", &CertificateError{Leaf: leaf, Reason: CertExpired}, nil, KindTLSCertificate, "", CertExpired},
		{"cert wrong host", &CertificateError{Leaf: leaf, Reason: CertWrongHost}, nil, KindTLSCertificate, "incoming.host", CertWrongHost},
		{"cert unknown", &tls.CertificateVerificationError{UnverifiedCertificates: []*x509.Certificate{leaf}, Err: x509.UnknownAuthorityError{Cert: leaf}}, nil, KindTLSCertificate, "incoming.certSha256", CertUnknownAuthority},
		{"x509 hostname", x509.HostnameError{Certificate: leaf, Host: "other"}, nil, KindTLSCertificate, "incoming.host", CertWrongHost},
		{"unknown", errors.New("something odd"), nil, KindProtocol, "incoming.port", ""},
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
			if c.kind == KindTLSCertificate && (f.Certificate == nil || f.Certificate.Reason != c.detail) {
				t.Errorf("certificate %+v", f.Certificate)
			}
		})
	}
}

func TestClassifyProviderHints(t *testing.T) {
	tab := Bundled()
	for _, id := range []string{"wp.pl", "interia.pl", "onet.pl", "zoho.com", "gmail.com"} {
		p := tab.ByID(id)
		f := Classify(fmt.Errorf("%w: %w", ErrAuthRejected, &imap.Error{Type: imap.StatusResponseTypeNo}), "incoming", p)
		if f.Kind != KindAuthFailed || f.Hint != p.Help {
			t.Errorf("%s: kind %s hint %q", id, f.Kind, f.Hint.EN)
		}
	}
	// Without a provider: the generic hint.
	f := Classify(&imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed}, "incoming", nil)
	if f.Hint != hints[KindAuthFailed] {
		t.Errorf("generic hint: %q", f.Hint.EN)
	}
	// A wrong host name at a hoster that names servers after the domain:
	// the hoster's help follows the certificate hint.
	home := tab.ByID("home.pl")
	f = Classify(&CertificateError{Reason: CertWrongHost}, "outgoing", home)
	if !strings.Contains(f.Hint.PL, home.Help.PL) || f.Field != "outgoing.host" {
		t.Errorf("home.pl wrong host: %+v", f)
	}
}

func TestClassifyPassesFailureThrough(t *testing.T) {
	in := NewFailure(KindAuthDisabled, "outgoing", nil)
	if got := Classify(fmt.Errorf("ctx: %w", in), "incoming", nil); got != in {
		t.Fatalf("got %v", got)
	}
	if Classify(nil, "incoming", nil) != nil {
		t.Fatal("nil error classified")
	}
}

func TestFailureJSON(t *testing.T) {
	f := Classify(&CertificateError{Leaf: &x509.Certificate{Raw: []byte{1, 2, 3}, DNSNames: []string{"a.example"}}, Reason: CertUnknownAuthority}, "incoming", nil)
	b, err := json.Marshal(f.JSON("pl"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["kind"] != "tls_certificate" || m["message"] != f.Message.PL || m["hint"] != f.Hint.PL {
		t.Fatalf("json %s", b)
	}
	cert := m["certificate"].(map[string]any)
	if cert["sha256"] != "03:90:58:c6:f2:c0:cb:49:2c:53:3b:0a:4d:14:ef:77:cc:0f:78:ab:cc:ce:d5:28:7d:84:a1:a2:01:1c:fb:81" ||
		cert["reason"] != CertUnknownAuthority || cert["names"].([]any)[0] != "a.example" {
		t.Fatalf("certificate %v", cert)
	}
	if en := f.JSON("en-GB"); en.Message != f.Message.EN {
		t.Errorf("english: %q", en.Message)
	}
}

func TestMessagesComplete(t *testing.T) {
	for _, k := range Kinds {
		for _, side := range []string{"incoming", "outgoing", ""} {
			f := NewFailure(k, side, nil)
			if f.Message.PL == "" || f.Message.EN == "" || f.Hint.PL == "" || f.Hint.EN == "" {
				t.Errorf("%s/%s: incomplete %+v", k, side, f)
			}
			if strings.Contains(f.Message.PL+f.Message.EN, "%!") {
				t.Errorf("%s: format %q", k, f.Message)
			}
		}
	}
	for key, m := range messages {
		if m.PL == "" || m.EN == "" {
			t.Errorf("message %s incomplete", key)
		}
	}
	for key, h := range certHints {
		if h.PL == "" || h.EN == "" {
			t.Errorf("cert hint %s incomplete", key)
		}
	}
}

func TestProviderFor(t *testing.T) {
	tab := Bundled()
	cases := []struct {
		s    Settings
		want string
	}{
		{Settings{Provider: &ProviderRef{ID: "wp.pl"}, Email: "a@gmail.com"}, "wp.pl"},
		{Settings{Email: "a@interia.pl"}, "interia.pl"},
		{Settings{Email: "a@kancelaria.example", Outgoing: Server{Host: "SMTP.Office365.com"}}, "microsoft365"},
		{Settings{Email: "a@kancelaria.example", Incoming: Server{Host: "mail.kancelaria.example"}}, ""},
	}
	for _, c := range cases {
		got := ""
		if p := tab.ProviderFor(c.s); p != nil {
			got = p.ID
		}
		if got != c.want {
			t.Errorf("%+v: got %q want %q", c.s, got, c.want)
		}
	}
}

// knownMessages is every message Classify can produce for a side.
func knownMessages(side string) map[string]bool {
	out := map[string]bool{}
	for _, m := range messages {
		out[strings.ReplaceAll(m.EN, "%[1]s", sideNoun(side).EN)] = true
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
	kinds := map[Kind]bool{}
	for _, k := range Kinds {
		kinds[k] = true
	}
	f.Fuzz(func(t *testing.T, code int, msg string, inAuth bool) {
		var err error = &textproto.Error{Code: code, Msg: msg}
		if inAuth {
			err = fmt.Errorf("%w: %w", ErrAuthRejected, err)
		}
		for _, p := range []*Provider{nil, Bundled().ByID("gmail.com"), Bundled().ByID("microsoft365")} {
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
		if fl.Kind != KindAppPasswordRequired && fl.Hint != hints[fl.Kind] {
			t.Fatalf("hint %q", fl.Hint.EN)
		}
		if !imapDetail.MatchString(fl.Detail) {
			t.Fatalf("detail %q carries more than codes", fl.Detail)
		}
	})
}
