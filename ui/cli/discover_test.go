package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"infino.legal/mailbox/internal/discovertest"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/discover"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/world"
)

// runWith runs "discover" with the network edges from opt.
func runWith(t *testing.T, opt discover.Options, lang string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &errb, Lang: lang, Getenv: func(string) string { return "" },
		World: &world.World{Discover: opt}}
	code = Main(context.Background(), env, append([]string{"discover"}, args...))
	return code, out.String(), errb.String()
}

// deadNetwork fails every DNS query, HTTP request and probe at once.
func deadNetwork() discover.Options {
	return discover.Options{
		Resolver:   discovertest.OfflineResolver(),
		HTTPClient: discovertest.OfflineClient(),
		Dialer:     discovertest.OfflineDialer{},
	}
}

func TestDiscoverOffline(t *testing.T) {
	code, out, _ := runWith(t, deadNetwork(), "en", "--offline", "jan@wp.pl")
	if code != ExitOK || !strings.Contains(out, "Source:    bundled") || !strings.Contains(out, "imap.wp.pl:993") {
		t.Errorf("code %d\n%s", code, out)
	}
	if strings.Contains(out, "Warning") {
		t.Errorf("bundled settings carry a warning:\n%s", out)
	}
	code, _, errOut := runWith(t, deadNetwork(), "en", "--offline", "jan@kancelaria-kowalski.pl")
	if code != ExitFailed || !strings.Contains(errOut, mailcfg.NotFoundMessage.EN) {
		t.Errorf("unknown domain offline: code %d %q", code, errOut)
	}
}

func TestDiscoverBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"jan.kowalski"},
		{"jan@"},
		{},
		{"a@b.pl", "c@d.pl"},
		{"--timeout", "0s", "jan@wp.pl"},
		{"--timeout", "soon", "jan@wp.pl"},
	} {
		if code, _, _ := runWith(t, deadNetwork(), "en", args...); code != ExitUsage {
			t.Errorf("%q: code %d, want %d", args, code, ExitUsage)
		}
	}
}

// Acceptance through the command line: a firm domain at Microsoft 365.
func TestDiscoverMicrosoft365ByMX(t *testing.T) {
	dns := discovertest.NewDNS(t)
	web := discovertest.NewWeb(t)
	dns.MX("kancelaria-kowalski.pl", 0, "kancelariakowalski-pl01i.mail.protection.outlook.com")
	opt := discover.Options{Resolver: dns.Resolver(), HTTPClient: web.Client(), Prober: discovertest.FakeProber()}
	code, out, errOut := runWith(t, opt, "en", "jan@kancelaria-kowalski.pl", "--json")
	if code != ExitOK {
		t.Fatalf("code %d: %s", code, errOut)
	}
	var s mailcfg.Settings
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	if s.Auth != mailcfg.AuthOAuth2 || s.Source != mailcfg.SourceMX || s.Provider == nil || s.Provider.ID != "microsoft365" {
		t.Errorf("%+v", s)
	}
}

func TestDiscoverSRVHuman(t *testing.T) {
	dns := discovertest.NewDNS(t)
	web := discovertest.NewWeb(t)
	dns.SRV("_imaps._tcp", "kancelaria-kowalski.pl", 0, 1, 993, "mail.hoster.example.pl")
	dns.SRV("_submission._tcp", "kancelaria-kowalski.pl", 0, 1, 587, "mail.hoster.example.pl")
	opt := discover.Options{Resolver: dns.Resolver(), HTTPClient: web.Client(), Prober: discovertest.FakeProber()}
	code, out, errOut := runWith(t, opt, "pl", "--verbose", "jan@kancelaria-kowalski.pl")
	if code != ExitOK {
		t.Fatalf("code %d: %s", code, errOut)
	}
	for _, want := range []string{"IMAP mail.hoster.example.pl:993 TLS", "SMTP mail.hoster.example.pl:587 STARTTLS", "Source:    srv (rekordy SRV"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "_imaps._tcp.kancelaria-kowalski.pl") {
		t.Errorf("--verbose does not list the SRV query:\n%s", errOut)
	}
}

// Guessed settings are low trust and say so, in both languages.
func TestDiscoverGuessWarns(t *testing.T) {
	dns := discovertest.NewDNS(t)
	web := discovertest.NewWeb(t)
	opt := discover.Options{Resolver: dns.Resolver(), HTTPClient: web.Client(),
		Prober: discovertest.FakeProber("imap.kancelaria-kowalski.pl:993", "smtp.kancelaria-kowalski.pl:465")}
	for lang, want := range map[string]string{"en": lowTrustWarning.EN, "pl": lowTrustWarning.PL} {
		code, out, errOut := runWith(t, opt, lang, "jan@kancelaria-kowalski.pl")
		if code != ExitOK {
			t.Fatalf("code %d: %s", code, errOut)
		}
		if !strings.Contains(out, want) || !strings.Contains(out, "Source:    guess") {
			t.Errorf("%s output:\n%s", lang, out)
		}
	}
	code, out, _ := runWith(t, opt, "en", "--json", "jan@kancelaria-kowalski.pl")
	if code != ExitOK || !strings.Contains(out, `"lowTrust": true`) {
		t.Errorf("JSON lacks lowTrust:\n%s", out)
	}
}

// No network at all: not found as soon as every source has failed, without
// waiting for the --timeout cap.
func TestDiscoverDeadNetwork(t *testing.T) {
	code, _, errOut := runWith(t, deadNetwork(), "en", "--verbose", "--timeout", "1m", "jan@kancelaria-kowalski.pl")
	if code != ExitFailed || !strings.Contains(errOut, mailcfg.NotFoundMessage.EN) {
		t.Errorf("code %d %q", code, errOut)
	}
	if strings.Contains(errOut, "no answer within") {
		t.Errorf("a source on a dead network waited for the cap:\n%s", errOut)
	}
}

// --timeout caps a hanging network: the sources are cut at the given time,
// not at the default 4 s nor at their own 5 s limits.
func TestDiscoverTimeout(t *testing.T) {
	dns := discovertest.NewDNS(t)
	dns.DelayAll(discovertest.Forever)
	web := discovertest.NewWeb(t)
	opt := discover.Options{Resolver: dns.Resolver(), HTTPClient: web.Client(), Prober: discovertest.FakeProber()}
	code, _, errOut := runWith(t, opt, "en", "--verbose", "--timeout", "300ms", "jan@kancelaria-kowalski.pl")
	if code != ExitFailed {
		t.Errorf("code %d", code)
	}
	if !strings.Contains(errOut, "no answer within 300ms") {
		t.Errorf("--timeout did not cut the hanging sources:\n%s", errOut)
	}
}

// Without a test override, discover uses the policy's HTTP client and CAs;
// a broken CA file is reported once on stderr, naming the file, and the
// client (with the proxy IT set) stays.
func TestDiscoverOptionsFromPolicy(t *testing.T) {
	t.Parallel()
	var errb bytes.Buffer
	env := &Env{Stdout: &errb, Stderr: &errb, Lang: "en", World: &world.World{Policy: policy.Default()}}
	o := env.World.DiscoverOptions(false)
	env.net()
	if o.HTTPClient == nil || errb.Len() > 0 {
		t.Errorf("default policy: client %v, stderr %q", o.HTTPClient, errb.String())
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	pol := policy.Default()
	pol.ExtraCAFile = missing
	env = &Env{Stdout: &errb, Stderr: &errb, Lang: "en", World: &world.World{Policy: pol}}
	o = env.World.DiscoverOptions(false)
	env.net()
	env.net()
	if o.HTTPClient == nil || strings.Count(errb.String(), missing) != 1 {
		t.Errorf("broken CA file: client %v, stderr %q", o.HTTPClient, errb.String())
	}
}

// An Exchange that offers only EWS: the command says IT must turn IMAP on
// (or Microsoft sign-in), in both languages, and fails.
func TestDiscoverExchangeOnly(t *testing.T) {
	dns := discovertest.NewDNS(t)
	web := discovertest.NewWeb(t)
	web.XML("https://autodiscover.kancelaria-kowalski.pl/autodiscover/autodiscover.xml", `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account><Action>settings</Action><Protocol><Type>EXCH</Type><Server>ex01.kancelaria-kowalski.pl</Server></Protocol></Account>
  </Response>
</Autodiscover>`)
	opt := discover.Options{Resolver: dns.Resolver(), HTTPClient: web.Client(), Prober: discovertest.FakeProber()}
	for lang, want := range map[string]string{"pl": "Poproś dział IT o włączenie IMAP", "en": "Ask your IT department to turn on IMAP"} {
		code, _, errOut := runWith(t, opt, lang, "jan@kancelaria-kowalski.pl")
		if code != ExitFailed || !strings.Contains(errOut, want) {
			t.Errorf("%s: code %d %q", lang, code, errOut)
		}
	}
}

// The firm's servers preset by IT answer for the firm's domain, before and
// instead of any discovery, and say where they come from.
func TestDiscoverFirmPreset(t *testing.T) {
	dns := discovertest.NewDNS(t)
	web := discovertest.NewWeb(t)
	web.XML("https://autoconfig.kancelaria-kowalski.pl/mail/config-v1.1.xml", `<clientConfig version="1.1"><emailProvider id="x"><domain>kancelaria-kowalski.pl</domain>
<incomingServer type="imap"><hostname>imap.elsewhere.example</hostname><port>993</port><socketType>SSL</socketType></incomingServer>
<outgoingServer type="smtp"><hostname>smtp.elsewhere.example</hostname><port>465</port><socketType>SSL</socketType></outgoingServer></emailProvider></clientConfig>`)
	dns.MX("kancelaria-kowalski.pl", 0, "kancelariakowalski-pl01i.mail.protection.outlook.com")
	opt := discover.Options{Resolver: dns.Resolver(), HTTPClient: web.Client(), Prober: discovertest.FakeProber()}
	pol := policy.Default()
	if err := pol.Set("test", map[string]any{
		"firmProvider.domains":  []any{"kancelaria-kowalski.pl"},
		"firmProvider.incoming": []any{"imaps://poczta.kancelaria-kowalski.pl"},
		"firmProvider.outgoing": []any{"submission://poczta.kancelaria-kowalski.pl"},
		"firmProvider.help.en":  "Ask IT at extension 123.",
		"lockServerSettings":    true,
	}); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &errb, Lang: "en", Getenv: func(string) string { return "" },
		World: &world.World{Discover: opt, Policy: pol}}
	if code := Main(context.Background(), env, []string{"discover", "jan@kancelaria-kowalski.pl"}); code != ExitOK {
		t.Fatalf("code %d: %s", code, errb.String())
	}
	for _, want := range []string{"IMAP poczta.kancelaria-kowalski.pl:993 TLS", "SMTP poczta.kancelaria-kowalski.pl:587 STARTTLS",
		"Source:    policy (the firm's servers, preset by IT)", "Help:      Ask IT at extension 123."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if q, r := dns.Queries(), web.Requests(); len(q)+len(r) > 0 {
		t.Errorf("the preset domain still asked the network: %v %v", q, r)
	}
	if !pol.FirmServersLocked() {
		t.Error("not locked")
	}
}

// IT's locked servers hold on the command line too: settings for a preset
// domain that name other servers are refused before anything is dialled.
func TestVerifyRefusesChangedLockedServers(t *testing.T) {
	pol := policy.Default()
	if err := pol.Set("test", map[string]any{
		"firmProvider.domains":  []any{"kancelaria-kowalski.pl"},
		"firmProvider.incoming": []any{"imaps://poczta.kancelaria-kowalski.pl"},
		"firmProvider.outgoing": []any{"submission://poczta.kancelaria-kowalski.pl"},
		"lockServerSettings":    true,
	}); err != nil {
		t.Fatal(err)
	}
	s := mailcfg.Settings{Email: "jan@kancelaria-kowalski.pl", Auth: mailcfg.AuthPassword,
		Incoming: mailcfg.Server{Protocol: mailcfg.IMAP, Host: "imap.elsewhere.example", Port: 993, Security: mailcfg.SecurityTLS, Username: "jan@kancelaria-kowalski.pl"},
		Outgoing: mailcfg.Server{Protocol: mailcfg.SMTP, Host: "poczta.kancelaria-kowalski.pl", Port: 587, Security: mailcfg.SecurityStartTLS, Username: "jan@kancelaria-kowalski.pl"}}
	for _, cmd := range []string{"verify", "submit"} {
		var out, errb bytes.Buffer
		env := &Env{Stdin: strings.NewReader("secret\n"), Stdout: &out, Stderr: &errb, Lang: "pl", Getenv: func(string) string { return "" },
			World: &world.World{Policy: pol}}
		code := Main(context.Background(), env, []string{cmd, "--password-stdin", writeSettings(t, s)})
		if code != ExitUsage || !strings.Contains(errb.String(), "incoming.host") || !strings.Contains(errb.String(), "Dział IT kancelarii ustalił serwery") ||
			strings.Contains(errb.String(), "outgoing.") {
			t.Errorf("%s: code %d: %s", cmd, code, errb.String())
		}
	}
}
