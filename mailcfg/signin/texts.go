package signin

import (
	"fmt"
	"strings"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/microsoft"
	"infino.legal/mailbox/mailcfg/policy"
)

// tmpl is a bilingual text with {name} for the provider's display name and
// {id} for its id.
type tmpl mailcfg.Text

func (t tmpl) with(p *mailcfg.OAuthProvider) mailcfg.Text {
	pl := strings.NewReplacer("{name}", p.Name.PL, "{id}", p.ID)
	en := strings.NewReplacer("{name}", p.Name.EN, "{id}", p.ID)
	return mailcfg.Text{PL: pl.Replace(t.PL), EN: en.Replace(t.EN)}
}

var texts = map[Code]struct{ msg, hint tmpl }{
	CodeAdminConsent: {
		tmpl{PL: "{name} wymaga zgody administratora organizacji na dostęp tej aplikacji do poczty.", EN: "{name} requires your organisation's administrator to approve this app's access to mail."},
		tmpl{PL: "Skopiuj prośbę do działu IT: administrator otworzy zawarty w niej link i zatwierdzi aplikację dla całej kancelarii. Potem kliknij „Sprawdź ponownie”.",
			EN: "Copy the request to your IT department: the administrator opens the link in it and approves the app for the whole firm. Then click “Check again”."},
	},
	CodeAppNotFound: {
		tmpl{PL: "{name} nie zna aplikacji o identyfikatorze ustawionym w zasadach kancelarii.", EN: "{name} does not know the app whose ID is set in your firm's policy."},
		tmpl{PL: "Dział IT powinien sprawdzić identyfikator klienta (clientId) w pliku zasad.", EN: "Your IT department should check the client ID (clientId) in the policy file."},
	},
	CodeMisconfigured: {
		tmpl{PL: "Rejestracja aplikacji u dostawcy {name} nie pasuje do sposobu logowania programu.", EN: "The app's registration at {name} does not match how the app signs in."},
		tmpl{PL: "Dział IT powinien sprawdzić rejestrację (aplikacja komputerowa, przekierowanie na adres pętli zwrotnej 127.0.0.1 lub localhost) i klucze oauth w pliku zasad.",
			EN: "Your IT department should check the registration (desktop app, redirect to the loopback address 127.0.0.1 or localhost) and the oauth keys in the policy file."},
	},
	CodeCancelled: {
		tmpl{PL: "Logowanie przez {name} zostało anulowane.", EN: "Sign-in with {name} was cancelled."},
		tmpl{PL: "Spróbuj ponownie, gdy zechcesz, albo skonfiguruj skrzynkę ręcznie.", EN: "Try again whenever you like, or set the mailbox up manually."},
	},
	CodeTimeout: {
		tmpl{PL: "Nie otrzymano odpowiedzi z przeglądarki na czas.", EN: "No answer came back from the browser in time."},
		tmpl{PL: "Spróbuj ponownie; jeśli przeglądarka się nie otworzyła, skopiuj pokazany adres i otwórz go ręcznie.", EN: "Try again; if the browser did not open, copy the address shown and open it yourself."},
	},
	CodeSignInAgain: {
		tmpl{PL: "Logowanie do konta {name} wygasło lub zostało cofnięte (np. po zmianie hasła).", EN: "The sign-in to the {name} account has expired or was revoked (for example after a password change)."},
		tmpl{PL: "Zaloguj się ponownie przez {name}.", EN: "Sign in with {name} again."},
	},
	CodeNotSignedIn: {
		tmpl{PL: "Dla tej skrzynki nie zapisano logowania przez {name}.", EN: "No {name} sign-in is stored for this mailbox."},
		tmpl{PL: "Zaloguj się przez {name} (infino-mailbox signin {id}).", EN: "Sign in with {name} (infino-mailbox signin {id})."},
	},
	CodeIDToken: {
		tmpl{PL: "Odpowiedź {name} nie potwierdza, kto się zalogował.", EN: "{name}'s answer does not confirm who signed in."},
		tmpl{PL: "Spróbuj ponownie. Jeśli błąd się powtarza, dział IT powinien sprawdzić klucze oauth w pliku zasad.", EN: "Try again. If it keeps happening, your IT department should check the oauth keys in the policy file."},
	},
	CodeEmailUnverified: {
		tmpl{PL: "{name} nie potwierdza, że adres e-mail tego konta jest zweryfikowany.", EN: "{name} does not confirm that this account's e-mail address is verified."},
		tmpl{PL: "Zaloguj się kontem z potwierdzonym adresem e-mail.", EN: "Sign in with an account whose e-mail address is verified."},
	},
	CodeNoAddress: {
		tmpl{PL: "Konto {name}, którym się zalogowano, nie ma adresu e-mail.", EN: "The {name} account you signed in with has no e-mail address."},
		tmpl{PL: "Zaloguj się kontem, które ma skrzynkę pocztową (albo wpisz jej adres przed logowaniem).", EN: "Sign in with an account that has a mailbox (or type its address before signing in)."},
	},
	CodeNoRefreshToken: {
		tmpl{PL: "{name} nie pozwolił na stały dostęp do skrzynki (brak tokenu odświeżania).", EN: "{name} did not allow lasting access to the mailbox (no refresh token)."},
		tmpl{PL: "Zaloguj się ponownie i zatwierdź dostęp. Jeśli błąd się powtarza, dział IT powinien sprawdzić rejestrację aplikacji.", EN: "Sign in again and approve the access. If it keeps happening, your IT department should check the app registration."},
	},
	CodeKeyring: {
		tmpl{PL: "Nie udało się odczytać ani zapisać danych logowania w systemowym magazynie haseł.", EN: "The sign-in data could not be read from or written to the system keyring."},
		tmpl{PL: "Odblokuj systemowy magazyn haseł i spróbuj ponownie.", EN: "Unlock the system keyring and try again."},
	},
	CodeNetwork: {
		tmpl{PL: "Nie udało się połączyć z serwerem logowania {name}.", EN: "The {name} sign-in server could not be reached."},
		tmpl{PL: "Sprawdź połączenie z internetem i spróbuj ponownie.", EN: "Check your internet connection and try again."},
	},
	CodeLoopback: {
		tmpl{PL: "Program nie może odebrać odpowiedzi z przeglądarki: nie udało się otworzyć lokalnego portu.", EN: "The app cannot receive the browser's answer: it could not open a local port."},
		tmpl{PL: "Spróbuj ponownie. Jeśli błąd się powtarza, dział IT powinien sprawdzić, czy zapora nie blokuje programowi połączeń z 127.0.0.1.", EN: "Try again. If it keeps happening, your IT department should check that no firewall blocks the app's connections to 127.0.0.1."},
	},
	CodeIssuerMismatch: {
		tmpl{PL: "Odpowiedź logowania nie pochodzi od serwera {name}, o który program pytał. Ze względów bezpieczeństwa logowanie przerwano.",
			EN: "The sign-in answer did not come from the {name} server the app asked. For your security the sign-in was stopped."},
		tmpl{PL: "Zamknij inne karty logowania i spróbuj ponownie. Jeśli to się powtarza, powiadom dział IT.", EN: "Close other sign-in tabs and try again. If it happens again, tell your IT department."},
	},
	CodeNotShared: {
		tmpl{PL: "{name} nie obsługuje skrzynek współdzielonych w ten sposób.", EN: "{name} does not support shared mailboxes this way."},
		tmpl{PL: "Zaloguj się kontem, do którego należy skrzynka.", EN: "Sign in with the account the mailbox belongs to."},
	},
	CodeServer: {
		tmpl{PL: "{name} odrzucił logowanie.", EN: "{name} refused the sign-in."},
		tmpl{PL: "Spróbuj ponownie. Jeśli błąd się powtarza, przekaż działowi IT kod błędu.", EN: "Try again. If it keeps happening, give your IT department the error code."},
	},
}

func newError(p *mailcfg.OAuthProvider, code Code, err error) *Error {
	t := texts[code]
	return &Error{Provider: p.ID, Code: code, Message: t.msg.with(p), Hint: t.hint.with(p), Err: err}
}

func misconfigured(p *mailcfg.OAuthProvider, err error, key string) *Error {
	e := newError(p, CodeMisconfigured, err)
	if key != "" {
		e.Hint = mailcfg.Text{PL: "Dział IT powinien sprawdzić klucz " + key + " w pliku zasad (adres https).",
			EN: "Your IT department should check the key " + key + " in the policy file (an https address)."}
	}
	return e
}

func notConfiguredMessage(p *mailcfg.OAuthProvider) mailcfg.Text {
	return tmpl{PL: "Logowanie przez {name} nie jest jeszcze skonfigurowane w tej kancelarii.", EN: "Sign-in with {name} is not set up for this firm yet."}.with(p)
}

// setupText is what IT must set for a provider's button to appear: the
// registration at the provider and the policy key, with the policy file and
// this OS's managed policy named.
func setupText(p *mailcfg.OAuthProvider, policyFile, goos string, allowed bool) mailcfg.Text {
	if !allowed {
		return mailcfg.Text{
			PL: fmt.Sprintf("Zasady kancelarii nie pozwalają na logowanie przez %s: dział IT musi dodać „%s” do klucza allowedMethods.", p.Name.PL, p.ID),
			EN: fmt.Sprintf("Your firm's policy does not allow sign-in with %s: your IT department must add “%s” to the key allowedMethods.", p.Name.EN, p.ID),
		}
	}
	if isMicrosoft(p) {
		return microsoft.SetupHint(policyFile)
	}
	key := policyKey(p, "clientId")
	example := fmt.Sprintf(`{"oauth": {"%s": {"clientId": "…"}}}`, p.ID)
	if p.ClientSecret {
		example = fmt.Sprintf(`{"oauth": {"%s": {"clientId": "…", "clientSecret": "…"}}}`, p.ID)
	}
	regPL, regEN := p.Registration.PL, p.Registration.EN
	var alsoPL, alsoEN string
	switch goos {
	case "windows":
		alsoPL = fmt.Sprintf(" albo jako wartość %s w rejestrze HKLM\\%s (zasady grupy)", key, policy.RegistryPath)
		alsoEN = fmt.Sprintf(" or as the value %s in the registry key HKLM\\%s (group policy)", key, policy.RegistryPath)
	case "darwin":
		alsoPL = fmt.Sprintf(" albo w profilu konfiguracji (MDM) dla domeny %s", policy.PlistID)
		alsoEN = fmt.Sprintf(" or in a configuration profile (MDM) for the domain %s", policy.PlistID)
	}
	return mailcfg.Text{
		PL: fmt.Sprintf("Logowanie przez %s nie jest skonfigurowane. Dział IT musi %s i wpisać jego identyfikator jako klucz %s w pliku zasad %s, np. %s%s. Do tego czasu skonfiguruj skrzynkę ręcznie.",
			p.Name.PL, regPL, key, policyFile, example, alsoPL),
		EN: fmt.Sprintf("Sign-in with %s is not set up. Your IT department must %s and set its ID as the key %s in the policy file %s, e.g. %s%s. Until then, set the mailbox up manually.",
			p.Name.EN, regEN, key, policyFile, example, alsoEN),
	}
}

// passwordWarning is said before a password is tried at a provider that
// refuses passwords (Microsoft: 550 5.7.30 / 535 5.7.3).
func passwordWarning(p *mailcfg.OAuthProvider, mailProvider string) mailcfg.Text {
	return mailcfg.Text{
		PL: fmt.Sprintf("%s zwykle nie przyjmuje już hasła w programach pocztowych (odpowiada „550 5.7.30 Basic authentication is not supported” albo „535 5.7.3”). Zamiast hasła użyj przycisku „Zaloguj przez %s”.", mailProvider, p.Name.PL),
		EN: fmt.Sprintf("%s usually no longer accepts a password in mail apps (it answers “550 5.7.30 Basic authentication is not supported” or “535 5.7.3”). Use “Sign in with %s” instead of a password.", mailProvider, p.Name.EN),
	}
}
