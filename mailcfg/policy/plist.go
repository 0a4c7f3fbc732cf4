package policy

import (
	"strings"

	"howett.net/plist"
)

// ParsePlist flattens a property list (XML, binary or OpenStep, as macOS
// writes managed preferences) into dotted keys, like ParseJSON: nested
// dictionaries and dotted names are both accepted. Keys beginning with
// "Payload" (profile metadata some MDM tools copy into the preferences) are
// skipped; every other unknown key is reported by Set.
func ParsePlist(source string, data []byte) (map[string]any, error) {
	var doc any
	if _, err := plist.Unmarshal(data, &doc); err != nil {
		return nil, &Error{Source: source, Problem: "not a valid property list: " + err.Error()}
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, &Error{Source: source, Problem: "must be a dictionary at the top level"}
	}
	for k := range obj {
		if strings.HasPrefix(k, "Payload") {
			delete(obj, k)
		}
	}
	return flatten(obj), nil
}
