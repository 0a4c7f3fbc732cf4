package mailcfg

import (
	"sort"
	"strings"
)

// FieldError is one problem with one field of the settings, with a stable code
// for programs and a message for people.
type FieldError struct {
	Field   string `json:"field"` // JSON path: "email", "incoming.port", …
	Code    string `json:"code"`
	Message Text   `json:"message"`
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message.EN }

func newFieldError(field, code string) *FieldError {
	return &FieldError{Field: field, Code: code, Message: fieldMessages[code]}
}

// ValidationError lists every problem found at once, in field order.
type ValidationError []*FieldError

func (v ValidationError) Error() string {
	parts := make([]string, len(v))
	for i, e := range v {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// For returns the problems with one field (and its sub-fields).
func (v ValidationError) For(field string) []*FieldError {
	var out []*FieldError
	for _, e := range v {
		if e.Field == field || strings.HasPrefix(e.Field, field+".") {
			out = append(out, e)
		}
	}
	return out
}

var fieldOrder = []string{"email", "auth", "incoming", "outgoing"}

func (v ValidationError) sort() {
	rank := func(f string) int {
		for i, p := range fieldOrder {
			if f == p || strings.HasPrefix(f, p+".") {
				return i
			}
		}
		return len(fieldOrder)
	}
	sort.SliceStable(v, func(i, j int) bool { return rank(v[i].Field) < rank(v[j].Field) })
}
