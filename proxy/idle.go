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

	// The head clock bounds how long a client may take to send a request
	// head (and, under MITM, the TLS handshake before it) and how many
	// bytes it may spend on it: it starts at the first byte read while no
	// exchange is in flight and stops when the head is complete (headDone).
	// A slow client (slowloris) is closed at headTimeout; 0 disables it
	// (upstream connections, HTTP/2 clients).
	headTimeout  time.Duration
	maxHeadBytes int64
	headStart    atomic.Int64 // 1 + nanoseconds since born when the clock started; 0 = stopped
	headBytes    atomic.Int64
	noHeadClock  atomic.Bool
	bytesRead    atomic.Int64
	headCut      atomic.Int32 // why the head clock closed the connection: headTooSlow, headTooLarge

	// scanMu guards scan: Read feeds it, headDone (another goroutine)
	// resets it. nil: not scanned (upstream connections, tunnels).
	scanMu    sync.Mutex
	scan      *headScanner
	decrypted atomic.Bool // MITM: the scanner is fed the plain text (decryptedConn), not the raw bytes
	ambiguous atomic.Bool // the last scanned head had Content-Length and Transfer-Encoding

	// onRefused, when set, hears of a request net/http answered itself
	// because it could not read it: the request line and the answer.
	// Under MITM the decryptedConn hears of them instead.
	onRefused func(c *idleConn, requestLine []byte, status int, text string)
}

// Reasons the head clock closed a connection.
const (
	headTooSlow  = 1
	headTooLarge = 2
)

// limitHeads enables the head clock and the head scanner.
func (c *idleConn) limitHeads(timeout time.Duration, maxBytes int64) {
	c.headTimeout, c.maxHeadBytes = timeout, maxBytes
	c.scan = &headScanner{limit: int(maxBytes)}
}

// takeAmbiguousFraming reports, once, that the head just read had both
// Content-Length and Transfer-Encoding.
func (c *idleConn) takeAmbiguousFraming() bool { return c.ambiguous.Swap(false) }

// headDone stops the head clock: a request head (or a CONNECT) was read.
func (c *idleConn) headDone() {
	c.headStart.Store(0)
	c.headBytes.Store(0)
	c.ambiguous.Store(false) // taken by onRequest already, if it ran
	c.scanMu.Lock()
	if c.scan != nil {
		c.scan.reset()
	}
	c.scanMu.Unlock()
}

// startHead starts the head clock now, before any byte: after a CONNECT
// the client owes its TLS handshake and first request within the header
// timeout, and bytes it sent with the CONNECT were already read.
func (c *idleConn) startHead() {
	c.scanMu.Lock()
	c.scan = nil // what follows a CONNECT is TLS or tunnelled bytes
	c.scanMu.Unlock()
	c.ambiguous.Store(false)
	if c.headTimeout <= 0 || c.noHeadClock.Load() {
		return
	}
	c.headBytes.Store(0)
	c.headStart.Store(1 + int64(time.Since(c.born)))
	c.timerMu.Lock()
	c.timer.Reset(min(c.headTimeout, c.timeout))
	c.timerMu.Unlock()
}

// disableHeadClock is for connections whose requests are framed by
// another layer (HTTP/2), where bytes flow while no exchange is active.
func (c *idleConn) disableHeadClock() {
	c.noHeadClock.Store(true)
	c.headDone()
}

// countHead runs the head clock and the head scanner for the bytes p just
// read; it reports false when the head has grown past maxHeadBytes.
func (c *idleConn) countHead(p []byte) bool {
	n := len(p)
	if c.headTimeout <= 0 || c.noHeadClock.Load() || c.active.Load() > 0 {
		return true
	}
	if !c.decrypted.Load() {
		c.scanHead(p)
	}
	if c.headStart.CompareAndSwap(0, 1+int64(time.Since(c.born))) {
		c.timerMu.Lock()
		c.timer.Reset(min(c.headTimeout, c.timeout))
		c.timerMu.Unlock()
	}
	return c.headBytes.Add(int64(n)) <= c.maxHeadBytes
}

// scanHead feeds request bytes read while no exchange is in flight to the
// head scanner.
func (c *idleConn) scanHead(p []byte) {
	if c.headTimeout <= 0 || c.noHeadClock.Load() || c.active.Load() > 0 {
		return
	}
	c.scanMu.Lock()
	if c.scan != nil && c.scan.feed(p) {
		c.ambiguous.Store(true)
	}
	c.scanMu.Unlock()
}

// scanDecrypted scans the heads of a MITM'd HTTP/1.1 connection: its
// decryptedConn feeds the scanner.
func (c *idleConn) scanDecrypted() {
	if c.headTimeout <= 0 {
		return
	}
	c.decrypted.Store(true)
	c.scanMu.Lock()
	c.scan = &headScanner{limit: int(c.maxHeadBytes)}
	c.scanMu.Unlock()
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
	next := c.timeout - idle
	if started := c.headStart.Load(); started != 0 && c.active.Load() == 0 && !c.noHeadClock.Load() {
		inHead := time.Since(c.born) - time.Duration(started-1)
		if inHead >= c.headTimeout {
			c.headCut.CompareAndSwap(0, headTooSlow)
			c.Close()
			return
		}
		next = min(next, c.headTimeout-inHead)
	}
	c.timerMu.Lock()
	c.timer.Reset(next)
	c.timerMu.Unlock()
}

func (c *idleConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.touch()
		c.bytesRead.Add(int64(n))
		if !c.countHead(p[:n]) {
			c.headCut.CompareAndSwap(0, headTooLarge)
			c.Close()
		}
	}
	return n, err
}

func (c *idleConn) Write(p []byte) (int, error) {
	if c.onRefused != nil && !c.decrypted.Load() {
		if line, status, text, ok := c.refusal(p); ok {
			c.headDone() // answered: the head clock has nothing left to bound
			c.onRefused(c, line, status, text)
		}
	}
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.touch()
	}
	return n, err
}

// refusal reports whether p, written to the client, is net/http's own
// answer to a request it could not read: no exchange is in flight and
// the head scanner still holds that request's line.
func (c *idleConn) refusal(p []byte) (requestLine []byte, status int, text string, ok bool) {
	if c.active.Load() != 0 || len(p) <= 9 || p[0] != 'H' {
		return nil, 0, "", false
	}
	if status, text, ok = parseServerRefusal(p); !ok {
		return nil, 0, "", false
	}
	c.scanMu.Lock()
	defer c.scanMu.Unlock()
	if c.scan == nil {
		return nil, 0, "", false
	}
	return c.scan.line, status, text, true
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

// headSlack is what the head clock allows beyond MaxHeaderBytes: TLS
// records and the handshake under MITM, and room for net/http to answer
// 431 itself on plain connections before the clock closes them.
const headSlack = 64 << 10

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
	ic.limitHeads(l.p.headerTimeout(), int64(l.p.maxHeaderBytes())+headSlack)
	ic.onRefused = func(c *idleConn, requestLine []byte, status int, text string) {
		l.p.recordRefusedRequest(c.RemoteAddr().String(), nil, requestLine, status, text)
	}
	l.p.trackConn(ic)
	return ic, nil
}
