//go:build windows

package policy

import (
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"golang.org/x/sys/windows/registry"
)

// The real registry reader against a real (or Wine's) registry: values of
// every type under a scratch key in HKCU.
func TestRegistryReaderWindows(t *testing.T) {
	path := fmt.Sprintf(`SOFTWARE\InfinoMailboxTest\%d-%d`, os.Getpid(), time.Now().UnixNano())
	k, _, err := registry.CreateKey(registry.CURRENT_USER, path, registry.ALL_ACCESS|registry.WOW64_64KEY)
	if err != nil {
		t.Fatal(err)
	}
	defer registry.DeleteKey(registry.CURRENT_USER, path)
	defer k.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(k.SetStringValue("InfinoUrl", "https://kancelaria.infino.legal"))
	must(k.SetStringValue("microsoft.tenant", "")) // an MSI property not given
	must(k.SetDWordValue("lockServerSettings", 1))
	must(k.SetQWordValue("allowInsecure", 0))
	must(k.SetStringsValue("allowedMethods", []string{"microsoft", "manual"}))
	must(k.SetExpandStringValue("extraCaFile", `%SystemRoot%\ca.pem`))
	must(k.SetStringValue("language", "pl"))

	vals, err := readRegistry(registry.CURRENT_USER, path)
	if err != nil {
		t.Fatal(err)
	}
	flat, err := ParseRegistry("test", vals)
	if err != nil {
		t.Fatal(err)
	}
	root := os.Getenv("SystemRoot")
	want := map[string]any{
		"infinoUrl":          "https://kancelaria.infino.legal",
		"lockServerSettings": true,
		"allowInsecure":      false,
		"allowedMethods":     []any{"microsoft", "manual"},
		"extraCaFile":        root + `\ca.pem`,
		"language":           "pl",
	}
	if !reflect.DeepEqual(flat, want) {
		t.Fatalf("read\n%#v\nwant\n%#v", flat, want)
	}
	if _, err := readRegistry(registry.CURRENT_USER, path+`\missing`); err == nil || !isNotExist(err) {
		t.Fatalf("a missing key must read as not existing: %v", err)
	}
	// The system sources are HKCU then HKLM.
	s := systemSources()
	if len(s) != 2 || s[0].Name != `HKCU\`+RegistryPath || s[1].Name != `HKLM\`+RegistryPath {
		t.Fatalf("sources: %+v", s)
	}
}
