package world_test

import (
	"errors"
	"testing"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/policy"
	"infino.legal/mailbox/mailcfg/world"
)

// The firm's servers preset by policy reach both faces: the window's table,
// discovery and verification's hints.
func TestProviderTableHasTheFirmPreset(t *testing.T) {
	pol := policy.Default()
	if err := pol.Set("gpo", map[string]any{
		"firmProvider.domains":  []any{"kancelaria.pl"},
		"firmProvider.incoming": []any{"imaps://mail.kancelaria.pl"},
		"firmProvider.outgoing": []any{"submissions://mail.kancelaria.pl"},
	}); err != nil {
		t.Fatal(err)
	}
	w := &world.World{Policy: pol}
	tb := w.ProviderTable()
	if s, err := tb.Autofill("jan@kancelaria.pl", ""); err != nil || s.Source != mailcfg.SourcePolicy || s.Incoming.Host != "mail.kancelaria.pl" {
		t.Fatalf("%+v %v", s, err)
	}
	if w.DiscoverOptions(true).Table != tb || w.VerifyOptions().Table != tb {
		t.Error("discovery or verification does not use the preset table")
	}
	if (&world.World{}).ProviderTable() != nil {
		t.Error("without a preset the world's table should stay nil (parsed on first use)")
	}
}

// With lockServerSettings, settings for a preset domain must carry the
// firm's servers whichever face hands them in; other domains and unlocked
// presets are the user's.
func TestLockedServers(t *testing.T) {
	preset := map[string]any{
		"firmProvider.domains":  []any{"kancelaria.pl"},
		"firmProvider.incoming": []any{"imaps://mail.kancelaria.pl"},
		"firmProvider.outgoing": []any{"submissions://mail.kancelaria.pl"},
	}
	worldWith := func(lock bool) *world.World {
		pol := policy.Default()
		if err := pol.Set("gpo", preset); err != nil {
			t.Fatal(err)
		}
		if err := pol.Set("gpo", map[string]any{"lockServerSettings": lock}); err != nil {
			t.Fatal(err)
		}
		return &world.World{Policy: pol}
	}
	w := worldWith(true)
	good, err := w.ProviderTable().Autofill("jan@kancelaria.pl", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.LockedServers(good); err != nil {
		t.Errorf("the preset itself refused: %v", err)
	}
	moved := good
	moved.Outgoing.Host, moved.Incoming.Port = "smtp.elsewhere.example", 143
	var v mailcfg.ValidationError
	if !errors.As(w.LockedServers(moved), &v) || len(v) != 2 || v[0].Field != "incoming.port" || v[1].Field != "outgoing.host" || v[0].Code != "locked" {
		t.Errorf("changed servers: %v", v)
	}
	if v != nil && (v[0].Message.PL == "" || v[0].Message.EN == "") {
		t.Error("the message is not bilingual")
	}
	if err := worldWith(false).LockedServers(moved); err != nil {
		t.Errorf("an unlocked preset refused: %v", err)
	}
	other := moved
	other.Email = "jan@gdzie-indziej.pl"
	if err := w.LockedServers(other); err != nil {
		t.Errorf("another domain refused: %v", err)
	}
}
