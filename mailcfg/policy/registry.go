package policy

import (
	"errors"
	"fmt"
	"strings"
)

// RegistryPath is the policy key under HKEY_LOCAL_MACHINE and
// HKEY_CURRENT_USER.
const RegistryPath = `SOFTWARE\Policies\Infino\Mailbox`

// Registry value types (the Windows REG_* numbers), so that the parser below
// is portable and tested on every OS.
const (
	RegSZ       uint32 = 1
	RegExpandSZ uint32 = 2
	RegBinary   uint32 = 3
	RegDWord    uint32 = 4
	RegMultiSZ  uint32 = 7
	RegQWord    uint32 = 11
)

// RegValue is one value read from the policy key. The Windows reader fills
// Str for REG_SZ and REG_EXPAND_SZ (already expanded), Strs for
// REG_MULTI_SZ and Int for REG_DWORD and REG_QWORD.
type RegValue struct {
	Name string
	Type uint32
	Str  string
	Strs []string
	Int  uint64
}

// ParseRegistry turns the values of a policy key into flat key/value pairs.
// Value names are the policy keys ("infinoUrl", "microsoft.clientId"),
// matched without regard to case as Windows does. The types:
//
//   - string keys: REG_SZ or REG_EXPAND_SZ;
//   - bool keys: REG_DWORD/REG_QWORD 0 or 1, or REG_SZ "0", "1", "true",
//     "false";
//   - list keys: REG_MULTI_SZ, or REG_SZ with the elements separated by
//     commas or semicolons.
//
// An empty REG_SZ means "not set": the installer writes every property it
// knows, empty when the administrator did not give it. The unnamed
// (default) value is ignored.
func ParseRegistry(source string, vals []RegValue) (map[string]any, error) {
	flat := map[string]any{}
	var errs []error
	for _, v := range vals {
		if v.Name == "" {
			continue
		}
		name := canonical(v.Name)
		k, known := lookup(name)
		switch v.Type {
		case RegSZ, RegExpandSZ:
			s := strings.TrimSpace(v.Str)
			if s == "" {
				continue
			}
			switch {
			case known && k.kind == kBool:
				b, ok := parseBoolString(s)
				if !ok {
					errs = append(errs, &Error{source, name, fmt.Sprintf("must be 1 or 0 (REG_DWORD), or the string true or false, not %q", s)})
					continue
				}
				flat[name] = b
			case known && k.kind == kList:
				flat[name] = splitList(s)
			default:
				flat[name] = s
			}
		case RegMultiSZ:
			var l []any
			for _, s := range v.Strs {
				if s = strings.TrimSpace(s); s != "" {
					l = append(l, s)
				}
			}
			if len(l) == 0 {
				continue
			}
			if known && k.kind == kString && len(l) == 1 {
				flat[name] = l[0]
				continue
			}
			flat[name] = l
		case RegDWord, RegQWord:
			if known && k.kind == kBool {
				if v.Int > 1 {
					errs = append(errs, &Error{source, name, fmt.Sprintf("must be 1 or 0, not %d", v.Int)})
					continue
				}
				flat[name] = v.Int == 1
				continue
			}
			flat[name] = v.Int
		default:
			errs = append(errs, &Error{source, name, fmt.Sprintf("has registry type %s; use REG_SZ, REG_DWORD or REG_MULTI_SZ", regTypeName(v.Type))})
		}
	}
	return flat, errors.Join(errs...)
}

func parseBoolString(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "1", "true", "yes":
		return true, true
	case "0", "false", "no":
		return false, true
	}
	return false, false
}

func splitList(s string) []any {
	var out []any
	for _, e := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' }) {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

func regTypeName(t uint32) string {
	switch t {
	case RegBinary:
		return "REG_BINARY"
	case 0:
		return "REG_NONE"
	}
	return fmt.Sprintf("%d", t)
}
