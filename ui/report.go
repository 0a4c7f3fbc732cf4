package ui

import (
	"fmt"
	"runtime"
	"strings"
	"time"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/verify"
)

// runRecord is one verification as the report tells it.
type runRecord struct {
	Settings  mailcfg.Settings
	Started   time.Time
	Events    []verify.Event
	Result    *verify.Result
	Cancelled bool
	// SignIn is the provider whose sign-in gave the settings (its English
	// name), or "" for the form.
	SignIn string
}

// reportInfo is what the report says about the app and the machine.
type reportInfo struct {
	Version, OS, Lang string
	Now               time.Time
}

// report is the diagnostic report of the last verification.
func (wz *Wizard) report() string {
	osName := wz.deps.OS
	if osName == "" {
		osName = osDescription()
	}
	var secrets []string
	switch c := wz.cred.(type) {
	case verify.Password:
		secrets = append(secrets, string(c))
	case verify.OAuth2Token:
		secrets = append(secrets, c.AccessToken)
	}
	if wz.manual != nil {
		secrets = append(secrets, wz.manual.password.Text)
	}
	return buildReport(reportInfo{Version: mailcfg.Version, OS: osName, Lang: wz.deps.Lang, Now: wz.deps.Now()}, wz.record, secrets...)
}

// buildReport writes the report support staff read: settings, steps, timings,
// failure kinds, app and OS version. It is in English whatever the window's
// language. It never contains a credential or a server's own words: only
// mailcfg's classified message and its Detail, which by contract holds codes,
// never server text; secrets are also scrubbed from the finished text in case
// one was typed into a wrong field.
func buildReport(info reportInfo, rec *runRecord, secrets ...string) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	p("%s diagnostic report", mailcfg.AppName)
	p("app: %s %s (%s)", mailcfg.AppName, info.Version, runtime.Version())
	p("system: %s", info.OS)
	p("language: %s", info.Lang)
	p("time: %s", info.Now.UTC().Format(time.RFC3339))
	if rec == nil {
		p("verification: not run")
		return scrub(b.String(), secrets)
	}
	s := rec.Settings
	way := "manual form"
	if rec.SignIn != "" {
		way = rec.SignIn + " sign-in"
	}
	p("way in: %s", way)
	p("settings:")
	p("  email: %s", s.Email)
	p("  auth: %s", s.Auth)
	if s.SignedInAs != "" {
		p("  signed in as: %s (shared mailbox)", s.SignedInAs)
	}
	if s.Provider != nil {
		p("  provider: %s (%s)", s.Provider.ID, s.Provider.Name)
	} else {
		p("  provider: unknown")
	}
	p("  source: %s, low trust: %t", orDash(string(s.Source)), s.LowTrust)
	for _, x := range []struct {
		name string
		srv  mailcfg.Server
	}{{"incoming", s.Incoming}, {"outgoing", s.Outgoing}} {
		p("  %s: %s %s security=%s user=%s pin=%s", x.name, x.srv.Protocol, x.srv.Addr(), x.srv.Security, x.srv.Username, orDash(x.srv.CertSHA256))
	}
	switch {
	case rec.Result == nil && rec.Cancelled:
		p("verification: cancelled by the user")
	case rec.Result == nil:
		p("verification: still running")
	default:
		r := rec.Result
		outcome := "FAILED"
		if r.OK {
			outcome = "ok"
		} else if rec.Cancelled {
			outcome = "cancelled"
		}
		p("verification: %s in %s", outcome, ms(r.Elapsed))
		for _, x := range []struct {
			side verify.Side
			sr   verify.SideResult
		}{{verify.Incoming, r.Incoming}, {verify.Outgoing, r.Outgoing}} {
			state := "ok"
			if !x.sr.OK {
				state = "FAILED"
			}
			p("  %s: %s after %s", x.side, state, ms(x.sr.Elapsed))
			if f := x.sr.Failure; f != nil {
				p("    kind: %s, field: %s", f.Kind, orDash(f.Field))
				if f.Detail != "" {
					// Safe by mailcfg's contract (codes, errno, step), and
					// cut short in any case.
					p("    detail: %s", clip(f.Detail, 200))
				}
				if f.Message.EN != "" {
					p("    message: %s", f.Message.EN)
				}
				if c := f.Certificate; c != nil {
					p("    certificate: sha256=%s", c.SHA256)
					p("      subject=%q issuer=%q names=%s", c.Subject, c.Issuer, strings.Join(c.Names, ","))
					p("      valid %s to %s, reason: %s", c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339), orDash(c.Reason))
				}
			}
		}
	}
	if len(rec.Events) > 0 {
		p("steps:")
		for _, e := range rec.Events {
			line := fmt.Sprintf("  %-8s %-8s %s", e.Side, e.Step, ms(e.Elapsed))
			if e.Failure != nil {
				line += " FAILED " + string(e.Failure.Kind)
			}
			p("%s", line)
		}
	}
	return scrub(b.String(), secrets)
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func ms(d time.Duration) string { return fmt.Sprintf("%d ms", d.Milliseconds()) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// scrub replaces every secret (of 4 characters or more; a shorter one would
// blot out ordinary words) with [redacted].
func scrub(s string, secrets []string) string {
	for _, x := range secrets {
		if len(x) >= 4 {
			s = strings.ReplaceAll(s, x, "[redacted]")
		}
	}
	return s
}
