package main

import (
	"encoding/json"
	"strings"
	"testing"

	"infino.legal/mailbox/mailcfg"
)

const sample = `domain,source_file,provider_id,display_name,"incoming (type:host:port:socket:auth:username, in file order)",outgoing (same form),oauth2_issuer,documentation_urls,enable_visiturls
a.example,a.example.xml,a.example,A,imap:imap.a.example:143:plain:password-cleartext:%EMAILADDRESS% imap:imap.a.example:993:SSL:password-cleartext:%EMAILLOCALPART%,smtp:smtp.a.example:587:STARTTLS:password-cleartext:%EMAILADDRESS,,http://a.example/help,https://a.example/enable
b.example,a.example.xml,a.example,A,imap:imap.a.example:993:SSL:password-cleartext:%EMAILLOCALPART%,smtp:smtp.a.example:587:STARTTLS:password-cleartext:%EMAILADDRESS,,,
plain.example,p.xml,p,P,pop3:pop.plain.example:110:plain:password-cleartext:%EMAILADDRESS%,smtp:smtp.plain.example:25:plain:password-cleartext:%EMAILADDRESS%,,,
ms.example,ms.xml,ms,MS,imap:outlook.office365.com:993:SSL:OAuth2:%EMAILADDRESS%,smtp:smtp.office365.com:587:STARTTLS:OAuth2:%EMAILADDRESS%,,,
mixed.example,mixed.xml,mixed,Mixed,imap:outlook.office365.com:993:SSL:OAuth2:%EMAILADDRESS%,smtp:outgoing.mixed.example:465:SSL:password-cleartext:%EMAILLOCALPART%,,,
jp.example,jp.xml,jp,JP,pop3:pop.%EMAILDOMAIN%:995:SSL:password-cleartext:%EMAILLOCALPART%.%EMAILDOMAIN%,smtp:smtp.%EMAILDOMAIN%:465:SSL:password-cleartext:%EMAILLOCALPART%.%EMAILDOMAIN%,,,
`

func TestGenerate(t *testing.T) {
	rows, err := readRows(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	tableJSON, expect, st := generate(rows, "abc1234")
	if st.tlsDomains != 5 || st.domains != 5 || st.entries != 4 {
		t.Errorf("stats %+v", st)
	}
	var tb mailcfg.Table
	if err := json.Unmarshal(tableJSON, &tb); err != nil {
		t.Fatal(err)
	}
	by := map[string]*mailcfg.Provider{}
	for _, p := range tb.Providers {
		by[p.ID] = p
	}
	a := by["ispdb:a.example"]
	if a == nil || strings.Join(a.Domains, ",") != "a.example,b.example" || len(a.Incoming) != 1 || a.Incoming[0].Username != "localpart" ||
		a.Outgoing[0].Username != "address" || a.HelpURL != "https://a.example/enable" || a.Help != helpEnable ||
		a.Sources[0] != "Thunderbird ISPDB a.example.xml @abc1234 (MPL 2.0)" {
		t.Errorf("a: %+v", a)
	}
	if ms := by["ispdb:ms"]; ms == nil || ms.OAuth != "microsoft" {
		t.Errorf("ms: %+v", ms)
	}
	// The mailbox takes only Microsoft sign-in, SMTP only a password:
	// Microsoft sign-in, ISPDB's servers on both sides, the help says why.
	if m := by["ispdb:mixed"]; m == nil || m.OAuth != "microsoft" || m.Help != helpMixed ||
		m.Incoming[0].Host != "outlook.office365.com" || m.Outgoing[0].Host != "outgoing.mixed.example" || m.Outgoing[0].Username != "localpart" {
		t.Errorf("mixed: %+v", m)
	}
	if jp := by["ispdb:jp"]; jp == nil || jp.Incoming[0].Host != "pop.%EMAILDOMAIN%" || jp.Incoming[0].Username != "localpart.domain" {
		t.Errorf("jp: %+v", jp)
	}
	if by["ispdb:p"] != nil || strings.Contains(string(expect), "plain.example") {
		t.Error("an unencrypted-only domain was kept")
	}
	if !strings.Contains(string(expect), "jp.example\tpop3:pop.jp.example:995:tls:localpart.domain\tsmtp:smtp.jp.example:465:tls:localpart.domain\n") {
		t.Errorf("expectations:\n%s", expect)
	}
}
