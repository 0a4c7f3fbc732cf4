package microsoft

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strconv"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/oauthloopback"
)

// Code classifies a failed Microsoft sign-in or token refresh. The codes are
// stable (the command line prints them in JSON).
type Code string

const (
	// CodeNotConfigured: no microsoft.clientId in the policy.
	CodeNotConfigured Code = "not_configured"
	// CodeAdminConsent: the tenant's administrator must approve the app
	// (AADSTS65001, 90094, 90095).
	CodeAdminConsent Code = "admin_consent"
	// CodeAppNotFound: the app registration does not exist in (or is
	// disabled for) the account's tenant (AADSTS700016, 7000112).
	CodeAppNotFound Code = "app_not_found"
	// CodePersonalNotAllowed: the registration does not take this kind of
	// account, typically a personal Microsoft account or a guest
	// (AADSTS50020, 500200, 9002332).
	CodePersonalNotAllowed Code = "personal_not_allowed"
	// CodeMisconfigured: the registration or the policy does not match how
	// the app signs in (AADSTS50194, 9002331, 50011, 500113, 7000218, …).
	CodeMisconfigured Code = "app_misconfigured"
	// CodeCancelled: the user cancelled in the browser or in the app.
	CodeCancelled Code = "cancelled"
	// CodeTimeout: nothing came back from the browser in time.
	CodeTimeout Code = "timeout"
	// CodeSignInAgain: the stored sign-in is no longer valid (invalid_grant,
	// AADSTS70008, 700082, 50173, 70043, …); the user signs in again.
	CodeSignInAgain Code = "signin_again"
	// CodeNotSignedIn: no refresh token is stored for the mailbox.
	CodeNotSignedIn Code = "not_signed_in"
	// CodeIDToken: the ID token is missing, malformed or not for this app.
	CodeIDToken Code = "id_token_invalid"
	// CodeNoAddress: the account has no e-mail address (e.g. a personal
	// account created with a phone number).
	CodeNoAddress Code = "no_address"
	// CodeNoRefreshToken: Microsoft issued no refresh token
	// (offline_access was not granted).
	CodeNoRefreshToken Code = "no_refresh_token"
	// CodeKeyring: the refresh token could not be read or stored.
	CodeKeyring Code = "keyring"
	// CodeNetwork: the Microsoft sign-in server could not be reached.
	CodeNetwork Code = "network"
	// CodeLoopback: the app could not listen for the browser's answer on
	// this computer (loopback port).
	CodeLoopback Code = "loopback"
	// CodeServer: any other refusal by Microsoft.
	CodeServer Code = "server"
	// CodeSMTPAuthDisabled: authenticated SMTP is switched off for the
	// tenant or mailbox (535 5.7.139). The verifier reports it; the text is
	// here (SMTPAuthDisabled).
	CodeSMTPAuthDisabled Code = "smtp_auth_disabled"
)

// Error is a failed Microsoft sign-in or refresh, with what a person is
// told. Error() is English and never holds a token or code.
type Error struct {
	Code    Code
	Message mailcfg.Text // what happened
	Hint    mailcfg.Text // what to do; may be empty
	// AADSTS is the first Microsoft error number, e.g. 65001; 0 if none.
	AADSTS int
	// OAuthError is the OAuth "error" value (access_denied, invalid_grant…).
	OAuthError string
	// TraceID and CorrelationID identify the request at Microsoft; IT
	// quotes them to Microsoft support.
	TraceID, CorrelationID string
	Err                    error
}

func (e *Error) Error() string {
	s := "microsoft sign-in: " + string(e.Code) + ": " + e.Message.EN
	if e.AADSTS != 0 {
		s += fmt.Sprintf(" (AADSTS%d)", e.AADSTS)
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// kinds maps each Code to the shared failure classification: account-side
// problems are auth_failed, what only an administrator or IT can fix is
// auth_disabled.
var kinds = map[Code]mailcfg.Kind{
	CodeNotConfigured:      mailcfg.KindAuthDisabled,
	CodeAdminConsent:       mailcfg.KindAuthDisabled,
	CodeAppNotFound:        mailcfg.KindAuthDisabled,
	CodePersonalNotAllowed: mailcfg.KindAuthDisabled,
	CodeMisconfigured:      mailcfg.KindAuthDisabled,
	CodeNoRefreshToken:     mailcfg.KindAuthDisabled,
	CodeSMTPAuthDisabled:   mailcfg.KindAuthDisabled,
	CodeCancelled:          mailcfg.KindCancelled,
	CodeTimeout:            mailcfg.KindTimeout,
	CodeNetwork:            mailcfg.KindConnect,
	CodeLoopback:           mailcfg.KindConnect,
	CodeSignInAgain:        mailcfg.KindAuthFailed,
	CodeNotSignedIn:        mailcfg.KindAuthFailed,
	CodeIDToken:            mailcfg.KindAuthFailed,
	CodeNoAddress:          mailcfg.KindAuthFailed,
	CodeKeyring:            mailcfg.KindAuthFailed,
	CodeServer:             mailcfg.KindAuthFailed,
}

// Failure is the error as a mailcfg.Failure (field "auth"; Detail
// "microsoft <code>" and the AADSTS number), the form the verifier, the
// window and the command line report. Code holding only an error reaches it
// with errors.As (see As), never by asking for this method.
func (e *Error) Failure() *mailcfg.Failure {
	kind, ok := kinds[e.Code]
	if !ok {
		kind = mailcfg.KindAuthFailed
	}
	detail := "microsoft " + string(e.Code)
	if d := e.Detail(); d != "" {
		detail += " " + d
	}
	return &mailcfg.Failure{Kind: kind, Message: e.Message, Hint: e.Hint, Field: "auth", Detail: detail}
}

// As lets errors.As find a *mailcfg.Failure in an *Error, so that code that
// reports failures (verify's TokenFunc handling, the window, the command
// line) shows the Microsoft message and hint the way it shows any failure:
//
//	var f *mailcfg.Failure
//	if errors.As(err, &f) { … f.Message, f.Hint … }
func (e *Error) As(target any) bool {
	if f, ok := target.(**mailcfg.Failure); ok {
		*f = e.Failure()
		return true
	}
	return false
}

// Detail is safe technical detail: the AADSTS number and OAuth error.
func (e *Error) Detail() string {
	var d string
	if e.AADSTS != 0 {
		d = "AADSTS" + strconv.Itoa(e.AADSTS)
	}
	if e.OAuthError != "" {
		if d != "" {
			d += " "
		}
		d += e.OAuthError
	}
	return d
}

// Text is the message and hint in one sentence pair.
func (e *Error) Text() mailcfg.Text {
	if e.Hint.IsZero() {
		return e.Message
	}
	return mailcfg.Text{PL: e.Message.PL + " " + e.Hint.PL, EN: e.Message.EN + " " + e.Hint.EN}
}

// NotConfigured is the error when no client id is configured; policyFile
// is the JSON policy file IT may use ("" means this process's,
// policy.FilePath). The hint also names this OS's managed policy (Windows
// registry, macOS profile).
func NotConfigured(policyFile string) *Error {
	if policyFile == "" {
		policyFile, _ = policy.FilePath(nil)
	}
	return notConfigured(policyFile, runtime.GOOS)
}

func notConfigured(policyFile, goos string) *Error {
	example := `{"microsoft": {"clientId": "00000000-0000-0000-0000-000000000000"}}`
	var alsoPL, alsoEN string
	switch goos {
	case "windows":
		alsoPL = fmt.Sprintf(" albo jako wartość %s w rejestrze HKLM\\%s (zasady grupy)", "microsoft.clientId", policy.RegistryPath)
		alsoEN = fmt.Sprintf(" or as the value %s in the registry key HKLM\\%s (group policy)", "microsoft.clientId", policy.RegistryPath)
	case "darwin":
		alsoPL = fmt.Sprintf(" albo w profilu konfiguracji (MDM) dla domeny %s", policy.PlistID)
		alsoEN = fmt.Sprintf(" or in a configuration profile (MDM) for the domain %s", policy.PlistID)
	}
	return &Error{
		Code: CodeNotConfigured,
		Message: mailcfg.Text{
			PL: "Logowanie przez Microsoft nie jest jeszcze skonfigurowane w tej kancelarii.",
			EN: "Sign-in with Microsoft is not set up for this firm yet.",
		},
		Hint: mailcfg.Text{
			PL: fmt.Sprintf("Dział IT musi zarejestrować aplikację w Microsoft Entra ID (platforma „Mobile and desktop applications”, adres przekierowania http://localhost, uprawnienia IMAP.AccessAsUser.All, POP.AccessAsUser.All, SMTP.Send i offline_access) i wpisać jej identyfikator (Application (client) ID) jako klucz %s w pliku zasad %s, np. %s (inny plik wskazuje zmienna %s)%s. Do tego czasu skonfiguruj skrzynkę ręcznie.",
				"microsoft.clientId", policyFile, example, policy.EnvPath, alsoPL),
			EN: fmt.Sprintf("Your IT department must register the app in Microsoft Entra ID (platform “Mobile and desktop applications”, redirect URI http://localhost, permissions IMAP.AccessAsUser.All, POP.AccessAsUser.All, SMTP.Send and offline_access) and set its Application (client) ID as the key %s in the policy file %s, e.g. %s (the variable %s names another file)%s. Until then, set the mailbox up manually.",
				"microsoft.clientId", policyFile, example, policy.EnvPath, alsoEN),
		},
	}
}

// SMTPAuthDisabled is the message and hint for "535 5.7.139
// SmtpClientAuthentication is disabled": OAuth does not get past it, only the
// tenant's administrator can switch SMTP AUTH on.
var SMTPAuthDisabled = struct{ Message, Hint mailcfg.Text }{
	Message: mailcfg.Text{
		PL: "Microsoft 365 nie pozwala tej skrzynce wysyłać poczty z programów pocztowych: uwierzytelnione SMTP (SMTP AUTH) jest wyłączone w organizacji lub dla tej skrzynki.",
		EN: "Microsoft 365 does not let this mailbox send mail from mail programs: authenticated SMTP (SMTP AUTH) is switched off for the organisation or for this mailbox.",
	},
	Hint: mailcfg.Text{
		PL: "Administrator Microsoft 365 w kancelarii musi włączyć uwierzytelnione SMTP dla tej skrzynki (centrum administracyjne Microsoft 365 → Użytkownicy → skrzynka → Poczta → Zarządzaj aplikacjami poczty e-mail → „Uwierzytelnione SMTP”, albo w PowerShell: Set-CASMailbox -Identity <adres> -SmtpClientAuthenticationDisabled $false). Zmiana zaczyna działać po kilkunastu minutach. Zobacz https://aka.ms/smtp_auth_disabled.",
		EN: "Your firm's Microsoft 365 administrator must turn on authenticated SMTP for this mailbox (Microsoft 365 admin center → Users → the mailbox → Mail → Manage email apps → “Authenticated SMTP”, or in PowerShell: Set-CASMailbox -Identity <address> -SmtpClientAuthenticationDisabled $false). The change takes effect after a few minutes. See https://aka.ms/smtp_auth_disabled.",
	},
}

var texts = map[Code]struct{ msg, hint mailcfg.Text }{
	CodeAdminConsent: {
		mailcfg.Text{PL: "Microsoft wymaga zgody administratora organizacji na dostęp tej aplikacji do poczty.",
			EN: "Microsoft requires your organisation's administrator to approve this app's access to mail."},
		mailcfg.Text{PL: "Poproś administratora Microsoft 365 w kancelarii o udzielenie zgody administratora (admin consent) dla aplikacji Infino Mailbox z uprawnieniami IMAP.AccessAsUser.All i SMTP.Send, a potem zaloguj się ponownie.",
			EN: "Ask your firm's Microsoft 365 administrator to grant admin consent for the Infino Mailbox app with the permissions IMAP.AccessAsUser.All and SMTP.Send, then sign in again."},
	},
	CodeAppNotFound: {
		mailcfg.Text{PL: "Microsoft nie zna aplikacji o identyfikatorze ustawionym w zasadach kancelarii (albo jest ona wyłączona w tej organizacji).",
			EN: "Microsoft does not know the app whose ID is set in your firm's policy (or it is disabled in this organisation)."},
		mailcfg.Text{PL: "Dział IT powinien sprawdzić klucz microsoft.clientId w pliku zasad (czy to Application (client) ID właściwej rejestracji) i czy rejestracja jest dostępna dla kont z innych organizacji i kont prywatnych, jeśli mają z niej korzystać.",
			EN: "Your IT department should check the key microsoft.clientId in the policy file (is it the Application (client) ID of the right registration?) and that the registration is available to accounts of other organisations and personal accounts if they are to use it."},
	},
	CodePersonalNotAllowed: {
		mailcfg.Text{PL: "Tym kontem nie można się zalogować do aplikacji kancelarii: rejestracja nie przyjmuje prywatnych kont Microsoft (Outlook.com, Hotmail) ani kont z innych organizacji.",
			EN: "This account cannot sign in to your firm's app: the registration does not accept personal Microsoft accounts (Outlook.com, Hotmail) or accounts of other organisations."},
		mailcfg.Text{PL: "Zaloguj się służbowym kontem kancelarii. Jeśli to ma być konto prywatne, dział IT musi zezwolić w rejestracji aplikacji na konta prywatne (obsługiwane typy kont: „konta w dowolnym katalogu organizacyjnym i osobiste konta Microsoft”).",
			EN: "Sign in with your firm's work account. If it is meant to be a personal account, your IT department must allow personal accounts in the app registration (supported account types: “accounts in any organizational directory and personal Microsoft accounts”)."},
	},
	CodeMisconfigured: {
		mailcfg.Text{PL: "Rejestracja aplikacji w Microsoft Entra ID nie pasuje do sposobu logowania programu.",
			EN: "The app registration in Microsoft Entra ID does not match how the app signs in."},
		mailcfg.Text{PL: "Dział IT powinien sprawdzić rejestrację: platforma „Mobile and desktop applications” z adresem http://localhost, obsługiwane typy kont zgodne z kluczem microsoft.tenant w pliku zasad (dla jednej organizacji ustaw tam jej identyfikator dzierżawy).",
			EN: "Your IT department should check the registration: platform “Mobile and desktop applications” with redirect URI http://localhost, supported account types matching the key microsoft.tenant in the policy file (for a single organisation set its tenant ID there)."},
	},
	CodeCancelled: {
		mailcfg.Text{PL: "Logowanie przez Microsoft zostało anulowane.", EN: "Sign-in with Microsoft was cancelled."},
		mailcfg.Text{PL: "Spróbuj ponownie, gdy zechcesz, albo skonfiguruj skrzynkę ręcznie.", EN: "Try again whenever you like, or set the mailbox up manually."},
	},
	CodeTimeout: {
		mailcfg.Text{PL: "Nie otrzymano odpowiedzi z przeglądarki na czas.", EN: "No answer came back from the browser in time."},
		mailcfg.Text{PL: "Spróbuj ponownie; jeśli przeglądarka się nie otworzyła, skopiuj pokazany adres i otwórz go ręcznie.", EN: "Try again; if the browser did not open, copy the address shown and open it yourself."},
	},
	CodeSignInAgain: {
		mailcfg.Text{PL: "Logowanie do konta Microsoft wygasło lub zostało cofnięte (np. po zmianie hasła).",
			EN: "The sign-in to the Microsoft account has expired or was revoked (for example after a password change)."},
		mailcfg.Text{PL: "Zaloguj się ponownie przez Microsoft.", EN: "Sign in with Microsoft again."},
	},
	CodeNotSignedIn: {
		mailcfg.Text{PL: "Dla tej skrzynki nie zapisano logowania przez Microsoft.", EN: "No Microsoft sign-in is stored for this mailbox."},
		mailcfg.Text{PL: "Zaloguj się przez Microsoft (infino-mailbox signin microsoft).", EN: "Sign in with Microsoft (infino-mailbox signin microsoft)."},
	},
	CodeIDToken: {
		mailcfg.Text{PL: "Odpowiedź Microsoftu nie potwierdza, kto się zalogował.", EN: "Microsoft's answer does not confirm who signed in."},
		mailcfg.Text{PL: "Spróbuj ponownie. Jeśli błąd się powtarza, dział IT powinien sprawdzić klucze microsoft.authority i microsoft.tenant w pliku zasad.",
			EN: "Try again. If it keeps happening, your IT department should check the keys microsoft.authority and microsoft.tenant in the policy file."},
	},
	CodeNoAddress: {
		mailcfg.Text{PL: "Konto Microsoft, którym się zalogowano, nie ma adresu e-mail.", EN: "The Microsoft account you signed in with has no e-mail address."},
		mailcfg.Text{PL: "Zaloguj się kontem, które ma skrzynkę pocztową.", EN: "Sign in with an account that has a mailbox."},
	},
	CodeNoRefreshToken: {
		mailcfg.Text{PL: "Microsoft nie pozwolił na stały dostęp do skrzynki (brak uprawnienia offline_access).",
			EN: "Microsoft did not allow lasting access to the mailbox (no offline_access permission)."},
		mailcfg.Text{PL: "Dział IT powinien dodać uprawnienie offline_access do rejestracji aplikacji.", EN: "Your IT department should add the offline_access permission to the app registration."},
	},
	CodeNetwork: {
		mailcfg.Text{PL: "Nie udało się połączyć z serwerem logowania Microsoft.", EN: "The Microsoft sign-in server could not be reached."},
		mailcfg.Text{PL: "Sprawdź połączenie z internetem i spróbuj ponownie.", EN: "Check your internet connection and try again."},
	},
	CodeLoopback: {
		mailcfg.Text{PL: "Program nie może odebrać odpowiedzi z przeglądarki: nie udało się otworzyć lokalnego portu (localhost).",
			EN: "The app cannot receive the browser's answer: it could not open a local port (localhost)."},
		mailcfg.Text{PL: "Spróbuj ponownie. Jeśli błąd się powtarza, dział IT powinien sprawdzić, czy zapora lub program antywirusowy nie blokuje programowi połączeń z localhost.",
			EN: "Try again. If it keeps happening, your IT department should check that no firewall or antivirus program blocks the app's connections to localhost."},
	},
	CodeServer: {
		mailcfg.Text{PL: "Microsoft odrzucił logowanie.", EN: "Microsoft refused the sign-in."},
		mailcfg.Text{PL: "Spróbuj ponownie. Jeśli błąd się powtarza, przekaż działowi IT kod błędu (AADSTS…).",
			EN: "Try again. If it keeps happening, give your IT department the error code (AADSTS…)."},
	},
	CodeSMTPAuthDisabled: {SMTPAuthDisabled.Message, SMTPAuthDisabled.Hint},
}

func newError(code Code, err error) *Error {
	t := texts[code]
	return &Error{Code: code, Message: t.msg, Hint: t.hint, Err: err}
}

// aadsts groups Microsoft's error numbers. References: Microsoft Entra
// authentication and authorization error codes
// (https://learn.microsoft.com/entra/identity-platform/reference-error-codes).
var aadsts = map[Code][]int{
	CodeAdminConsent:       {65001, 90094, 90095, 90099, 650051, 650052, 650056},
	CodeAppNotFound:        {700016, 7000112, 700023},
	CodePersonalNotAllowed: {50020, 500200, 9002332, 50177},
	CodeMisconfigured:      {50194, 9002331, 50011, 500113, 7000218, 700054, 900144, 70011, 700022, 28002, 28003, 9002326, 9002327, 50059, 90002, 90072},
	CodeCancelled:          {65004},
	CodeSignInAgain:        {70008, 700082, 50173, 70043, 50132, 50133, 54005, 50078, 50076, 50079, 50074, 700084},
}

var aadstsText = regexp.MustCompile(`AADSTS(\d{4,9})`)

// classifyOAuth maps an OAuth error (redirect or token endpoint) with its
// Microsoft error numbers to a Code.
func classifyOAuth(oauthErr, description string, codes []int) (Code, int) {
	if len(codes) == 0 {
		for _, m := range aadstsText.FindAllStringSubmatch(description, 3) {
			if n, err := strconv.Atoi(m[1]); err == nil {
				codes = append(codes, n)
			}
		}
	}
	for _, n := range codes {
		for code, list := range aadsts {
			if slices.Contains(list, n) {
				return code, n
			}
		}
	}
	first := 0
	if len(codes) > 0 {
		first = codes[0]
	}
	switch oauthErr {
	case "access_denied":
		return CodeCancelled, first
	case "invalid_grant", "interaction_required", "login_required":
		return CodeSignInAgain, first
	case "consent_required":
		return CodeAdminConsent, first
	case "unauthorized_client", "invalid_client", "unsupported_response_type", "invalid_scope", "invalid_request":
		return CodeMisconfigured, first
	}
	return CodeServer, first
}

func oauthFailure(oauthErr, description string, codes []int, trace, corr string, err error) *Error {
	code, n := classifyOAuth(oauthErr, description, codes)
	e := newError(code, err)
	e.AADSTS, e.OAuthError, e.TraceID, e.CorrelationID = n, oauthErr, trace, corr
	if n == 9002331 {
		// The registration takes only personal accounts.
		e.Message = mailcfg.Text{
			PL: "Rejestracja aplikacji w Microsoft Entra ID przyjmuje tylko prywatne konta Microsoft, a nie konta służbowe.",
			EN: "The app registration in Microsoft Entra ID accepts only personal Microsoft accounts, not work accounts.",
		}
	}
	return e
}

// flowError maps an error of the loopback flow.
func flowError(err error) *Error {
	var ae *oauthloopback.AuthError
	var te *oauthloopback.TokenError
	switch {
	case errors.As(err, &ae):
		return oauthFailure(ae.Code, ae.Description, nil, "", "", err)
	case errors.As(err, &te):
		return oauthFailure(te.Code, te.Description, te.ErrorCodes, te.TraceID, te.CorrelationID, err)
	case errors.Is(err, oauthloopback.ErrTimeout):
		return newError(CodeTimeout, err)
	case errors.Is(err, oauthloopback.ErrClosed), errors.Is(err, context.Canceled):
		return newError(CodeCancelled, err)
	case errors.Is(err, context.DeadlineExceeded):
		return newError(CodeTimeout, err)
	}
	return newError(CodeNetwork, err)
}

// FlowError classifies an error of the loopback flow (a redirect error, a
// token endpoint refusal, a timeout…) as an *Error; package signin reads
// Microsoft's answers through it.
func FlowError(err error) *Error { return flowError(err) }

// OAuthFailure classifies an OAuth error answer with Microsoft's error
// numbers (error_codes, or AADSTS numbers in the description).
func OAuthFailure(oauthErr, description string, codes []int, traceID, correlationID string, err error) *Error {
	return oauthFailure(oauthErr, description, codes, traceID, correlationID, err)
}
