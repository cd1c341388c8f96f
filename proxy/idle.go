package proxy

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// idleConn closes its connection after timeout without a completed read or
// write. goproxy sets no deadlines on hijacked (MITM, tunnel) connections,
// so this is what bounds them. A timer checks activity instead of a
// deadline per operation: net/http sets and clears read deadlines on the
// same connection to abort its background read, and per-read deadlines
// would race with that.
type idleConn struct {
	net.Conn
	timeout time.Duration
	born    time.Time
	last    atomic.Int64 // nanoseconds since born (monotonic) of the last activity

	timerMu sync.Mutex // guards timer: it can fire before AfterFunc has returned
	timer   *time.Timer

	// active counts exchanges in flight on this client connection; during
	// Shutdown a connection with none is closed.
	active atomic.Int64

	closeOnce sync.Once
	closeErr  error
	onClose   func(*idleConn)

	hookMu     sync.Mutex
	afterClose func() // set once the connection is hijacked for MITM
}

// setAfterClose registers fn to run once the connection is closed.
func (c *idleConn) setAfterClose(fn func()) {
	c.hookMu.Lock()
	c.afterClose = fn
	c.hookMu.Unlock()
}

func newIdleConn(c net.Conn, timeout time.Duration, onClose func(*idleConn)) *idleConn {
	ic := &idleConn{Conn: c, timeout: timeout, born: time.Now(), onClose: onClose}
	ic.timerMu.Lock()
	ic.timer = time.AfterFunc(timeout, ic.check)
	ic.timerMu.Unlock()
	return ic
}

func (c *idleConn) touch() { c.last.Store(int64(time.Since(c.born))) }

func (c *idleConn) idleFor() time.Duration {
	return time.Since(c.born) - time.Duration(c.last.Load())
}

func (c *idleConn) check() {
	if c.active.Load() > 0 {
		// An exchange waiting on its upstream is not idle; ResponseTimeout
		// bounds that wait.
		c.touch()
	}
	idle := c.idleFor()
	if idle >= c.timeout {
		c.Close()
		return
	}
	c.timerMu.Lock()
	c.timer.Reset(c.timeout - idle)
	c.timerMu.Unlock()
}

func (c *idleConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.touch()
	}
	return n, err
}

func (c *idleConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.touch()
	}
	return n, err
}

func (c *idleConn) Close() error {
	c.closeOnce.Do(func() {
		c.timerMu.Lock()
		c.timer.Stop()
		c.timerMu.Unlock()
		c.closeErr = c.Conn.Close()
		if c.onClose != nil {
			c.onClose(c)
		}
		c.hookMu.Lock()
		after := c.afterClose
		c.hookMu.Unlock()
		if after != nil {
			after()
		}
	})
	return c.closeErr
}

// trackingListener wraps every accepted connection in an idleConn and
// registers it with the proxy, so Shutdown can reach hijacked connections
// that net/http no longer tracks.
type trackingListener struct {
	net.Listener
	p *Proxy
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	ic := newIdleConn(c, l.p.idleTimeout(), l.p.forgetConn)
	l.p.trackConn(ic)
	return ic, nil
}
