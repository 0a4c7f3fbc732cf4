package signin_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"infino.legal/mailbox/internal/mailpeers"
	"infino.legal/mailbox/internal/microsofttest"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/verify"
)

// TestDovecotPostfixXOAUTH2 signs in at the fake Microsoft as the peers'
// user, registers every access token the fake mints with Dovecot's token
// introspection, and verifies against the real Dovecot (IMAPS) and Postfix
// (submission, STARTTLS, SASL through Dovecot) by XOAUTH2: with the sign-in's
// token and with a refreshed one.
func TestDovecotPostfixXOAUTH2(t *testing.T) {
	p := mailpeers.Require(t)
	as := microsofttest.NewServer(t)
	as.SetAccount(microsofttest.Account{PreferredUsername: p.User, Name: "Test", TenantID: microsofttest.Work.TenantID})
	as.SetMint(func(a microsofttest.Account) string {
		tok := "ms-" + rand.Text() + rand.Text()
		sum := sha256.Sum256([]byte(tok))
		path := filepath.Join(p.OAuthTokenDir, hex.EncodeToString(sum[:]))
		body, _ := json.Marshal(map[string]any{"active": true, "email": a.PreferredUsername, "scope": "IMAP POP SMTP"})
		if err := os.WriteFile(path, body, 0o644); err != nil {
			t.Errorf("registering a token with the introspection endpoint: %v", err)
		}
		t.Cleanup(func() { os.Remove(path) })
		return tok
	})
	store := secrets.NewMemory()
	acc := msSignIn(t, as, store)
	s := acc.Settings
	s.Incoming = mailcfg.Server{Protocol: mailcfg.IMAP, Host: p.Host, Port: p.IMAPSPort, Security: mailcfg.SecurityTLS, Username: acc.Address}
	s.Outgoing = mailcfg.Server{Protocol: mailcfg.SMTP, Host: p.Host, Port: p.SubmissionPort, Security: mailcfg.SecurityStartTLS, Username: acc.Address}
	s.Provider = nil // not Microsoft's servers: no Microsoft hints
	opt := verify.Options{RootCAs: p.CAPool}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r := verify.Verify(ctx, s, verify.TokenFunc(acc.Tokens().AccessToken), opt)
	if !r.OK {
		t.Fatalf("Dovecot/Postfix XOAUTH2 with the sign-in's token: %+v / %+v", r.Incoming.Failure, r.Outgoing.Failure)
	}

	as.SetAccessTokenTTL(time.Minute) // always refreshed
	tokens := msTokens(t, msConfig(t, as, store), acc.Address)
	r = verify.Verify(ctx, s, verify.TokenFunc(tokens.AccessToken), opt)
	if !r.OK {
		t.Fatalf("Dovecot/Postfix XOAUTH2 with a refreshed token: %+v / %+v", r.Incoming.Failure, r.Outgoing.Failure)
	}
	if as.Counts().Refreshed != 1 {
		t.Fatalf("counts %+v", as.Counts())
	}

	// The peers' fixed token works too; a made-up one does not.
	if r := verify.Verify(ctx, s, verify.OAuth2Token{AccessToken: p.OAuthToken}, opt); !r.OK {
		t.Fatalf("fixed peers token: %+v / %+v", r.Incoming.Failure, r.Outgoing.Failure)
	}
	if r := verify.Verify(ctx, s, verify.OAuth2Token{AccessToken: "ms-never-issued"}, opt); r.Incoming.OK || r.Outgoing.OK {
		t.Fatal("Dovecot/Postfix accepted a token nobody issued")
	}
}
