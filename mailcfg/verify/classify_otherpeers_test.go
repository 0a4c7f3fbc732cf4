package verify

import (
	"fmt"
	"net/textproto"
	"testing"

	"github.com/emersion/go-imap/v2"

	"infino.legal/mailbox/mailcfg"
)

// What Cyrus IMAP 3.6 and Exim 4.96 really answer to a wrong password
// (testdata/otherpeers; TestOtherServersWording in internal/mailpeers pins the
// wording): no IMAP response code, no SMTP enhanced code. Each is still a
// refused password.
func TestClassifyOtherServersWrongPassword(t *testing.T) {
	rejected := func(err error) error { return fmt.Errorf("%w: %w", ErrAuthRejected, err) }
	for _, c := range []struct {
		name, side, detail string
		err                error
	}{
		{"cyrus imap LOGIN", "incoming", "IMAP NO",
			rejected(&imap.Error{Type: imap.StatusResponseTypeNo, Text: "Login failed: authentication failure"})},
		{"cyrus pop3 PASS", "incoming", "POP3 PASS -ERR [AUTH]",
			rejected(&POP3Error{Command: "PASS", Code: "AUTH", Text: "Invalid login"})},
		{"exim AUTH PLAIN", "outgoing", "SMTP 535",
			rejected(&textproto.Error{Code: 535, Msg: "Incorrect authentication data"})},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := Classify(c.err, c.side, nil)
			if f.Kind != mailcfg.KindAuthFailed || f.Field != "password" || f.Detail != c.detail {
				t.Errorf("got %s, field %q, detail %q; want auth_failed, password, %q", f.Kind, f.Field, f.Detail, c.detail)
			}
		})
	}
}
