package ui

import (
	"context"
	"sync/atomic"
	"time"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/infino"
)

// ScreenshotEnv opens the window on one screen, filled with sample data and
// served by a scripted verifier, for .ci/screenshots.sh. It is never needed
// for real use; no network is touched while it is set.
const ScreenshotEnv = "INFINO_MAILBOX_SCREENSHOT"

// Screenshots lists the screens the hook can open, in README order.
var Screenshots = []string{
	"start", "start-microsoft", "start-microsoft-off", "manual-empty", "manual-filled", "manual-unknown", "manual-errors",
	"manual-insecure", "manual-advanced", "verify-running", "verify-ok", "verify-failed", "verify-cert",
	"verify-cert-confirm", "done", "done-sent", "done-queued", "done-url", "done-fields", "start-demo",
}

// Sample failures for the screenshots. The real texts come from
// mailcfg's failure classification.
var (
	sampleAuthFailed = &Failure{Kind: KindAuthFailed, Field: "password",
		Message: mailcfg.Text{PL: "Serwer odrzucił nazwę użytkownika lub hasło.", EN: "The server rejected the user name or password."}}
	sampleCert = &CertInfo{
		SHA256:  "3a5f0c9e1b7d24681357acef02468ace13579bdf02468ace13579bdf0246f00d",
		Subject: "CN=mail.kancelaria-nowak.pl", Issuer: "CN=Kancelaria Nowak CA",
		NotBefore: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2028, 1, 5, 0, 0, 0, 0, time.UTC),
		Names: []string{"mail.kancelaria-nowak.pl"}, Reason: "unknown_authority",
	}
	sampleCertFailure = &Failure{Kind: KindTLSCertificate, Field: "incoming.certSha256", Certificate: sampleCert,
		Message: mailcfg.Text{
			PL: "Certyfikat serwera wystawił urząd, którego ten komputer nie zna (np. certyfikat własny kancelarii).",
			EN: "The server's certificate was issued by an authority this computer does not know (e.g. the firm's own certificate).",
		}}
)

func screenshotDeps(d Deps, shot string) Deps {
	d.Debounce = 0
	d.Discover = nil
	d.SignIn = nil
	d.HandOff = nil
	d.Outbox = nil
	d.Demo = nil
	d.Verify = scriptedVerifier(shot)
	switch shot {
	case "done-sent", "done-queued", "done-url", "done-fields":
		d.HandOff = scriptedHandOff(shot)
		d.Outbox = scriptedOutbox(shot)
	case "start-demo":
		d.Demo = screenshotDemo
	}
	return d
}

// screenshotDemo is the demo header of the "start-demo" shot: the sandbox's
// accounts (a test checks they match), without starting the sandbox.
var screenshotDemo = &DemoInfo{Email: "jan@kancelaria-demo.test", Password: "Demo-Haslo-2024!", MicrosoftEmail: "anna@kancelaria-m365.test"}

// scriptedHandOff answers as the real one would, without any network.
func scriptedHandOff(shot string) HandOffFunc {
	return func(_ context.Context, s mailcfg.Settings, _ Credential, _ time.Time, _ func(string)) HandOffResult {
		out := infino.Outcome{State: infino.StateSent, Email: s.Email}
		switch shot {
		case "done-queued":
			out = infino.Outcome{State: infino.StateQueued, Email: s.Email, EntryID: "shot-now",
				Err: &infino.Error{Kind: infino.KindUnavailable, Message: infino.KindUnavailable.Message()}}
		case "done-fields":
			out = infino.Outcome{State: infino.StateFailed, Email: s.Email, Err: &infino.Error{Kind: infino.KindInvalid,
				Message: infino.KindInvalid.Message(), Fields: mailcfg.ValidationError{{Field: "incoming.host", Code: "host_unreachable",
					Message: mailcfg.Text{PL: "Infino nie może połączyć się z tym serwerem.", EN: "Infino cannot reach this server."}}}}}
		}
		return resultOf(out)
	}
}

// shotOutbox is an outbox the screenshots fill by hand.
type shotOutbox struct {
	url        string
	fromPolicy bool
	pending    []infino.Entry
}

func scriptedOutbox(shot string) *shotOutbox {
	o := &shotOutbox{url: "https://kancelaria-nowak.infino.legal", fromPolicy: true}
	switch shot {
	case "done-url":
		o.url, o.fromPolicy = "", false
	case "done-queued":
		earlier := infino.Entry{ID: "shot-earlier", Settings: mailcfg.Settings{Email: "biuro@kancelaria-nowak.pl"},
			LastError: &infino.EntryError{Kind: infino.KindSignIn, Message: infino.KindSignIn.Message()}}
		o.pending = []infino.Entry{earlier, {ID: "shot-now", Settings: mailcfg.Settings{Email: "jan.kowalski@wp.pl"}}}
	}
	return o
}

func (o *shotOutbox) InfinoURL() (string, bool, error) { return o.url, o.fromPolicy, nil }
func (o *shotOutbox) SetInfinoURL(u string) error      { o.url = u; return nil }
func (o *shotOutbox) Pending(context.Context) ([]infino.Entry, error) {
	return o.pending, nil
}
func (o *shotOutbox) Flush(context.Context, bool, func(string)) infino.FlushReport {
	return infino.FlushReport{}
}

// scriptedVerifier plays back progress and an outcome without any network.
func scriptedVerifier(shot string) VerifyFunc {
	return func(ctx context.Context, s mailcfg.Settings, _ Credential, opt VerifyOptions) VerifyResult {
		ev := func(side Side, step Step, ms int, f *Failure) {
			if opt.Progress != nil {
				opt.Progress(VerifyEvent{Side: side, Step: step, Elapsed: time.Duration(ms) * time.Millisecond, Failure: f})
			}
		}
		for _, st := range []Step{StepResolve, StepConnect, StepTLS} {
			ev(SideIncoming, st, 40, nil)
			ev(SideOutgoing, st, 50, nil)
		}
		ok := SideResult{OK: true, Elapsed: 620 * time.Millisecond}
		ok2 := SideResult{OK: true, Elapsed: 840 * time.Millisecond}
		switch shot {
		case "verify-running":
			ev(SideOutgoing, StepGreeting, 300, nil)
			ev(SideOutgoing, StepLogin, 420, nil)
			ev(SideIncoming, StepGreeting, 380, nil)
			<-ctx.Done()
			c := &Failure{Kind: KindCancelled}
			return VerifyResult{Incoming: SideResult{Failure: c}, Outgoing: SideResult{Failure: c}}
		case "verify-failed":
			ev(SideIncoming, StepLogin, 610, sampleAuthFailed)
			ev(SideOutgoing, StepLogin, 790, sampleAuthFailed)
			return VerifyResult{Incoming: SideResult{Elapsed: 610 * time.Millisecond, Failure: sampleAuthFailed},
				Outgoing: SideResult{Elapsed: 790 * time.Millisecond, Failure: sampleAuthFailed}, Elapsed: 790 * time.Millisecond}
		case "verify-cert", "verify-cert-confirm":
			if s.Incoming.CertSHA256 != "" {
				return VerifyResult{OK: true, Incoming: ok, Outgoing: ok2, Elapsed: 840 * time.Millisecond}
			}
			in := *sampleCertFailure
			out := in
			out.Field = "outgoing.certSha256"
			ev(SideIncoming, StepTLS, 210, &in)
			ev(SideOutgoing, StepTLS, 230, &out)
			return VerifyResult{Incoming: SideResult{Elapsed: 210 * time.Millisecond, Failure: &in},
				Outgoing: SideResult{Elapsed: 230 * time.Millisecond, Failure: &out}, Elapsed: 230 * time.Millisecond}
		}
		ev(SideIncoming, StepLogin, 500, nil)
		ev(SideOutgoing, StepLogin, 700, nil)
		ev(SideIncoming, StepDone, 620, nil)
		ev(SideOutgoing, StepDone, 840, nil)
		return VerifyResult{OK: true, Incoming: ok, Outgoing: ok2, Elapsed: 840 * time.Millisecond}
	}
}

// openForScreenshot fills the window through the same paths a user's typing
// takes and opens the named screen.
func (wz *Wizard) openForScreenshot(shot string) {
	m := wz.manualScreen()
	fill := func(email, password string) {
		wz.start.email.SetText(email)
		wz.start.onManual()
		m.password.SetText(password)
	}
	switch shot {
	case "start":
	case "start-microsoft":
		wz.start.email.SetText("jan.kowalski@outlook.com")
	case "start-microsoft-off":
		// Sign-in is not configured (no microsoft.clientId): the window says
		// who must set what.
		wz.start.email.SetText("jan.kowalski@outlook.com")
		wz.start.onMicrosoft()
	case "manual-empty":
		wz.start.onManual()
	case "manual-filled":
		fill("jan.kowalski@wp.pl", "sekretne-haslo")
	case "manual-unknown":
		fill("biuro@kancelaria-nowak.pl", "sekretne-haslo")
		m.in.host.SetText("mail.kancelaria-nowak.pl")
		m.out.host.SetText("mail.kancelaria-nowak.pl")
	case "manual-errors":
		fill("jan.kowalski@gmail.com", "sekretne-haslo")
		m.email.SetText("jan.kowalski.gmail.com")
		m.in.port.SetText("70000")
		m.out.host.SetText("smtp..gmail.com")
		m.fields["email"].shown = true
		m.fields["outgoing.host"].shown = true
		m.validate()
	case "manual-insecure":
		fill("biuro@kancelaria-nowak.pl", "sekretne-haslo")
		m.in.host.SetText("mail.kancelaria-nowak.pl")
		m.out.host.SetText("mail.kancelaria-nowak.pl")
		m.tls.SetChecked(false)
	case "manual-advanced":
		fill("biuro@kancelaria-nowak.pl", "sekretne-haslo")
		m.in.host.SetText("mail.kancelaria-nowak.pl")
		m.out.host.SetText("mail.kancelaria-nowak.pl")
		m.out.sec.SetSelected(tr("manual.security.starttls"))
		m.in.pin.SetText(sampleCert.SHA256)
		m.openAdvanced()
	case "verify-running", "verify-ok", "verify-failed":
		fill("jan.kowalski@wp.pl", "sekretne-haslo")
		m.onNext()
	case "verify-cert", "verify-cert-confirm":
		fill("biuro@kancelaria-nowak.pl", "sekretne-haslo")
		m.in.host.SetText("mail.kancelaria-nowak.pl")
		m.out.host.SetText("mail.kancelaria-nowak.pl")
		m.onNext()
		if shot == "verify-cert-confirm" {
			// Open the second confirmation once the failure is on screen.
			// The failure arrives when verification ends, which takes
			// longer on a loaded machine: look again until it is there.
			go func() {
				var opened atomic.Bool
				for deadline := time.Now().Add(10 * time.Second); !opened.Load() && time.Now().Before(deadline); {
					time.Sleep(50 * time.Millisecond)
					wz.deps.Do(func() {
						if !opened.Load() && wz.verify != nil && wz.verify.trustSHA != "" {
							opened.Store(true)
							wz.verify.onTrust()
						}
					})
				}
			}()
		}
	case "start-demo":
	case "done", "done-sent", "done-queued", "done-url", "done-fields":
		fill("jan.kowalski@wp.pl", "sekretne-haslo")
		wz.settings = m.settings().Normalized()
		wz.cred = Password(m.password.Text)
		res := VerifyResult{OK: true, Incoming: SideResult{OK: true, Elapsed: 620 * time.Millisecond},
			Outgoing: SideResult{OK: true, Elapsed: 840 * time.Millisecond}, Elapsed: 840 * time.Millisecond}
		wz.record = &runRecord{Settings: wz.settings, Started: time.Now(), Result: &res}
		wz.goDone()
	}
}
