package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2"

	"onpath/flow"
)

// A MITM'd connection is served like a plain one: net/http's server reads
// its requests (HTTP/1.1 through Proxy.inner, HTTP/2 through
// engine.h2), and each request goes through goproxy's request handling
// with onpath's hooks, as plain requests do. net/http answers what it
// cannot read (400, 431, 501) and bounds heads; the answer is recognised
// and recorded as on plain connections. Each response goes out in one
// write where it fits, instead of one for the head and one per body read.

// tunnel is what the requests of one MITM'd connection share.
type tunnel struct {
	p      *Proxy
	cc     *clientConn
	scheme string // https, or http for plain text sent inside the CONNECT
}

type tunnelKey struct{}

// authority is the CONNECT target as a URL names it: without the port
// when it is the scheme's default.
func (t *tunnel) authority() string {
	if t.scheme == "https" {
		return strings.TrimSuffix(t.cc.target, ":443")
	}
	return strings.TrimSuffix(t.cc.target, ":80")
}

// hijack takes the client connection over from net/http. Bytes the client
// sent right behind the CONNECT head (read ahead by net/http) come first;
// ahead is how many.
func hijack(w http.ResponseWriter) (c net.Conn, ahead int, err error) {
	c, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, 0, err
	}
	ahead = rw.Reader.Buffered()
	if ahead == 0 {
		return c, 0, nil
	}
	buffered, _ := rw.Reader.Peek(ahead)
	return &prefixConn{Conn: c, prefix: append([]byte(nil), buffered...)}, ahead, nil
}

// prefixConn reads prefix before the connection.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(b []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(b, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// peekPrefix reads until the connection's first bytes either start with
// want or differ from it, and returns all it holds (a CONNECT's read-ahead
// may hold more than want) with a connection that reads them again.
func peekPrefix(c net.Conn, want string) (string, net.Conn, error) {
	pc, ok := c.(*prefixConn)
	if !ok {
		pc = &prefixConn{Conn: c}
	}
	for {
		got := string(pc.prefix)
		if len(got) >= len(want) || (len(got) > 0 && want[:len(got)] != got) {
			return got, pc, nil
		}
		buf := make([]byte, len(want)-len(got))
		n, err := pc.Conn.Read(buf)
		pc.prefix = append(pc.prefix, buf[:n]...)
		if err != nil {
			return string(pc.prefix), pc, err
		}
	}
}

// clientHelloStart is the first byte of a TLS handshake record: what a
// ClientHello starts with.
const clientHelloStart = "\x16"

// intercept answers the CONNECT and serves what the client sends in the
// tunnel: TLS with a leaf for its SNI (or the CONNECT host), or plain text.
func (p *Proxy) intercept(cc *clientConn, client net.Conn) {
	if _, err := io.WriteString(client, "HTTP/1.1 200 OK\r\n\r\n"); err != nil {
		client.Close()
		return
	}
	first, conn, err := peekPrefix(client, clientHelloStart)
	if err != nil || first == "" {
		conn.Close()
		return
	}
	t := &tunnel{p: p, cc: cc, scheme: "http"}
	if strings.HasPrefix(first, clientHelloStart) {
		tc := tls.Server(conn, p.clientTLSConfig(cc.target, cc))
		if err := tc.Handshake(); err != nil {
			cc.recordHandshakeError(err.Error())
			tc.Close()
			return
		}
		t.scheme = "https"
		if tc.ConnectionState().NegotiatedProtocol == "h2" {
			p.serveH2(tc, t)
			return
		}
		conn = tc
	} else if got, pc, err := peekPrefix(conn, http2.ClientPreface); err == nil && strings.HasPrefix(got, http2.ClientPreface) {
		// HTTP/2 with prior knowledge (h2c) inside the tunnel.
		if cc.conn != nil {
			cc.conn.disableHeadClock()
		}
		p.serveH2(pc, t)
		return
	} else {
		conn = pc
	}
	if cc.conn != nil {
		cc.conn.scanDecrypted()
	}
	if !p.inner.push(&decryptedConn{Conn: conn, t: t}) {
		conn.Close() // shutting down
	}
}

func (p *Proxy) serveH2(conn net.Conn, t *tunnel) {
	defer conn.Close()
	p.rt.h2.ServeConn(conn, &http2.ServeConnOpts{
		Context:    context.WithValue(context.Background(), tunnelKey{}, t),
		Handler:    http.HandlerFunc(p.serveDecrypted),
		BaseConfig: p.inner.srv,
	})
}

// serveDecrypted handles one request read from a MITM'd connection.
func (p *Proxy) serveDecrypted(w http.ResponseWriter, r *http.Request) {
	t, _ := r.Context().Value(tunnelKey{}).(*tunnel)
	if t == nil {
		http.Error(w, "onpath: internal error: a decrypted request without its tunnel", http.StatusInternalServerError)
		return
	}
	if r.Method == http.MethodConnect {
		p.refuseNestedConnect(w, r, t)
		return
	}
	if !r.URL.IsAbs() {
		// Origin form (/path): the host is the request's, else the CONNECT's.
		r.URL.Host = r.Host
		if r.URL.Host == "" {
			r.URL.Host = t.authority()
		}
	}
	r.URL.Scheme = t.scheme
	r.RemoteAddr = t.cc.clientAddr
	p.serveRequest(w, r)
}

// refuseNestedConnect answers a CONNECT sent inside a tunnel, and records
// it: onpath is not the proxy of the server at the other end.
func (p *Proxy) refuseNestedConnect(w http.ResponseWriter, r *http.Request, t *tunnel) {
	const reason = "a CONNECT inside a CONNECT tunnel is not supported; send it to the proxy itself"
	ex := p.startExchange(flow.KindHTTP, t.cc.conn, connectRecord(r, r.Host), flow.Conn{Addr: t.cc.clientAddr, TLS: t.cc.tlsInfo()})
	if ex != nil {
		ex.fail(flow.PhaseProxy, reason)
		defer ex.finish()
	}
	http.Error(w, "onpath: "+reason, http.StatusMethodNotAllowed)
}

// decryptedConn is a MITM'd connection as the HTTP/1.1 server reads it:
// the client's plain text. Its reads feed the head scanner of the client
// connection under it, and its writes are checked for net/http's refusals,
// as the raw connection's are on plain connections.
type decryptedConn struct {
	net.Conn
	t *tunnel
}

func (d *decryptedConn) Read(b []byte) (int, error) {
	n, err := d.Conn.Read(b)
	if n > 0 && d.t.cc.conn != nil {
		d.t.cc.conn.scanHead(b[:n])
	}
	return n, err
}

func (d *decryptedConn) Write(b []byte) (int, error) {
	if raw := d.t.cc.conn; raw != nil {
		if line, status, text, ok := raw.refusal(b); ok {
			// The head was answered: the head clock must not also close
			// the connection (and record it) while net/http lingers.
			raw.headDone()
			// Plain text that is no request at all is recorded when the
			// tunnel closes, as bytes that are neither TLS nor HTTP.
			if d.t.scheme == "https" || d.t.cc.sawRequest.Load() || isRequestLine(line) {
				d.t.cc.sawRequest.Store(true)
				d.t.p.recordRefusedRequest(d.t.cc.clientAddr, d.t, line, status, text)
			}
		}
	}
	return d.Conn.Write(b)
}

// isRequestLine tells a request line (METHOD TARGET HTTP/x.y) from other
// bytes.
func isRequestLine(line []byte) bool {
	fields := strings.Fields(string(line))
	return len(fields) == 3 && strings.HasPrefix(fields[2], "HTTP/")
}

// innerServer is the HTTP/1.1 server of MITM'd connections, fed by
// intercept rather than by a listener.
type innerServer struct {
	srv   *http.Server
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	addr  net.Addr
}

func (p *Proxy) newInnerServer(addr net.Addr) *innerServer {
	s := &innerServer{conns: make(chan net.Conn), done: make(chan struct{}), addr: addr}
	s.srv = p.newServer(p.serveDecrypted, func(ctx context.Context, c net.Conn) context.Context {
		if d, ok := c.(*decryptedConn); ok {
			return context.WithValue(ctx, tunnelKey{}, d.t)
		}
		return ctx
	})
	go s.srv.Serve(s)
	return s
}

// push hands a connection to the server; false once it is closed.
func (s *innerServer) push(c net.Conn) bool {
	select {
	case s.conns <- c:
		return true
	case <-s.done:
		return false
	}
}

func (s *innerServer) Accept() (net.Conn, error) {
	select {
	case c := <-s.conns:
		return c, nil
	case <-s.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting; connections already served are closed by the
// proxy's own connection tracking.
func (s *innerServer) Close() error {
	s.once.Do(func() { close(s.done) })
	return nil
}

func (s *innerServer) Addr() net.Addr { return s.addr }

// flushDelay is how long written bytes may wait in net/http's buffer: a
// response that trickles in (a stream, a long poll, a slow download)
// reaches the client at most this late, while a response whose body is
// all there goes out in one write when the handler returns. Flushing
// every write instead costs a third more CPU per small request.
const flushDelay = 2 * time.Millisecond

// streamingWriter flushes what was written, head included, flushDelay
// after the first write that is not yet sent. The handler's header is
// kept apart and copied to net/http's under mu, so that the timer's flush
// never races with the handler setting trailers. finish must be called
// before the handler returns.
type streamingWriter struct {
	http.ResponseWriter
	rc     *http.ResponseController
	header http.Header

	mu          sync.Mutex
	timer       *time.Timer
	wroteHeader bool
	pending     bool // written and not flushed
	done        bool // the handler returned or hijacked: net/http owns the rest
}

func newStreamingWriter(w http.ResponseWriter) *streamingWriter {
	return &streamingWriter{ResponseWriter: w, rc: http.NewResponseController(w), header: make(http.Header)}
}

func (s *streamingWriter) Header() http.Header { return s.header }

// copyHeader gives net/http the handler's header; mu is held.
func (s *streamingWriter) copyHeader() {
	dst := s.ResponseWriter.Header()
	for k, v := range s.header {
		dst[k] = v
	}
	// net/http adds a sniffed Content-Type and a Date to a response that
	// has none; the client must get the upstream's headers as they were.
	// A name present without values suppresses either and is not sent.
	for _, name := range []string{"Content-Type", "Date"} {
		if _, ok := dst[name]; !ok {
			dst[name] = nil
		}
	}
}

// wrote arms the timer; mu is held.
func (s *streamingWriter) wrote() {
	if s.pending || s.done {
		return
	}
	s.pending = true
	if s.timer == nil {
		s.timer = time.AfterFunc(flushDelay, s.flushPending)
	} else {
		s.timer.Reset(flushDelay)
	}
}

func (s *streamingWriter) flushPending() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending && !s.done {
		s.pending = false
		s.rc.Flush()
	}
}

func (s *streamingWriter) WriteHeader(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writeHeader(status)
}

// writeHeader is WriteHeader with mu held.
func (s *streamingWriter) writeHeader(status int) {
	if s.done {
		return
	}
	s.copyHeader()
	s.ResponseWriter.WriteHeader(status)
	if status >= 200 {
		s.wroteHeader = true
		s.wrote()
	}
}

func (s *streamingWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.wroteHeader {
		s.writeHeader(http.StatusOK)
	}
	n, err := s.ResponseWriter.Write(b)
	s.wrote()
	return n, err
}

// copyBuffers saves io.Copy a 32 KiB buffer per response: without a
// ReadFrom of its own the wrapper would hide net/http's, which pools them.
var copyBuffers = sync.Pool{New: func() any { return new([32 << 10]byte) }}

func (s *streamingWriter) ReadFrom(r io.Reader) (int64, error) {
	buf := copyBuffers.Get().(*[32 << 10]byte)
	defer copyBuffers.Put(buf)
	return io.CopyBuffer(writerOnly{s}, r, buf[:])
}

// writerOnly hides ReadFrom from io.CopyBuffer, which would call it again.
type writerOnly struct{ io.Writer }

func (s *streamingWriter) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.wroteHeader {
		s.writeHeader(http.StatusOK)
	}
	s.pending = false
	s.rc.Flush()
}

func (s *streamingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stop()
	return s.rc.Hijack()
}

// finish hands the rest to net/http: the header set since WriteHeader
// (trailers) and what is still buffered.
func (s *streamingWriter) finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done {
		s.stop()
		s.copyHeader()
	}
}

// stop ends the timer's flushes; mu is held.
func (s *streamingWriter) stop() {
	s.done = true
	if s.timer != nil {
		s.timer.Stop()
	}
}

func (s *streamingWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
