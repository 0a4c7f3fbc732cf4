package mailcfg

// Version is the application version, set at build time with
// -ldflags "-X infino.legal/mailbox/mailcfg.Version=1.2.3".
var Version = "0.1.0-dev"

// AppName is the product name shown to people.
const AppName = "Infino Mailbox"

// AppID is the application id: the Fyne app id, the macOS bundle id and so
// the domain of its managed preferences (policy.PlistID), and the keyring
// service of its secrets (secrets.Service). FyneApp.toml and the macOS
// packaging spell it too; a test keeps FyneApp.toml in step. Changing it
// strands every saved secret and every MDM profile.
const AppID = "legal.infino.mailbox"
