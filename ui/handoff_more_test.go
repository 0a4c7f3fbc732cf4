package ui

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"infino.legal/mailbox/internal/sandbox"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/secrets"
	"infino.legal/mailbox/mailcfg/world"
)

// The lawyer changed the mailbox password: Infino already has the mailbox
// and names it; „Zastąp zapisane ustawienia” asks first, and only a
// confirmation replaces what Infino keeps.
func TestDoneReplacesAfterConfirmation(t *testing.T) {
	w, sb := sandboxWiring(t)
	sb.Infino.AddMailbox(sandbox.DemoEmail)
	h := newHarness(t, "pl_PL.UTF-8", useDeps(w.deps()))
	d := toDone(t, h)
	handedOff(t, h, d)
	if d.last.State != infino.StateExists || d.last.Existing == nil || !d.replace.Visible() {
		t.Fatalf("result %+v, replace shown %v\n%s", d.last, d.replace.Visible(), h.screenText())
	}
	h.mustShow("Zastąp zapisane ustawienia")
	test.Tap(d.replace)
	if d.replDlg == nil {
		t.Fatal("no confirmation")
	}
	d.replDlg.Dismiss()
	if mb := sb.Infino.Mailboxes()[0]; mb.Version != 1 || mb.Password != "" || d.send.running() {
		t.Fatalf("replaced without a confirmation: %+v", mb)
	}
	test.Tap(d.replace)
	d.replDlg.Confirm()
	handedOff(t, h, d)
	if d.last.State != infino.StateReplaced {
		t.Fatalf("%+v\n%s", d.last, h.screenText())
	}
	h.mustShow("Ustawienia tej skrzynki zapisane w Infino Legal zastąpiono nowymi.")
	if d.replace.Visible() || d.retry.Visible() {
		t.Error("buttons left after the replacement")
	}
	mb := sb.Infino.Mailboxes()
	if len(mb) != 1 || mb[0].Version != 2 || mb[0].Password != sandbox.DemoPassword {
		t.Fatalf("%+v", mb)
	}
}

// Queued while the network is down; the window stays open; the network
// comes back and the retrier delivers without a click. The Done screen
// showed when it would try, then shows it sent. Closing the window stops it.
func TestRetryWhileTheWindowIsOpen(t *testing.T) {
	sb, err := sandbox.Start(context.Background(), sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	table, err := sb.TableWith(nil)
	if err != nil {
		t.Fatal(err)
	}
	var down atomic.Bool
	host := strings.TrimPrefix(sb.InfinoURL, "https://")
	l, _ := net.Listen("tcp4", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()
	var dialer net.Dialer
	hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: sb.TLSConfig(), DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if down.Load() && addr == host {
				addr = closed
			}
			return dialer.DialContext(ctx, network, addr)
		}}}
	w := newWiring(&world.World{Policy: sb.Policy(), Store: secrets.NewMemory(), ConfigDir: t.TempDir(), Table: table,
		HTTP: hc, RootCAs: sb.RootCAs, Offline: true, Opener: sb.Browser().Open,
		Retry: infino.Retry{Attempts: 1}, Sleep: func(context.Context, time.Duration) error { return nil }}, "pl")
	w.probeEvery = 5 * time.Millisecond
	svc, err := w.service()
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SignIn(testCtx(t)); err != nil { // signed in earlier: the retrier never opens a browser
		t.Fatal(err)
	}
	h := newHarness(t, "pl_PL.UTF-8", useDeps(w.deps()))
	down.Store(true)
	d := toDone(t, h)
	handedOff(t, h, d)
	if d.last.State != infino.StateQueued {
		t.Fatalf("%+v\n%s", d.last, h.screenText())
	}
	h.mustShow("spróbuje ponownie samo, dopóki to okno jest otwarte")
	h.q.until(t, "the next attempt", func() bool { return d.next.Visible() })
	h.mustShow("Następna automatyczna próba:")
	down.Store(false)
	h.q.until(t, "delivered in the background", func() bool { return d.last.State == infino.StateSent })
	h.mustShow("Ustawienia przekazano do Infino Legal.")
	if sb.Infino.Count() != 1 || d.next.Visible() || d.retry.Visible() {
		t.Fatalf("%d mailboxes, next %v, retry %v", sb.Infino.Count(), d.next.Visible(), d.retry.Visible())
	}
	h.wz.Shutdown()
	h.wz.background.Wait() // the retrier has stopped
}

// An outbox file an earlier run left unreadable is named once on Start
// (set aside, its password removed); the next start is quiet about it.
func TestDamagedOutboxEntryToldOnce(t *testing.T) {
	w, _ := sandboxWiring(t)
	dir := filepath.Join(w.w.ConfigDir, "outbox")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	id := infino.NewUUID()
	os.WriteFile(filepath.Join(dir, id+".json"), []byte(`{"v":1,"id":"`), 0o600)
	w.w.Store.Set(testCtx(t), infino.SecretKey(id), `{"type":"password","password":"stary-sekret"}`)
	h := newHarness(t, "pl_PL.UTF-8", useDeps(w.deps()))
	s := h.wz.start
	h.q.until(t, "the note", func() bool { return s.damaged.box.Visible() })
	h.mustShow("Nie udało się odczytać zapisanych wcześniej ustawień (1)")
	if _, err := w.w.Store.Get(testCtx(t), infino.SecretKey(id)); err == nil {
		t.Error("the password of the unreadable entry is still in the keyring")
	}
	h.wz.Shutdown()

	h2 := newHarness(t, "pl_PL.UTF-8", useDeps(w.deps()))
	h2.q.until(t, "the start-up flush", func() bool { return !h2.wz.flush.running() && h2.wz.retrying })
	if h2.wz.start.damaged.box.Visible() {
		t.Fatal("told twice")
	}
}
