package mailcfg

import (
	"crypto/x509"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

func TestFailureJSON(t *testing.T) {
	cert := NewCertInfo(&x509.Certificate{Raw: []byte{1, 2, 3}, DNSNames: []string{"a.example"}}, CertUnknownAuthority)
	f := Cause{Kind: KindTLSCertificate, Certificate: cert, Detail: CertUnknownAuthority}.Failure("incoming", nil)
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
	c := m["certificate"].(map[string]any)
	if c["sha256"] != "03:90:58:c6:f2:c0:cb:49:2c:53:3b:0a:4d:14:ef:77:cc:0f:78:ab:cc:ce:d5:28:7d:84:a1:a2:01:1c:fb:81" ||
		c["reason"] != CertUnknownAuthority || c["names"].([]any)[0] != "a.example" {
		t.Fatalf("certificate %v", c)
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
	for _, v := range Variants {
		if m, ok := messages[string(v)]; !ok || strings.Contains(m.EN, "%!") {
			t.Errorf("variant %s has no message", v)
		}
	}
	for key, h := range certHints {
		if h.PL == "" || h.EN == "" {
			t.Errorf("cert hint %s incomplete", key)
		}
	}
}

func TestCauseFailure(t *testing.T) {
	home := Bundled().ByID("home.pl")
	// A wrong host name at a hoster that names servers after the domain:
	// the hoster's help follows the certificate hint.
	f := Cause{Kind: KindTLSCertificate, Certificate: &CertInfo{Reason: CertWrongHost}}.Failure("outgoing", home)
	if !strings.Contains(f.Hint.PL, home.Help.PL) || f.Hint == home.Help || f.Field != "outgoing.host" {
		t.Errorf("wrong host: %+v", f)
	}
	f = Cause{Kind: KindConnect, Variant: VariantRefused, Field: "port", Detail: "connection refused"}.Failure("incoming", nil)
	if f.Field != "incoming.port" || f.Message.EN != "The incoming mail server refused the connection on this port." || f.Hint != hints[KindConnect] {
		t.Errorf("refused: %+v", f)
	}
	bare := Cause{Kind: KindAuthFailed}
	if got, want := *bare.Failure("", home), *NewFailure(KindAuthFailed, "", home); got != want {
		t.Errorf("a bare cause is NewFailure: %+v vs %+v", got, want)
	}
}

// The hints that name ports name the ones DefaultPort gives.
func TestHintsNameTheDefaultPorts(t *testing.T) {
	for _, k := range []Kind{KindTLSUnavailable, KindProtocol} {
		for _, p := range []Protocol{IMAP, POP3, SMTP} {
			for _, s := range []Security{SecurityTLS, SecurityStartTLS} {
				port := strconv.Itoa(DefaultPort(p, s))
				if !strings.Contains(hints[k].PL, port) || !strings.Contains(hints[k].EN, port) {
					t.Errorf("%s hint lacks port %s", k, port)
				}
			}
		}
	}
}
