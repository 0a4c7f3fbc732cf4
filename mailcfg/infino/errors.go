package infino

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"

	"infino.legal/mailbox/mailcfg"
)

// Kind classifies why a hand-off did not end with a mailbox at Infino. The
// values are stable: the command line prints them in its JSON output.
type Kind string

const (
	// KindUnavailable: Infino could not be reached or asked to come back
	// later (network error, 429, 5xx). The submission waits in the outbox.
	KindUnavailable Kind = "unavailable"
	// KindTLS: Infino's certificate was not trusted. Nothing was sent; the
	// submission waits in the outbox (a captive portal or an intercepting
	// proxy may be in the way).
	KindTLS Kind = "tls_certificate"
	// KindSignIn: the app has no valid Infino sign-in and could not sign in
	// now (no browser available, or the user did not finish). It waits.
	KindSignIn Kind = "signin_required"
	// KindUnauthorized: Infino refused the token even after signing in
	// again (401 twice). It waits for a new sign-in.
	KindUnauthorized Kind = "unauthorized"
	// KindInvalid: Infino refused the settings (400); Fields says which.
	KindInvalid Kind = "invalid"
	// KindExists: the mailbox is already connected to the account (409).
	KindExists Kind = "mailbox_exists"
	// KindForbidden: the account may not add mailboxes (403).
	KindForbidden Kind = "forbidden"
	// KindRejected: any other refusal Infino will repeat on a retry.
	KindRejected Kind = "rejected"
	// KindConfig: the app is not set up to reach Infino (no Infino URL, a
	// URL that is not https, a broken secret store).
	KindConfig Kind = "config"
	// KindCancelled: the caller's context ended. It waits.
	KindCancelled Kind = "cancelled"
	// KindSignInSetup: Infino's authorization server is not set up the way
	// the app needs (no metadata, another issuer, no refresh token, the
	// scope not granted). Nothing was sent; it waits until IT fixes it.
	KindSignInSetup Kind = "signin_setup"
	// KindLocalStorage: the app could not write to its own folder (disk
	// full, read-only), so the submission could not be kept for later.
	KindLocalStorage Kind = "local_storage"
	// KindChanged: the mailbox to be replaced was changed or removed at
	// Infino since it was looked at (412 or 404 to PUT); nothing replaced.
	KindChanged Kind = "mailbox_changed"
)

// Kinds lists every kind.
var Kinds = []Kind{KindUnavailable, KindTLS, KindSignIn, KindUnauthorized, KindInvalid, KindExists,
	KindForbidden, KindRejected, KindConfig, KindCancelled, KindSignInSetup, KindLocalStorage, KindChanged}

// Keeps reports whether a submission that failed this way stays in the
// outbox to be retried later (true), or is finished (false).
func (k Kind) Keeps() bool {
	switch k {
	case KindUnavailable, KindTLS, KindSignIn, KindUnauthorized, KindCancelled, KindConfig, KindSignInSetup:
		return true
	}
	return false
}

// Error is a failed hand-off.
type Error struct {
	Kind Kind
	// Status is the HTTP status Infino answered with (0: no answer).
	Status int
	// Code is the "error" member of Infino's JSON answer, if any.
	Code string
	// Fields are the field errors of a 400 answer, for the form.
	Fields mailcfg.ValidationError
	// RetryAfter is what Infino asked to wait (429/503), zero if nothing.
	RetryAfter time.Duration
	// Mailbox is the mailbox Infino named in a 409 mailbox_exists or a
	// 412 answer (nil if it named none).
	Mailbox *MailboxInfo
	// Message is what a person is told.
	Message mailcfg.Text
	// Err is the underlying error (network, TLS, JSON). Its text may hold
	// technical details; it never holds a secret.
	Err error
}

func (e *Error) Error() string {
	s := "infino: " + string(e.Kind)
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d", e.Status)
		if e.Code != "" {
			s += " " + e.Code
		}
		s += ")"
	}
	if len(e.Fields) > 0 {
		s += ": " + e.Fields.Error()
	} else if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of an error from this package, KindCancelled for a
// context error and KindConfig for anything else.
func KindOf(err error) Kind {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Kind
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return KindCancelled
	}
	return KindConfig
}

func newError(kind Kind, status int, err error) *Error {
	return &Error{Kind: kind, Status: status, Err: err, Message: messages[kind]}
}

// messages are the sentences for each kind, shown on the Done screen and by
// the command line.
var messages = map[Kind]mailcfg.Text{
	KindUnavailable: {
		PL: "Nie udało się teraz połączyć z Infino. Ustawienia czekają w skrzynce nadawczej i zostaną wysłane automatycznie.",
		EN: "Infino could not be reached right now. The settings are waiting in the outbox and will be sent automatically."},
	KindTLS: {
		PL: "Certyfikat serwera Infino nie jest zaufany (sieć może przechwytywać połączenia). Niczego nie wysłano; ustawienia czekają w skrzynce nadawczej. Jeśli to się powtarza, skontaktuj się z działem IT.",
		EN: "Infino's certificate is not trusted (the network may be intercepting connections). Nothing was sent; the settings are waiting in the outbox. If this keeps happening, contact your IT department."},
	KindSignIn: {
		PL: "Zaloguj się do Infino, aby wysłać ustawienia. Do tego czasu czekają w skrzynce nadawczej.",
		EN: "Sign in to Infino to send the settings. Until then they are waiting in the outbox."},
	KindUnauthorized: {
		PL: "Infino nie przyjęło logowania. Zaloguj się ponownie; ustawienia czekają w skrzynce nadawczej.",
		EN: "Infino did not accept the sign-in. Sign in again; the settings are waiting in the outbox."},
	KindInvalid: {
		PL: "Infino nie przyjęło ustawień. Popraw zaznaczone pola i spróbuj ponownie.",
		EN: "Infino did not accept the settings. Correct the marked fields and try again."},
	KindExists: {
		PL: "Ta skrzynka jest już połączona z kontem Infino. Nie trzeba nic robić.",
		EN: "This mailbox is already connected to the Infino account. There is nothing more to do."},
	KindForbidden: {
		PL: "To konto Infino nie może dodawać skrzynek. Poproś administratora kancelarii w Infino o uprawnienia.",
		EN: "This Infino account may not add mailboxes. Ask your firm's Infino administrator for permission."},
	KindRejected: {
		PL: "Infino odrzuciło ustawienia. Spróbuj ponownie później lub skontaktuj się z pomocą Infino.",
		EN: "Infino rejected the settings. Try again later or contact Infino support."},
	KindConfig: {
		PL: "Aplikacja nie jest skonfigurowana do połączenia z Infino.",
		EN: "The app is not set up to connect to Infino."},
	KindCancelled: {
		PL: "Przerwano. Ustawienia czekają w skrzynce nadawczej.",
		EN: "Stopped. The settings are waiting in the outbox."},
	KindSignInSetup: {
		PL: "Logowanie do Infino nie jest skonfigurowane tak, jak wymaga tego aplikacja. Niczego nie wysłano; ustawienia czekają w skrzynce nadawczej. Przekaż tę wiadomość działowi IT lub pomocy Infino.",
		EN: "Signing in to Infino is not set up the way this app needs. Nothing was sent; the settings are waiting in the outbox. Pass this message on to your IT department or Infino support."},
	KindLocalStorage: {
		PL: "Nie udało się zapisać ustawień na tym komputerze (brak miejsca na dysku lub folder tylko do odczytu), więc nie można ich zachować na później. Zwolnij miejsce i wyślij ponownie.",
		EN: "The settings could not be saved on this computer (not enough disk space, or a read-only folder), so they cannot be kept for later. Free some space and send them again."},
	KindChanged: {
		PL: "Skrzynka została w międzyczasie zmieniona lub usunięta w Infino; niczego nie zastąpiono. Wyślij ustawienia ponownie.",
		EN: "The mailbox was changed or removed in Infino in the meantime; nothing was replaced. Send the settings again."},
}

// Message returns the sentence for a kind.
func (k Kind) Message() mailcfg.Text { return messages[k] }

// transportError classifies an error of http.Client.Do.
func transportError(ctx context.Context, err error) *Error {
	if ctx.Err() != nil {
		return newError(KindCancelled, 0, ctx.Err())
	}
	if isCertError(err) {
		return newError(KindTLS, 0, err)
	}
	return newError(KindUnavailable, 0, err)
}

func isCertError(err error) bool {
	var (
		cve *tls.CertificateVerificationError
		ua  x509.UnknownAuthorityError
		he  x509.HostnameError
		ci  x509.CertificateInvalidError
	)
	return errors.As(err, &cve) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci)
}

// isNetError reports whether err is a plain network failure (refused, reset,
// timeout, DNS), the kind after which trying the next entry is pointless.
func isNetError(err error) bool {
	var ne net.Error
	var oe *net.OpError
	var de *net.DNSError
	return errors.As(err, &ne) || errors.As(err, &oe) || errors.As(err, &de)
}
