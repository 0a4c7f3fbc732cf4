package discover_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/internal/discovertest"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/discover"
)

// The firm domain of most tests; it is not in the bundled table.
const (
	domain = "kancelaria-kowalski.pl"
	email  = "jan.kowalski@" + domain

	autoconfigURL  = "https://autoconfig." + domain + "/mail/config-v1.1.xml"
	wellKnownURL   = "https://" + domain + "/.well-known/autoconfig/mail/config-v1.1.xml"
	ispdbURL       = discover.ISPDBURL + domain
	httpAutoconfig = "http://autoconfig." + domain + "/mail/config-v1.1.xml"
)

type world struct {
	dns *discovertest.DNS
	web *discovertest.Web
}

func newWorld(t testing.TB) *world {
	return &world{dns: discovertest.NewDNS(t), web: discovertest.NewWeb(t)}
}

// opts points every edge at the world; the prober knows no server.
func (w *world) opts() discover.Options {
	return discover.Options{
		Resolver:   w.dns.Resolver(),
		HTTPClient: w.web.Client(),
		Prober:     discovertest.FakeProber(),
		Wait:       3 * time.Second,
	}
}

func fixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../testdata/autoconfig", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// hosterXML is a config file of a hoster the table does not know.
const hosterXML = `<?xml version="1.0"?>
<clientConfig version="1.1">
  <emailProvider id="hoster.example.pl">
    <domain>hoster.example.pl</domain>
    <incomingServer type="imap">
      <hostname>imap.hoster.example.pl</hostname><port>993</port><socketType>SSL</socketType>
      <authentication>password-cleartext</authentication><username>%EMAILADDRESS%</username>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.hoster.example.pl</hostname><port>465</port><socketType>SSL</socketType>
      <authentication>password-cleartext</authentication><username>%EMAILADDRESS%</username>
    </outgoingServer>
  </emailProvider>
</clientConfig>`

// variant is hosterXML with another incoming host, to tell sources apart.
func variant(name string) string {
	return strings.ReplaceAll(hosterXML, "imap.hoster.example.pl", name+".hoster.example.pl")
}

func discoverOK(t *testing.T, o discover.Options, addr string) discover.Result {
	t.Helper()
	r, err := discover.Discover(context.Background(), addr, o)
	if err != nil {
		t.Fatalf("Discover: %v\ntried:\n%s", err, tried(r))
	}
	if err := r.Settings.Validate(mailcfg.ValidateOptions{}); err != nil {
		t.Errorf("settings do not validate: %v", err)
	}
	return r
}

func tried(r discover.Result) string {
	var sb strings.Builder
	for _, a := range r.Tried {
		sb.WriteString("  " + a.String() + "\n")
	}
	return sb.String()
}

// wantNoneCut fails if the cap or a cancel, rather than the source itself,
// ended any attempt: the answer came as soon as every source had finished.
func wantNoneCut(t *testing.T, r discover.Result) {
	t.Helper()
	for _, a := range r.Tried {
		if strings.HasPrefix(a.Err, "no answer within") || a.Err == "cancelled" || a.Err == "running" {
			t.Errorf("%s was not finished by itself:\n%s", a.URL, tried(r))
			return
		}
	}
}

func wantServer(t *testing.T, side string, got mailcfg.Server, host string, port int, sec mailcfg.Security) {
	t.Helper()
	if got.Host != host || got.Port != port || got.Security != sec {
		t.Errorf("%s = %s:%d %s, want %s:%d %s", side, got.Host, got.Port, got.Security, host, port, sec)
	}
}

// Every network edge hangs and the cap is an hour: the bundled answer
// comes back at all only because it waits for nothing (its speed is
// measured in BenchmarkDiscoverBundled).
func TestBundledIsInstantAndOffline(t *testing.T) {
	w := newWorld(t)
	w.dns.DelayAll(discovertest.Forever)
	for _, u := range []string{autoconfigURL, wellKnownURL, ispdbURL, httpAutoconfig} {
		w.web.Handle(u, w.web.Hang())
	}
	o := w.opts()
	o.Wait = time.Hour
	r := discoverOK(t, o, "jan@wp.pl")
	if r.Settings.Source != mailcfg.SourceBundled || r.Provider == nil || r.Provider.ID != "wp.pl" {
		t.Fatalf("got %+v", r)
	}
	if q, req := w.dns.Queries(), w.web.Requests(); len(q)+len(req) > 0 {
		t.Errorf("bundled answer used the network: %v %v", q, req)
	}
	var got []discover.Result
	for r := range discover.Stream(context.Background(), "jan@wp.pl", w.opts()) {
		got = append(got, r)
	}
	if len(got) != 1 || got[0].Settings.Source != mailcfg.SourceBundled {
		t.Errorf("Stream gave %+v", got)
	}
}

func TestOfflineOption(t *testing.T) {
	w := newWorld(t)
	o := w.opts()
	o.Offline = true
	w.dns.SRV("_imaps._tcp", domain, 0, 0, 993, "imap.hoster.example.pl")
	if _, err := discover.Discover(context.Background(), email, o); !errors.Is(err, mailcfg.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if r := discoverOK(t, o, "jan@onet.pl"); r.Settings.Source != mailcfg.SourceBundled {
		t.Errorf("source %s", r.Settings.Source)
	}
	if q, req := w.dns.Queries(), w.web.Requests(); len(q)+len(req) > 0 {
		t.Errorf("offline used the network: %v %v", q, req)
	}
}

func TestBadAddress(t *testing.T) {
	_, err := discover.Discover(context.Background(), "jan.kowalski", discover.Options{Offline: true})
	var fe *mailcfg.FieldError
	if !errors.As(err, &fe) || fe.Field != "email" {
		t.Fatalf("err = %v, want a FieldError for email", err)
	}
	n := 0
	for range discover.Stream(context.Background(), "@", discover.Options{}) {
		n++
	}
	if n != 0 {
		t.Errorf("Stream of a bad address gave %d results", n)
	}
}

// Each source alone gives the right settings.
func TestEachSource(t *testing.T) {
	t.Run("autoconfig", func(t *testing.T) {
		w := newWorld(t)
		var query string
		w.web.Handle(autoconfigURL, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			query = r.URL.Query().Get("emailaddress")
			discovertest.XMLHandler(hosterXML).ServeHTTP(rw, r)
		}))
		r := discoverOK(t, w.opts(), email)
		if r.Settings.Source != mailcfg.SourceAutoconfig || r.Settings.LowTrust {
			t.Errorf("source %s lowTrust %v", r.Settings.Source, r.Settings.LowTrust)
		}
		wantServer(t, "incoming", r.Settings.Incoming, "imap.hoster.example.pl", 993, mailcfg.SecurityTLS)
		wantServer(t, "outgoing", r.Settings.Outgoing, "smtp.hoster.example.pl", 465, mailcfg.SecurityTLS)
		if r.Settings.Incoming.Username != email || r.Settings.Email != email {
			t.Errorf("username %q email %q", r.Settings.Incoming.Username, r.Settings.Email)
		}
		if query != email {
			t.Errorf("emailaddress query = %q", query)
		}
		for _, a := range r.Tried {
			if strings.Contains(a.URL, "@") || strings.Contains(a.URL, "?") {
				t.Errorf("attempt URL shows the address: %s", a.URL)
			}
		}
	})
	t.Run("well-known", func(t *testing.T) {
		w := newWorld(t)
		w.web.XML(wellKnownURL, hosterXML)
		r := discoverOK(t, w.opts(), email)
		if r.Settings.Source != mailcfg.SourceAutoconfig || r.Settings.LowTrust {
			t.Errorf("source %s lowTrust %v", r.Settings.Source, r.Settings.LowTrust)
		}
	})
	t.Run("ispdb", func(t *testing.T) {
		w := newWorld(t)
		w.web.XML(discover.ISPDBURL+"tlen.pl", fixture(t, "o2.pl.xml"))
		o := w.opts()
		o.Table = smallTable(t) // without o2.pl, so ISPDB is asked
		r := discoverOK(t, o, "Anna@tlen.pl")
		if r.Settings.Source != mailcfg.SourceISPDB {
			t.Errorf("source %s", r.Settings.Source)
		}
		wantServer(t, "incoming", r.Settings.Incoming, "poczta.o2.pl", 993, mailcfg.SecurityTLS)
		if r.Settings.Incoming.Username != "Anna" {
			t.Errorf("username %q, want the local part", r.Settings.Incoming.Username)
		}
	})
	t.Run("http autoconfig is low trust", func(t *testing.T) {
		w := newWorld(t)
		var query string
		w.web.Handle(httpAutoconfig, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			query = r.URL.RawQuery
			discovertest.XMLHandler(hosterXML).ServeHTTP(rw, r)
		}))
		r := discoverOK(t, w.opts(), email)
		if r.Settings.Source != mailcfg.SourceAutoconfig || !r.Settings.LowTrust {
			t.Errorf("source %s lowTrust %v", r.Settings.Source, r.Settings.LowTrust)
		}
		if query != "" {
			t.Errorf("the address went out over plain http: %q", query)
		}
	})
	t.Run("srv", func(t *testing.T) {
		w := newWorld(t)
		w.dns.SRV("_imap._tcp", domain, 0, 1, 143, "mail.hoster.example.pl")
		w.dns.SRV("_imaps._tcp", domain, 0, 1, 993, "mail.hoster.example.pl")
		w.dns.SRV("_pop3s._tcp", domain, 0, 1, 995, "mail.hoster.example.pl")
		w.dns.SRV("_submission._tcp", domain, 0, 1, 587, "smtp.hoster.example.pl")
		r := discoverOK(t, w.opts(), email)
		if r.Settings.Source != mailcfg.SourceSRV || r.Settings.LowTrust {
			t.Errorf("source %s lowTrust %v", r.Settings.Source, r.Settings.LowTrust)
		}
		wantServer(t, "incoming", r.Settings.Incoming, "mail.hoster.example.pl", 993, mailcfg.SecurityTLS)
		wantServer(t, "outgoing", r.Settings.Outgoing, "smtp.hoster.example.pl", 587, mailcfg.SecurityStartTLS)
		if r.Settings.Incoming.Username != email || r.Settings.Outgoing.Username != email {
			t.Errorf("usernames %q %q", r.Settings.Incoming.Username, r.Settings.Outgoing.Username)
		}
	})
	t.Run("srv not offered", func(t *testing.T) {
		w := newWorld(t)
		w.dns.SRV("_imaps._tcp", domain, 0, 0, 0, ".")
		w.dns.SRV("_imap._tcp", domain, 0, 1, 143, "mail.hoster.example.pl")
		w.dns.SRV("_submissions._tcp", domain, 0, 0, 0, ".")
		w.dns.SRV("_submission._tcp", domain, 0, 1, 587, "mail.hoster.example.pl")
		r := discoverOK(t, w.opts(), email)
		wantServer(t, "incoming", r.Settings.Incoming, "mail.hoster.example.pl", 143, mailcfg.SecurityStartTLS)
		wantServer(t, "outgoing", r.Settings.Outgoing, "mail.hoster.example.pl", 587, mailcfg.SecurityStartTLS)
	})
	t.Run("srv pop3 preferred", func(t *testing.T) {
		w := newWorld(t)
		w.dns.SRV("_imaps._tcp", domain, 0, 1, 993, "mail.hoster.example.pl")
		w.dns.SRV("_pop3._tcp", domain, 0, 1, 110, "pop.hoster.example.pl")
		w.dns.SRV("_submissions._tcp", domain, 0, 1, 465, "mail.hoster.example.pl")
		o := w.opts()
		o.Protocol = mailcfg.POP3
		r := discoverOK(t, o, email)
		if r.Settings.Incoming.Protocol != mailcfg.POP3 {
			t.Errorf("protocol %s", r.Settings.Incoming.Protocol)
		}
		wantServer(t, "incoming", r.Settings.Incoming, "pop.hoster.example.pl", 110, mailcfg.SecurityStartTLS)
	})
	t.Run("srv without submission", func(t *testing.T) {
		w := newWorld(t)
		w.dns.SRV("_imaps._tcp", domain, 0, 1, 993, "mail.hoster.example.pl")
		_, err := discover.Discover(context.Background(), email, w.opts())
		if !errors.Is(err, mailcfg.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("guess", func(t *testing.T) {
		w := newWorld(t)
		o := w.opts()
		o.Prober = discovertest.FakeProber("poczta."+domain+":993", "poczta."+domain+":143",
			"mail."+domain+":143", "smtp."+domain+":587", domain+":465")
		r := discoverOK(t, o, email)
		if r.Settings.Source != mailcfg.SourceGuess || !r.Settings.LowTrust {
			t.Errorf("source %s lowTrust %v", r.Settings.Source, r.Settings.LowTrust)
		}
		// Implicit TLS first, then host name order.
		wantServer(t, "incoming", r.Settings.Incoming, "poczta."+domain, 993, mailcfg.SecurityTLS)
		wantServer(t, "outgoing", r.Settings.Outgoing, domain, 465, mailcfg.SecurityTLS)
	})
}

// The MX path: the acceptance case for Microsoft 365 and the hosters.
func TestMX(t *testing.T) {
	t.Run("microsoft 365", func(t *testing.T) {
		w := newWorld(t)
		w.dns.MX(domain, 0, "kancelariakowalski-pl01i.mail.protection.outlook.com")
		r := discoverOK(t, w.opts(), email)
		if r.Settings.Source != mailcfg.SourceMX || r.Provider == nil || r.Provider.ID != "microsoft365" {
			t.Fatalf("source %s provider %+v", r.Settings.Source, r.Provider)
		}
		if r.Settings.Auth != mailcfg.AuthOAuth2 || r.Provider.OAuth != "microsoft" {
			t.Errorf("auth %s oauth %q, want oauth2 / microsoft", r.Settings.Auth, r.Provider.OAuth)
		}
		wantServer(t, "incoming", r.Settings.Incoming, "outlook.office365.com", 993, mailcfg.SecurityTLS)
		if r.Settings.Provider == nil || r.Settings.Provider.ID != "microsoft365" {
			t.Errorf("settings provider %+v", r.Settings.Provider)
		}
	})
	t.Run("google workspace", func(t *testing.T) {
		w := newWorld(t)
		w.dns.MX(domain, 1, "aspmx.l.google.com")
		w.dns.MX(domain, 5, "alt1.aspmx.l.google.com")
		r := discoverOK(t, w.opts(), email)
		if r.Provider == nil || r.Provider.ID != "google-workspace" || r.Settings.Auth != mailcfg.AuthPassword {
			t.Fatalf("provider %+v auth %s", r.Provider, r.Settings.Auth)
		}
		if r.Provider.Help.IsZero() {
			t.Error("no app-password help")
		}
	})
	t.Run("home.pl names servers after the domain", func(t *testing.T) {
		w := newWorld(t)
		w.dns.MX(domain, 10, "mx.s123.home.pl")
		r := discoverOK(t, w.opts(), email)
		if r.Provider == nil || r.Provider.ID != "home.pl" {
			t.Fatalf("provider %+v", r.Provider)
		}
		wantServer(t, "incoming", r.Settings.Incoming, domain, 993, mailcfg.SecurityTLS)
	})
	t.Run("lowest preference first", func(t *testing.T) {
		w := newWorld(t)
		w.dns.MX(domain, 20, "mx.s123.home.pl")
		w.dns.MX(domain, 10, "kancelaria.mail.protection.outlook.com")
		r := discoverOK(t, w.opts(), email)
		if r.Provider == nil || r.Provider.ID != "microsoft365" {
			t.Fatalf("provider %+v", r.Provider)
		}
	})
	t.Run("hoster autoconfig", func(t *testing.T) {
		w := newWorld(t)
		w.dns.MX(domain, 10, "mx1.example-hoster.pl")
		w.web.XML("https://autoconfig.example-hoster.pl/mail/config-v1.1.xml", fixture(t, "emaildomain-hosts.xml"))
		r := discoverOK(t, w.opts(), email)
		if r.Settings.Source != mailcfg.SourceMX || r.Provider != nil || r.Settings.LowTrust {
			t.Fatalf("source %s provider %+v lowTrust %v", r.Settings.Source, r.Provider, r.Settings.LowTrust)
		}
		wantServer(t, "incoming", r.Settings.Incoming, "mail."+domain, 993, mailcfg.SecurityTLS)
	})
	t.Run("ispdb for the MX sub-domain before the base domain", func(t *testing.T) {
		w := newWorld(t)
		w.dns.MX(domain, 10, "in1.mx.example-cloud.com")
		w.web.XML(discover.ISPDBURL+"mx.example-cloud.com", variant("sub"))
		w.web.Handle(discover.ISPDBURL+"example-cloud.com", discovertest.XMLHandler(variant("base")))
		r := discoverOK(t, w.opts(), email)
		if r.Settings.Source != mailcfg.SourceMX || r.Settings.Incoming.Host != "sub.hoster.example.pl" {
			t.Fatalf("source %s incoming %s", r.Settings.Source, r.Settings.Incoming.Host)
		}
	})
	t.Run("null MX", func(t *testing.T) {
		w := newWorld(t)
		w.dns.MX(domain, 0, ".")
		r, err := discover.Discover(context.Background(), email, w.opts())
		if !errors.Is(err, mailcfg.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
		if !strings.Contains(tried(r), "null MX") {
			t.Errorf("report does not say null MX:\n%s", tried(r))
		}
	})
	t.Run("own mail server", func(t *testing.T) {
		w := newWorld(t)
		w.dns.MX(domain, 10, "mail."+domain)
		if _, err := discover.Discover(context.Background(), email, w.opts()); !errors.Is(err, mailcfg.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
		for _, u := range w.web.Requests() {
			if strings.Contains(u, "v1.1/"+domain) && !strings.HasSuffix(u, "/v1.1/"+domain) {
				t.Errorf("asked %s", u)
			}
		}
	})
}

// A file whose servers are a bundled provider's gets that provider, and
// its sign-in.
func TestAutoconfigMapsToProvider(t *testing.T) {
	w := newWorld(t)
	w.web.XML(autoconfigURL, fixture(t, "office365.xml"))
	r := discoverOK(t, w.opts(), email)
	if r.Provider == nil || r.Provider.ID != "microsoft365" || r.Settings.Auth != mailcfg.AuthOAuth2 {
		t.Fatalf("provider %+v auth %s", r.Provider, r.Settings.Auth)
	}
	if r.Settings.Source != mailcfg.SourceAutoconfig {
		t.Errorf("source %s", r.Settings.Source)
	}
}

// OAuth2-only servers of an issuer the app does not know are useless.
func TestOAuthOnlyUnknownProvider(t *testing.T) {
	w := newWorld(t)
	w.web.XML(autoconfigURL, strings.ReplaceAll(hosterXML, "password-cleartext", "OAuth2"))
	w.web.XML(ispdbURL, variant("ispdb"))
	r := discoverOK(t, w.opts(), email)
	if r.Settings.Source != mailcfg.SourceISPDB {
		t.Fatalf("source %s\n%s", r.Settings.Source, tried(r))
	}
}

// Priority holds when a lower source answers first, and Stream shows each
// improvement in turn.
func TestPriority(t *testing.T) {
	w := newWorld(t)
	w.dns.SRV("_imaps._tcp", domain, 0, 1, 993, "srv.hoster.example.pl")
	w.dns.SRV("_submissions._tcp", domain, 0, 1, 465, "smtp.hoster.example.pl")
	w.web.XML(httpAutoconfig, variant("http"))
	w.web.Handle(ispdbURL, discovertest.Delayed(150*time.Millisecond, discovertest.XMLHandler(variant("ispdb"))))
	w.web.Handle(autoconfigURL, discovertest.Delayed(300*time.Millisecond, discovertest.XMLHandler(variant("autoconfig"))))

	r := discoverOK(t, w.opts(), email)
	if r.Settings.Incoming.Host != "autoconfig.hoster.example.pl" || r.Settings.Source != mailcfg.SourceAutoconfig || r.Settings.LowTrust {
		t.Fatalf("Discover picked %s (%s)\n%s", r.Settings.Incoming.Host, r.Settings.Source, tried(r))
	}

	var hosts []string
	for r := range discover.Stream(context.Background(), email, w.opts()) {
		hosts = append(hosts, strings.TrimSuffix(r.Settings.Incoming.Host, ".hoster.example.pl"))
	}
	// The http file and SRV answer at once (in either order; SRV is
	// better), then ISPDB, then the provider's own file.
	if len(hosts) < 3 || hosts[len(hosts)-2] != "ispdb" || hosts[len(hosts)-1] != "autoconfig" {
		t.Fatalf("Stream gave %v", hosts)
	}
	if i := slices.Index(hosts, "http"); i > 0 {
		t.Errorf("low-trust http answer came after a better one: %v", hosts)
	}
}

// A hanging source does not delay the answer past the cap: the cap, not
// the source's own fetch timeout, cuts it, and the lower answer is used.
func TestHangingSourceIsCapped(t *testing.T) {
	w := newWorld(t)
	w.web.Handle(autoconfigURL, w.web.Hang())
	w.web.XML(ispdbURL, variant("ispdb"))
	o := w.opts()
	o.Wait = 500 * time.Millisecond
	start := time.Now()
	r := discoverOK(t, o, email)
	d := time.Since(start)
	if r.Settings.Source != mailcfg.SourceISPDB {
		t.Errorf("source %s", r.Settings.Source)
	}
	// A timer never fires early, so this bound is exact: the better source
	// was waited for up to the cap.
	if d < o.Wait {
		t.Errorf("took %v, less than the %v cap: the hanging source was not waited for", d, o.Wait)
	}
	cut := false
	for _, a := range r.Tried {
		if a.URL == autoconfigURL {
			cut = a.Err == "no answer within 500ms"
		}
	}
	if !cut {
		t.Errorf("the hanging source was not cut by the cap:\n%s", tried(r))
	}
}

// Acceptance: every network source hangs and Discover still returns
// within the default 4 s.
func TestEverythingHangs(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.dns.DelayAll(discovertest.Forever)
	for _, u := range []string{autoconfigURL, wellKnownURL, ispdbURL, httpAutoconfig, adURL, adRootURL, adHTTPURL} {
		w.web.Handle(u, w.web.Hang())
	}
	o := w.opts()
	o.Wait = 0 // the default
	o.Prober = func(ctx context.Context, _ string, _ int, _ mailcfg.Security) error {
		<-ctx.Done()
		return ctx.Err()
	}
	r, err := discover.Discover(context.Background(), email, o)
	if !errors.Is(err, mailcfg.ErrNotFound) {
		t.Errorf("err = %v", err)
	}
	// Each source's own timeout (5 s) is longer than the cap, so a source
	// reported as cut at 4 s was cut by the cap.
	hung := 0
	for _, a := range r.Tried {
		if strings.HasPrefix(a.Err, "no answer within 4s") {
			hung++
		}
	}
	if hung != 4+1+6+4 { // four URLs, MX, six SRV services, Autodiscover's three URLs and SRV
		t.Errorf("%d sources hung, want 15:\n%s", hung, tried(r))
	}
}

// Offline (no DNS, no route): bundled or not found as soon as every source
// has failed on its own, never by waiting for the cap.
func TestNoNetworkIsFast(t *testing.T) {
	o := discover.Options{
		Resolver:   discovertest.OfflineResolver(),
		HTTPClient: discovertest.OfflineClient(),
		Dialer:     discovertest.OfflineDialer{}, // the real prober, over a dead network
		Wait:       time.Minute,
	}
	r, err := discover.Discover(context.Background(), email, o)
	if !errors.Is(err, mailcfg.ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
	wantNoneCut(t, r)
	sources := map[mailcfg.Source]bool{}
	for _, a := range r.Tried {
		sources[a.Source] = true
		if a.OK {
			t.Errorf("attempt ok offline: %v", a)
		}
	}
	for _, s := range []mailcfg.Source{mailcfg.SourceBundled, mailcfg.SourceAutoconfig, mailcfg.SourceISPDB, mailcfg.SourceMX, mailcfg.SourceSRV, mailcfg.SourceGuess} {
		if !sources[s] {
			t.Errorf("no attempt for %s:\n%s", s, tried(r))
		}
	}
	if r, err := discover.Discover(context.Background(), "jan@interia.pl", o); err != nil || r.Settings.Source != mailcfg.SourceBundled {
		t.Errorf("bundled offline: %v %v", r.Settings.Source, err)
	}
}

// Malformed XML, a 50 MB response and a redirect loop are each handled,
// and the SRV answer below them wins quickly.
func TestHostileResponses(t *testing.T) {
	w := newWorld(t)
	w.web.XML(autoconfigURL, `<clientConfig><emailProvider id="x"><incomingServer type="imap"><hostname>`)
	w.web.Handle(wellKnownURL, discovertest.Redirect(wellKnownURL))
	w.web.Handle(ispdbURL, discovertest.Huge(50<<20))
	w.web.Handle(httpAutoconfig, discovertest.Redirect("http://autoconfig."+domain+"/loop"))
	w.web.Handle("http://autoconfig."+domain+"/loop", discovertest.Redirect(httpAutoconfig))
	w.dns.SRV("_imaps._tcp", domain, 0, 1, 993, "mail.hoster.example.pl")
	w.dns.SRV("_submissions._tcp", domain, 0, 1, 465, "mail.hoster.example.pl")
	o := w.opts()
	o.Wait = time.Minute
	r := discoverOK(t, o, email)
	if r.Settings.Source != mailcfg.SourceSRV {
		t.Errorf("source %s", r.Settings.Source)
	}
	wantNoneCut(t, r) // each hostile answer failed by itself, without the cap
	report := tried(r)
	for _, want := range []string{"XML syntax error", "redirects", "larger than"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
}

// An https fetch never follows a redirect to http.
func TestHTTPSDowngradeRefused(t *testing.T) {
	w := newWorld(t)
	w.web.Handle(autoconfigURL, discovertest.Redirect("http://evil.example.net/config.xml"))
	w.web.XML("http://evil.example.net/config.xml", hosterXML)
	r, err := discover.Discover(context.Background(), email, w.opts())
	if err == nil {
		t.Fatalf("used %+v", r.Settings)
	}
	if !strings.Contains(tried(r), "redirect from https to http refused") {
		t.Errorf("report:\n%s", tried(r))
	}
	if slices.Contains(w.web.Requests(), "http://evil.example.net/config.xml") {
		t.Error("the http URL was fetched")
	}
}

// Allowed filters answers and guesses.
func TestAllowed(t *testing.T) {
	w := newWorld(t)
	w.dns.MX(domain, 10, "kancelaria.mail.protection.outlook.com")
	w.web.XML(ispdbURL, variant("ispdb"))
	o := w.opts()
	o.Allowed = func(h string) bool { return !strings.HasSuffix(h, "office365.com") }
	r := discoverOK(t, o, email)
	if r.Settings.Source != mailcfg.SourceISPDB {
		t.Errorf("source %s", r.Settings.Source)
	}
	if r, _ := discover.Discover(context.Background(), "jan@onet.pl", discover.Options{Offline: true, Allowed: func(string) bool { return false }}); r.Settings.Source != "" {
		t.Errorf("bundled answer not filtered: %+v", r.Settings)
	}
}

func TestCancel(t *testing.T) {
	w := newWorld(t)
	w.dns.DelayAll(discovertest.Forever)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(200*time.Millisecond, cancel)
	o := w.opts()
	o.Wait = time.Hour // only the cancel can end it
	r, err := discover.Discover(ctx, email, o)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v\n%s", err, tried(r))
	}
	if !strings.Contains(tried(r), "cancelled") {
		t.Errorf("no source shows the cancel:\n%s", tried(r))
	}
	// Stream closes when its context ends.
	ctx2, cancel2 := context.WithCancel(context.Background())
	ch := discover.Stream(ctx2, email, w.opts())
	cancel2()
	select {
	case <-ch:
	case <-time.After(20 * time.Second): // a hang, not a speed, bound
		t.Error("Stream did not close after cancel")
	}
}

// Nothing anywhere: not found quickly, with every source in the report.
func TestNotFound(t *testing.T) {
	w := newWorld(t)
	o := w.opts()
	o.Wait = time.Minute
	r, err := discover.Discover(context.Background(), email, o)
	if !errors.Is(err, mailcfg.ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
	wantNoneCut(t, r)
	if len(r.Tried) < 10 {
		t.Errorf("report too short:\n%s", tried(r))
	}
}

func smallTable(t testing.TB) *mailcfg.Table {
	t.Helper()
	tbl, err := mailcfg.ParseTable([]byte(`{"version": 1, "providers": [{
		"id": "wp.pl", "name": "WP", "domains": ["wp.pl"], "mx": [],
		"incoming": [{"protocol": "imap", "host": "imap.wp.pl", "port": 993, "security": "tls", "username": "localpart"}],
		"outgoing": [{"protocol": "smtp", "host": "smtp.wp.pl", "port": 465, "security": "tls", "username": "localpart"}],
		"oauth": "", "help": {"pl": "x", "en": "x"}, "helpUrl": "", "sources": ["test"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}
