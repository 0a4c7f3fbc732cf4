package kvfile

import (
	"maps"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	in := "# written by up.sh\n\nexport A=1\nB=\"two words\"\n  C='x=y'  \nD=\nE=\"unclosed\nA=3\n"
	got, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "3", "B": "two words", "C": "x=y", "D": "", "E": "\"unclosed"}
	if !maps.Equal(got, want) {
		t.Errorf("Parse = %q, want %q", got, want)
	}
	for _, bad := range []string{"no equals sign\n", "=value\n", "export\n"} {
		if _, err := Parse(strings.NewReader(bad)); err == nil {
			t.Errorf("Parse(%q) accepted it", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("export A=\"1\"\n# c\nB='2'\n")
	f.Add("=\n")
	f.Fuzz(func(t *testing.T, in string) {
		kv, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		for k := range kv {
			if k == "" || strings.TrimSpace(k) != k || strings.ContainsAny(k, "\n") {
				t.Fatalf("bad key %q", k)
			}
		}
	})
}
