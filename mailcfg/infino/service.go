package infino

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"time"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/secrets"
)

// DirName is the app's folder under the OS user config directory.
const DirName = "infino-mailbox"

// DefaultConfigDir is <user config dir>/infino-mailbox (%AppData% on
// Windows, ~/Library/Application Support on macOS, $XDG_CONFIG_HOME or
// ~/.config on Linux).
func DefaultConfigDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, DirName), nil
}

// Options configure a Service. ConfigDir and Store are required.
type Options struct {
	// ConfigDir holds the outbox (ConfigDir/outbox) and the remembered
	// Infino URL (ConfigDir/infino.json). Nothing secret is written there.
	ConfigDir string
	// Store keeps the Infino tokens and the secrets of waiting entries.
	Store secrets.Store
	// Policy gives infinoUrl, infino.clientId and allowInsecure.
	Policy policy.Policy
	// HTTP reaches Infino; nil means NewHTTPClient().
	HTTP *http.Client
	// Browser allows interactive sign-in; nil means none (background
	// flushes): a missing sign-in then leaves entries waiting.
	Browser *Browser
	// Lang is the language for Infino's messages ("pl" or "en").
	Lang string
	// Info is sent as "client"; zero means DefaultClientInfo().
	Info ClientInfo
	// Retry is the in-call retry schedule (zero fields: DefaultRetry).
	Retry Retry
	// Sleep, Now and Jitter replace the real ones in tests.
	Sleep  func(ctx context.Context, d time.Duration) error
	Now    func() time.Time
	Jitter func(d time.Duration) time.Duration
	// Tokens, if set, replaces the sign-in (tests).
	Tokens TokenSource
}

// State is where a submission ended up: what the Done screen says.
type State string

const (
	// StateSent: Infino created the mailbox (or had already, for this
	// submission).
	StateSent State = "sent"
	// StateExists: the mailbox was already connected to the account.
	StateExists State = "exists"
	// StateQueued: waiting in the outbox; Err says why.
	StateQueued State = "queued"
	// StateFailed: not sent and not kept; Err says why (Fields for the
	// form).
	StateFailed State = "failed"
	// StateReplaced: Infino replaced the settings of the existing mailbox
	// (Replace).
	StateReplaced State = "replaced"
)

// Outcome is the result of handing one submission over.
type Outcome struct {
	State   State
	Receipt Receipt // StateSent
	// EntryID is the outbox entry (StateQueued; also set while sending).
	EntryID string
	Email   string
	// Err is why it is not sent (an *Error for everything Infino-related).
	Err error
	// NextAttempt is when an automatic retry happens (StateQueued).
	NextAttempt time.Time
	// Existing is the mailbox Infino already holds (StateExists, when
	// Infino named it): what Replace replaces.
	Existing *MailboxInfo
}

// Kind is the kind of Err ("" when sent).
func (o Outcome) Kind() Kind { return KindOf(o.Err) }

// Fields are the field errors to show on the form (400 answers and local
// validation).
func (o Outcome) Fields() mailcfg.ValidationError {
	var e *Error
	if errors.As(o.Err, &e) {
		return e.Fields
	}
	var v mailcfg.ValidationError
	if errors.As(o.Err, &v) {
		return v
	}
	return nil
}

// Message is the one sentence the Done screen shows.
func (o Outcome) Message() mailcfg.Text {
	switch o.State {
	case StateSent:
		return mailcfg.Text{
			PL: fmt.Sprintf("Gotowe: skrzynka %s została przekazana do Infino.", o.Email),
			EN: fmt.Sprintf("Done: the mailbox %s has been handed to Infino.", o.Email)}
	case StateExists:
		if o.Existing != nil {
			return existsReplaceable
		}
		return messages[KindExists]
	case StateReplaced:
		return mailcfg.Text{
			PL: fmt.Sprintf("Gotowe: ustawienia skrzynki %s w Infino zostały zastąpione nowymi.", o.Email),
			EN: fmt.Sprintf("Done: the settings of the mailbox %s in Infino have been replaced.", o.Email)}
	}
	var e *Error
	if errors.As(o.Err, &e) && !e.Message.IsZero() {
		if o.State == StateQueued && !e.Kind.Keeps() {
			return messages[KindUnavailable]
		}
		return e.Message
	}
	if o.State == StateQueued {
		return messages[KindUnavailable]
	}
	return messages[KindRejected]
}

var existsReplaceable = mailcfg.Text{
	PL: "Ta skrzynka jest już połączona z kontem Infino. Jeśli zmieniło się jej hasło lub logowanie, możesz zastąpić zapisane w Infino ustawienia tymi.",
	EN: "This mailbox is already connected to the Infino account. If its password or sign-in has changed, you can replace the settings Infino keeps with these.",
}

// Service hands submissions to Infino through the outbox. Safe for
// concurrent use; several processes may share the config directory.
type Service struct {
	o      Options
	outbox *Outbox

	mu         sync.Mutex
	auths      map[string]*Auth
	quietAuths map[string]*Auth // never open the browser (automatic flushes)
}

// NewService makes a Service.
func NewService(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTP == nil {
		o.HTTP = NewHTTPClient()
	}
	if o.Policy.Infino.ClientID == "" {
		o.Policy.Infino.ClientID = policy.Default().Infino.ClientID
	}
	return &Service{o: o, outbox: NewOutbox(filepath.Join(o.ConfigDir, "outbox"), o.Store, o.Now),
		auths: map[string]*Auth{}, quietAuths: map[string]*Auth{}}
}

// Outbox is the service's outbox.
func (s *Service) Outbox() *Outbox { return s.outbox }

// prefs are the non-secret remembered settings (ConfigDir/infino.json).
type prefs struct {
	InfinoURL string `json:"infinoUrl,omitempty"`
}

func (s *Service) prefsPath() string { return filepath.Join(s.o.ConfigDir, "infino.json") }

// InfinoURL is where submissions go: the policy's infinoUrl, else the one
// remembered from the Done screen. fromPolicy says the user cannot change
// it. An empty URL with a nil error means none is set yet.
func (s *Service) InfinoURL() (u string, fromPolicy bool, err error) {
	if s.o.Policy.InfinoURL != "" {
		u, err := CheckBaseURL(s.o.Policy.InfinoURL)
		return u, true, err
	}
	data, err := readFileMax(s.prefsPath(), 64<<10)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	var p prefs
	if err := json.Unmarshal(data, &p); err != nil || p.InfinoURL == "" {
		return "", false, nil
	}
	u, err = CheckBaseURL(p.InfinoURL)
	return u, false, err
}

// SetInfinoURL remembers the Infino URL typed on the Done screen. It fails
// if the policy sets one or the URL is not https (http only to loopback).
func (s *Service) SetInfinoURL(u string) error {
	if s.o.Policy.InfinoURL != "" {
		return errors.New("the Infino URL is set by the policy")
	}
	u, err := CheckBaseURL(u)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.o.ConfigDir, 0o700); err != nil {
		return err
	}
	data, _ := json.MarshalIndent(prefs{InfinoURL: u}, "", "  ")
	return writeFileAtomic(s.prefsPath(), append(data, '\n'))
}

// Auth is the sign-in for base (one per base URL, shared by every call).
func (s *Service) Auth(base string) *Auth { return s.auth(base, true) }

func (s *Service) auth(base string, interactive bool) *Auth {
	base = strings.TrimRight(base, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	m, browser := s.auths, s.o.Browser
	if !interactive {
		m, browser = s.quietAuths, nil
	}
	a := m[base]
	if a == nil {
		a = &Auth{BaseURL: base, ClientID: s.o.Policy.Infino.ClientID, HTTP: s.o.HTTP, Store: s.o.Store,
			Browser: browser, Now: s.o.Now}
		m[base] = a
	}
	return a
}

func (s *Service) tokens(base string, interactive bool) TokenSource {
	if s.o.Tokens != nil {
		return s.o.Tokens
	}
	return s.auth(base, interactive)
}

func (s *Service) base() (string, *Error) {
	u, _, err := s.InfinoURL()
	if err == nil && u == "" {
		err = errors.New("no Infino URL is set (policy infinoUrl, or the Done screen)")
	}
	if err != nil {
		return "", &Error{Kind: KindConfig, Err: err, Message: noURLMessage}
	}
	return u, nil
}

var noURLMessage = mailcfg.Text{
	PL: "Wpisz adres Infino swojej kancelarii (np. https://kancelaria.infino.legal).",
	EN: "Enter your firm's Infino address (e.g. https://firm.infino.legal).",
}

// SignIn signs in to Infino through the browser (Options.Browser).
func (s *Service) SignIn(ctx context.Context) error {
	base, e := s.base()
	if e != nil {
		return e
	}
	return s.Auth(base).SignIn(ctx)
}

// SignedIn reports whether a sign-in to the current Infino is stored.
func (s *Service) SignedIn(ctx context.Context) (bool, error) {
	base, e := s.base()
	if e != nil {
		return false, e
	}
	return s.Auth(base).SignedIn(ctx)
}

// Submit hands verified settings to Infino: it validates them, writes the
// submission to the outbox, sends it (with retries) and returns where it
// ended up. verifiedAt is when verification succeeded (zero: now).
func (s *Service) Submit(ctx context.Context, settings mailcfg.Settings, secret Secret, verifiedAt time.Time) Outcome {
	return s.submit(ctx, settings, secret, verifiedAt, false)
}

// SubmitOrReplace is Submit with the user's consent, given beforehand, to
// replace the settings and secret Infino keeps if it already has the
// mailbox (infino-mailbox submit --replace): on a 409 that names the
// mailbox the same outbox entry goes on as a replacement (Replace), also
// when it is sent later from the outbox.
func (s *Service) SubmitOrReplace(ctx context.Context, settings mailcfg.Settings, secret Secret, verifiedAt time.Time) Outcome {
	return s.submit(ctx, settings, secret, verifiedAt, true)
}

func (s *Service) submit(ctx context.Context, settings mailcfg.Settings, secret Secret, verifiedAt time.Time, replace bool) Outcome {
	settings = settings.Normalized()
	out := Outcome{Email: settings.Email, State: StateFailed}
	base, e := s.base()
	if e != nil {
		out.Err = e
		return out
	}
	if err := settings.Validate(mailcfg.ValidateOptions{AllowInsecure: s.o.Policy.AllowInsecure, InsecureOverride: true}); err != nil {
		var v mailcfg.ValidationError
		errors.As(err, &v)
		out.Err = &Error{Kind: KindInvalid, Fields: v, Err: err, Message: messages[KindInvalid]}
		return out
	}
	if err := secret.Check(settings.Auth); err != nil {
		field := "secret"
		if settings.Auth == mailcfg.AuthPassword {
			field = "password"
		}
		out.Err = &Error{Kind: KindInvalid, Err: err, Message: messages[KindInvalid],
			Fields: mailcfg.ValidationError{{Field: field, Code: "secret_invalid", Message: mailcfg.Text{PL: err.Error(), EN: err.Error()}}}}
		return out
	}
	if verifiedAt.IsZero() {
		verifiedAt = s.o.Now()
	}
	unlock, err := s.outbox.Lock(ctx)
	if err != nil {
		out.Err = lockErr(ctx, err)
		return out
	}
	defer unlock()
	// The same mailbox may already wait in the outbox (the user pressed
	// "Send now", or submits again after a failure): the same submission
	// goes out again under its key; different settings replace it.
	if prev, old := s.pendingFor(ctx, base, settings.Email); prev != nil {
		if old != nil && reflect.DeepEqual(prev.Settings, settings) && reflect.DeepEqual(*old, secret) &&
			(prev.Op == OpReplace || prev.ReplaceIfExists == replace) {
			return s.send(ctx, *prev, secret, s.outbox)
		}
		if err := s.outbox.Complete(context.WithoutCancel(ctx), prev.ID); err != nil {
			out.Err = &Error{Kind: KindConfig, Err: fmt.Errorf("outbox: %w", err), Message: messages[KindConfig]}
			return out
		}
	}
	now := s.o.Now().UTC()
	info := s.o.Info
	if info.Name == "" {
		info = DefaultClientInfo()
	}
	e2 := Entry{ID: NewUUID(), IdempotencyKey: NewUUID(), InfinoURL: base, Settings: settings,
		VerifiedAt: verifiedAt.UTC().Truncate(time.Second), CreatedAt: now, Client: info, ReplaceIfExists: replace}
	return s.addAndSend(ctx, e2, secret)
}

// addAndSend writes a new entry and sends it (the caller holds the lock).
// When the entry cannot be written it is sent directly, once with the
// in-call retries; if that does not deliver it, the outcome says why it
// could not be kept (the disk, or the keyring).
func (s *Service) addAndSend(ctx context.Context, e Entry, secret Secret) Outcome {
	if err := s.outbox.Add(ctx, e, secret); err != nil {
		out := s.send(ctx, e, secret, nil)
		if out.State == StateQueued {
			out.State = StateFailed
			keep := &Error{Kind: KindConfig, Message: storeMessage}
			errors.As(err, &keep)
			out.Err = &Error{Kind: keep.Kind, Message: keep.Message,
				Err: fmt.Errorf("%v; and it could not be kept for later: %w", out.Err, err)}
		}
		out.EntryID = ""
		return out
	}
	return s.send(ctx, e, secret, s.outbox)
}

// pendingFor finds a waiting entry for the address at base, with its secret
// (nil if the secret cannot be read).
func (s *Service) pendingFor(ctx context.Context, base, email string) (*Entry, *Secret) {
	entries, _, err := s.outbox.List(ctx)
	if err != nil {
		return nil, nil
	}
	for i := range entries {
		e := &entries[i]
		if e.InfinoURL == base && strings.EqualFold(e.Settings.Email, email) {
			sec, err := s.outbox.Secret(ctx, e.ID)
			if err != nil {
				return e, nil
			}
			return e, &sec
		}
	}
	return nil, nil
}

func lockErr(ctx context.Context, err error) *Error {
	if ctx.Err() != nil {
		return newError(KindCancelled, 0, err)
	}
	return localError(err)
}

// send delivers one entry (the caller holds the outbox lock) and records the
// result in the outbox: completed, or updated with the reason and the time
// of the next automatic attempt. ob nil: the entry is not in the outbox.
func (s *Service) send(ctx context.Context, e Entry, secret Secret, ob *Outbox) Outcome {
	return s.sendWith(ctx, e, secret, ob, true)
}

func (s *Service) sendWith(ctx context.Context, e Entry, secret Secret, ob *Outbox, interactive bool) Outcome {
	out := Outcome{EntryID: e.ID, Email: e.Settings.Email}
	// Bookkeeping must finish even when ctx ends in the middle.
	bg := context.WithoutCancel(ctx)
	e.Attempts++
	e.LastAttempt = s.o.Now().UTC()
	if ob != nil {
		// Bookkeeping only: the entry as written by Add is enough to send
		// it again, so a full disk here does not stop the attempt.
		if err := ob.Update(e); errors.Is(err, fs.ErrNotExist) {
			out.State = StateSent // completed meanwhile
			return out
		}
	}
	c := &Client{BaseURL: e.InfinoURL, Tokens: s.tokens(e.InfinoURL, interactive), HTTP: s.o.HTTP, Info: e.Client,
		Lang: s.o.Lang, Retry: s.o.Retry, Sleep: s.o.Sleep, Now: s.o.Now, Jitter: s.o.Jitter}
	sub := Submission{Settings: e.Settings, Secret: secret, VerifiedAt: e.VerifiedAt}
	var rec Receipt
	var err error
	if e.Op == OpReplace {
		rec, err = c.ReplaceMailbox(ctx, e.IdempotencyKey, MailboxInfo{ID: e.MailboxID, ETag: e.IfMatch}, sub)
	} else {
		rec, err = c.CreateMailbox(ctx, e.IdempotencyKey, sub)
		var ie *Error
		if e.ReplaceIfExists && errors.As(err, &ie) && ie.Kind == KindExists && ie.Mailbox != nil && ie.Mailbox.ETag != "" {
			// The user asked beforehand to replace what Infino keeps: the
			// entry becomes that replacement (written first, a key of its
			// own), so that a crash from here on repeats the PUT, not the
			// POST. If-Match keeps a late repeat from replacing twice.
			e.Op, e.MailboxID, e.IfMatch, e.IdempotencyKey, e.ReplaceIfExists = OpReplace, ie.Mailbox.ID, ie.Mailbox.ETag, NewUUID(), false
			if ob != nil {
				if uerr := ob.Update(e); uerr != nil {
					err = localError(uerr)
				}
			}
			if err == ie {
				rec, err = c.ReplaceMailbox(ctx, e.IdempotencyKey, *ie.Mailbox, sub)
			}
		}
	}
	kind := KindOf(err)
	switch {
	case err == nil:
		out.State, out.Receipt = StateSent, rec
		if e.Op == OpReplace {
			out.State = StateReplaced
		}
		if rec.Email != "" {
			out.Email = rec.Email
		}
	case kind == KindExists:
		out.State, out.Err = StateExists, err
		var ie *Error
		if errors.As(err, &ie) {
			out.Existing = ie.Mailbox
		}
	case kind.Keeps():
		out.State, out.Err = StateQueued, err
	default:
		out.State, out.Err = StateFailed, err
	}
	if ob == nil {
		return out
	}
	if out.State != StateQueued {
		if cerr := ob.Complete(bg, e.ID); cerr != nil {
			out.Err = errors.Join(out.Err, fmt.Errorf("outbox: %w", cerr))
		}
		return out
	}
	var ie *Error
	errors.As(err, &ie)
	e.LastError = &EntryError{Kind: kind, Message: out.Message()}
	var wait time.Duration
	if ie != nil {
		e.LastError.Status = ie.Status
		if ie.Err != nil {
			e.LastError.Detail = ie.Err.Error()
		}
		wait = ie.RetryAfter
	}
	e.NextAttempt = s.o.Now().UTC().Add(max(wait, nextDelay(e.Attempts)))
	out.NextAttempt = e.NextAttempt
	// Bookkeeping only: if it cannot be written (a full disk), the entry
	// still waits, just without the reason and due at once.
	_ = ob.Update(e)
	return out
}

// nextDelay is the wait before the next automatic flush of an entry tried
// n times: 1, 2, 4 … minutes, at most an hour.
func nextDelay(n int) time.Duration {
	d := time.Minute
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// Pending lists what waits in the outbox and the outbox files that could not
// be read (moved aside).
func (s *Service) Pending(ctx context.Context) ([]Entry, []Problem, error) {
	return s.outbox.List(ctx)
}

// EntryResult is what a flush did with one entry.
type EntryResult struct {
	Entry Entry
	// Tried is false when the entry was left for later without a request
	// (not due yet, or Infino was already found unreachable).
	Tried   bool
	Outcome Outcome
}

// FlushReport is the result of Flush.
type FlushReport struct {
	Results  []EntryResult
	Problems []Problem
	// Err is a failure to read the outbox at all.
	Err error
	// Swept counts the secrets of interrupted additions removed from the
	// store.
	Swept int
}

// Counts returns how many entries were sent (or already existed), are still
// queued, and failed for good.
func (r FlushReport) Counts() (sent, queued, failed int) {
	for _, res := range r.Results {
		switch res.Outcome.State {
		case StateSent, StateExists, StateReplaced:
			sent++
		case StateQueued:
			queued++
		case StateFailed:
			failed++
		}
	}
	return
}

// Flush sends what waits in the outbox: at start-up (force false: only
// entries that are due, and never a browser sign-in — a missing sign-in
// leaves them waiting with that reason), on "Retry now" and by "outbox
// flush" (force true: everything, signing in through Browser if needed).
// After a network failure the remaining entries are not tried this time.
func (s *Service) Flush(ctx context.Context, force bool) FlushReport {
	return s.flush(ctx, force, force)
}

// flush tries the entries that are due (all: every entry) and signs in
// through the browser only when interactive.
func (s *Service) flush(ctx context.Context, all, interactive bool) FlushReport {
	// A failed sweep is tried again next time; the entries' own attempts
	// report what is wrong.
	swept, _ := s.Sweep(ctx)
	entries, problems, err := s.outbox.List(ctx)
	rep := FlushReport{Problems: problems, Err: err, Swept: swept}
	var down *Outcome
	for _, e := range entries {
		res := EntryResult{Entry: e, Outcome: Outcome{State: StateQueued, EntryID: e.ID, Email: e.Settings.Email, NextAttempt: e.NextAttempt}}
		if e.LastError != nil {
			res.Outcome.Err = &Error{Kind: e.LastError.Kind, Status: e.LastError.Status, Message: e.LastError.Message}
		}
		switch {
		case ctx.Err() != nil:
		case down != nil:
			res.Outcome.Err = down.Err
		case !all && e.NextAttempt.After(s.o.Now()):
		default:
			res.Tried = true
			res.Outcome = s.deliver(ctx, e.ID, interactive)
			if o := res.Outcome; o.State == StateQueued && o.Kind() == KindUnavailable && isNetError(o.Err) {
				down = &o
			}
		}
		rep.Results = append(rep.Results, res)
	}
	return rep
}

func (s *Service) deliver(ctx context.Context, id string, interactive bool) Outcome {
	out := Outcome{EntryID: id, State: StateQueued}
	unlock, err := s.outbox.Lock(ctx)
	if err != nil {
		out.Err = lockErr(ctx, err)
		return out
	}
	defer unlock()
	e, err := s.outbox.Get(id)
	if errors.Is(err, fs.ErrNotExist) {
		// Another process delivered it meanwhile.
		out.State = StateSent
		return out
	}
	if err != nil {
		out.Err = err
		return out
	}
	out.Email = e.Settings.Email
	secret, err := s.outbox.Secret(ctx, id)
	if errors.Is(err, secrets.ErrNotFound) {
		// The secret is gone (keyring cleared): it can never be sent.
		out.State = StateFailed
		out.Err = &Error{Kind: KindConfig, Err: fmt.Errorf("the secret of outbox entry %s is not in the keyring", id), Message: lostSecretMessage}
		if cerr := s.outbox.Complete(context.WithoutCancel(ctx), id); cerr != nil {
			out.Err = errors.Join(out.Err, cerr)
		}
		return out
	}
	if err != nil {
		out.Err = storeError(err)
		return out
	}
	return s.sendWith(ctx, e, secret, s.outbox, interactive)
}

var lostSecretMessage = mailcfg.Text{
	PL: "Hasło tej skrzynki zniknęło z systemowego sejfu, więc nie można jej wysłać. Dodaj skrzynkę ponownie.",
	EN: "The password of this mailbox is no longer in the system keyring, so it cannot be sent. Add the mailbox again.",
}

// Sweep removes, under the outbox lock, the secrets that interrupted
// additions left in the store (Outbox.Sweep). Flush calls it first; a face
// may call it at start-up.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	if _, err := os.Stat(s.outbox.Dir()); errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	unlock, err := s.outbox.Lock(ctx)
	if err != nil {
		return 0, lockErr(ctx, err)
	}
	defer unlock()
	return s.outbox.Sweep(context.WithoutCancel(ctx))
}
