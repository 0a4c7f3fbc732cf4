package mailcfg

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// readISPDBExpect reads the committed list of every ISPDB domain with an
// encrypted incoming and outgoing server, and those servers.
func readISPDBExpect(t *testing.T) map[string][2][]string {
	t.Helper()
	f, err := os.Open("testdata/ispdb_expect.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][2][]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("bad line %q", line)
		}
		out[f[0]] = [2][]string{strings.Fields(f[1]), strings.Fields(f[2])}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func serverKey(s Server) string {
	return string(s.Protocol) + ":" + s.Host + ":" + itoa(s.Port) + ":" + string(s.Security)
}

func itoa(n int) string { return strconv.Itoa(n) }

// Every ISPDB domain whose servers offer TLS autofills offline, from the
// generated table or the hand-researched one, to one of the servers ISPDB
// lists for it; an entry from ISPDB also keeps ISPDB's user name form.
func TestEveryISPDBDomainAutofillsOffline(t *testing.T) {
	exp := readISPDBExpect(t)
	if len(exp) < 850 {
		t.Fatalf("only %d ISPDB domains with TLS servers in the expectations", len(exp))
	}
	tb := Bundled()
	fromISPDB, fromHand := 0, 0
	for d, want := range exp {
		for _, proto := range []Protocol{IMAP, POP3} {
			s, err := tb.Autofill("jan@"+d, proto)
			if err != nil {
				t.Errorf("%s: %v", d, err)
				break
			}
			in, out := serverKey(s.Incoming), serverKey(s.Outgoing)
			inOK, outOK := false, false
			for _, w := range want[0] {
				inOK = inOK || strings.HasPrefix(w, in+":")
			}
			for _, w := range want[1] {
				outOK = outOK || strings.HasPrefix(w, out+":")
			}
			if !inOK || !outOK {
				t.Errorf("%s (%s): autofilled %s / %s, ISPDB lists %v / %v", d, proto, in, out, want[0], want[1])
				continue
			}
			if err := s.Validate(ValidateOptions{}); err != nil {
				t.Errorf("%s: %v", d, err)
			}
			if proto != IMAP {
				continue
			}
			if !strings.HasPrefix(s.Provider.ID, ISPDBPrefix) {
				fromHand++
				continue
			}
			fromISPDB++
			// The generated entry keeps ISPDB's user name form.
			wantUser := map[string]string{
				"address": "jan@" + d, "localpart": "jan", "localpart.domain": "jan." + d,
			}
			for _, w := range want[0] {
				if strings.HasPrefix(w, in+":") {
					form := w[strings.LastIndex(w, ":")+1:]
					if s.Incoming.Username != wantUser[form] {
						t.Errorf("%s: user name %q, ISPDB says %s", d, s.Incoming.Username, form)
					}
					break
				}
			}
		}
	}
	t.Logf("%d ISPDB domains: %d from the generated table, %d from the hand-researched one",
		len(exp), fromISPDB, fromHand)
}

// mit.edu's mailbox (Microsoft 365) takes only Microsoft sign-in and its
// SMTP server only a password: it autofills to ISPDB's servers with
// Microsoft sign-in, which the mailbox needs, and its help says that the
// outgoing server wants another sign-in, in both languages.
func TestMixedSignInAutofills(t *testing.T) {
	s, err := Bundled().Autofill("jan@mit.edu", IMAP)
	if err != nil {
		t.Fatal(err)
	}
	if s.Auth != AuthOAuth2 || s.Incoming.Host != "outlook.office365.com" || s.Incoming.Port != 993 || s.Incoming.Security != SecurityTLS ||
		s.Outgoing.Host != "outgoing.mit.edu" || s.Outgoing.Port != 465 || s.Outgoing.Security != SecurityTLS || s.Outgoing.Username != "jan" {
		t.Errorf("mit.edu: %+v", s)
	}
	p := Bundled().ByDomain("mit.edu")
	if p == nil || p.OAuth != "microsoft" || !strings.Contains(p.Help.PL, "Zaloguj przez Microsoft") || !strings.Contains(p.Help.EN, "Sign in with Microsoft") ||
		!strings.Contains(p.Help.EN, "outgoing server accepts only a user name and password") {
		t.Errorf("mit.edu entry: %+v", p)
	}
}

// The hand-researched entries stay authoritative where ISPDB differs.
func TestHandTableBeatsISPDB(t *testing.T) {
	tb := Bundled()
	for d, id := range map[string]string{"wp.pl": "wp.pl", "o2.pl": "o2.pl", "op.pl": "onet.pl", "gmail.com": "gmail.com", "hotmail.com": "outlook.com"} {
		if p := tb.ByDomain(d); p == nil || p.ID != id {
			t.Errorf("%s: provider %v, want the hand-researched %s", d, p, id)
		}
	}
	s, err := tb.Autofill("jan@wp.pl", "")
	if err != nil || s.Incoming.Username != "jan@wp.pl" {
		t.Errorf("wp.pl: %+v %v (ISPDB's local part must not win)", s.Incoming, err)
	}
	// Entries from ISPDB are found too, and say where they come from.
	for d, host := range map[string]string{"posteo.de": "posteo.de", "seznam.cz": "imap.seznam.cz", "mail.com": "imap.mail.com"} {
		s, err := tb.Autofill("jan@"+d, "")
		if err != nil || s.Incoming.Host != host || s.Source != SourceBundled {
			t.Errorf("%s: %+v %v", d, s.Incoming, err)
			continue
		}
		p := tb.ByID(s.Provider.ID)
		if !strings.HasPrefix(p.ID, ISPDBPrefix) || !strings.Contains(p.Sources[0], "Thunderbird ISPDB") || p.Help.PL == "" || p.Help.EN == "" {
			t.Errorf("%s: entry %+v", d, p)
		}
	}
}

func TestGeneratedISPDBTable(t *testing.T) {
	gen, err := ParseTable(ispdbProviders)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range gen.Providers {
		if !strings.HasPrefix(p.ID, ISPDBPrefix) || !strings.HasPrefix(p.Sources[0], "Thunderbird ISPDB ") {
			t.Errorf("%s: id or source note missing", p.ID)
		}
		if p.HelpURL != "" && !strings.HasPrefix(p.HelpURL, "https://") {
			t.Errorf("%s: help link %q is not https", p.ID, p.HelpURL)
		}
		if p.OAuth != "" && p.OAuth != "microsoft" {
			t.Errorf("%s: sign-in %q the app cannot do", p.ID, p.OAuth)
		}
	}
}

// The whole table (hand-researched and ISPDB) is parsed once, off the UI
// goroutine; this is what that costs.
func BenchmarkParseBundled(b *testing.B) {
	for b.Loop() {
		if _, err := parseBundled(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAutofillISPDB(b *testing.B) {
	Bundled()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Autofill("jan.kowalski@posteo.de", ""); err != nil {
			b.Fatal(err)
		}
	}
}
