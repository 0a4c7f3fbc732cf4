package microsoft_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/internal/microsofttest"
	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/microsoft"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/verify"
)

func verifyCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// The signed-in account logs in to IMAP and SMTP by XOAUTH2 with a token
// from Tokens: first the sign-in's own, then a refreshed one (read from the
// store, as after a restart).
func TestVerifyXOAUTH2WithSignedInAccount(t *testing.T) {
	as := microsofttest.NewServer(t)
	mail := as.StartMail(t)
	store := secrets.NewMemory()
	acc := signIn(t, as, store)
	s := mail.Settings(acc.Settings)
	opt := verify.Options{RootCAs: mail.RootCAs}

	r := verify.Verify(verifyCtx(t), s, verify.TokenFunc(acc.Tokens().AccessToken), opt)
	if !r.OK {
		t.Fatalf("verify: %+v / %+v", r.Incoming.Failure, r.Outgoing.Failure)
	}
	logins := mail.Logins()
	if len(logins) != 2 {
		t.Fatalf("logins %+v", logins)
	}
	for _, l := range logins {
		if l.Mechanism != "XOAUTH2" || !l.OK || l.User != acc.Address {
			t.Fatalf("login %+v", l)
		}
	}

	// After a restart: the refresh token from the store, rotated and kept.
	as.SetAccessTokenTTL(time.Minute)
	tokens := microsoft.NewTokens(config(as, store), acc.Address)
	before, _ := store.Get(context.Background(), secrets.MicrosoftRefreshKey(acc.Address))
	r = verify.Verify(verifyCtx(t), s, verify.TokenFunc(tokens.AccessToken), opt)
	if !r.OK {
		t.Fatalf("verify after refresh: %+v / %+v", r.Incoming.Failure, r.Outgoing.Failure)
	}
	after, _ := store.Get(context.Background(), secrets.MicrosoftRefreshKey(acc.Address))
	if after == before || !as.ValidRefreshToken(after) {
		t.Fatal("the refresh during verify did not persist the rotated token")
	}
	if c := as.Counts(); c.Refreshed != 1 {
		t.Fatalf("one check refreshed %d times", c.Refreshed)
	}
}

func TestVerifyXOAUTH2Failures(t *testing.T) {
	as := microsofttest.NewServer(t)
	mail := as.StartMail(t)
	store := secrets.NewMemory()
	acc := signIn(t, as, store)
	s := mail.Settings(acc.Settings)
	opt := verify.Options{RootCAs: mail.RootCAs}

	// A token the identity platform never issued.
	r := verify.Verify(verifyCtx(t), s, verify.OAuth2Token{AccessToken: "forged"}, opt)
	// (Exchange's 535 5.7.3 is ambiguous: the verifier may call it auth_disabled.)
	if r.OK || r.Incoming.Failure.Kind != mailcfg.KindAuthFailed ||
		r.Outgoing.Failure.Kind != mailcfg.KindAuthFailed && r.Outgoing.Failure.Kind != mailcfg.KindAuthDisabled {
		t.Fatalf("forged token: %+v / %+v", r.Incoming.Failure, r.Outgoing.Failure)
	}

	// No stored sign-in: the Microsoft message reaches the report.
	other := microsoft.NewTokens(config(as, store), "nobody@kancelaria.example")
	r = verify.Verify(verifyCtx(t), s, verify.TokenFunc(other.AccessToken), opt)
	f := r.Incoming.Failure
	if r.OK || f == nil || f.Kind != mailcfg.KindAuthFailed || !strings.Contains(f.Detail, "not_signed_in") ||
		!strings.Contains(f.Hint.EN, "signin microsoft") {
		t.Fatalf("not signed in: %+v", f)
	}

	// SMTP AUTH switched off for the tenant (535 5.7.139).
	mail.SetSMTPAuthDisabled(true)
	r = verify.Verify(verifyCtx(t), s, verify.TokenFunc(acc.Tokens().AccessToken), opt)
	if !r.Incoming.OK || r.Outgoing.OK || r.Outgoing.Failure.Kind != mailcfg.KindAuthDisabled ||
		!strings.Contains(r.Outgoing.Failure.Detail, "5.7.139") {
		t.Fatalf("SMTP AUTH disabled: %+v", r.Outgoing.Failure)
	}
}
