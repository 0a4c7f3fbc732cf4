package cli

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/netconf"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/verify"
)

// credentialFor is the credential verify and submit check the settings
// with. Settings with auth "oauth2" get OAuthCredential's (then oauthErr
// says why there is none: not configured, not signed in, sign in again,
// keyring); a password comes from standard input with --password-stdin,
// else, when fromStore (submit), from the keyring, where the window keeps
// the passwords of mailboxes it set up. A usage problem is printed and
// returned as code (exit 2).
func credentialFor(ctx context.Context, env *Env, s mailcfg.Settings, pwStdin, fromStore bool, command string) (cred verify.Credential, oauthErr error, code int) {
	if s.Auth == mailcfg.AuthOAuth2 {
		if pwStdin {
			return nil, nil, Fail(env, ExitUsage, "%s", tr(env, "--password-stdin nie pasuje do ustawień z logowaniem OAuth2.",
				"--password-stdin does not fit settings that sign in with OAuth2."))
		}
		oc := env.OAuthCredential
		if oc == nil {
			oc = env.World.OAuthCredential
		}
		cred, err := oc(ctx, s)
		return cred, err, 0
	}
	if pwStdin {
		pw, code := stdinPassword(env)
		if code != 0 {
			return nil, nil, code
		}
		return verify.Password(pw), nil, 0
	}
	if fromStore && env.World.Store != nil {
		if pw, err := env.World.Store.Get(ctx, secrets.PasswordKey(s.Email)); err == nil && pw != "" {
			return verify.Password(pw), nil, 0
		}
	}
	return nil, nil, Fail(env, ExitUsage, "%s", tr(env,
		fmt.Sprintf("Podaj hasło na standardowym wejściu: printf '%%s\\n' \"$HASLO\" | infino-mailbox %s --password-stdin plik.json", command),
		fmt.Sprintf("Give the password on standard input: printf '%%s\\n' \"$PASSWORD\" | infino-mailbox %s --password-stdin file.json", command)))
}

// rootsFor are the roots verify and submit trust: the system's plus the
// policy's extraCaFile (as the window does), plus caFile (--ca) for this
// run. A --ca file that cannot be used is a usage problem (exit 2); the
// policy's is reported once and left out (Env.net).
func rootsFor(env *Env, caFile string) (*x509.CertPool, int) {
	roots := env.net().RootCAs
	if caFile == "" {
		return roots, 0
	}
	certs, err := netconf.ReadCAFile(caFile)
	if err != nil {
		var ce *netconf.CAFileError
		if errors.As(err, &ce) {
			return nil, Fail(env, ExitUsage, "--ca %s: %s", caFile, ce.Problem)
		}
		return nil, Fail(env, ExitUsage, "--ca %s: %v", caFile, err)
	}
	if roots != nil {
		roots = roots.Clone() // the world's pool stays as the policy made it
	} else if roots, err = x509.SystemCertPool(); err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	for _, c := range certs {
		roots.AddCert(c)
	}
	return roots, 0
}

// caFlagUsage is the help of --ca, the same for verify and submit.
const caFlagUsage = "PEM file with a CA to trust besides the system's and the policy's (a firm's own CA)"
