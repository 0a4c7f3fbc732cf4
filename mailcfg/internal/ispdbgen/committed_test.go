package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The committed ispdb_gen.json and its expectations are what "go generate
// ./mailcfg" makes on a clean clone: the directive's input lies inside the
// repository, and generating from it gives the committed files byte for
// byte.
func TestCommittedTableIsGenerated(t *testing.T) {
	const pkg = "../.." // mailcfg, where go generate runs the directive
	src, err := os.ReadFile(filepath.Join(pkg, "ispdb.go"))
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, l := range strings.Split(string(src), "\n") {
		if rest, ok := strings.CutPrefix(l, "//go:generate go run ./internal/ispdbgen "); ok {
			args = strings.Fields(rest)
		}
	}
	if args == nil {
		t.Fatal("ispdb.go has no go:generate directive running ./internal/ispdbgen")
	}
	fl := flag.NewFlagSet("ispdbgen", flag.ContinueOnError)
	in := fl.String("csv", "", "")
	out := fl.String("out", "", "")
	expect := fl.String("expect", "", "")
	commit := fl.String("commit", "c6ad796", "")
	if err := fl.Parse(args); err != nil {
		t.Fatal(err)
	}
	if *in == "" || filepath.IsAbs(*in) || strings.HasPrefix(filepath.Clean(*in), "..") {
		t.Fatalf("the directive reads %q, outside the repository: a clean clone cannot regenerate the table", *in)
	}
	f, err := os.Open(filepath.Join(pkg, *in))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := readRows(f)
	if err != nil {
		t.Fatal(err)
	}
	table, exp, _ := generate(rows, *commit)
	for name, want := range map[string][]byte{*out: table, *expect: exp} {
		got, err := os.ReadFile(filepath.Join(pkg, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what go generate makes from %s: run go generate ./mailcfg", name, *in)
		}
	}
}
