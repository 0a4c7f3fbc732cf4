package microsoft

import (
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strconv"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/policy"
)

// Reading is what a Microsoft OAuth error answer means to package signin:
// the failure code its error numbers (AADSTS) give, and Microsoft's own
// words where a generic text would not tell IT what to do in Entra ID. The
// codes are values of signin.Code (this package cannot import signin, which
// imports it); a test there keeps them in its vocabulary.
type Reading struct {
	// Code is a signin.Code value ("admin_consent", "signin_again", …);
	// "" when no listed AADSTS number decides it and the OAuth error value
	// does (signin's standard mapping).
	Code string
	// AADSTS is the first Microsoft error number, e.g. 65001; 0 if none.
	AADSTS int
	// Message and Hint are Microsoft's words for Code; zero: signin's
	// texts apply.
	Message, Hint mailcfg.Text
}

// SetupHint is what IT must do for the Microsoft sign-in to appear:
// register the app in Entra ID and set its client id in the policy;
// policyFile is the JSON policy file IT may use ("" means this process's,
// policy.FilePath). It also names this OS's managed policy (Windows
// registry, macOS profile).
func SetupHint(policyFile string) mailcfg.Text {
	if policyFile == "" {
		policyFile, _ = policy.FilePath(nil)
	}
	return setupHint(policyFile, runtime.GOOS)
}

func setupHint(policyFile, goos string) mailcfg.Text {
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
	return mailcfg.Text{
		PL: fmt.Sprintf("Dział IT musi zarejestrować aplikację w Microsoft Entra ID (platforma „Mobile and desktop applications”, adres przekierowania http://localhost, uprawnienia IMAP.AccessAsUser.All, POP.AccessAsUser.All, SMTP.Send i offline_access) i wpisać jej identyfikator (Application (client) ID) jako klucz %s w pliku zasad %s, np. %s (inny plik wskazuje zmienna %s)%s. Do tego czasu skonfiguruj skrzynkę ręcznie.",
			"microsoft.clientId", policyFile, example, policy.EnvPath, alsoPL),
		EN: fmt.Sprintf("Your IT department must register the app in Microsoft Entra ID (platform “Mobile and desktop applications”, redirect URI http://localhost, permissions IMAP.AccessAsUser.All, POP.AccessAsUser.All, SMTP.Send and offline_access) and set its Application (client) ID as the key %s in the policy file %s, e.g. %s (the variable %s names another file)%s. Until then, set the mailbox up manually.",
			"microsoft.clientId", policyFile, example, policy.EnvPath, alsoEN),
	}
}

// words are Microsoft's texts for the codes its error numbers lead to,
// where they say more than signin's generic ones (the Entra ID
// permissions, the AADSTS number to quote).
var words = map[string]struct{ msg, hint mailcfg.Text }{
	"admin_consent": {
		mailcfg.Text{PL: "Microsoft wymaga zgody administratora organizacji na dostęp tej aplikacji do poczty.",
			EN: "Microsoft requires your organisation's administrator to approve this app's access to mail."},
		mailcfg.Text{PL: "Poproś administratora Microsoft 365 w kancelarii o udzielenie zgody administratora (admin consent) dla aplikacji Infino Mailbox z uprawnieniami IMAP.AccessAsUser.All i SMTP.Send, a potem zaloguj się ponownie.",
			EN: "Ask your firm's Microsoft 365 administrator to grant admin consent for the Infino Mailbox app with the permissions IMAP.AccessAsUser.All and SMTP.Send, then sign in again."},
	},
	"app_not_found": {
		mailcfg.Text{PL: "Microsoft nie zna aplikacji o identyfikatorze ustawionym w zasadach kancelarii (albo jest ona wyłączona w tej organizacji).",
			EN: "Microsoft does not know the app whose ID is set in your firm's policy (or it is disabled in this organisation)."},
		mailcfg.Text{PL: "Dział IT powinien sprawdzić klucz microsoft.clientId w pliku zasad (czy to Application (client) ID właściwej rejestracji) i czy rejestracja jest dostępna dla kont z innych organizacji i kont prywatnych, jeśli mają z niej korzystać.",
			EN: "Your IT department should check the key microsoft.clientId in the policy file (is it the Application (client) ID of the right registration?) and that the registration is available to accounts of other organisations and personal accounts if they are to use it."},
	},
	"personal_not_allowed": {
		mailcfg.Text{PL: "Tym kontem nie można się zalogować do aplikacji kancelarii: rejestracja nie przyjmuje prywatnych kont Microsoft (Outlook.com, Hotmail) ani kont z innych organizacji.",
			EN: "This account cannot sign in to your firm's app: the registration does not accept personal Microsoft accounts (Outlook.com, Hotmail) or accounts of other organisations."},
		mailcfg.Text{PL: "Zaloguj się służbowym kontem kancelarii. Jeśli to ma być konto prywatne, dział IT musi zezwolić w rejestracji aplikacji na konta prywatne (obsługiwane typy kont: „konta w dowolnym katalogu organizacyjnym i osobiste konta Microsoft”).",
			EN: "Sign in with your firm's work account. If it is meant to be a personal account, your IT department must allow personal accounts in the app registration (supported account types: “accounts in any organizational directory and personal Microsoft accounts”)."},
	},
	"app_misconfigured": {
		mailcfg.Text{PL: "Rejestracja aplikacji w Microsoft Entra ID nie pasuje do sposobu logowania programu.",
			EN: "The app registration in Microsoft Entra ID does not match how the app signs in."},
		mailcfg.Text{PL: "Dział IT powinien sprawdzić rejestrację: platforma „Mobile and desktop applications” z adresem http://localhost, obsługiwane typy kont zgodne z kluczem microsoft.tenant w pliku zasad (dla jednej organizacji ustaw tam jej identyfikator dzierżawy).",
			EN: "Your IT department should check the registration: platform “Mobile and desktop applications” with redirect URI http://localhost, supported account types matching the key microsoft.tenant in the policy file (for a single organisation set its tenant ID there)."},
	},
	"server": {
		mailcfg.Text{PL: "Microsoft odrzucił logowanie.", EN: "Microsoft refused the sign-in."},
		mailcfg.Text{PL: "Spróbuj ponownie. Jeśli błąd się powtarza, przekaż działowi IT kod błędu (AADSTS…).",
			EN: "Try again. If it keeps happening, give your IT department the error code (AADSTS…)."},
	},
}

// aadsts groups Microsoft's error numbers by signin code. References:
// Microsoft Entra authentication and authorization error codes
// (https://learn.microsoft.com/entra/identity-platform/reference-error-codes).
var aadsts = map[string][]int{
	"admin_consent":        {65001, 90094, 90095, 90099, 650051, 650052, 650056},
	"app_not_found":        {700016, 7000112, 700023},
	"personal_not_allowed": {50020, 500200, 9002332, 50177},
	"app_misconfigured":    {50194, 9002331, 50011, 500113, 7000218, 700054, 900144, 70011, 700022, 28002, 28003, 9002326, 9002327, 50059, 90002, 90072},
	"cancelled":            {65004},
	"signin_again":         {70008, 700082, 50173, 70043, 50132, 50133, 54005, 50078, 50076, 50079, 50074, 700084},
}

var aadstsText = regexp.MustCompile(`AADSTS(\d{4,9})`)

// Read reads an OAuth error answer (redirect or token endpoint) with
// Microsoft's error numbers: error_codes, or else the AADSTS numbers quoted
// in the description. A listed number decides the code; otherwise Code is
// "" and the OAuth error value decides (signin's standard mapping), with
// Microsoft's words for the code that mapping gives when Words has them.
func Read(description string, codes []int) Reading {
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
				r := Reading{Code: code, AADSTS: n}
				r.Message, r.Hint = Words(code)
				if n == 9002331 {
					// The registration takes only personal accounts.
					r.Message = mailcfg.Text{
						PL: "Rejestracja aplikacji w Microsoft Entra ID przyjmuje tylko prywatne konta Microsoft, a nie konta służbowe.",
						EN: "The app registration in Microsoft Entra ID accepts only personal Microsoft accounts, not work accounts.",
					}
				}
				return r
			}
		}
	}
	if len(codes) > 0 {
		return Reading{AADSTS: codes[0]}
	}
	return Reading{}
}

// Words are Microsoft's message and hint for a signin code; zero when
// signin's generic texts serve.
func Words(code string) (message, hint mailcfg.Text) {
	w := words[code]
	return w.msg, w.hint
}
