package discover_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"unicode"

	"infino.legal/mailbox/internal/discovertest"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/discover"
)

const (
	adURL     = "https://autodiscover." + domain + "/autodiscover/autodiscover.xml"
	adRootURL = "https://" + domain + "/autodiscover/autodiscover.xml"
	adHTTPURL = "http://autodiscover." + domain + "/autodiscover/autodiscover.xml"
	// A hosted Exchange outside the firm's domain.
	hostedAD = "https://autodiscover.exchange-hosting.example.com/autodiscover/autodiscover.xml"
)

// poxAnswer is an on-premises Exchange's answer with IMAP, POP3 and SMTP
// enabled next to Exchange's own protocols (the shape of Microsoft's
// documented example, with the namespaces real servers send).
func poxAnswer(host string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <User><DisplayName>Jan Kowalski</DisplayName></User>
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <Protocol>
        <Type>EXCH</Type><Server>` + host + `</Server>
        <EwsUrl>https://` + host + `/EWS/Exchange.asmx</EwsUrl>
      </Protocol>
      <Protocol>
        <Type>POP3</Type><Server>` + host + `</Server><Port>995</Port><LoginName>KANCELARIA\jkowalski</LoginName><SSL>on</SSL><SPA>off</SPA>
      </Protocol>
      <Protocol>
        <Type>IMAP</Type><Server>` + host + `</Server><Port>143</Port><LoginName>KANCELARIA\jkowalski</LoginName><SSL>on</SSL><SPA>off</SPA>
      </Protocol>
      <Protocol>
        <Type>IMAP</Type><Server>` + host + `</Server><Port>993</Port><LoginName>KANCELARIA\jkowalski</LoginName><SSL>on</SSL><SPA>off</SPA>
      </Protocol>
      <Protocol>
        <Type>SMTP</Type><Server>` + host + `</Server><Port>587</Port><LoginName>KANCELARIA\jkowalski</LoginName><SSL>on</SSL><Encryption>TLS</Encryption><SPA>off</SPA>
      </Protocol>
    </Account>
  </Response>
</Autodiscover>`
}

// ewsOnly is an Exchange that offers mail apps nothing but EWS and OWA.
const ewsOnly = `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account>
      <AccountType>email</AccountType><Action>settings</Action>
      <Protocol><Type>EXCH</Type><Server>ex01.` + domain + `</Server><EwsUrl>https://mail.` + domain + `/EWS/Exchange.asmx</EwsUrl></Protocol>
      <Protocol><Type>EXPR</Type><Server>mail.` + domain + `</Server></Protocol>
      <Protocol Type="WEB"><Internal><OWAUrl AuthenticationMethod="Fba">https://mail.` + domain + `/owa/</OWAUrl></Internal></Protocol>
    </Account>
  </Response>
</Autodiscover>`

func redirectURLAnswer(target string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account><Action>redirectUrl</Action><RedirectUrl>` + target + `</RedirectUrl></Account>
  </Response>
</Autodiscover>`
}

// exchange is an Autodiscover stand-in: it records each request and
// answers with body, or 401 until the right Basic credentials come.
type exchange struct {
	body     string
	password string // non-empty: 401 without these credentials

	mu   sync.Mutex
	reqs []adRequest
}

type adRequest struct {
	method, scheme, auth, body string
}

func (x *exchange) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	x.mu.Lock()
	x.reqs = append(x.reqs, adRequest{r.Method, scheme, r.Header.Get("Authorization"), string(b)})
	x.mu.Unlock()
	if r.Method != http.MethodPost {
		http.Error(rw, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if x.password != "" {
		if u, p, ok := r.BasicAuth(); !ok || u != email || p != x.password {
			rw.Header().Set("WWW-Authenticate", `Basic realm="autodiscover"`)
			http.Error(rw, "unauthorised", http.StatusUnauthorized)
			return
		}
	}
	rw.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = io.WriteString(rw, x.body)
}

func (x *exchange) requests() []adRequest {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]adRequest(nil), x.reqs...)
}

func TestAutodiscoverPOX(t *testing.T) {
	w := newWorld(t)
	x := &exchange{body: poxAnswer("mail." + domain)}
	w.web.Handle(adURL, x)
	r := discoverOK(t, w.opts(), email)
	s := r.Settings
	if s.Source != mailcfg.SourceAutodiscover || s.LowTrust || s.Auth != mailcfg.AuthPassword {
		t.Errorf("source %s lowTrust %v auth %s", s.Source, s.LowTrust, s.Auth)
	}
	// Implicit TLS is preferred over the STARTTLS block listed first; 587
	// is STARTTLS whatever the block says.
	wantServer(t, "incoming", s.Incoming, "mail."+domain, 993, mailcfg.SecurityTLS)
	wantServer(t, "outgoing", s.Outgoing, "mail."+domain, 587, mailcfg.SecurityStartTLS)
	if s.Incoming.Username != `KANCELARIA\jkowalski` || s.Outgoing.Username != `KANCELARIA\jkowalski` || s.Email != email {
		t.Errorf("login names %q/%q, email %q", s.Incoming.Username, s.Outgoing.Username, s.Email)
	}
	reqs := x.requests()
	if len(reqs) != 1 || reqs[0].method != http.MethodPost || reqs[0].scheme != "https" || reqs[0].auth != "" ||
		!strings.Contains(reqs[0].body, "<EMailAddress>"+email+"</EMailAddress>") ||
		!strings.Contains(reqs[0].body, "outlook/responseschema/2006a") {
		t.Errorf("requests %+v", reqs)
	}

	// POP3 asked for: the POP3 block.
	o := w.opts()
	o.Protocol = mailcfg.POP3
	r = discoverOK(t, o, email)
	wantServer(t, "incoming", r.Settings.Incoming, "mail."+domain, 995, mailcfg.SecurityTLS)
}

// The password goes out only when the caller has it, only over https,
// and only after the server refused the request without it.
func TestAutodiscoverPassword(t *testing.T) {
	w := newWorld(t)
	x := &exchange{body: poxAnswer("mail." + domain), password: "tajne-hasło"}
	w.web.Handle(adURL, x)
	plain := &exchange{}
	w.web.Handle(adHTTPURL, plain)

	var notes []discover.Note
	o := w.opts()
	o.OnNote = func(n discover.Note) { notes = append(notes, n) }
	r, err := discover.Discover(context.Background(), email, o)
	if !errors.Is(err, mailcfg.ErrNotFound) || r.Note != discover.NoteAutodiscoverPassword {
		t.Fatalf("without a password: err %v note %q\n%s", err, r.Note, tried(r))
	}
	if len(notes) != 1 || notes[0] != discover.NoteAutodiscoverPassword {
		t.Errorf("OnNote got %v", notes)
	}
	for _, lang := range []string{"pl", "en"} {
		if r.Note.Message().In(lang) == "" {
			t.Errorf("no %s message for %s", lang, r.Note)
		}
	}
	for _, q := range x.requests() {
		if q.auth != "" {
			t.Errorf("a credential was sent without a password given: %+v", q)
		}
	}

	o.Password = "tajne-hasło"
	r = discoverOK(t, o, email)
	if r.Settings.Source != mailcfg.SourceAutodiscover {
		t.Fatalf("with the password: %+v", r.Settings)
	}
	reqs := x.requests()
	last := reqs[len(reqs)-1]
	if !strings.HasPrefix(last.auth, "Basic ") || last.scheme != "https" {
		t.Errorf("signed-in request %+v", last)
	}
	if reqs[len(reqs)-2].auth != "" {
		t.Errorf("the password went out before the server asked for it")
	}
	for _, q := range plain.requests() {
		if q.auth != "" || q.body != "" || q.method != http.MethodGet {
			t.Errorf("plain http got more than a bare GET: %+v", q)
		}
	}
	// A refused password: the report says so and carries neither the
	// password nor its Basic encoding.
	o.Password = "zle-haslo-123"
	r, err = discover.Discover(context.Background(), email, o)
	report := tried(r)
	if err == nil || !strings.Contains(report, "refused the password") {
		t.Errorf("wrong password: err %v\n%s", err, report)
	}
	basic := base64.StdEncoding.EncodeToString([]byte(email + ":" + o.Password))
	if strings.Contains(report, o.Password) || strings.Contains(report, basic) || strings.Contains(fmt.Sprint(err), o.Password) {
		t.Errorf("the password is in the report:\n%s", report)
	}
}

// A redirect to another domain is followed only with the person's consent;
// one to Microsoft's own hosts needs none.
func TestAutodiscoverRedirectNeedsConsent(t *testing.T) {
	setup := func(t *testing.T) (*world, *exchange) {
		w := newWorld(t)
		w.web.XML(adURL, redirectURLAnswer(hostedAD))
		hosted := &exchange{body: poxAnswer("mail.exchange-hosting.example.com")}
		w.web.Handle(hostedAD, hosted)
		return w, hosted
	}
	t.Run("no one to ask", func(t *testing.T) {
		w, hosted := setup(t)
		r, err := discover.Discover(context.Background(), email, w.opts())
		if !errors.Is(err, mailcfg.ErrNotFound) {
			t.Fatalf("err %v, settings %+v", err, r.Settings)
		}
		if n := len(hosted.requests()); n != 0 {
			t.Errorf("the other domain was asked %d times without consent", n)
		}
	})
	t.Run("refused", func(t *testing.T) {
		w, hosted := setup(t)
		o := w.opts()
		var asked []string
		o.ConfirmRedirect = func(_ context.Context, d, host string) bool {
			asked = append(asked, d+" → "+host)
			return false
		}
		if _, err := discover.Discover(context.Background(), email, o); !errors.Is(err, mailcfg.ErrNotFound) {
			t.Fatalf("err %v", err)
		}
		if len(asked) != 1 || asked[0] != domain+" → autodiscover.exchange-hosting.example.com" {
			t.Errorf("asked %v", asked)
		}
		if n := len(hosted.requests()); n != 0 {
			t.Errorf("the other domain was asked %d times after a no", n)
		}
	})
	t.Run("confirmed", func(t *testing.T) {
		w, hosted := setup(t)
		o := w.opts()
		o.ConfirmRedirect = func(context.Context, string, string) bool { return true }
		r := discoverOK(t, o, email)
		wantServer(t, "incoming", r.Settings.Incoming, "mail.exchange-hosting.example.com", 993, mailcfg.SecurityTLS)
		if n := len(hosted.requests()); n != 1 {
			t.Errorf("hosted Exchange asked %d times", n)
		}
	})
	t.Run("not asked when a better source answers", func(t *testing.T) {
		w, _ := setup(t)
		w.web.XML(autoconfigURL, hosterXML)
		o := w.opts()
		o.ConfirmRedirect = func(context.Context, string, string) bool {
			t.Error("asked although the provider's autoconfig answered")
			return false
		}
		if r := discoverOK(t, o, email); r.Settings.Source != mailcfg.SourceAutoconfig {
			t.Errorf("source %s", r.Settings.Source)
		}
	})
	t.Run("microsoft needs no consent", func(t *testing.T) {
		w := newWorld(t)
		ms := "https://autodiscover-s.outlook.com/autodiscover/autodiscover.xml"
		w.web.XML(adURL, redirectURLAnswer(ms))
		w.web.Handle(ms, &exchange{body: poxAnswer("outlook.office365.com")})
		r := discoverOK(t, w.opts(), email)
		if r.Settings.Incoming.Host != "outlook.office365.com" || r.Settings.Auth != mailcfg.AuthOAuth2 ||
			r.Provider == nil || r.Provider.OAuth != "microsoft" {
			t.Errorf("got %+v, provider %v", r.Settings, r.Provider)
		}
	})
}

// The plain-http host only gives a redirect: to https within the domain it
// is followed, to http never.
func TestAutodiscoverHTTPRedirect(t *testing.T) {
	w := newWorld(t)
	target := "https://mail." + domain + "/autodiscover/autodiscover.xml"
	w.web.Handle(adHTTPURL, discovertest.Redirect(target))
	x := &exchange{body: poxAnswer("mail." + domain)}
	w.web.Handle(target, x)
	r := discoverOK(t, w.opts(), email)
	if r.Settings.Source != mailcfg.SourceAutodiscover || len(x.requests()) != 1 {
		t.Fatalf("got %+v, %d requests\n%s", r.Settings, len(x.requests()), tried(r))
	}

	w2 := newWorld(t)
	w2.web.Handle(adHTTPURL, discovertest.Redirect("http://mail."+domain+"/autodiscover/autodiscover.xml"))
	plainTarget := &exchange{body: poxAnswer("mail." + domain)}
	w2.web.Handle("http://mail."+domain+"/autodiscover/autodiscover.xml", plainTarget)
	if _, err := discover.Discover(context.Background(), email, w2.opts()); !errors.Is(err, mailcfg.ErrNotFound) {
		t.Errorf("an http redirect target was used: %v", err)
	}
	if n := len(plainTarget.requests()); n != 0 {
		t.Errorf("the address went out over http %d times", n)
	}
}

// The SRV record's host is another domain: asked only with consent.
func TestAutodiscoverSRV(t *testing.T) {
	w := newWorld(t)
	w.dns.SRV("_autodiscover._tcp", domain, 0, 0, 443, "autodiscover.exchange-hosting.example.com")
	w.web.Handle(hostedAD, &exchange{body: poxAnswer("mail.exchange-hosting.example.com")})
	o := w.opts()
	var asked []string
	o.ConfirmRedirect = func(_ context.Context, _, host string) bool {
		asked = append(asked, host)
		return true
	}
	r := discoverOK(t, o, email)
	if r.Settings.Incoming.Host != "mail.exchange-hosting.example.com" || len(asked) != 1 {
		t.Errorf("got %+v, asked %v", r.Settings.Incoming, asked)
	}
}

func TestAutodiscoverExchangeOnly(t *testing.T) {
	w := newWorld(t)
	w.web.XML(adRootURL, ewsOnly)
	var got discover.Note
	o := w.opts()
	o.OnNote = func(n discover.Note) { got = n }
	r, err := discover.Discover(context.Background(), email, o)
	if !errors.Is(err, mailcfg.ErrNotFound) || r.Note != discover.NoteExchangeOnly || got != discover.NoteExchangeOnly {
		t.Fatalf("err %v note %q/%q\n%s", err, r.Note, got, tried(r))
	}
	pl, en := r.Note.Message().In("pl"), r.Note.Message().In("en")
	if !strings.Contains(pl, "IMAP") || !strings.Contains(pl, "Zaloguj przez Microsoft") ||
		!strings.Contains(en, "IMAP") || !strings.Contains(en, "Sign in with Microsoft") {
		t.Errorf("message pl %q en %q", pl, en)
	}
}

// Broken and hostile answers cost nothing but the source.
func TestAutodiscoverHostile(t *testing.T) {
	for name, h := range map[string]http.Handler{
		"html":          discovertest.XMLHandler("<html><body>Welcome to our website</body></html>"),
		"huge":          discovertest.Huge(8 << 20),
		"not xml":       discovertest.XMLHandler("\x00\x01garbage"),
		"plain only":    discovertest.XMLHandler(strings.ReplaceAll(poxAnswer("mail."+domain), "<SSL>on</SSL>", "<SSL>off</SSL>")),
		"loopback":      discovertest.XMLHandler(poxAnswer("127.0.0.1")),
		"redirect loop": discovertest.XMLHandler(redirectURLAnswer(adURL)),
		"server error":  discovertest.XMLHandler(`<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response><Error Time="1" Id="2"><ErrorCode>600</ErrorCode><Message>Invalid Request</Message></Error></Response></Autodiscover>`),
	} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			w.web.Handle(adURL, h)
			r, err := discover.Discover(context.Background(), email, w.opts())
			if !errors.Is(err, mailcfg.ErrNotFound) {
				t.Errorf("err %v, settings %+v", err, r.Settings)
			}
		})
	}
}

func TestParseAutodiscover(t *testing.T) {
	a, err := discover.ParseAutodiscover([]byte(poxAnswer("mail.example.pl")))
	if err != nil {
		t.Fatal(err)
	}
	if a.Action != "settings" || len(a.Protocols) != 5 || a.Protocols[0].Type != "EXCH" {
		t.Errorf("%+v", a)
	}
	// The newer form names the type in an attribute.
	a, err = discover.ParseAutodiscover([]byte(ewsOnly))
	if err != nil || len(a.Protocols) != 3 || a.Protocols[2].Type != "WEB" {
		t.Errorf("%+v %v", a, err)
	}
	addr, _ := mailcfg.ParseAddress("jan@example.pl")
	if _, err := a.Settings(addr, addr, ""); !errors.Is(err, discover.ErrExchangeOnly) {
		t.Errorf("EWS only: %v", err)
	}
	spa := strings.ReplaceAll(poxAnswer("mail.example.pl"), "<SPA>off</SPA>", "<SPA>on</SPA>")
	a, _ = discover.ParseAutodiscover([]byte(spa))
	if _, err := a.Settings(addr, addr, ""); !errors.Is(err, discover.ErrExchangeOnly) {
		t.Errorf("SPA (NTLM) blocks must not be used: %v", err)
	}
	// The server's error text reaches the report and a terminal as one line.
	a, err = discover.ParseAutodiscover([]byte(`<Autodiscover><Response><Error><ErrorCode>600</ErrorCode><Message>Invalid&#10;[ok] fake line&#13;&#x9B;2J</Message></Error></Response></Autodiscover>`))
	if err != nil || strings.ContainsFunc(a.ErrorMessage, unicode.IsControl) {
		t.Errorf("error message %q, %v", a.ErrorMessage, err)
	}
	for _, bad := range []string{"", "<clientConfig/>", strings.Repeat(" ", discover.MaxAutodiscoverSize+1)} {
		if _, err := discover.ParseAutodiscover([]byte(bad)); err == nil {
			t.Errorf("accepted %.40q", bad)
		}
	}
}

// Through a Stream the consent question and the note reach the reader as
// results of their own (the window asks the person and shows the note).
func TestAutodiscoverThroughStream(t *testing.T) {
	for _, yes := range []bool{true, false} {
		w := newWorld(t)
		w.web.XML(adURL, redirectURLAnswer(hostedAD))
		hosted := &exchange{body: poxAnswer("mail.exchange-hosting.example.com")}
		w.web.Handle(hostedAD, hosted)
		var settings []mailcfg.Settings
		asked := 0
		for r := range discover.Stream(context.Background(), email, w.opts()) {
			switch {
			case r.Question != nil:
				asked++
				if r.Question.Domain != domain || r.Question.Host != "autodiscover.exchange-hosting.example.com" || r.Settings.Email != "" {
					t.Errorf("question %+v", r)
				}
				r.Question.Answer(yes)
				r.Question.Answer(!yes) // only the first answer counts
			case r.Settings.Email != "":
				settings = append(settings, r.Settings)
			}
		}
		if asked != 1 {
			t.Errorf("asked %d times", asked)
		}
		if yes && (len(settings) != 1 || settings[0].Incoming.Host != "mail.exchange-hosting.example.com") {
			t.Errorf("consent given: %+v", settings)
		}
		if !yes && (len(settings) != 0 || len(hosted.requests()) != 0) {
			t.Errorf("consent refused: %+v, %d requests", settings, len(hosted.requests()))
		}
	}

	w := newWorld(t)
	w.web.XML(adURL, ewsOnly)
	var notes []discover.Note
	for r := range discover.Stream(context.Background(), email, w.opts()) {
		if r.Note != "" && r.Settings.Email == "" {
			notes = append(notes, r.Note)
		}
	}
	if len(notes) != 1 || notes[0] != discover.NoteExchangeOnly {
		t.Errorf("notes %v", notes)
	}
}

// Where a redirect may lead: the host is compared, asked about and
// connected to in its normalised A-label form; address literals and local
// hosts are never asked; URL userinfo is dropped; a domain that is itself a
// public suffix has no "own" subdomains.
func TestAutodiscoverRedirectTargets(t *testing.T) {
	const path = "/autodiscover/autodiscover.xml"
	// Cyrillic "а" in place of the Latin "a" of the firm's domain.
	lookalike := "autodiscover.k\u0430ncelaria-kowalski.pl"
	for _, c := range []struct {
		name     string
		redirect string // RedirectUrl in the firm's answer
		asked    string // the one host the person is asked about ("" none)
		served   string // URL that answers with settings, if any
		found    bool
	}{
		{name: "look-alike shown as its xn-- name", redirect: "https://" + lookalike + path,
			asked: "autodiscover.xn--kncelaria-kowalski-rwo.pl"},
		{name: "trailing dot is the firm's own host", redirect: "https://mail." + domain + "." + path,
			served: "https://mail." + domain + path, found: true},
		{name: "upper case is the firm's own host", redirect: "https://MAIL." + strings.ToUpper(domain) + path,
			served: "https://mail." + domain + path, found: true},
		{name: "userinfo names the firm, the host is foreign", redirect: "https://autodiscover." + domain + "@evil.example.net" + path,
			asked: "evil.example.net"},
		{name: "loopback", redirect: "https://127.0.0.1" + path},
		{name: "IPv6 loopback", redirect: "https://[::1]" + path},
		{name: "private address", redirect: "https://10.1.2.3" + path},
		{name: "localhost", redirect: "https://localhost" + path},
		{name: "microsoft trailing dot", redirect: "https://autodiscover-s.outlook.com." + path,
			served: "https://autodiscover-s.outlook.com" + path, found: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			w.web.XML(adURL, redirectURLAnswer(c.redirect))
			var x *exchange
			if c.served != "" {
				x = &exchange{body: poxAnswer("mail." + domain)}
				w.web.Handle(c.served, x)
			}
			o := w.opts()
			var asked []string
			o.ConfirmRedirect = func(_ context.Context, _, host string) bool {
				asked = append(asked, host)
				return false
			}
			r, err := discover.Discover(context.Background(), email, o)
			if c.found != (err == nil) {
				t.Fatalf("err %v, settings %+v\n%s", err, r.Settings, tried(r))
			}
			if strings.Join(asked, ",") != c.asked {
				t.Errorf("asked about %q, want %q", asked, c.asked)
			}
			if x != nil && len(x.requests()) > 0 && x.requests()[0].auth != "" {
				t.Errorf("credentials sent from the URL: %q", x.requests()[0].auth)
			}
			for _, u := range w.web.Requests() {
				if !strings.Contains(u, domain) && !strings.Contains(u, "outlook.com") {
					t.Errorf("asked %s", u)
				}
			}
		})
	}
	// Userinfo naming someone else on the firm's own host is dropped, not
	// sent as Basic credentials.
	t.Run("userinfo dropped", func(t *testing.T) {
		w := newWorld(t)
		w.web.XML(adURL, redirectURLAnswer("https://evil.example.net:secret@mail."+domain+path))
		x := &exchange{body: poxAnswer("mail." + domain)}
		w.web.Handle("https://mail."+domain+path, x)
		discoverOK(t, w.opts(), email)
		if reqs := x.requests(); len(reqs) != 1 || reqs[0].auth != "" {
			t.Errorf("requests %+v", reqs)
		}
	})
	// An address at a public suffix: another name under that suffix is
	// someone else's.
	t.Run("public suffix domain", func(t *testing.T) {
		w := newWorld(t)
		w.web.XML("https://autodiscover.com.pl"+path, redirectURLAnswer("https://evil.com.pl"+path))
		w.web.Handle("https://evil.com.pl"+path, &exchange{body: poxAnswer("mail.evil.com.pl")})
		o := w.opts()
		var asked []string
		o.ConfirmRedirect = func(_ context.Context, _, host string) bool {
			asked = append(asked, host)
			return false
		}
		if r, err := discover.Discover(context.Background(), "jan@com.pl", o); err == nil {
			t.Errorf("followed without consent: %+v", r.Settings)
		}
		if len(asked) != 1 || asked[0] != "evil.com.pl" {
			t.Errorf("asked %v", asked)
		}
	})
}

// An SRV record pointing at a loopback or address literal is never asked.
func TestAutodiscoverSRVLoopback(t *testing.T) {
	w := newWorld(t)
	w.dns.SRV("_autodiscover._tcp", domain, 0, 0, 443, "localhost")
	o := w.opts()
	o.ConfirmRedirect = func(_ context.Context, _, host string) bool {
		t.Errorf("asked about %s", host)
		return true
	}
	if _, err := discover.Discover(context.Background(), email, o); err == nil {
		t.Error("found settings")
	}
}
