package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"infino.legal/mailbox/internal/mailpeers"
	"infino.legal/mailbox/mailcfg"
)

// verifyOut is the part of "verify --json" these tests read.
type verifyOut struct {
	OK       bool `json:"ok"`
	Incoming struct {
		OK    bool `json:"ok"`
		Error *struct {
			Kind  string `json:"kind"`
			Field string `json:"field"`
		} `json:"error"`
	} `json:"incoming"`
	Outgoing struct {
		OK    bool `json:"ok"`
		Error *struct {
			Kind  string `json:"kind"`
			Field string `json:"field"`
		} `json:"error"`
	} `json:"outgoing"`
}

// runVerifyBinary runs the built binary's "verify --json --password-stdin"
// with password on standard input.
func runVerifyBinary(t *testing.T, s mailcfg.Settings, password string, args ...string) (verifyOut, string, int) {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "settings.json")
	empty := filepath.Join(dir, "policy.json")
	for f, data := range map[string][]byte{path: b, empty: []byte("{}")} {
		if err := os.WriteFile(f, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(binary, append(append([]string{"verify", "--json", "--password-stdin"}, args...), path)...)
	cmd.Env = append(os.Environ(), "INFINO_MAILBOX_POLICY="+empty, "LANG=C")
	cmd.Stdin = strings.NewReader(password + "\n")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	code := 0
	var ee *exec.ExitError
	if err := cmd.Run(); errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(o.String()+e.String(), password) {
		t.Fatalf("the password appears in the output:\n%s\n%s", o.String(), e.String())
	}
	var v verifyOut
	if err := json.Unmarshal(o.Bytes(), &v); err != nil {
		t.Fatalf("not JSON (exit %d): %v\n%s\n%s", code, err, o.String(), e.String())
	}
	return v, o.String(), code
}

// The command-line verify, as IT runs it, against Cyrus and Exim
// (testdata/otherpeers/up.sh): exit 0 with the right password, 1 with
// auth_failed on both sides with a wrong one, and 0 again with the
// certificate pinned instead of the CA given.
func TestVerifyOtherPeersBinary(t *testing.T) {
	p := mailpeers.RequireOther(t)
	s := mailcfg.Settings{
		Email: p.User, Auth: mailcfg.AuthPassword,
		Incoming: mailcfg.Server{Protocol: mailcfg.IMAP, Host: p.Host, Port: p.IMAPStartTLSPort,
			Security: mailcfg.SecurityStartTLS, Username: p.User},
		Outgoing: mailcfg.Server{Protocol: mailcfg.SMTP, Host: p.Host, Port: p.SubmissionsPort,
			Security: mailcfg.SecurityTLS, Username: p.User},
	}
	if v, out, code := runVerifyBinary(t, s, p.Password, "--ca", p.CAFile); code != 0 || !v.OK {
		t.Fatalf("right password: exit %d\n%s", code, out)
	}

	v, out, code := runVerifyBinary(t, s, "wrong-Pa55word-xyzzy", "--ca", p.CAFile)
	if code != 1 || v.OK || v.Incoming.Error == nil || v.Incoming.Error.Kind != string(mailcfg.KindAuthFailed) ||
		v.Outgoing.Error == nil || v.Outgoing.Error.Kind != string(mailcfg.KindAuthFailed) ||
		v.Incoming.Error.Field != "password" || v.Outgoing.Error.Field != "password" {
		t.Fatalf("wrong password: exit %d\n%s", code, out)
	}

	s.Incoming.Protocol, s.Incoming.Port, s.Incoming.Security = mailcfg.POP3, p.POP3SPort, mailcfg.SecurityTLS
	s.Outgoing.Port, s.Outgoing.Security = p.SubmissionPort, mailcfg.SecurityStartTLS
	s.Incoming.CertSHA256, s.Outgoing.CertSHA256 = p.CertSHA256, p.CertSHA256
	if v, out, code := runVerifyBinary(t, s, p.Password); code != 0 || !v.OK {
		t.Fatalf("POP3 and STARTTLS submission, pinned, no --ca: exit %d\n%s", code, out)
	}
}
