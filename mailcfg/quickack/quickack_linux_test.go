package quickack

import (
	"net"
	"syscall"
	"testing"
)

// On a real loopback TCP connection the flag is on after Set; a connection
// without a socket (net.Pipe) is left alone.
func TestSet(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if s, ok := <-accepted; ok {
		defer s.Close()
	}

	Set(c)
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := rc.Control(func(fd uintptr) {
		v, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK)
	}); err != nil {
		t.Fatal(err)
	}
	if gerr != nil {
		t.Fatal(gerr)
	}
	if v != 1 {
		t.Errorf("TCP_QUICKACK = %d after Set, want 1", v)
	}

	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	Set(a)
}
