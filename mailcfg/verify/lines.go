package verify

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// errLineTooLong: a server line longer than the protocol allows. Reading
// stops at the bound, so a 10 MB line costs at most one buffer.
var errLineTooLong = fmt.Errorf("%w: line too long", ErrProtocol)

// readLine reads one CRLF- (or LF-) terminated line of at most max bytes
// (br's buffer must hold max) and returns it without the line ending. NUL
// bytes are refused: no text protocol here allows them.
func readLine(br *bufio.Reader, max int) (string, error) {
	b, err := br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", errLineTooLong
	case err == io.EOF && len(b) > 0:
		return "", io.ErrUnexpectedEOF
	case err != nil:
		return "", err
	}
	if len(b) > max {
		return "", errLineTooLong
	}
	b = bytes.TrimSuffix(b[:len(b)-1], []byte{'\r'})
	if bytes.IndexByte(b, 0) >= 0 {
		return "", fmt.Errorf("%w: NUL byte", ErrProtocol)
	}
	return string(b), nil
}

// safeWord keeps a server word printable for a detail: ASCII letters, digits
// and -, at most 16 of them.
func safeWord(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < 16; i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' {
			b.WriteByte(c)
		}
	}
	return b.String()
}
