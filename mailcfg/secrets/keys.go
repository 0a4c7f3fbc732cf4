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

// RefreshKey is the key of a mailbox's refresh token from an OAuth
// provider ("microsoft" gives MicrosoftRefreshKey).
func RefreshKey(address, provider string) string { return MailboxKey(address, provider+"-refresh") }

func canonicalAddress(address string) string {
	if a, err := mailcfg.ParseAddress(address); err == nil {
		address = a.String()
	}
	return strings.ToLower(strings.TrimSpace(address))
}

// DeleteMailbox removes every secret the app keeps for a mailbox: its
// password and the refresh token of every provider of the OAuth table, so a
// provider added there is cleaned up too. Secrets that are not there are
// not an error.
func DeleteMailbox(ctx context.Context, s Store, address string) error {
	keys := []string{PasswordKey(address)}
	for _, p := range mailcfg.BundledOAuth().Providers {
		keys = append(keys, RefreshKey(address, p.ID))
	}
	var errs []error
	for _, key := range keys {
		if err := s.Delete(ctx, key); err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
