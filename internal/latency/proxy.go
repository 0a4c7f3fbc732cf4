// Package latency is a TCP proxy that adds a fixed one-way delay in each
// direction, for measuring how many round trips a conversation costs on a
// slow link (the verification benchmarks and internal/tools/latencybench).
//
// The model: the TCP connection itself costs one round trip (the proxy
// waits 2×OneWay before it connects onwards and forwards anything); after
// that every chunk read from one side reaches the other OneWay later. A
// greeting the server sends unasked therefore arrives 1.5 round trips after
// the client connected, and every exchange the client starts costs one.
//
// The proxy acknowledges what it reads at once, so the only delays are the
// configured ones. A server that holds a reply behind Nagle's algorithm
// until its previous write is acknowledged (Postfix after a TLS 1.3
// handshake) costs nothing extra here; on a real link it can cost up to
// another round trip.
//
// The proxy also counts turns: a burst from the client followed by an
// answer from the server. A greeting nobody asked for is not a turn, nor is
// a goodbye the server never answers.
package latency

import (
	"net"
	"sync"
	"time"

	"infino.legal/mailbox/mailcfg/quickack"
)

// Proxy forwards connections on 127.0.0.1 to Target.
type Proxy struct {
	Target string
	OneWay time.Duration
	// Source is the local address the proxy connects from ("" any).
	Source string

	ln net.Listener
	wg sync.WaitGroup

	mu     sync.Mutex
	turns  int
	conns  map[net.Conn]struct{}
	closed bool
}

// Start listens on a free loopback port and forwards every connection to
// target with oneWay delay in each direction.
func Start(target string, oneWay time.Duration) (*Proxy, error) {
	return StartFrom("", target, oneWay)
}

// StartFrom is Start with the onward connections made from the address
// source (an IP): a server that slows down an address after failed
// sign-ins from it (Dovecot's auth penalty) then cannot mix up the
// measurement with other clients on the same machine.
func StartFrom(source, target string, oneWay time.Duration) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{Target: target, OneWay: oneWay, Source: source, ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.serve)
	return p, nil
}

// Addr is the proxy's listening address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Port is the proxy's listening port.
func (p *Proxy) Port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// Close stops listening, closes every forwarded connection and waits for
// the proxy's goroutines.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

// TakeTurns returns the turns counted since the last call and resets them.
func (p *Proxy) TakeTurns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.turns
	p.turns = 0
	return t
}

// track adds (or removes) a connection Close must close; after Close it
// closes c at once and reports false.
func (p *Proxy) track(c net.Conn, add bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case !add:
		delete(p.conns, c)
	case p.closed:
		_ = c.Close()
		return false
	default:
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.track(c, true) {
			p.wg.Go(func() { p.handle(c) })
		}
	}
}

func (p *Proxy) handle(client net.Conn) {
	defer p.track(client, false)
	defer client.Close()
	// The connection itself costs a round trip, as on a real link.
	time.Sleep(2 * p.OneWay)
	d := net.Dialer{Timeout: 10 * time.Second}
	if p.Source != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(p.Source)}
	}
	server, err := d.Dial("tcp", p.Target)
	if err != nil {
		return
	}
	if !p.track(server, true) {
		return
	}
	defer p.track(server, false)
	defer server.Close()
	var mu sync.Mutex
	clientSpoke := false
	var wg sync.WaitGroup
	wg.Go(func() {
		p.pipe(server, client, func() {
			mu.Lock()
			clientSpoke = true
			mu.Unlock()
		})
		_ = server.(*net.TCPConn).CloseWrite()
	})
	wg.Go(func() {
		p.pipe(client, server, func() {
			mu.Lock()
			if clientSpoke {
				p.mu.Lock()
				p.turns++
				p.mu.Unlock()
				clientSpoke = false
			}
			mu.Unlock()
		})
		_ = client.(*net.TCPConn).CloseWrite()
	})
	wg.Wait()
}

// pipe copies src to dst, each chunk OneWay later than it was read.
func (p *Proxy) pipe(dst, src net.Conn, onRead func()) {
	type chunk struct {
		b  []byte
		at time.Time
	}
	ch := make(chan chunk, 1024)
	go func() {
		defer close(ch)
		for {
			buf := make([]byte, 32<<10)
			// The proxy stands for the client's end towards the server;
			// left to the kernel, its delayed ACKs would add a delay of the
			// proxy's own to every server that writes twice in a row.
			quickack.Set(src)
			n, err := src.Read(buf)
			if n > 0 {
				onRead()
				ch <- chunk{buf[:n], time.Now().Add(p.OneWay)}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.b); err != nil {
			for range ch {
			}
			return
		}
	}
}
