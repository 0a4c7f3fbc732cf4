package urlcheck

import "testing"

func TestCheck(t *testing.T) {
	for s, ok := range map[string]bool{
		"https://infino.legal":           true,
		"https://infino.legal/tenant":    true,
		"http://127.0.0.1:8080":          true,
		"http://localhost:1234":          true,
		"http://[::1]:80":                true,
		"http://infino.legal":            false,
		"ftp://infino.legal":             false,
		"https://user:pw@infino.legal":   false,
		"https://infino.legal/?x=1":      false,
		"infino.legal":                   false,
		"https://":                       false,
		"http://127.0.0.1.attacker.com/": false,
	} {
		if err := Check(s, true); (err == nil) != ok {
			t.Errorf("Check(%q) = %v, want ok=%v", s, err, ok)
		}
	}
	if Check("http://127.0.0.1", false) == nil {
		t.Error("plain http accepted where loopback http is not allowed")
	}
}
