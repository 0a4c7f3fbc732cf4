package secrets

import (
	"context"
	"errors"
	"strings"

	"infino.legal/mailbox/mailcfg"
)

// Key scheme. Every entry lives under the keyring service Service
// ("legal.infino.mailbox"); the keyring "user"/"account" name is the key:
//
//	mailbox:<address>:password            the password of a manually configured mailbox
//	mailbox:<address>:microsoft-refresh   the Microsoft refresh token of a mailbox
//	mailbox:<address>:<provider>-refresh  another provider's (google-refresh, …)
//
// <address> is the mailbox address with an ASCII (A-label) domain, all
// lower-case, e.g. "mailbox:jan.kowalski@kancelaria.pl:password". Access tokens
// are never stored: they live in memory and are refreshed when needed.
//
// The Keyring store splits a value longer than its chunk size into entries
// "<key>#chunk<slot><n>" (slot "a" or "b", n from 0) behind a manifest stored
// at <key> itself; see Keyring.
const (
	KindPassword         = "password"
	KindMicrosoftRefresh = "microsoft-refresh"
)

// MailboxKey is the key of one kind of secret of one mailbox.
func MailboxKey(address, kind string) string {
	return "mailbox:" + canonicalAddress(address) + ":" + kind
}

// PasswordKey is the key of a manual mailbox's password.
func PasswordKey(address string) string { return MailboxKey(address, KindPassword) }

// MicrosoftRefreshKey is the key of a mailbox's Microsoft refresh token.
func MicrosoftRefreshKey(address string) string { return MailboxKey(address, KindMicrosoftRefresh) }

// RefreshKinds are the refresh token kinds of every OAuth provider the
// app signs in with.
var RefreshKinds = []string{KindMicrosoftRefresh, "google-refresh", "yahoo-refresh", "aol-refresh", "fastmail-refresh"}

// RefreshKey is the key of a mailbox's refresh token from an OAuth
// provider ("microsoft" gives MicrosoftRefreshKey).
func RefreshKey(address, provider string) string { return MailboxKey(address, provider+"-refresh") }

func canonicalAddress(address string) string {
	if a, err := mailcfg.ParseAddress(address); err == nil {
		address = a.String()
	}
	return strings.ToLower(strings.TrimSpace(address))
}

// DeleteMailbox removes every secret the app keeps for a mailbox. Secrets
// that are not there are not an error.
func DeleteMailbox(ctx context.Context, s Store, address string) error {
	var errs []error
	for _, kind := range append([]string{KindPassword}, RefreshKinds...) {
		if err := s.Delete(ctx, MailboxKey(address, kind)); err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
