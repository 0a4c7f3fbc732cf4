package verify

import (
	"net"
	"syscall"
)

// quickAck asks Linux to acknowledge what arrives on c at once instead of
// up to 40 ms later. A server that writes its TLS session ticket and its
// next reply separately, with Nagle's algorithm on (Postfix after every TLS
// 1.3 handshake), holds the reply until that acknowledgement: on a fast link
// the delayed ACK was most of SMTP's time. The flag does not stick, so it is
// set before every read.
func quickAck(c net.Conn) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
