package policy

import (
	"reflect"
	"strings"
	"testing"

	"infino.legal/mailbox/mailcfg/urlcheck"
)

func fuzzRegValue(name string, typ uint32, str string, n uint64) RegValue {
	return RegValue{Name: name, Type: typ, Str: str, Strs: strings.Split(str, "\x00"), Int: n}
}

// FuzzParseRegistry feeds the portable half of the Windows registry reader
// any value of the policy key (name, REG_* type, data), once in the user's
// key and once in the machine's, the way the Windows sources are loaded.
// Value names match without regard to case; the flat values are of the
// types Set knows; and the merged policy keeps its invariants.
func FuzzParseRegistry(f *testing.F) {
	for _, c := range []struct {
		name string
		typ  uint32
		str  string
		n    uint64
	}{
		{"infinoUrl", RegSZ, "https://kancelaria.infino.legal/", 0},
		{"INFINOURL", RegExpandSZ, "http://127.0.0.1:8080", 0},
		{"microsoft.clientId", RegSZ, "11111111-2222-3333-4444-555555555555", 0},
		{"Microsoft.Tenant", RegSZ, "kancelaria.onmicrosoft.com", 0},
		{"microsoft.authority", RegSZ, "http://login.example", 0},
		{"allowedMethods", RegMultiSZ, "microsoft\x00 manual \x00\x00", 0},
		{"allowedMethods", RegSZ, "microsoft; manual,microsoft", 0},
		{"allowedMethods", RegMultiSZ, "passkey", 0},
		{"allowManual", RegDWord, "", 0},
		{"allowManual", RegQWord, "", 1 << 40},
		{"allowManual", RegSZ, "yes", 0},
		{"allowInsecure", RegSZ, "maybe", 0},
		{"lockServerSettings", RegSZ, " true ", 0},
		{"proxyUrl", RegSZ, "socks5://proxy.kancelaria.local:1080", 0},
		{"proxyUrl", RegMultiSZ, "direct", 0},
		{"extraCaFile", RegExpandSZ, `C:\ProgramData\Kancelaria\ca.pem`, 0},
		{"language", RegSZ, "PL", 0},
		{"language", RegDWord, "", 1045},
		{"", RegSZ, "default value", 0},
		{"unknownKey", RegBinary, "\x01\x02", 0},
		{"infinoUrl", 0, "", 0},
		{"infinoUrl", RegSZ, "   ", 0},
	} {
		f.Add(c.name, c.typ, c.str, c.n, "lockServerSettings", RegDWord, "", uint64(1))
	}
	f.Add("allowedMethods", RegSZ, "manual", uint64(0), "allowManual", RegDWord, "", uint64(0))
	f.Add("allowManual", RegDWord, "", uint64(0), "allowedMethods", RegMultiSZ, "microsoft", uint64(0))
	f.Fuzz(func(t *testing.T, name string, typ uint32, str string, n uint64, name2 string, typ2 uint32, str2 string, n2 uint64) {
		user := []RegValue{fuzzRegValue(name, typ, str, n)}
		machine := []RegValue{fuzzRegValue(name2, typ2, str2, n2)}

		flat, err := ParseRegistry("HKCU", user)
		for k, v := range flat {
			switch v := v.(type) {
			case string, bool, uint64:
			case []any:
				for _, e := range v {
					if s, ok := e.(string); !ok || s == "" || s != strings.TrimSpace(s) {
						t.Fatalf("%s: list element %#v", k, e)
					}
				}
			default:
				t.Fatalf("%s: value of type %T", k, v)
			}
		}
		// Windows matches value names without regard to case.
		for _, other := range []string{strings.ToUpper(name), strings.ToLower(name)} {
			flat2, err2 := ParseRegistry("HKCU", []RegValue{fuzzRegValue(other, typ, str, n)})
			if _, known := lookup(canonical(name)); known && (!reflect.DeepEqual(flat, flat2) || (err == nil) != (err2 == nil)) {
				t.Fatalf("%q and %q differ: %v %v / %v %v", name, other, flat, err, flat2, err2)
			}
		}

		src := func(name string, vals []RegValue) Source {
			return Source{Name: name, Scope: "fuzz", Read: func() (map[string]any, error) { return ParseRegistry(name, vals) }}
		}
		for _, srcs := range [][]Source{
			{src(`HKCU\`+RegistryPath, user)},
			{src(`HKLM\`+RegistryPath, append(user, machine...))},
			{src(`HKCU\`+RegistryPath, user), src(`HKLM\`+RegistryPath, machine)},
		} {
			p, _ := LoadSources(srcs)
			if len(p.AllowedMethods) == 0 {
				t.Fatalf("allowedMethods became empty: %+v", srcs)
			}
			if p.AllowManual != p.Allows(MethodManual) {
				t.Fatalf("allowManual %v, allowedMethods %v", p.AllowManual, p.AllowedMethods)
			}
			for _, m := range p.AllowedMethods {
				if !contains(Methods, m) {
					t.Fatalf("method %q accepted", m)
				}
			}
			if p.InfinoURL != "" && urlcheck.Check(p.InfinoURL, true) != nil {
				t.Fatalf("accepted bad infinoUrl %q", p.InfinoURL)
			}
			if p.ProxyURL != "" {
				if _, err := checkProxyURL(p.ProxyURL); err != nil {
					t.Fatalf("accepted bad proxyUrl %q", p.ProxyURL)
				}
			}
			if _, err := checkHTTPSURL(p.Microsoft.Authority); err != nil {
				t.Fatalf("accepted bad authority %q", p.Microsoft.Authority)
			}
			for k, o := range p.Origin {
				if _, known := lookup(k); !known {
					t.Fatalf("origin of unknown key %q", k)
				}
				if o != "default" && o != srcs[0].Name && o != srcs[len(srcs)-1].Name {
					t.Fatalf("origin %q of %s", o, k)
				}
			}
		}
	})
}
