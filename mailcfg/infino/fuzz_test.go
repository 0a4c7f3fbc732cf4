package infino

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/urlcheck"
)

// fuzzNow is the fuzzers' clock: fixed, so that a found input reproduces.
var fuzzNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fuzzClock() time.Time { return fuzzNow }

func fuzzStatus(st int) int {
	if st >= 100 && st <= 999 {
		return st
	}
	return 100 + (st%900+900)%900
}

// FuzzRetryAfter: a parsed Retry-After is never negative nor more than a
// day, and delta-seconds mean what they say.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "1", "120", " 30 ", "-5", "86401", "9223372036854775807", "99999999999999999999",
		"Sun, 01 Mar 2026 12:00:30 GMT", "Sunday, 01-Mar-26 12:05:00 GMT", "Sun Mar  1 12:00:10 2026",
		"Sat, 28 Feb 2026 12:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "1.5", "+10", "0x10", "soon"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d := retryAfter(v, fuzzClock)
		if d < 0 || d > 24*time.Hour {
			t.Fatalf("retryAfter(%q) = %v", v, d)
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n >= 0 && n <= 24*3600 && d != time.Duration(n)*time.Second {
			t.Fatalf("retryAfter(%q) = %v, want %ds", v, d, n)
		}
	})
}

// FuzzClassify feeds the answer classifier any status, headers and body of
// POST /api/v1/mailboxes. A receipt has an id; an error has a known kind,
// a message, a sane Retry-After, and field errors only for a 400.
func FuzzClassify(f *testing.F) {
	for _, c := range []struct {
		st         int
		retry, loc string
		body       string
	}{
		{201, "", "", `{"id":"mbx_01HV6Z3K8Q","email":"jan.kowalski@kancelaria.pl"}`},
		{200, "", "", `{"id":"mbx_01HV6Z3K8Q","email":"jan.kowalski@kancelaria.pl","replayed":true}`},
		{201, "", "", `{"email":"jan.kowalski@kancelaria.pl"}`},
		{201, "", "", `<html>`},
		{400, "", "", `{"error":"invalid_settings","message":"Nieprawidłowe ustawienia","errors":[{"field":"incoming.host","code":"host_unreachable","message":"Serwer nie odpowiada"},{"field":" ","code":"weak"},{"field":"outgoing.port","code":"","message":""}]}`},
		{400, "", "", `{"error":"bad_request","message":"JSON expected"}`},
		{401, "", "", `{"error":"invalid_token"}`},
		{403, "", "", `{"error":"forbidden","message":"no permission"}`},
		{409, "", "", `{"error":"mailbox_exists","message":"already connected"}`},
		{409, "2", "", `{"error":"request_in_progress"}`},
		{429, "120", "", `{"error":"rate_limited"}`},
		{503, "Sun, 01 Mar 2026 12:01:00 GMT", "", ``},
		{500, "-1", "", `{"error":"internal"}`},
		{502, "9999999999", "", `<html>Bad gateway</html>`},
		{307, "", "https://evil.example/api/v1/mailboxes", ``},
		{204, "", "", ``},
		{422, "", "", `{"errors":[{"field":"email"}]}`},
	} {
		f.Add(c.st, c.retry, "", c.loc, []byte(c.body))
	}
	f.Add(201, "", "TRUE", "", []byte(`{"id":"x"}`))
	f.Fuzz(func(t *testing.T, st int, retry, replayed, loc string, body []byte) {
		st = fuzzStatus(st)
		h := http.Header{}
		h.Set("Retry-After", retry)
		h.Set("Idempotent-Replayed", replayed)
		h.Set("Location", loc)
		for _, replace := range []bool{false, true} {
			rec, e := classify(&http.Response{StatusCode: st, Header: h}, body, fuzzClock, replace)
			if e == nil {
				if rec.ID == "" || (st != 200 && st != 201) {
					t.Fatalf("HTTP %d accepted as %+v", st, rec)
				}
				if st == 200 && !rec.Replayed && !replace {
					t.Fatal("a 200 to a POST is a replay")
				}
				continue
			}
			if rec != (Receipt{}) {
				t.Fatalf("receipt %+v with error %v", rec, e)
			}
			if !slices.Contains(Kinds, e.Kind) || e.Message.EN == "" || e.Message.PL == "" || e.Status != st {
				t.Fatalf("HTTP %d: bad error %#v", st, e)
			}
			if e.RetryAfter < 0 || e.RetryAfter > 24*time.Hour {
				t.Fatalf("Retry-After %q gave %v", retry, e.RetryAfter)
			}
			if e.RetryAfter != 0 && e.Kind != KindUnavailable {
				t.Fatalf("Retry-After on a %s error", e.Kind)
			}
			if (st == 429 || st >= 500) && e.Kind != KindUnavailable {
				t.Fatalf("HTTP %d is %s, not retried", st, e.Kind)
			}
			if len(e.Fields) > 0 {
				if st != 400 || e.Kind != KindInvalid {
					t.Fatalf("field errors on HTTP %d %s", st, e.Kind)
				}
				for _, fe := range e.Fields {
					if strings.TrimSpace(fe.Field) == "" || fe.Field != strings.TrimSpace(fe.Field) {
						t.Fatalf("field error without a field: %+v", fe)
					}
				}
			} else if e.Kind == KindInvalid {
				t.Fatal("KindInvalid without field errors")
			}
			if e.Kind == KindChanged && !replace {
				t.Fatal("a POST answered as a changed mailbox")
			}
			if e.Mailbox != nil && !mailboxIDOK(e.Mailbox.ID) {
				t.Fatalf("mailbox id %q kept", e.Mailbox.ID)
			}
			_ = e.Error()
		}
	})
}

type fuzzTransport func(*http.Request) (*http.Response, error)

func (f fuzzTransport) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func fuzzHTTP(status int, body []byte) *http.Client {
	return &http.Client{Transport: fuzzTransport(func(r *http.Request) (*http.Response, error) {
		h := http.Header{"Content-Type": {"application/json"}}
		return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
	}), CheckRedirect: noRedirect}
}

// FuzzDiscover feeds Discover any RFC 8414 metadata answer. What it
// accepts names the Infino URL as issuer, has absolute https endpoints
// (http only to a loopback address) without credentials, and offers PKCE
// S256 and the code response type.
func FuzzDiscover(f *testing.F) {
	bases := []string{"https://kancelaria.infino.legal", "http://127.0.0.1:8080", "http://[::1]:9000/infino"}
	good := `{"issuer":"https://kancelaria.infino.legal","authorization_endpoint":"https://kancelaria.infino.legal/oauth/authorize",` +
		`"token_endpoint":"https://kancelaria.infino.legal/oauth/token","revocation_endpoint":"https://kancelaria.infino.legal/oauth/revoke",` +
		`"scopes_supported":["mailboxes:write","openid"],"response_types_supported":["code"],"grant_types_supported":["authorization_code","refresh_token"],` +
		`"code_challenge_methods_supported":["S256"],"token_endpoint_auth_methods_supported":["none"]}`
	f.Add(uint8(0), 200, []byte(good))
	f.Add(uint8(0), 200, []byte(strings.ReplaceAll(good, `"S256"`, `"plain"`)))
	f.Add(uint8(0), 200, []byte(strings.Replace(good, `"https://kancelaria.infino.legal/oauth/token"`, `"http://kancelaria.infino.legal/oauth/token"`, 1)))
	f.Add(uint8(0), 200, []byte(strings.Replace(good, `"https://kancelaria.infino.legal/oauth/token"`, `"https://user:pw@evil.example/token"`, 1)))
	f.Add(uint8(0), 200, []byte(strings.Replace(good, `"issuer":"https://kancelaria.infino.legal"`, `"issuer":"https://kancelaria.infino.legal/"`, 1)))
	f.Add(uint8(0), 200, []byte(strings.Replace(good, `["code"]`, `["token"]`, 1)))
	f.Add(uint8(1), 200, []byte(strings.ReplaceAll(good, "https://kancelaria.infino.legal", "http://127.0.0.1:8080")))
	f.Add(uint8(1), 200, []byte(strings.ReplaceAll(strings.ReplaceAll(good, "https://kancelaria.infino.legal", "http://127.0.0.1:8080"), "/oauth/token", ".evil.example/oauth/token")))
	f.Add(uint8(2), 200, []byte(strings.ReplaceAll(good, "https://kancelaria.infino.legal", "http://[::1]:9000/infino")))
	f.Add(uint8(0), 503, []byte(`{"error":"unavailable"}`))
	f.Add(uint8(0), 302, []byte(``))
	f.Add(uint8(0), 200, []byte(`[]`))
	f.Fuzz(func(t *testing.T, which uint8, status int, body []byte) {
		status = fuzzStatus(status)
		base := bases[int(which)%len(bases)]
		m, err := Discover(context.Background(), fuzzHTTP(status, body), base)
		if err != nil {
			var e *Error
			if m != nil || !errors.As(err, &e) || e.Message.EN == "" || !slices.Contains(Kinds, e.Kind) {
				t.Fatalf("bad failure %v (%T) %+v", err, err, m)
			}
			if e.Kind == KindUnavailable && status != 429 && status < 500 {
				t.Fatalf("HTTP %d is unavailable", status)
			}
			return
		}
		if status != 200 {
			t.Fatalf("HTTP %d accepted", status)
		}
		if strings.TrimRight(m.Issuer, "/") != base {
			t.Fatalf("issuer %q accepted for %q", m.Issuer, base)
		}
		for _, ep := range []string{m.AuthorizationEndpoint, m.TokenEndpoint} {
			u, err := url.Parse(ep)
			if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
				t.Fatalf("endpoint %q accepted", ep)
			}
			if u.Scheme != "https" && !(u.Scheme == "http" && urlcheck.IsLoopbackHost(u.Hostname())) {
				t.Fatalf("endpoint %q accepted", ep)
			}
		}
		if !slices.Contains(m.CodeChallengeMethodsSupported, "S256") ||
			(len(m.ResponseTypesSupported) > 0 && !slices.Contains(m.ResponseTypesSupported, "code")) {
			t.Fatalf("accepted %+v", m)
		}
	})
}

const fuzzEntryID = "0d5f6c1e-3b7a-4c2d-9e8f-1a2b3c4d5e6f"

func fuzzEntry() Entry {
	user := "jan.kowalski@kancelaria.pl"
	return Entry{
		Version: entryVersion, ID: fuzzEntryID, IdempotencyKey: "7c9e6679-7425-40de-944b-e07fc1f90ae7",
		InfinoURL: "https://kancelaria.infino.legal",
		Settings: mailcfg.Settings{
			Email: user, Auth: mailcfg.AuthPassword,
			Incoming: mailcfg.Server{Protocol: mailcfg.IMAP, Host: "imap.kancelaria.pl", Port: 993, Security: mailcfg.SecurityTLS, Username: user},
			Outgoing: mailcfg.Server{Protocol: mailcfg.SMTP, Host: "smtp.kancelaria.pl", Port: 465, Security: mailcfg.SecurityTLS, Username: user},
			Provider: &mailcfg.ProviderRef{ID: "kancelaria", Name: "Kancelaria"},
			Source:   mailcfg.SourceMicrosoft,
		},
		SecretType: SecretPassword,
		VerifiedAt: fuzzNow.Add(-time.Minute),
		Client:     ClientInfo{Name: "Infino Mailbox", Version: "0.1.0", OS: "windows", Arch: "amd64"},
		CreatedAt:  fuzzNow.Add(-time.Minute),
		Attempts:   2, LastAttempt: fuzzNow, NextAttempt: fuzzNow.Add(5 * time.Minute),
		LastError: &EntryError{Kind: KindUnavailable, Status: 503, Message: messages[KindUnavailable], Detail: "HTTP 503"},
	}
}

// FuzzOutboxEntry writes anything as an outbox entry file. Reading it gives
// an entry that passes its checks or a corrupt-file error, never a panic;
// List then returns the entry or moves the file aside intact (nothing is
// lost); and an accepted entry stays readable after it is written back.
func FuzzOutboxEntry(f *testing.F) {
	e := fuzzEntry()
	b, _ := json.MarshalIndent(e, "", "  ")
	f.Add(b)
	e.LastError, e.LastAttempt, e.NextAttempt, e.Attempts = nil, time.Time{}, time.Time{}, 0
	b, _ = json.Marshal(e)
	f.Add(b)
	f.Add(bytes.Replace(b, []byte(`"v":1`), []byte(`"v":2`), 1))
	f.Add(bytes.Replace(b, []byte(`"https://kancelaria.infino.legal"`), []byte(`"http://kancelaria.infino.legal"`), 1))
	f.Add(bytes.Replace(b, []byte(`"v":1`), []byte(`"v":1,"secret":{"password":"x"}`), 1))
	f.Add(bytes.Replace(b, []byte(`"createdAt":"2026-03-01T11:59:00Z"`), []byte(`"createdAt":"2026-03-01T13:59:00+02:00"`), 1))
	f.Add(b[:len(b)/2])
	f.Add(bytes.Replace(b, []byte(`"v":1`), []byte(`"v":1,"op":"replace","mailboxId":"mbx_000123","ifMatch":"\"mbx_000123-v1\""`), 1))
	f.Add(bytes.Replace(b, []byte(`"v":1`), []byte(`"v":1,"op":"replace","mailboxId":"../x","ifMatch":"e"`), 1))
	f.Add(bytes.Replace(b, []byte(`"v":1`), []byte(`"v":1,"op":"replace","mailboxId":"m1","ifMatch":"e","replaceIfExists":true`), 1))
	f.Add(bytes.Replace(b, []byte(`"v":1`), []byte(`"v":1,"op":"delete"`), 1))
	f.Add(bytes.Replace(b, []byte(`"v":1`), []byte(`"v":1,"replaceIfExists":true`), 1))
	f.Add([]byte(``))
	f.Add([]byte(`null`))
	f.Add([]byte("{}\n{}"))
	f.Add([]byte{0xef, 0xbb, 0xbf, '{', '}'})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		name := filepath.Join(dir, fuzzEntryID+entrySuffix)
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
		o := NewOutbox(dir, secrets.NewMemory(), fuzzClock)
		e, err := o.Get(fuzzEntryID)
		var ce *corruptError
		switch {
		case err == nil:
			if e.check(fuzzEntryID) != nil || e.Version != entryVersion || e.ID != fuzzEntryID {
				t.Fatalf("accepted %+v", e)
			}
		case errors.Is(err, errNewerEntry):
			// A newer version's entry is left alone, intact and unreported.
			entries, problems, lerr := o.List(context.Background())
			kept, rerr := os.ReadFile(name)
			if lerr != nil || len(entries) != 0 || len(problems) != 0 || rerr != nil || !bytes.Equal(kept, data) {
				t.Fatalf("newer entry: %v %v %v %v", entries, problems, lerr, rerr)
			}
			return
		case !errors.As(err, &ce):
			t.Fatalf("read: %v (%T), not a corrupt-file error", err, err)
		}

		entries, problems, lerr := o.List(context.Background())
		if lerr != nil {
			t.Fatalf("List: %v", lerr)
		}
		if err == nil {
			if len(entries) != 1 || len(problems) != 0 {
				t.Fatalf("List: %d entries, %d problems for a good file", len(entries), len(problems))
			}
			// Written back (Update), it is read again the same.
			if err := o.Update(entries[0]); err != nil {
				t.Fatal(err)
			}
			again, err := o.Get(fuzzEntryID)
			if err != nil {
				t.Fatalf("an accepted entry is unreadable once written back: %v", err)
			}
			b1, _ := json.Marshal(entries[0])
			b2, _ := json.Marshal(again)
			if !bytes.Equal(b1, b2) {
				t.Fatalf("written back differently:\n%s\n%s", b1, b2)
			}
			return
		}
		if len(entries) != 0 || len(problems) != 1 || problems[0].Original != name || problems[0].Err == nil {
			t.Fatalf("List of a corrupt file: %+v %+v", entries, problems)
		}
		moved, rerr := os.ReadFile(problems[0].File)
		if rerr != nil || !bytes.Equal(moved, data) {
			t.Fatalf("the corrupt file was not kept intact: %v", rerr)
		}
		if _, err := os.Stat(name); err == nil {
			t.Fatal("the corrupt file is still in place")
		}
		_ = problems[0].Error()
	})
}

// FuzzStoredValues feeds what is read back from the keyring and the config
// directory: an outbox entry's secret, the Infino refresh token record and
// the remembered Infino URL. None may panic; a secret that cannot be read is
// never quoted in the error; an accepted URL is a valid Infino URL.
func FuzzStoredValues(f *testing.F) {
	sec, _ := json.Marshal(MicrosoftSecret("0.AXoAv4j5cvGGr0GRqy180BHbR8", "11111111-2222-3333-4444-555555555555", "common", []string{"offline_access"}))
	f.Add(string(sec))
	sec, _ = json.Marshal(PasswordSecret("Tajne-Hasło-2026!"))
	f.Add(string(sec))
	f.Add(`{"refreshToken":"rt-abc.def"}`)
	f.Add(`{"refreshToken":""}`)
	f.Add(`{"infinoUrl":"https://kancelaria.infino.legal/"}`)
	f.Add(`{"infinoUrl":"http://kancelaria.infino.legal"}`)
	f.Add(`{"infinoUrl":"http://127.0.0.1:8080"}`)
	f.Add(`{"infinoUrl":" https://user:pw@x.pl "}`)
	f.Add(`{"type":"password","password":"Tajne-Hasło"`)
	f.Add(`"Tajne-Hasło"`)
	f.Fuzz(func(t *testing.T, v string) {
		ctx := context.Background()
		store := secrets.NewMemory()
		if err := store.Set(ctx, SecretKey(fuzzEntryID), v); err != nil {
			t.Fatal(err)
		}
		if err := store.Set(ctx, TokenKey("https://kancelaria.infino.legal"), v); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "infino.json"), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}

		o := NewOutbox(filepath.Join(dir, "outbox"), store, fuzzClock)
		if _, err := o.Secret(ctx, fuzzEntryID); err != nil && len(v) >= 4 && strings.Contains(err.Error(), v) {
			t.Fatalf("the stored secret is in the error: %v", err)
		}

		a := &Auth{BaseURL: "https://kancelaria.infino.legal", Store: store}
		st, err := a.load(ctx)
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		if st != nil && st.RefreshToken == "" {
			t.Fatal("loaded an empty refresh token")
		}

		s := NewService(Options{ConfigDir: dir, Store: store, Now: fuzzClock, HTTP: fuzzHTTP(500, nil)})
		u, fromPolicy, err := s.InfinoURL()
		if fromPolicy {
			t.Fatal("no policy here")
		}
		if err == nil && u != "" {
			if u2, err := CheckBaseURL(u); err != nil || u2 != u {
				t.Fatalf("remembered URL %q is not canonical: %q %v", u, u2, err)
			}
		}
	})
}
