package latency

import (
	"net"
	"syscall"
)

// quickAck acknowledges at once what arrives on c (Linux). The proxy
// stands for the client's end towards the server; left to the kernel, its
// delayed ACKs (up to 40 ms) would add a delay of the proxy's own to every
// server that writes twice in a row with Nagle's algorithm on. It is set
// before every read, as the flag does not stick.
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
