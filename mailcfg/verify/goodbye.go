package verify

import (
	"sync"
	"time"
)

// goodbyeTimeout bounds how long a finished side waits, in the background,
// for the server to answer its goodbye (QUIT, LOGOUT) before it closes the
// connection itself.
const goodbyeTimeout = 2 * time.Second

// goodbyes are the sign-offs still waiting for an answer; tests wait for
// them so no goroutine outlives the test.
var goodbyes sync.WaitGroup

// farewell is called once the side's result is known and the goodbye has
// been written: the answer is not waited for. finish reads it and closes the
// connection; it runs in the background, bounded by goodbyeTimeout, and the
// session no longer closes the connection itself. A process that exits at
// once (the command line) still said goodbye: the bytes were written before
// farewell, and the kernel delivers them.
func (s *session) farewell(finish func()) {
	s.mu.Lock()
	c := s.conn
	s.handedOff = c != nil
	s.mu.Unlock()
	if c == nil {
		finish()
		return
	}
	_ = c.SetDeadline(time.Now().Add(goodbyeTimeout))
	goodbyes.Go(func() {
		finish()
		_ = c.Close()
	})
}
