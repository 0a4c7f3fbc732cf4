package mailcfg

import (
	"os"
	"strings"
	"testing"
)

// fyne package reads the app id from FyneApp.toml; it must be AppID.
func TestFyneAppTOMLHasAppID(t *testing.T) {
	b, err := os.ReadFile("../FyneApp.toml")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if ok && strings.TrimSpace(k) == "ID" {
			if got := strings.Trim(strings.TrimSpace(v), `"`); got != AppID {
				t.Fatalf("FyneApp.toml ID %q, AppID %q", got, AppID)
			}
			return
		}
	}
	t.Fatal("FyneApp.toml has no ID")
}
