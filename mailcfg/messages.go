package mailcfg

// The words of the core in both languages: what failed and what to do
// (failure.go says which a failure gets), and what is wrong with a field
// (fielderror.go).

// sideNoun is the subject of every message: the server of a side.
func sideNoun(side string) Text {
	switch side {
	case "incoming":
		return Text{"Serwer poczty przychodzącej", "The incoming mail server"}
	case "outgoing":
		return Text{"Serwer poczty wychodzącej", "The outgoing mail server"}
	}
	return Text{"Serwer poczty", "The mail server"}
}

// joinText puts two texts one after the other, language by language.
func joinText(a, b Text) Text {
	j := func(x, y string) string {
		switch {
		case x == "":
			return y
		case y == "":
			return x
		}
		return x + " " + y
	}
	return Text{PL: j(a.PL, b.PL), EN: j(a.EN, b.EN)}
}

// messages says what happened. %[1]s is the server ("The incoming mail
// server"), always the subject of the sentence, so Polish needs no other case.

var messages = map[string]Text{
	"dns":              {"%[1]s: nie ma takiego adresu w internecie.", "%[1]s: there is no such address on the internet."},
	"dns_temporary":    {"%[1]s: nie udało się sprawdzić adresu (problem z DNS lub brak internetu).", "%[1]s: its address could not be looked up (a DNS problem or no internet connection)."},
	"connect":          {"%[1]s nie odpowiada na połączenie.", "%[1]s does not accept the connection."},
	"refused":          {"%[1]s odrzucił połączenie na tym porcie.", "%[1]s refused the connection on this port."},
	"unreachable":      {"%[1]s jest nieosiągalny z tej sieci.", "%[1]s cannot be reached from this network."},
	"greeting_refused": {"%[1]s odpowiedział, ale odmówił obsługi połączenia.", "%[1]s answered but turned the connection away."},
	"timeout":          {"%[1]s nie odpowiedział na czas.", "%[1]s did not answer in time."},
	"tls_certificate":  {"%[1]s przedstawił certyfikat, któremu nie można zaufać.", "%[1]s presented a certificate that cannot be trusted."},
	"tls_unavailable":  {"%[1]s nie oferuje szyfrowanego połączenia w wybranym trybie. Hasło nie zostało wysłane.", "%[1]s does not offer an encrypted connection in the chosen mode. The password was not sent."},
	"tls_not_spoken":   {"%[1]s odpowiada na tym porcie bez szyfrowania TLS: ten port oczekuje STARTTLS, nie SSL/TLS. Hasło nie zostało wysłane.", "%[1]s answers on this port without TLS: this port expects STARTTLS, not SSL/TLS. The password was not sent."},
	"tls_handshake":    {"%[1]s nie zgodził się na bezpieczne szyfrowanie (TLS 1.2 lub nowszy). Hasło nie zostało wysłane.", "%[1]s would not agree on secure encryption (TLS 1.2 or newer). The password was not sent."},
	"auth_failed":      {"%[1]s nie przyjął nazwy użytkownika lub hasła.", "%[1]s did not accept the user name or password."},
	"password_expired": {"%[1]s zgłasza, że hasło wygasło.", "%[1]s reports that the password has expired."},
	"app_password_required": {"%[1]s wymaga hasła aplikacji zamiast zwykłego hasła do konta.",
		"%[1]s requires an app password instead of the normal account password."},
	"auth_disabled": {"%[1]s nie pozwala na logowanie z programów pocztowych dla tej skrzynki.",
		"%[1]s does not allow sign-in from mail programs for this mailbox."},
	"auth_temporary": {"%[1]s odrzucił logowanie kodem błędu tymczasowego (4xx) – niektóre serwery tak odpowiadają na błędną nazwę użytkownika lub hasło.",
		"%[1]s refused the sign-in with a temporary error code (4xx) – some servers answer a wrong user name or password like this."},
	"cert_other_host": {"%[1]s przedstawił ważny i zaufany certyfikat, ale wystawiony dla innej nazwy serwera.",
		"%[1]s presented a valid, trusted certificate, but for a different server name."},
	"smtp_auth_disabled": {"Microsoft 365 nie pozwala tej skrzynce wysyłać poczty z programów pocztowych: uwierzytelnione SMTP (SMTP AUTH) jest wyłączone w organizacji albo dla tej skrzynki.",
		"Microsoft 365 does not allow this mailbox to send mail from mail programs: authenticated SMTP (SMTP AUTH) is switched off for the organisation or for this mailbox."},
	"microsoft_573": {"%[1]s (Microsoft) odrzucił logowanie: hasło jest błędne albo logowanie z programów pocztowych jest wyłączone dla tej skrzynki.",
		"%[1]s (Microsoft) refused the sign-in: either the password is wrong or sign-in from mail programs is switched off for this mailbox."},
	"protocol":         {"%[1]s odpowiada w nieoczekiwany sposób.", "%[1]s answers in an unexpected way."},
	"closed":           {"%[1]s niespodziewanie zakończył połączenie.", "%[1]s closed the connection unexpectedly."},
	"server_temporary": {"%[1]s zgłasza chwilowy problem.", "%[1]s reports a temporary problem."},
	"no_mechanism":     {"%[1]s nie oferuje sposobu logowania, którego program może bezpiecznie użyć.", "%[1]s offers no sign-in method the app can use safely."},
	"cancelled":        {"Sprawdzanie przerwano.", "The check was stopped."},
	"signin_required": {"%[1]s nie przyjmuje hasła do tej skrzynki: dostawca wymaga logowania na swojej stronie.",
		"%[1]s does not accept a password for this mailbox: the provider requires signing in on its own page."},
	"microsoft_573_signin": {"%[1]s (Microsoft) odrzucił hasło. Microsoft nie przyjmuje już haseł w programach pocztowych dla większości skrzynek.",
		"%[1]s (Microsoft) refused the password. Microsoft no longer accepts passwords in mail programs for most mailboxes."},
	"permission": {"%[1]s nie pozwala zalogowanemu użytkownikowi korzystać z tej skrzynki (brak uprawnień do skrzynki współdzielonej).",
		"%[1]s does not let the signed-in user use this mailbox (no permission for the shared mailbox)."},
	"insecure_refused": {"%[1]s: połączenie bez szyfrowania nie jest dozwolone. Hasło nie zostało wysłane.", "%[1]s: a connection without encryption is not allowed. The password was not sent."},
	"expects_tls":      {"%[1]s na tym porcie oczekuje szyfrowania SSL/TLS od początku połączenia, a nie STARTTLS. Hasło nie zostało wysłane.", "%[1]s expects SSL/TLS from the start of the connection on this port, not STARTTLS. The password was not sent."},
	"expects_starttls": {"%[1]s na tym porcie zaczyna bez szyfrowania i oczekuje STARTTLS, a nie SSL/TLS. Hasło nie zostało wysłane.", "%[1]s starts unencrypted on this port and expects STARTTLS, not SSL/TLS. The password was not sent."},
	"web_server":       {"%[1]s: na tym porcie odpowiada serwer WWW, a nie serwer poczty.", "%[1]s: a web server answers on this port, not a mail server."},
	"other_protocol":   {"%[1]s: na tym porcie serwer odpowiada w protokole %[2]s, a nie %[3]s.", "%[1]s: the server on this port speaks %[2]s, not %[3]s."},
}

// hints say what to do, per kind; a provider's help text replaces them for
// the sign-in kinds.
// variantHints are the hints of variants that know better than their kind's
// (and the provider's) general one.
var variantHints = map[Variant]Text{
	VariantSMTPAuthDisabled: {
		"Administrator Microsoft 365 w kancelarii musi włączyć uwierzytelnione SMTP dla tej skrzynki (centrum administracyjne Microsoft 365 → Użytkownicy → skrzynka → Poczta → Zarządzaj aplikacjami poczty e-mail → „Uwierzytelnione SMTP”, albo w PowerShell: Set-CASMailbox -Identity <adres> -SmtpClientAuthenticationDisabled $false). Zmiana zaczyna działać po kilkunastu minutach. Zobacz https://aka.ms/smtp_auth_disabled.",
		"Your firm's Microsoft 365 administrator must turn on authenticated SMTP for this mailbox (Microsoft 365 admin center → Users → the mailbox → Mail → Manage email apps → “Authenticated SMTP”, or in PowerShell: Set-CASMailbox -Identity <address> -SmtpClientAuthenticationDisabled $false). The change takes effect after a few minutes. See https://aka.ms/smtp_auth_disabled.",
	},
}

var hints = map[Kind]Text{
	KindDNS: {"Sprawdź pisownię adresu serwera i połączenie z internetem.",
		"Check the spelling of the server address and your internet connection."},
	KindConnect: {"Sprawdź adres serwera i numer portu. Połączenie może też blokować zapora sieciowa lub program antywirusowy.",
		"Check the server address and port. A firewall or antivirus program may also be blocking the connection."},
	KindTimeout: {"Sprawdź połączenie z internetem i spróbuj ponownie. Jeśli to się powtarza, zapora sieciowa może blokować ten port.",
		"Check your internet connection and try again. If it keeps happening, a firewall may be blocking this port."},
	KindTLSCertificate: {"Nie łącz się z tym serwerem, dopóki dostawca poczty lub dział IT nie potwierdzi jego certyfikatu.",
		"Do not connect to this server until your mail provider or IT department confirms its certificate."},
	KindTLSUnavailable: {"Wybierz inny rodzaj szyfrowania z ustawień dostawcy (SSL/TLS na portach 993, 995, 465 albo STARTTLS na 143, 110, 587).",
		"Choose the other encryption setting your provider lists (SSL/TLS on ports 993, 995, 465 or STARTTLS on 143, 110, 587)."},
	KindAuthFailed: {"Sprawdź nazwę użytkownika (zwykle pełny adres e-mail) i hasło.",
		"Check the user name (usually the full e-mail address) and the password."},
	KindAppPasswordRequired: {"Utwórz hasło aplikacji w ustawieniach konta u dostawcy i wpisz je zamiast zwykłego hasła.",
		"Create an app password in your account settings at the provider and enter it instead of your usual password."},
	KindAuthDisabled: {"Włącz dostęp dla programów pocztowych (IMAP/POP3/SMTP) w ustawieniach poczty w przeglądarce albo poproś o to administratora.",
		"Switch on access for mail programs (IMAP/POP3/SMTP) in your webmail settings, or ask your administrator to."},
	KindProtocol: {"Sprawdź, czy port i protokół są właściwe (IMAP 993/143, POP3 995/110, SMTP 465/587). Jeśli tak, spróbuj później.",
		"Check that the port and protocol are right (IMAP 993/143, POP3 995/110, SMTP 465/587). If they are, try again later."},
	KindCancelled: {"Uruchom sprawdzanie ponownie, gdy zechcesz.", "Start the check again whenever you like."},
	KindInsecureRefused: {"Włącz szyfrowanie (SSL/TLS lub STARTTLS).",
		"Turn encryption on (SSL/TLS or STARTTLS)."},
	KindSignInRequired: {"Użyj przycisku logowania przez dostawcę (np. „Zaloguj przez Microsoft”) zamiast hasła.",
		"Use the provider's sign-in button (e.g. “Sign in with Microsoft”) instead of a password."},
	KindPermission: {"Poproś dział IT o pełny dostęp (Full Access) do tej skrzynki współdzielonej, a do wysyłania także o uprawnienie „Wyślij jako” (Send As). Zmiana działa po kilkunastu minutach.",
		"Ask your IT department for Full Access to this shared mailbox and, for sending, the Send As permission. The change takes effect after a few minutes."},
}

// otherHostHint is the hint of a valid, trusted certificate for another
// name; %[1]s is that name.
var otherHostHint = Text{
	"Twoja poczta działa zapewne na serwerze %[1]s (tak jest u wielu firm hostingowych). Użyj serwera %[1]s – certyfikat zostanie sprawdzony ponownie.",
	"Your mail most likely runs on the server %[1]s (as with many hosting companies). Use the server %[1]s – its certificate is checked again.",
}

var certHints = map[string]Text{
	CertUnknownAuthority: {"Jeśli kancelaria używa własnego certyfikatu, porównaj odcisk SHA-256 z danymi od działu IT i zaufaj mu tylko wtedy, gdy się zgadza.",
		"If your firm uses its own certificate, compare the SHA-256 fingerprint with the one from your IT department and trust it only if they match."},
	CertExpired: {"Certyfikat serwera wygasł. Sprawdź datę i godzinę w komputerze; jeśli są dobre, zgłoś to dostawcy poczty lub działowi IT.",
		"The server's certificate has expired. Check your computer's date and time; if they are right, tell your mail provider or IT department."},
	CertNotYetValid: {"Certyfikat serwera nie jest jeszcze ważny. Sprawdź datę i godzinę w komputerze.",
		"The server's certificate is not valid yet. Check your computer's date and time."},
	CertWrongHost: {"Certyfikat wystawiono na inną nazwę serwera. Wpisz dokładnie nazwę serwera podaną przez dostawcę (patrz nazwy w certyfikacie).",
		"The certificate was issued for a different server name. Enter the exact server name your provider gives (see the names in the certificate)."},
	CertPinMismatch: {"Serwer przedstawił inny certyfikat niż zapisany. Skontaktuj się z działem IT, zanim zaufasz nowemu certyfikatowi.",
		"The server presented a different certificate from the one saved. Contact your IT department before trusting the new certificate."},
	CertOther: {"Skontaktuj się z dostawcą poczty lub działem IT.", "Contact your mail provider or IT department."},
}

// fieldMessages holds every validation message, by FieldError.Code.
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
