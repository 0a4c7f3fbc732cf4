package mailcfg

import (
	"sort"
	"strings"
)

// FieldError is one problem with one field of the settings, with a stable code
// for programs and a message for people.
type FieldError struct {
	Field   string `json:"field"` // JSON path: "email", "incoming.port", …
	Code    string `json:"code"`
	Message Text   `json:"message"`
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message.EN }

func newFieldError(field, code string) *FieldError {
	return &FieldError{Field: field, Code: code, Message: fieldMessages[code]}
}

// ValidationError lists every problem found at once, in field order.
type ValidationError []*FieldError

func (v ValidationError) Error() string {
	parts := make([]string, len(v))
	for i, e := range v {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// For returns the problems with one field (and its sub-fields).
func (v ValidationError) For(field string) []*FieldError {
	var out []*FieldError
	for _, e := range v {
		if e.Field == field || strings.HasPrefix(e.Field, field+".") {
			out = append(out, e)
		}
	}
	return out
}

var fieldOrder = []string{"email", "auth", "incoming", "outgoing"}

func (v ValidationError) sort() {
	rank := func(f string) int {
		for i, p := range fieldOrder {
			if f == p || strings.HasPrefix(f, p+".") {
				return i
			}
		}
		return len(fieldOrder)
	}
	sort.SliceStable(v, func(i, j int) bool { return rank(v[i].Field) < rank(v[j].Field) })
}

// fieldMessages holds every validation message in one place.
var fieldMessages = map[string]Text{
	"email_empty":          {"Wpisz adres e-mail.", "Enter an e-mail address."},
	"email_syntax":         {"To nie jest poprawny adres e-mail.", "This is not a valid e-mail address."},
	"email_space":          {"Adres e-mail nie może zawierać spacji.", "An e-mail address cannot contain spaces."},
	"email_no_at":          {"W adresie brakuje znaku @ (np. jan.kowalski@kancelaria.pl).", "The address is missing the @ sign (e.g. jan.kowalski@firm.com)."},
	"email_two_at":         {"Adres może zawierać tylko jeden znak @.", "An address can contain only one @ sign."},
	"email_no_local":       {"Przed znakiem @ brakuje nazwy skrzynki.", "The mailbox name before the @ sign is missing."},
	"email_no_domain":      {"Po znaku @ brakuje domeny (np. wp.pl).", "The domain after the @ sign is missing (e.g. gmail.com)."},
	"email_too_long":       {"Adres e-mail jest za długi.", "The e-mail address is too long."},
	"email_local_syntax":   {"Nazwa skrzynki przed @ zawiera niedozwolone znaki.", "The mailbox name before the @ contains characters that are not allowed."},
	"email_domain_literal": {"Adresy z numerem IP zamiast domeny nie są obsługiwane.", "Addresses with an IP number instead of a domain are not supported."},
	"email_domain_syntax":  {"Domena po @ jest niepoprawna.", "The domain after the @ is not valid."},
	"email_domain_no_dot":  {"Domena po @ musi zawierać kropkę (np. kancelaria.pl).", "The domain after the @ must contain a dot (e.g. firm.com)."},
	"auth_invalid":         {"Nieznany sposób logowania.", "Unknown sign-in method."},
	"protocol_invalid":     {"Wybierz IMAP lub POP3.", "Choose IMAP or POP3."},
	"protocol_smtp":        {"Serwer wychodzący musi używać SMTP.", "The outgoing server must use SMTP."},
	"host_empty":           {"Wpisz adres serwera.", "Enter the server address."},
	"host_invalid":         {"Adres serwera jest niepoprawny (np. imap.wp.pl).", "The server address is not valid (e.g. imap.gmail.com)."},
	"port_range":           {"Port musi być liczbą od 1 do 65535.", "The port must be a number from 1 to 65535."},
	"security_invalid":     {"Nieznany rodzaj szyfrowania.", "Unknown encryption setting."},
	"security_none":        {"Połączenie bez szyfrowania wysłałoby hasło jawnym tekstem. Włącz TLS.", "An unencrypted connection would send the password in clear text. Turn TLS on."},
	"username_empty":       {"Wpisz nazwę użytkownika.", "Enter the user name."},
	"username_invalid":     {"Nazwa użytkownika nie może zawierać znaków sterujących.", "The user name cannot contain control characters."},
	"cert_pin_invalid":     {"Odcisk certyfikatu musi mieć 64 znaki szesnastkowe (SHA-256).", "The certificate fingerprint must be 64 hexadecimal characters (SHA-256)."},
}
