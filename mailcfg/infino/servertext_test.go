package infino

import (
	"strings"
	"testing"
)

// Field errors from the server reach a terminal and the window: escape
// sequences and other control characters must not pass through.
func TestFieldErrorsAreSanitized(t *testing.T) {
	b := errorBody{Errors: []fieldError{{
		Field:   "incoming.host\x1b[2J",
		Code:    "bad\x07",
		Message: "zły host\x1b]0;pwned\x07\r\n" + strings.Repeat("x", 2000),
	}}}
	fe := b.fieldErrors()
	if len(fe) != 1 {
		t.Fatalf("got %d errors", len(fe))
	}
	for _, s := range []string{fe[0].Field, fe[0].Code, fe[0].Message.PL, fe[0].Message.EN} {
		if strings.ContainsAny(s, "\x1b\x07\r\n") {
			t.Errorf("control character passed through: %q", s)
		}
	}
	if !strings.HasPrefix(fe[0].Message.PL, "zły host") || len([]rune(fe[0].Message.PL)) > 501 {
		t.Errorf("message not kept or not bounded: %d runes", len([]rune(fe[0].Message.PL)))
	}
	if fe[0].Field != "incoming.host [2J" {
		t.Errorf("field = %q", fe[0].Field)
	}
}
