package mailcfg

// Version is the application version, set at build time with
// -ldflags "-X infino.legal/mailbox/mailcfg.Version=1.2.3".
var Version = "0.1.0-dev"

// AppName is the product name shown to people.
const AppName = "Infino Mailbox"

// AppID is the application id (keyring service, Fyne app id, macOS bundle id).
const AppID = "legal.infino.mailbox"
