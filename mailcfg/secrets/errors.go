package secrets

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/zalando/go-keyring"

	"infino.legal/mailbox/mailcfg"
)

// The kinds of keyring failure. An *Error matches its kind with errors.Is.
var (
	// ErrTimeout: the keyring did not answer in time. On Linux this usually
	// means the keyring is locked and waits for a password prompt nobody sees.
	ErrTimeout = errors.New("the keyring did not answer in time")
	// ErrUnavailable: there is no usable keyring (no Secret Service on the
	// session bus, no session bus, an unsupported OS).
	ErrUnavailable = errors.New("no keyring is available")
	// ErrLocked: the keyring is locked and could not be unlocked (no
	// password prompt could be shown, or it was dismissed).
	ErrLocked = errors.New("the keyring is locked")
	// ErrTooLarge: the value is larger than MaxValueSize, or the OS refused
	// an entry as too big.
	ErrTooLarge = errors.New("the secret is too large for the keyring")
	// ErrCorrupt: a chunked value is incomplete or does not match its
	// manifest (an interrupted write or a foreign entry); it is never
	// returned as a value.
	ErrCorrupt = errors.New("the stored secret is incomplete or damaged")
	// ErrInvalidKey: the key is empty, too long or uses the chunk suffix.
	ErrInvalidKey = errors.New("invalid keyring key")
	// ErrKeyring: any other refusal of the keyring.
	ErrKeyring = errors.New("the keyring refused the request")
)

// Error is a failed keyring operation. Kind is one of the Err* values above;
// Err is the underlying error, if any. Nothing secret is ever part of it.
type Error struct {
	Op      string // "get", "set" or "delete"
	Key     string
	Kind    error
	Err     error
	Timeout time.Duration // with ErrTimeout: how long the call was given
}

func (e *Error) Error() string {
	s := fmt.Sprintf("keyring %s %q: %v", e.Op, e.Key, e.Kind)
	if (e.Kind == ErrTimeout || e.Kind == ErrBusy) && e.Timeout > 0 {
		s += fmt.Sprintf(" (%s)", e.Timeout)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the kind and the underlying error.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// Message is what a person is told, in Polish and English.
func (e *Error) Message() mailcfg.Text {
	switch e.Kind {
	case ErrTimeout:
		secs := int(e.Timeout.Round(time.Second) / time.Second)
		t := mailcfg.Text{
			PL: fmt.Sprintf("Systemowy magazyn haseł nie odpowiedział w ciągu %d s.", secs),
			EN: fmt.Sprintf("The system keyring did not answer within %d s.", secs),
		}
		if runtime.GOOS == "linux" {
			t.PL += " Prawdopodobnie jest zablokowany: odblokuj go (np. w aplikacji „Hasła i klucze” albo logując się ponownie) i spróbuj jeszcze raz."
			t.EN += " It is probably locked: unlock it (e.g. in the “Passwords and Keys” app or by logging in again) and try again."
		} else {
			t.PL += " Sprawdź, czy system nie wyświetla okna z prośbą o zgodę, i spróbuj jeszcze raz."
			t.EN += " Check whether the system shows a window asking for permission, and try again."
		}
		return t
	case ErrUnavailable:
		if runtime.GOOS == "linux" {
			return mailcfg.Text{
				PL: "Nie znaleziono systemowego magazynu haseł (usługi Secret Service, np. GNOME Keyring lub KWallet). Hasło ani token nie zostaną zapisane w pliku – zainstaluj i uruchom magazyn haseł albo poproś o to dział IT.",
				EN: "No system keyring was found (a Secret Service such as GNOME Keyring or KWallet). The password or token will not be written to a file instead – install and start a keyring, or ask your IT department.",
			}
		}
		return mailcfg.Text{
			PL: "Systemowy magazyn haseł jest niedostępny. Hasło ani token nie zostaną zapisane w pliku – poproś o pomoc dział IT.",
			EN: "The system keyring is not available. The password or token will not be written to a file instead – ask your IT department for help.",
		}
	case ErrLocked:
		return mailcfg.Text{
			PL: "Systemowy magazyn haseł jest zablokowany. Odblokuj go (np. w aplikacji „Hasła i klucze” albo logując się ponownie do systemu) i spróbuj jeszcze raz. Hasło ani token nie zostaną zapisane w pliku.",
			EN: "The system keyring is locked. Unlock it (e.g. in the “Passwords and Keys” app or by logging in to the system again) and try again. The password or token will not be written to a file instead.",
		}
	case ErrBusy:
		secs := int(e.Timeout.Round(time.Second) / time.Second)
		return mailcfg.Text{
			PL: fmt.Sprintf("Inny proces Infino Mailbox (okno albo wiersz poleceń) od ponad %d s odświeża logowanie tej skrzynki. Zamknij go, jeśli nie odpowiada, i spróbuj jeszcze raz.", secs),
			EN: fmt.Sprintf("Another Infino Mailbox process (a window or the command line) has been refreshing this mailbox's sign-in for more than %d s. Close it if it does not respond, and try again.", secs),
		}
	case ErrTooLarge:
		return mailcfg.Text{
			PL: "Sekret jest za duży, by zapisać go w systemowym magazynie haseł.",
			EN: "The secret is too large to be stored in the system keyring.",
		}
	case ErrCorrupt:
		return mailcfg.Text{
			PL: "Zapisane w systemowym magazynie haseł dane logowania są niekompletne. Zaloguj się ponownie lub wpisz hasło jeszcze raz.",
			EN: "The sign-in data in the system keyring is incomplete. Sign in again or enter the password again.",
		}
	}
	return mailcfg.Text{
		PL: "Systemowy magazyn haseł odrzucił żądanie. Spróbuj jeszcze raz; jeśli błąd się powtarza, poproś o pomoc dział IT.",
		EN: "The system keyring refused the request. Try again; if it keeps failing, ask your IT department for help.",
	}
}

// classify maps an error of the go-keyring backend to a kind.
func classify(err error) error {
	switch {
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return ErrTooLarge
	case errors.Is(err, keyring.ErrUnsupportedPlatform):
		return ErrUnavailable
	}
	msg := err.Error()
	for _, s := range []string{
		"org.freedesktop.secrets was not provided", // no Secret Service installed
		"org.freedesktop.DBus.Error.ServiceUnknown",
		"org.freedesktop.DBus.Error.NameHasNoOwner",
		"DBUS_SESSION_BUS_ADDRESS",    // no session bus
		"\"dbus-launch\"",             // no session bus, no way to start one
		"dbus: couldn't determine",    // no session bus address
		"dbus: authentication failed", // bus refused us
		"dial unix",                   // bus socket missing
		"No such interface",           // not a Secret Service
		"exec: \"/usr/bin/security\"", // macOS tool missing
	} {
		if strings.Contains(msg, s) {
			return ErrUnavailable
		}
	}
	for _, s := range []string{
		"failed to unlock correct collection", // go-keyring: Unlock was refused or dismissed
		"locked collection",                   // "Cannot create an item in a locked collection"
		"org.freedesktop.Secret.Error.IsLocked",
	} {
		if strings.Contains(msg, s) {
			return ErrLocked
		}
	}
	return ErrKeyring
}
