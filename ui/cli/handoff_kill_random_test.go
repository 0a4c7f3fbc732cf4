package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"infino.legal/mailbox/internal/sandbox"
	"infino.legal/mailbox/mailcfg/infino"
	"infino.legal/mailbox/mailcfg/secrets"
)

// TestKilledAtRandomMoments kills "submit --replace" (verification, the
// outbox entry, POST → 409, the replacement's entry, PUT) with SIGKILL at
// random moments, then runs "outbox flush". After every round: one mailbox
// at Infino; its password either the old one (nothing was replaced) or the
// new one with exactly one more version (replaced once, by the killed
// process or by the flush); an empty outbox; and no secret of any entry or
// interrupted addition left in the keyring.
func TestKilledAtRandomMoments(t *testing.T) {
	store := requireKeyring(t)
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	w := startBinaryWorld(ctx, t, store)
	sb, env, settingsFile := w.sb, w.env, w.settingsFile
	outboxDir := filepath.Join(w.configHome, infino.DirName, "outbox")
	start := func(stdin string, args ...string) (*exec.Cmd, *bytes.Buffer, <-chan error) {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(stdin)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		return cmd, &out, done
	}

	// Round 0, not killed: the first submission, and how long one
	// submit --replace takes.
	_, out, done := start(sandbox.DemoPassword+"\n", "submit", "--replace", "--password-stdin", settingsFile)
	if err := <-done; err != nil {
		t.Fatalf("first submit: %v\n%s", err, out)
	}
	sb.Mail.AddUser(sandbox.DemoEmail, "haslo-runda-0")
	t0 := time.Now()
	_, out, done = start("haslo-runda-0\n", "submit", "--replace", "--password-stdin", settingsFile)
	if err := <-done; err != nil {
		t.Fatalf("timed submit: %v\n%s", err, out)
	}
	full := time.Since(t0)
	mb := sb.Infino.Mailboxes()
	if len(mb) != 1 || mb[0].Version != 2 || mb[0].Password != "haslo-runda-0" {
		t.Fatalf("%+v", mb)
	}

	rounds := 40
	if testing.Short() {
		rounds = 6
	}
	var killedBefore, replacedByKilled, replacedByFlush, exitedFirst, swept int
	prevPW, prevVersion := "haslo-runda-0", 2
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for i := 1; i <= rounds; i++ {
		pw := fmt.Sprintf("haslo-runda-%d", i)
		sb.Mail.AddUser(sandbox.DemoEmail, pw)
		// Half the rounds anywhere in the run, half in its second half,
		// where the outbox and Infino are touched.
		delay := time.Duration(rng.Int64N(int64(full * 12 / 10)))
		if i%2 == 0 {
			delay = full*45/100 + time.Duration(rng.Int64N(int64(full*55/100)))
		}
		cmd, out, done := start(pw+"\n", "submit", "--replace", "--password-stdin", settingsFile)
		killed := false
		select {
		case <-done:
			exitedFirst++
		case <-time.After(delay):
			cmd.Process.Kill()
			<-done
			killed = true
		}
		afterKill := sb.Infino.Mailboxes()[0]
		// What the killed process left: entries and interrupted additions.
		var ids []string
		des, _ := os.ReadDir(outboxDir)
		for _, de := range des {
			for _, suf := range []string{".json", ".adding"} {
				if id, ok := strings.CutSuffix(de.Name(), suf); ok {
					ids = append(ids, id)
					if suf == ".adding" {
						swept++
					}
				}
			}
		}
		flush, fout, fdone := start("", "outbox", "flush", "--json")
		_ = flush
		if err := <-fdone; err != nil {
			t.Fatalf("round %d: flush: %v\n%s\n(submit said: %s)", i, err, fout, out)
		}
		mbs := sb.Infino.Mailboxes()
		if len(mbs) != 1 {
			t.Fatalf("round %d: %d mailboxes", i, len(mbs))
		}
		m := mbs[0]
		switch {
		case m.Password == prevPW && m.Version == prevVersion:

			if killed {
				killedBefore++
			}
		case m.Password == pw && m.Version == prevVersion+1:
			switch {
			case !killed:
			case afterKill.Version == prevVersion+1:
				replacedByKilled++
			default:
				replacedByFlush++
			}
		default:
			t.Fatalf("round %d: password %q version %d (before: %q version %d) — not exactly once", i, m.Password, m.Version, prevPW, prevVersion)
		}
		prevPW, prevVersion = m.Password, m.Version
		if left, _ := os.ReadDir(outboxDir); len(left) > 1 { // only .lock
			var names []string
			for _, de := range left {
				names = append(names, de.Name())
			}
			t.Fatalf("round %d: left in the outbox: %v", i, names)
		}
		for _, id := range ids {
			if _, err := store.Get(ctx, infino.SecretKey(id)); !errors.Is(err, secrets.ErrNotFound) {
				t.Fatalf("round %d: secret of %s left in the keyring: %v", i, id, err)
			}
		}
	}
	scanForSecrets(t, w.configHome, sandbox.DemoPassword, prevPW)
	t.Logf("%d rounds, SIGKILL at a random moment (odd rounds in [0, %v], even ones in the second half; one submit --replace takes %v): "+
		"%d ended before the kill; of the killed, %d were replaced by the killed process before it died, %d replaced "+
		"by the flush (from the outbox entry, replayed or first sent), %d killed before their outbox entry was complete "+
		"(nothing sent, nothing left); %d add markers found and swept; final version %d, 1 mailbox, %d API requests",
		rounds, full*12/10, full.Round(time.Millisecond), exitedFirst, replacedByKilled, replacedByFlush,
		killedBefore, swept, prevVersion, len(sb.Infino.Requests()))
}
