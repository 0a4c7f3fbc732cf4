package sandbox

import (
	"context"

	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/world"
)

// WorldOptions are the demo world's: the sandbox's own options, the real
// browser opener and the language the machine's policy asks for.
type WorldOptions struct {
	Options
	// Open is the real browser opener (oauthloopback.DefaultOpener); the
	// world's opener sends it to the plain-http twin of each page.
	Open func(ctx context.Context, url string) error
	// Language is the policy language ("" follows the system).
	Language string
}

// World starts a sandbox and returns the world of the window's --demo on
// it; close the sandbox when done (that also removes its directory).
func World(ctx context.Context, opt WorldOptions) (*world.World, *Sandbox, error) {
	sb, err := Start(ctx, opt.Options)
	if err != nil {
		return nil, nil, err
	}
	w, err := sb.World(opt.Open)
	if err != nil {
		sb.Close()
		return nil, nil, err
	}
	w.Policy.Language = opt.Language
	return w, sb, nil
}

// World is the app's world against this sandbox: its policy (Infino and
// Microsoft here), the bundled provider table plus the demo providers, its
// CA and HTTP client, an in-memory secret store (the demo never touches the
// keyring), a fresh configuration directory that Close removes, discovery
// from the table only, Microsoft sign-ins that land on its mail servers,
// and open (the real browser) on the plain-http twin of each page.
func (sb *Sandbox) World(open func(ctx context.Context, url string) error) (*world.World, error) {
	t, err := sb.TableWith(nil)
	if err != nil {
		return nil, err
	}
	dir, err := sb.ConfigDir()
	if err != nil {
		return nil, err
	}
	return &world.World{
		Policy:            sb.Policy(),
		Lang:              "en",
		Table:             t,
		Store:             secrets.NewMemory(),
		Opener:            sb.Opener(open),
		ConfigDir:         dir,
		Offline:           true,
		MicrosoftSettings: sb.MicrosoftSettings,
		HTTP:              sb.HTTPClient(),
		RootCAs:           sb.RootCAs,
		Demo: &world.Demo{Email: DemoEmail, Password: DemoPassword, MicrosoftEmail: MicrosoftEmail,
			GoogleEmail: DemoGoogleAddress, ConsentEmail: DemoConsentAddress},
	}, nil
}
