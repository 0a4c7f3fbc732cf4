package cli

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"time"

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

// checkFlags are the flags verify and submit share: both check settings
// against the servers before anything else happens.
type checkFlags struct {
	fs       *flag.FlagSet
	asJSON   *bool
	pwStdin  *bool
	insecure *bool
	caFile   *string
	timeout  *time.Duration
}

// newCheckFlags defines the shared flags; timeoutFlag names the check's
// time limit ("timeout" in verify, "verify-timeout" in submit).
func newCheckFlags(env *Env, c *Command, jsonHelp, pwHelp, timeoutFlag, timeoutHelp string) *checkFlags {
	fs := FlagSet(env, c)
	return &checkFlags{
		fs:       fs,
		asJSON:   fs.Bool("json", false, jsonHelp),
		pwStdin:  fs.Bool("password-stdin", false, pwHelp),
		timeout:  fs.Duration(timeoutFlag, verify.DefaultTimeout, timeoutHelp),
		insecure: fs.Bool("allow-insecure", false, `consent to security "none" (the policy must allow it too); the password then travels unencrypted`),
		caFile:   fs.String("ca", "", "PEM file with a CA to trust besides the system's and the policy's (a firm's own CA)"),
	}
}

// settings parses args, runs check (flag checks; nil: none) and reads the
// one settings file; a code other than 0 ends the command. Security "none"
// passes only with the policy's and the user's consent (--allow-insecure):
// the check would send the password in clear text.
func (f *checkFlags) settings(env *Env, args []string, check func() int) (mailcfg.Settings, int) {
	rest, code, ok := Parse(env, f.fs, args)
	if !ok {
		return mailcfg.Settings{}, code
	}
	if len(rest) != 1 {
		f.fs.Usage()
		return mailcfg.Settings{}, ExitUsage
	}
	if check != nil {
		if code := check(); code != 0 {
			return mailcfg.Settings{}, code
		}
	}
	return readSettings(env, rest[0], *f.insecure)
}

// checkRun is what verify and submit check: the settings, the credential
// and verification's options.
type checkRun struct {
	settings mailcfg.Settings
	cred     verify.Credential
	opt      verify.Options
}

// prepare reads the settings (check as in settings), the credential
// (credentialFor; fromStore for submit) and the options. oauthErr is why
// settings with auth "oauth2" have no credential, which each command reports
// in its own way; a code other than 0 ends the command.
func (f *checkFlags) prepare(ctx context.Context, env *Env, args []string, check func() int, fromStore bool, command string) (r checkRun, oauthErr error, code int) {
	if r.settings, code = f.settings(env, args, check); code != 0 {
		return r, nil, code
	}
	if r.cred, oauthErr, code = credentialFor(ctx, env, r.settings, *f.pwStdin, fromStore, command); code != 0 || oauthErr != nil {
		return r, oauthErr, code
	}
	r.opt, code = f.options(env)
	return r, nil, code
}

// options are verification's options for this run: the world's, with the
// roots (rootsFor), the time limit and the user's consent.
func (f *checkFlags) options(env *Env) (verify.Options, int) {
	roots, code := rootsFor(env, *f.caFile)
	if code != 0 {
		return verify.Options{}, code
	}
	opt := env.World.VerifyOptions()
	opt.RootCAs, opt.Timeout, opt.InsecureOverride = roots, *f.timeout, *f.insecure
	return opt, 0
}
