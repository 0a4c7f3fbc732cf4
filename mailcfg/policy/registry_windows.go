//go:build windows

package policy

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// systemSources on Windows: the user's policy key, then the machine's.
func systemSources() []Source {
	return []Source{
		RegistrySource(registry.CURRENT_USER, `HKCU\`+RegistryPath, "user"),
		RegistrySource(registry.LOCAL_MACHINE, `HKLM\`+RegistryPath, "machine"),
	}
}

// RegistrySource reads the policy key under one root, in the 64-bit view
// that the x64 installer writes.
func RegistrySource(root registry.Key, name, scope string) Source {
	return Source{Name: name, Scope: scope, Read: func() (map[string]any, error) {
		vals, err := readRegistry(root, RegistryPath)
		if err != nil {
			return nil, err
		}
		return ParseRegistry(name, vals)
	}}
}

func readRegistry(root registry.Key, path string) ([]RegValue, error) {
	k, err := registry.OpenKey(root, path, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", path, errNotExist)
	}
	if err != nil {
		return nil, err
	}
	defer k.Close()
	names, err := k.ReadValueNames(-1)
	if err != nil {
		return nil, err
	}
	var out []RegValue
	for _, n := range names {
		_, typ, err := k.GetValue(n, nil)
		if err != nil && !errors.Is(err, registry.ErrShortBuffer) {
			return nil, fmt.Errorf("%s value %s: %w", path, n, err)
		}
		v := RegValue{Name: n, Type: typ}
		switch typ {
		case registry.SZ, registry.EXPAND_SZ:
			v.Str, _, err = k.GetStringValue(n)
			if err == nil && typ == registry.EXPAND_SZ {
				v.Str, err = registry.ExpandString(v.Str)
			}
		case registry.MULTI_SZ:
			v.Strs, _, err = k.GetStringsValue(n)
		case registry.DWORD, registry.QWORD:
			v.Int, _, err = k.GetIntegerValue(n)
		}
		if err != nil {
			return nil, fmt.Errorf("%s value %s: %w", path, n, err)
		}
		out = append(out, v)
	}
	return out, nil
}
