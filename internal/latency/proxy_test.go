package latency

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// An echo server behind the proxy: what goes in comes back unchanged and in
// order, each answered exchange is one turn, and a greeting nobody asked for
// is none.
func TestProxyForwardsAndCountsTurns(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = c.Write([]byte("hello\n"))
				br := bufio.NewReader(c)
				for {
					l, err := br.ReadString('\n')
					if err != nil {
						return
					}
					_, _ = c.Write([]byte(strings.ToUpper(l)))
				}
			}()
		}
	}()
	p, err := Start(ln.Addr().String(), time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	if l, _ := br.ReadString('\n'); l != "hello\n" {
		t.Fatalf("greeting %q", l)
	}
	for _, w := range []string{"one", "two", "three"} {
		if _, err := c.Write([]byte(w + "\n")); err != nil {
			t.Fatal(err)
		}
		if l, _ := br.ReadString('\n'); l != strings.ToUpper(w)+"\n" {
			t.Fatalf("echo of %q: %q", w, l)
		}
	}
	if n := p.TakeTurns(); n != 3 {
		t.Errorf("%d turns, want 3", n)
	}
	if n := p.TakeTurns(); n != 0 {
		t.Errorf("turns not reset: %d", n)
	}
}

// Close ends forwarded connections too.
func TestProxyCloseEndsConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			_, _ = c.Write([]byte("hi\n"))
			_, _ = c.Read(make([]byte, 1)) // until the proxy hangs up
		}
	}()
	p, err := Start(ln.Addr().String(), 0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("connection still open after Close")
	}
}
