package infino

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"time"

	"infino.legal/mailbox/mailcfg"
)

// Replace replaces the settings and secret of a mailbox Infino already
// holds (target, from Outcome.Existing after a 409) with verified ones: PUT
// /api/v1/mailboxes/{id} guarded by If-Match: target.ETag. It goes through
// the outbox exactly as Submit does — written first, one Idempotency-Key for
// every retry — so a crash or a lost answer never replaces twice, and a
// replacement that cannot be sent now waits. The caller asks the user first:
// this overwrites what Infino keeps.
func (s *Service) Replace(ctx context.Context, settings mailcfg.Settings, secret Secret, verifiedAt time.Time, target MailboxInfo) Outcome {
	settings = settings.Normalized()
	out := Outcome{Email: settings.Email, State: StateFailed}
	base, e := s.base()
	if e != nil {
		out.Err = e
		return out
	}
	if !mailboxIDOK(target.ID) || target.ETag == "" {
		out.Err = &Error{Kind: KindConfig, Err: errors.New("infino: Replace needs the mailbox id and ETag Infino named"),
			Message: messages[KindConfig]}
		return out
	}
	if !strings.EqualFold(target.Email, settings.Email) && target.Email != "" {
		out.Err = &Error{Kind: KindInvalid, Err: errors.New("infino: the settings are for another address than the mailbox to replace"),
			Message: messages[KindInvalid], Fields: mailcfg.ValidationError{{Field: "email", Code: "email_mismatch",
				Message: mailcfg.Text{PL: "Adres nie zgadza się z zastępowaną skrzynką.", EN: "The address differs from the mailbox being replaced."}}}}
		return out
	}
	if err := settings.Validate(mailcfg.ValidateOptions{AllowInsecure: s.o.Policy.AllowInsecure, InsecureOverride: true}); err != nil {
		var v mailcfg.ValidationError
		errors.As(err, &v)
		out.Err = &Error{Kind: KindInvalid, Fields: v, Err: err, Message: messages[KindInvalid]}
		return out
	}
	if err := secret.Check(settings.Auth); err != nil {
		out.Err = &Error{Kind: KindInvalid, Err: err, Message: messages[KindInvalid]}
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
	// A replacement of this mailbox may already wait: the same one goes
	// out again under its key; anything else waiting for the address is
	// superseded.
	if prev, old := s.pendingFor(ctx, base, settings.Email); prev != nil {
		if prev.Op == OpReplace && prev.MailboxID == target.ID && old != nil &&
			reflect.DeepEqual(prev.Settings, settings) && reflect.DeepEqual(*old, secret) {
			return s.send(ctx, *prev, secret, s.outbox)
		}
		if err := s.outbox.Complete(context.WithoutCancel(ctx), prev.ID); err != nil {
			out.Err = localError(err)
			return out
		}
	}
	info := s.o.Info
	if info.Name == "" {
		info = DefaultClientInfo()
	}
	en := Entry{ID: NewUUID(), IdempotencyKey: NewUUID(), InfinoURL: base, Settings: settings,
		VerifiedAt: verifiedAt.UTC().Truncate(time.Second), CreatedAt: s.o.Now().UTC(), Client: info,
		Op: OpReplace, MailboxID: target.ID, IfMatch: target.ETag}
	return s.addAndSend(ctx, en, secret)
}

// Mailboxes lists the mailboxes of the signed-in Infino account (GET
// /api/v1/mailboxes), signing in through the browser if needed.
func (s *Service) Mailboxes(ctx context.Context) ([]MailboxInfo, error) {
	base, e := s.base()
	if e != nil {
		return nil, e
	}
	c := &Client{BaseURL: base, Tokens: s.tokens(base, true), HTTP: s.o.HTTP, Info: s.o.Info, Lang: s.o.Lang, Now: s.o.Now}
	return c.ListMailboxes(ctx)
}
