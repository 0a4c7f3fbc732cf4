package cli

import (
	"context"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/microsoft"
	"infino.legal/mailbox/mailcfg/verify"
)

func init() { OAuthCredential = microsoftCredential }

// microsoftCredential is the credential "verify" uses for settings with auth
// oauth2: access tokens refreshed from the refresh token "signin microsoft"
// stored for the address (each rotated refresh token is stored again). It
// gets the first token before any server is contacted, so that "not signed
// in", "sign in again" and keyring problems are reported as such.
func microsoftCredential(ctx context.Context, env *Env, s mailcfg.Settings) (verify.Credential, error) {
	if !isMicrosoft(s) {
		return nil, &mailcfg.Failure{
			Kind:  mailcfg.KindAuthFailed,
			Field: "auth",
			Message: mailcfg.Text{
				PL: "Logowanie OAuth2 jest obsługiwane tylko dla kont Microsoft (Outlook.com, Microsoft 365).",
				EN: "OAuth2 sign-in is supported only for Microsoft accounts (Outlook.com, Microsoft 365).",
			},
			Hint: mailcfg.Text{
				PL: "Dla tej skrzynki użyj logowania hasłem (auth: password).",
				EN: "Use password sign-in (auth: password) for this mailbox.",
			},
			Detail: "oauth2 provider unknown",
		}
	}
	cfg, err := microsoftConfig(env)
	if err != nil {
		return nil, err
	}
	if !cfg.Configured() {
		return nil, microsoft.NotConfigured(cfg.PolicyFile)
	}
	tokens := microsoft.NewTokens(cfg, s.Email)
	if _, err := tokens.Token(ctx); err != nil {
		return nil, err
	}
	return verify.TokenFunc(tokens.AccessToken), nil
}

// isMicrosoft: the settings came from "signin microsoft", or their provider
// (by id, domain or server host) prefers Microsoft sign-in.
func isMicrosoft(s mailcfg.Settings) bool {
	if s.Source == mailcfg.SourceMicrosoft {
		return true
	}
	p := mailcfg.Bundled().ProviderFor(s) // by provider id, domain or server host
	return p != nil && p.OAuth == "microsoft"
}
