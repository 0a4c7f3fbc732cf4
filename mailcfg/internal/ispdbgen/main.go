// Command ispdbgen turns the ISPDB extract (every domain of Thunderbird's
// ISPDB, one CSV row per domain) into the provider table the app carries for
// offline autofill (mailcfg/ispdb_gen.json), plus the list of servers each
// domain may autofill to, which the tests check the merged table against
// (mailcfg/testdata/ispdb_expect.txt).
//
// Only servers a password or Microsoft sign-in can use over TLS or STARTTLS
// are kept; a domain with no such incoming or no such SMTP server is left
// out. A domain whose mailbox takes only Microsoft sign-in and whose SMTP
// server only a password (mit.edu) gets Microsoft sign-in, which the
// mailbox needs, with ISPDB's SMTP servers and a help text saying so. Every entry carries its ISPDB file and commit as its source. Run it
// with go generate in mailcfg (see ispdb.go). The entries are mailcfg's own
// Provider and ServerTemplate values, so the table's schema is defined once.
package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/microsoft"
)

func main() {
	in := flag.String("csv", "mailcfg/internal/ispdbgen/ispdb-full.csv", "the ISPDB extract (relative paths: from the current directory)")
	out := flag.String("out", "mailcfg/ispdb_gen.json", "the generated provider table")
	expect := flag.String("expect", "mailcfg/testdata/ispdb_expect.txt", "the servers each domain may autofill to, for the tests")
	commit := flag.String("commit", "c6ad796", "the ISPDB commit the extract was taken from")
	flag.Parse()
	f, err := os.Open(*in)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	rows, err := readRows(f)
	if err != nil {
		log.Fatal(err)
	}
	table, exp, stats := generate(rows, *commit)
	if err := os.WriteFile(*out, table, 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*expect, exp, 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("ispdbgen: %d rows, %d domains with TLS servers, %d domains in %d entries; left out: %s",
		stats.rows, stats.tlsDomains, stats.domains, stats.entries, stats.skipped)
}

// row is one CSV line: a domain and its file's servers.
type row struct {
	domain, file, id, name string
	incoming, outgoing     []server
	docs, enable           []string
}

// server is one "type:host:port:socket:auth|auth:username" field.
type server struct {
	typ, host, socket, username string
	port                        int
	auth                        []string
}

func readRows(r io.Reader) ([]row, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 9
	head, err := cr.Read()
	if err != nil {
		return nil, err
	}
	if head[0] != "domain" || head[1] != "source_file" {
		return nil, fmt.Errorf("unexpected header %q", head)
	}
	var rows []row
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		in, err := parseServers(rec[4])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rec[0], err)
		}
		out, err := parseServers(rec[5])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rec[0], err)
		}
		rows = append(rows, row{
			domain: strings.ToLower(strings.TrimSpace(rec[0])), file: rec[1], id: rec[2], name: rec[3],
			incoming: in, outgoing: out, docs: strings.Fields(rec[7]), enable: strings.Fields(rec[8]),
		})
	}
}

func parseServers(field string) ([]server, error) {
	var list []server
	for _, f := range strings.Fields(field) {
		p := strings.Split(f, ":")
		if len(p) != 6 {
			return nil, fmt.Errorf("server %q: want 6 fields", f)
		}
		s := server{typ: p[0], host: strings.ToLower(p[1]), socket: p[3], username: p[5]}
		if p[4] != "" {
			s.auth = strings.Split(p[4], "|")
		}
		if p[2] != "" {
			n, err := strconv.Atoi(p[2])
			if err != nil {
				return nil, fmt.Errorf("server %q: port: %w", f, err)
			}
			s.port = n
		}
		list = append(list, s)
	}
	return list, nil
}

// Help texts. ISPDB says nothing a person can act on beyond its links, so
// the text says where the settings come from and what usually goes wrong.
var (
	helpGeneric = mailcfg.Text{
		PL: "Ustawienia pochodzą z publicznej bazy dostawców Thunderbirda (ISPDB). Jeśli logowanie zostanie odrzucone, sprawdź w ustawieniach poczty u dostawcy, czy dostęp dla programów pocztowych (IMAP/POP3 i SMTP) jest włączony i czy nie trzeba użyć hasła aplikacji.",
		EN: "These settings come from Thunderbird's public provider database (ISPDB). If the sign-in is refused, check your provider's mail settings: access for mail apps (IMAP/POP3 and SMTP) may need turning on, or an app password may be required.",
	}
	helpEnable = mailcfg.Text{
		PL: "Według bazy dostawców Thunderbirda (ISPDB) ten dostawca wymaga najpierw włączenia dostępu dla programów pocztowych – zrób to na stronie pomocy dostawcy, a potem wróć tutaj.",
		EN: "According to Thunderbird's provider database (ISPDB), this provider needs access for mail apps turned on first – do that on the provider's help page, then come back here.",
	}
	// helpMixed: the mailbox takes only Microsoft sign-in, the provider's
	// outgoing server only a password; the account has one sign-in, and
	// Microsoft sign-in gives the app Microsoft's own SMTP server.
	helpMixed = mailcfg.Text{
		PL: "Według bazy dostawców Thunderbirda (ISPDB) skrzynka działa w Microsoft 365 i przyjmuje tylko logowanie przez Microsoft, a serwer wysyłający dostawcy – tylko nazwę użytkownika i hasło. Kliknij „Zaloguj przez Microsoft”: do wysyłania aplikacja użyje wtedy serwera Microsoftu. Jeśli sprawdzenie wysyłania się nie uda, zapytaj dział IT, czy wysyłanie przez Microsoft 365 (SMTP) jest dla Ciebie włączone.",
		EN: "According to Thunderbird's provider database (ISPDB), this mailbox is in Microsoft 365 and accepts only Microsoft sign-in, while the provider's outgoing server accepts only a user name and password. Click “Sign in with Microsoft”: the app then sends through Microsoft's server. If the check of sending fails, ask your IT department whether sending through Microsoft 365 (SMTP) is enabled for you.",
	}
	helpMicrosoft = mailcfg.Text{
		PL: "Ta skrzynka działa u Microsoftu, który przyjmuje tylko logowanie przez Microsoft: kliknij „Zaloguj przez Microsoft” i zaloguj się na stronie Microsoftu.",
		EN: "This mailbox is hosted by Microsoft, which accepts only Microsoft sign-in: click “Sign in with Microsoft” and sign in on Microsoft's page.",
	}
)

// microsoftHosts are the servers whose OAuth2 the app can do (Microsoft
// sign-in); OAuth2 on any other host is of no use to it.
var microsoftHosts = map[string]bool{
	microsoft.IMAPHost: true, microsoft.SMTPWorkHost: true, microsoft.SMTPPersonalHost: true,
}

// usernameForm maps ISPDB's username to the table's forms ("%EMAILADDRESS"
// without its closing % is an upstream typo for the address).
func usernameForm(u string) (mailcfg.UsernameForm, bool) {
	switch u {
	case "%EMAILADDRESS%", "%EMAILADDRESS", "":
		return mailcfg.UsernameAddress, true
	case "%EMAILLOCALPART%":
		return mailcfg.UsernameLocalPart, true
	case "%EMAILLOCALPART%.%EMAILDOMAIN%":
		return mailcfg.UsernameLocalDotDomain, true
	}
	return "", false
}

// socketSecurity maps ISPDB's encrypted socket types; the plain one is
// never kept.
var socketSecurity = map[string]mailcfg.Security{"SSL": mailcfg.SecurityTLS, "STARTTLS": mailcfg.SecurityStartTLS}

// keep turns an ISPDB server into a template if the app may use it: the
// right protocol, TLS or STARTTLS, a real port and host, and a password or
// Microsoft sign-in. oauth reports a server that takes only Microsoft's.
func keep(s server, incoming bool) (t mailcfg.ServerTemplate, oauth bool, ok bool) {
	switch {
	case incoming && s.typ != "imap" && s.typ != "pop3":
		return t, false, false
	case !incoming && s.typ != "smtp":
		return t, false, false
	}
	sec, ok := socketSecurity[s.socket]
	if !ok {
		return t, false, false
	}
	if s.port < 1 || s.port > 65535 || s.host == "" {
		return t, false, false
	}
	host := s.host
	if strings.Contains(strings.ReplaceAll(host, "%emaildomain%", ""), "%") {
		return t, false, false
	}
	host = strings.ReplaceAll(host, "%emaildomain%", "%EMAILDOMAIN%")
	user, ok := usernameForm(s.username)
	if !ok {
		return t, false, false
	}
	password, ms := len(s.auth) == 0, false
	for _, a := range s.auth {
		switch a {
		case "password-cleartext", "password-encrypted":
			password = true
		case "OAuth2":
			ms = microsoftHosts[host]
		}
	}
	if !password && !ms {
		return t, false, false
	}
	return mailcfg.ServerTemplate{Protocol: mailcfg.Protocol(s.typ), Host: host, Port: s.port, Security: sec, Username: user}, !password, true
}

// encrypted lists a row's TLS or STARTTLS servers of one side, whatever
// their sign-in, as "protocol:host:port:security:username" with the
// domain filled in: what an autofill for the domain may give.
func encrypted(r row, incoming bool) []string {
	var out []string
	for _, s := range list(r, incoming) {
		if (incoming && s.typ != "imap" && s.typ != "pop3") || (!incoming && s.typ != "smtp") {
			continue
		}
		sec, ok := socketSecurity[s.socket]
		if !ok || s.host == "" || s.port == 0 {
			continue
		}
		user, ok := usernameForm(s.username)
		if !ok {
			user = "other"
		}
		host := strings.ReplaceAll(s.host, "%emaildomain%", r.domain)
		out = append(out, fmt.Sprintf("%s:%s:%d:%s:%s", s.typ, host, s.port, sec, user))
	}
	return out
}

func list(r row, incoming bool) []server {
	if incoming {
		return r.incoming
	}
	return r.outgoing
}

type stats struct {
	rows, tlsDomains, domains, entries int
	skipped                            string
}

func generate(rows []row, commit string) (tableJSON, expect []byte, st stats) {
	st.rows = len(rows)
	var order []string
	byFile := map[string]*mailcfg.Provider{}
	seen := map[string]bool{}
	var exp bytes.Buffer
	exp.WriteString("# Generated by mailcfg/internal/ispdbgen from the ISPDB extract @" + commit + "; do not edit.\n")
	exp.WriteString("# domain<TAB>incoming servers<TAB>outgoing servers (protocol:host:port:security:username), every encrypted one ISPDB lists\n")
	var noTLS, unusable []string
	for _, r := range rows {
		if seen[r.domain] {
			continue
		}
		seen[r.domain] = true
		in, out := encrypted(r, true), encrypted(r, false)
		if len(in) == 0 || len(out) == 0 {
			noTLS = append(noTLS, r.domain)
			continue
		}
		st.tlsDomains++
		fmt.Fprintf(&exp, "%s\t%s\t%s\n", r.domain, strings.Join(in, " "), strings.Join(out, " "))
		p := byFile[r.file]
		if p == nil {
			var err error
			p, err = entry(r, commit)
			if err != nil {
				unusable = append(unusable, r.domain+" ("+err.Error()+")")
				continue
			}
			byFile[r.file] = p
			order = append(order, r.file)
		}
		p.Domains = append(p.Domains, r.domain)
		st.domains++
	}
	t := mailcfg.Table{Version: 1}
	for _, f := range order {
		t.Providers = append(t.Providers, byFile[f])
	}
	sort.SliceStable(t.Providers, func(i, j int) bool { return t.Providers[i].ID < t.Providers[j].ID })
	st.entries = len(t.Providers)
	st.skipped = fmt.Sprintf("%d without an encrypted incoming and SMTP server, %d unusable %v", len(noTLS), len(unusable), unusable)
	// One entry per line: small diffs when ISPDB changes.
	var b bytes.Buffer
	b.WriteString("{\"version\": 1, \"providers\": [\n")
	for i, p := range t.Providers {
		line, err := json.Marshal(p)
		if err != nil {
			log.Fatal(err)
		}
		b.Write(line)
		if i < len(t.Providers)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]}\n")
	return b.Bytes(), exp.Bytes(), st
}

// entry builds the provider entry of a row's file from its servers.
func entry(r row, commit string) (*mailcfg.Provider, error) {
	p := &mailcfg.Provider{
		ID: mailcfg.ISPDBPrefix + strings.TrimSuffix(r.file, ".xml"), Name: r.name, Domains: []string{}, MX: []string{},
		Sources: []string{fmt.Sprintf("Thunderbird ISPDB %s @%s (MPL 2.0)", r.file, commit)},
	}
	if p.Name == "" {
		p.Name = r.id
	}
	// A server that takes only Microsoft sign-in is used only when every
	// server of the entry does: the table has one sign-in per provider.
	type kept struct {
		t     mailcfg.ServerTemplate
		oauth bool
	}
	var in, out []kept
	for _, side := range []bool{true, false} {
		for _, s := range list(r, side) {
			if t, oauth, ok := keep(s, side); ok {
				if side {
					in = append(in, kept{t, oauth})
				} else {
					out = append(out, kept{t, oauth})
				}
			}
		}
	}
	pick := func(l []kept, oauth bool) []mailcfg.ServerTemplate {
		var ts []mailcfg.ServerTemplate
		for _, k := range l {
			if k.oauth == oauth {
				ts = append(ts, k.t)
			}
		}
		return ts
	}
	oauthOnly, mixed := false, false
	p.Incoming, p.Outgoing = pick(in, false), pick(out, false)
	if len(p.Incoming) == 0 || len(p.Outgoing) == 0 {
		oauthOnly = true
		p.Incoming, p.Outgoing = pick(in, true), pick(out, true)
	}
	if len(p.Incoming) == 0 || len(p.Outgoing) == 0 {
		// The mailbox takes only Microsoft sign-in, the SMTP server only a
		// password: the mailbox decides, and ISPDB's SMTP servers stay in
		// the table (Microsoft sign-in itself brings Microsoft's SMTP).
		mixed = true
		p.Incoming, p.Outgoing = pick(in, true), pick(out, false)
	}
	if len(p.Incoming) == 0 || len(p.Outgoing) == 0 {
		return nil, errors.New("no server a password or Microsoft sign-in can use")
	}
	switch {
	case mixed:
		p.OAuth = "microsoft"
		p.Help = helpMixed
	case oauthOnly:
		p.OAuth = "microsoft"
		p.Help = helpMicrosoft
	case len(r.enable) > 0:
		p.Help = helpEnable
	default:
		p.Help = helpGeneric
	}
	// The window opens the help link: https only.
	for _, u := range append(append([]string{}, r.enable...), r.docs...) {
		if pu, err := url.Parse(u); err == nil && pu.Scheme == "https" && pu.Host != "" {
			if p.HelpURL == "" {
				p.HelpURL = u
			}
		}
	}
	p.Sources = append(p.Sources, r.docs...)
	return p, nil
}
