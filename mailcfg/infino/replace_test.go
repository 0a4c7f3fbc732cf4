package infino_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/internal/sandbox"
	"infino.legal/mailbox/mailcfg/infino"
)

// The lawyer changed the mailbox password: the submission meets 409, which
// names the mailbox; Replace puts the new settings and secret in its place,
// once, guarded by the ETag.
func TestExistsThenReplace(t *testing.T) {
	e := newEnv(t)
	wantState(t, demoSubmit(e), infino.StateSent)
	out := e.svc.Submit(e.ctx(), e.sb.DemoSettings(), infino.PasswordSecret("nowe-haslo-2026"), time.Now())
	wantState(t, out, infino.StateExists)
	if out.Existing == nil || out.Existing.ID == "" || out.Existing.ETag == "" || out.Existing.Email != sandbox.DemoEmail {
		t.Fatalf("existing %+v", out.Existing)
	}
	if !strings.Contains(out.Message().In("en"), "replace") || !strings.Contains(out.Message().In("pl"), "zastąpić") {
		t.Fatalf("message %+v", out.Message())
	}
	rep := e.svc.Replace(e.ctx(), e.sb.DemoSettings(), infino.PasswordSecret("nowe-haslo-2026"), time.Now(), *out.Existing)
	wantState(t, rep, infino.StateReplaced)
	mbs := e.sb.Infino.Mailboxes()
	if len(mbs) != 1 || mbs[0].Password != "nowe-haslo-2026" || mbs[0].Version != 2 {
		t.Fatalf("mailboxes %+v", mbs)
	}
	last := e.sb.Infino.LastRequest()
	if last.Method != http.MethodPut || last.Header.Get("If-Match") != out.Existing.ETag || last.Header.Get("Idempotency-Key") == "" {
		t.Fatalf("request %s %v", last.Method, last.Header)
	}
	if p, _, _ := e.svc.Pending(e.ctx()); len(p) != 0 || len(outboxKeys(e.store)) != 0 {
		t.Fatal("left in the outbox")
	}
	// The old ETag no longer matches: a second replacement with it is
	// refused as "changed", nothing replaced.
	again := e.svc.Replace(e.ctx(), e.sb.DemoSettings(), infino.PasswordSecret("trzecie-haslo"), time.Now(), *out.Existing)
	wantState(t, again, infino.StateFailed)
	if again.Kind() != infino.KindChanged || e.sb.Infino.Mailboxes()[0].Password != "nowe-haslo-2026" {
		t.Fatalf("%s %+v", again.Kind(), again.Err)
	}

	// The list names it, verified, active.
	list, err := e.svc.Mailboxes(e.ctx())
	if err != nil || len(list) != 1 || list[0].Email != sandbox.DemoEmail || list[0].State != "active" || list[0].LastVerifiedAt.IsZero() {
		t.Fatalf("%+v %v", list, err)
	}
}

// A replacement whose answer is lost, then one that is queued while Infino
// is down, are each applied exactly once: the retry with the same key gets
// the stored answer although the ETag has changed since.
func TestReplaceExactlyOnce(t *testing.T) {
	e := newEnv(t)
	access, _ := e.sb.Infino.Mint()
	e.opts.Tokens = &staticTokens{tok: access}
	hc := e.httpClient()
	hc.Timeout = 500 * time.Millisecond
	e.opts.HTTP = hc
	e.svc = infino.NewService(e.opts)
	mb := e.sb.Infino.AddMailbox(sandbox.DemoEmail)
	out := demoSubmit(e)
	wantState(t, out, infino.StateExists)

	committed := e.sb.Infino.HoldNext()
	rep := e.svc.Replace(e.ctx(), e.sb.DemoSettings(), infino.PasswordSecret("haslo-po-zmianie"), time.Now(), *out.Existing)
	<-committed
	wantState(t, rep, infino.StateReplaced)
	if !rep.Receipt.Replayed {
		t.Fatalf("receipt %+v", rep.Receipt)
	}
	got := e.sb.Infino.Mailboxes()[0]
	if got.ID != mb.ID || got.Version != 2 || got.Password != "haslo-po-zmianie" {
		t.Fatalf("%+v", got)
	}

	// Queued while Infino is down, delivered by a flush after a restart.
	info := infino.MailboxInfo{ID: got.ID, Email: got.Email, ETag: got.ETag()}
	e.down.Store(true)
	q := e.svc.Replace(e.ctx(), e.sb.DemoSettings(), infino.PasswordSecret("haslo-offline"), time.Now(), info)
	wantState(t, q, infino.StateQueued)
	pending, _, _ := e.svc.Pending(e.ctx())
	if len(pending) != 1 || pending[0].Op != infino.OpReplace || pending[0].MailboxID != got.ID || pending[0].IfMatch != info.ETag {
		t.Fatalf("pending %+v", pending)
	}
	e.down.Store(false)
	fr := infino.NewService(e.opts).Flush(e.ctx(), true)
	if s, _, _ := fr.Counts(); s != 1 || fr.Results[0].Outcome.State != infino.StateReplaced {
		t.Fatalf("%+v", fr.Results)
	}
	got = e.sb.Infino.Mailboxes()[0]
	if got.Version != 3 || got.Password != "haslo-offline" || e.sb.Infino.Count() != 1 {
		t.Fatalf("%+v", got)
	}
	if len(outboxKeys(e.store)) != 0 {
		t.Fatal("secret left")
	}
	assertNoSecretFiles(t, e.dir, "haslo-offline", "haslo-po-zmianie")
}

// submit --replace while Infino is down: the consent travels with the
// outbox entry; the flush meets 409, turns the entry into the replacement
// and replaces once.
func TestSubmitOrReplaceFromTheOutbox(t *testing.T) {
	e := newEnv(t)
	access, _ := e.sb.Infino.Mint()
	e.opts.Tokens = &staticTokens{tok: access}
	e.svc = infino.NewService(e.opts)
	e.sb.Infino.AddMailbox(sandbox.DemoEmail)
	e.down.Store(true)
	out := e.svc.SubmitOrReplace(e.ctx(), e.sb.DemoSettings(), infino.PasswordSecret("haslo-z-kolejki"), time.Now())
	wantState(t, out, infino.StateQueued)
	if p, _, _ := e.svc.Pending(e.ctx()); len(p) != 1 || !p[0].ReplaceIfExists || p[0].Op != "" {
		t.Fatalf("pending %+v", p)
	}
	e.down.Store(false)
	rep := infino.NewService(e.opts).Flush(e.ctx(), true)
	if s, _, _ := rep.Counts(); s != 1 || rep.Results[0].Outcome.State != infino.StateReplaced {
		t.Fatalf("%+v", rep.Results)
	}
	mb := e.sb.Infino.Mailboxes()
	if len(mb) != 1 || mb[0].Version != 2 || mb[0].Password != "haslo-z-kolejki" {
		t.Fatalf("%+v", mb)
	}
	reqs := e.sb.Infino.Requests()
	if len(reqs) != 2 || reqs[0].Method != "POST" || reqs[1].Method != "PUT" ||
		reqs[0].Header.Get("Idempotency-Key") == reqs[1].Header.Get("Idempotency-Key") {
		t.Fatalf("requests %v", statuses(reqs))
	}
	// Plain Submit of the same address does not replace.
	out = e.svc.Submit(e.ctx(), e.sb.DemoSettings(), infino.PasswordSecret("jeszcze-inne"), time.Now())
	wantState(t, out, infino.StateExists)
	if e.sb.Infino.Mailboxes()[0].Version != 2 {
		t.Fatal("replaced without consent")
	}
}
