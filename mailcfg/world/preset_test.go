package world_test

import (
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
