package proxy

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elazarl/goproxy"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/net/http2"

	"onpath/flow"
)

// Defaults for the zero values of Proxy's fields.
const (
	DefaultBodyLimit       = 16 << 20
	DefaultIdleTimeout     = 2 * time.Minute
	DefaultResponseTimeout = 60 * time.Second
	DefaultDialTimeout     = 15 * time.Second
	DefaultHeaderTimeout   = 10 * time.Second
	DefaultMaxHeaderBytes  = 64 << 10
)

// ErrClosed is returned by Serve when the proxy was already shut down.
var ErrClosed = errors.New("proxy: closed")

// Proxy is an intercepting HTTP/HTTPS proxy. Set its fields, then call
// Serve; the fields must not change afterwards. The zero value proxies
// plain HTTP and passes nothing through; MITM needs Certificate.
type Proxy struct {
	// Certificate returns the leaf to present to the client for host: the
	// SNI name, else the CONNECT host (an IP or a DNS name). Required for
	// MITM; without it CONNECT requests get a 502.
	Certificate func(host string) (*tls.Certificate, error)

	// CACertPEM and CACertDER are served by the magic page
	// http://onpath.invalid/ (/ca.pem, /ca.der). Empty: the page says the
	// certificate is not available.
	CACertPEM, CACertDER []byte

	// UpstreamRoots verifies upstream servers. nil: the system roots.
	UpstreamRoots *x509.CertPool

	// Insecure sends requests to upstreams whose certificate failed
	// verification. The verification still runs and its error is recorded
	// (TLSInfo.Verified=false, TLSInfo.VerifyError).
	Insecure bool

	// Passthrough lists host globs (path.Match syntax, e.g. "*.apple.com")
	// whose CONNECT tunnels are not decrypted; they are recorded as
	// flow.KindTunnel flows (host, port, bytes each way, duration).
	Passthrough []string

	// BodyLimit caps the captured bytes of each body; 0 means 16 MiB. The
	// client always gets the whole body; the flow keeps the first BodyLimit
	// bytes, the true size and Truncated.
	BodyLimit int64

	// IdleTimeout closes client connections and tunnels idle that long;
	// 0 means 2 minutes.
	IdleTimeout time.Duration

	// ResponseTimeout bounds the wait for an upstream's response headers;
	// the client then gets a 504. 0 means 60 seconds.
	ResponseTimeout time.Duration

	// DialTimeout bounds DNS, connect and the upstream TLS handshake each;
	// 0 means 15 seconds.
	DialTimeout time.Duration

	// HeaderTimeout bounds how long a client may take to send a request's
	// headers once it started (under MITM: the TLS handshake and the first
	// request's headers); a slower client (slowloris) is disconnected.
	// 0 means 10 seconds. Idle keep-alive connections are bounded by
	// IdleTimeout instead.
	HeaderTimeout time.Duration

	// MaxHeaderBytes caps a request's line and headers; 0 means 64 KiB.
	// Requests over the limit get 431 Request Header Fields Too Large.
	MaxHeaderBytes int

	// ProxyAuth, when set, requires every proxied request and CONNECT to
	// carry Proxy-Authorization: Basic with these credentials. Others get
	// 407 Proxy Authentication Required and are recorded as flows with
	// error phase proxy. Requests inside an authenticated CONNECT tunnel
	// are not asked again. nil: no authentication (loopback use).
	ProxyAuth *BasicAuth

	// NewID returns the id of each new flow. nil: a counter from 1.
	NewID func() flow.ID

	// OnStart is called when a flow starts (request headers read) with a
	// copy the callee may keep (Timings.End is zero). nil: ignored. It runs
	// on the request's goroutine and must not block long.
	OnStart func(f *flow.Flow)

	// OnFinish is called exactly once per flow when it ends, successfully
	// or not, after the client got the last byte or the error. The callee
	// owns f. It may block (recording slows traffic rather than drop a
	// flow); the proxy holds no lock while calling it. nil: ignored.
	OnFinish func(f *flow.Flow)

	// Now is the clock for flow timings. nil: time.Now.
	Now func() time.Time

	// Logger receives diagnostics. nil: silent.
	Logger *slog.Logger

	initOnce sync.Once
	initErr  error
	rt       *engine

	mu        sync.Mutex
	srv       *http.Server
	inner     *innerServer // MITM'd HTTP/1.1 connections
	conns     map[*idleConn]struct{}
	exchanges map[*exchange]struct{}
	draining  bool          // Shutdown started: close connections once idle
	closed    bool          // Shutdown decided: no new exchanges
	done      chan struct{} // closed when Shutdown has finished
}

// engine is what Proxy builds once from its fields.
type engine struct {
	goproxy     *goproxy.ProxyHttpServer
	transport   *http.Transport
	dialer      *net.Dialer
	verifyCache *lru.Cache[string, string] // server name + leaf DER -> verify error ("" = verified)
	chainCache  *lru.Cache[*x509.Certificate, []flow.Certificate]
	nextID      atomic.Uint64
	log         *slog.Logger
	h2          *http2.Server // serves MITM'd connections that chose HTTP/2
	ticketKeys  [][32]byte    // the client leg's TLS session tickets, random per process
	authDigest  [32]byte      // credentialDigest of ProxyAuth
	self        atomic.Pointer[selfAddrs]
}

// positiveOr is v when set (positive), else the documented default d.
func positiveOr[T int | int64 | time.Duration](v, d T) T {
	if v > 0 {
		return v
	}
	return d
}

func (p *Proxy) bodyLimit() int64 { return positiveOr(p.BodyLimit, DefaultBodyLimit) }

func (p *Proxy) idleTimeout() time.Duration { return positiveOr(p.IdleTimeout, DefaultIdleTimeout) }

func (p *Proxy) responseTimeout() time.Duration {
	return positiveOr(p.ResponseTimeout, DefaultResponseTimeout)
}

func (p *Proxy) dialTimeout() time.Duration { return positiveOr(p.DialTimeout, DefaultDialTimeout) }

func (p *Proxy) headerTimeout() time.Duration {
	return positiveOr(p.HeaderTimeout, DefaultHeaderTimeout)
}

func (p *Proxy) maxHeaderBytes() int { return positiveOr(p.MaxHeaderBytes, DefaultMaxHeaderBytes) }

func (p *Proxy) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Proxy) newID() flow.ID {
	if p.NewID != nil {
		return p.NewID()
	}
	return flow.ID(p.rt.nextID.Add(1))
}

func (p *Proxy) logger() *slog.Logger { return p.rt.log }

// init builds the runtime once; Serve and Replay both need it.
func (p *Proxy) init() error {
	p.initOnce.Do(func() {
		for _, pattern := range p.Passthrough {
			if _, err := path.Match(pattern, "x"); err != nil {
				p.initErr = fmt.Errorf("proxy: passthrough pattern %q: %w", pattern, err)
				return
			}
		}
		log := p.Logger
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		cache, err := lru.New[string, string](1024)
		if err != nil {
			p.initErr = fmt.Errorf("proxy: verify cache: %w", err)
			return
		}
		chains, err := lru.New[*x509.Certificate, []flow.Certificate](256)
		if err != nil {
			p.initErr = fmt.Errorf("proxy: chain cache: %w", err)
			return
		}
		rt := &engine{verifyCache: cache, chainCache: chains, log: log}
		if p.ProxyAuth != nil {
			rt.authDigest = credentialDigest(p.ProxyAuth.User, p.ProxyAuth.Password)
		}
		rt.dialer = &net.Dialer{Timeout: p.dialTimeout(), KeepAlive: 30 * time.Second}
		rt.transport = p.newTransport(rt)
		rt.goproxy = p.newGoproxy(rt)
		rt.h2 = &http2.Server{}
		rt.ticketKeys = make([][32]byte, 1)
		if _, err := rand.Read(rt.ticketKeys[0][:]); err != nil {
			p.initErr = fmt.Errorf("proxy: session ticket key: %w", err)
			return
		}
		p.rt = rt
		p.mu.Lock()
		p.conns = make(map[*idleConn]struct{})
		p.exchanges = make(map[*exchange]struct{})
		p.done = make(chan struct{})
		p.mu.Unlock()
	})
	return p.initErr
}

// goproxyLogger sends goproxy's printf-style messages to slog at debug
// level.
type goproxyLogger struct{ log *slog.Logger }

func (l goproxyLogger) Printf(format string, v ...any) {
	l.log.Debug(strings.TrimSpace(fmt.Sprintf(format, v...)), "component", "goproxy")
}

func (p *Proxy) newGoproxy(rt *engine) *goproxy.ProxyHttpServer {
	gp := goproxy.NewProxyHttpServer()
	gp.Logger = goproxyLogger{log: rt.log}
	gp.Verbose = false
	gp.Tr = rt.transport
	// NewProxyHttpServer dials CONNECT targets through $HTTPS_PROXY; onpath
	// dials them itself (tunnel.go).
	gp.ConnectDial = nil
	// The client receives exactly what the server sent: no re-encoding.
	gp.KeepAcceptEncoding = true
	gp.AllowHTTP2 = true
	gp.NonproxyHandler = http.HandlerFunc(p.serveMagicPage)
	// serveHTTP answers CONNECTs itself; none reaches goproxy, whose
	// default would intercept with its own CA.
	gp.OnRequest().HandleConnectFunc(func(host string, _ *goproxy.ProxyCtx) (*goproxy.ConnectAction, string) {
		return goproxy.RejectConnect, host
	})
	gp.OnRequest().DoFunc(p.onRequest)
	return gp
}

// Serve accepts proxy connections on l until Shutdown. It returns nil once
// Shutdown has finished.
func (p *Proxy) Serve(l net.Listener) error {
	if err := p.init(); err != nil {
		return err
	}
	p.mu.Lock()
	if p.draining || p.srv != nil {
		p.mu.Unlock()
		return ErrClosed
	}
	p.rt.self.Store(listenSelf(l.Addr()))
	p.inner = p.newInnerServer(l.Addr())
	p.srv = p.newServer(p.serveHTTP, func(ctx context.Context, c net.Conn) context.Context {
		if ic, ok := c.(*idleConn); ok {
			return context.WithValue(ctx, clientConnKey{}, ic)
		}
		return ctx
	})
	srv := p.srv
	p.mu.Unlock()

	err := srv.Serve(&trackingListener{Listener: l, p: p})
	if errors.Is(err, http.ErrServerClosed) {
		<-p.done
		return nil
	}
	return fmt.Errorf("proxy: serve %s: %w", l.Addr(), err)
}

// newServer is an HTTP server with the proxy's bounds on request heads and
// idle connections: the one clients connect to, and the one that reads
// decrypted requests.
func (p *Proxy) newServer(handler http.HandlerFunc, connContext func(context.Context, net.Conn) context.Context) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: p.headerTimeout(),
		MaxHeaderBytes:    p.maxHeaderBytes(),
		IdleTimeout:       p.idleTimeout(),
		ErrorLog:          p.errorLog(),
		ConnContext:       connContext,
	}
}

func (p *Proxy) errorLog() *log.Logger {
	if p.Logger == nil {
		return log.New(io.Discard, "", 0)
	}
	return slog.NewLogLogger(p.Logger.Handler(), slog.LevelDebug)
}

type clientConnKey struct{}

// serveHTTP answers a CONNECT itself and hands other requests to
// serveRequest.
func (p *Proxy) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		p.serveConnect(w, r)
		return
	}
	p.serveRequest(w, r)
}

// serveRequest is goproxy behind a recover: a panic answers 502 (when the
// response is not yet written) and is logged, never crashing the process.
func (p *Proxy) serveRequest(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				return
			}
			p.logger().Error("proxy: panic while handling a request", "panic", v, "url", r.URL.String())
			http.Error(w, "onpath: internal error", http.StatusBadGateway)
		}
	}()
	sw := newStreamingWriter(w)
	defer sw.finish()
	p.rt.goproxy.ServeHTTP(sw, r)
}

func (p *Proxy) trackConn(c *idleConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		go c.Close()
		return
	}
	p.conns[c] = struct{}{}
}

func (p *Proxy) forgetConn(c *idleConn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// Shutdown stops accepting connections and lets in-flight flows finish
// until ctx is done; then it closes their connections and cancels their
// upstream requests (their flows end with a client-abort or response
// error). Every OnFinish call has returned when Shutdown returns.
func (p *Proxy) Shutdown(ctx context.Context) error {
	if err := p.init(); err != nil {
		return err
	}
	p.mu.Lock()
	if p.draining {
		p.mu.Unlock()
		<-p.done
		return nil
	}
	p.draining = true
	srv, inner := p.srv, p.inner
	p.mu.Unlock()

	srvDone := make(chan error, 1)
	if srv != nil {
		go func() { srvDone <- srv.Shutdown(ctx) }()
	} else {
		srvDone <- nil
	}

	// Hijacked connections (MITM, tunnels) are invisible to
	// http.Server.Shutdown: close each once it has no exchange in flight.
	ticker := time.NewTicker(5 * time.Millisecond)
	defer ticker.Stop()
	var ctxErr error
	for {
		if p.closeIdleConns() {
			break
		}
		select {
		case <-ticker.C:
			continue
		case <-ctx.Done():
			ctxErr = ctx.Err()
		}
		break
	}
	if ctxErr != nil {
		p.forceClose()
	}
	// Wait for every flow to be reported. Forced exchanges end quickly:
	// their connections are closed and their upstream contexts cancelled.
	for !p.noExchanges() {
		<-ticker.C
	}
	srvErr := <-srvDone
	if inner != nil {
		inner.Close()
	}
	p.rt.transport.CloseIdleConnections()
	close(p.done)
	if ctxErr != nil {
		return fmt.Errorf("proxy: shutdown: %w", ctxErr)
	}
	if srvErr != nil {
		return fmt.Errorf("proxy: shutdown: %w", srvErr)
	}
	return nil
}

// closeIdleConns closes connections without exchanges in flight and
// reports whether nothing is left to wait for; once it has, no new
// exchange starts.
func (p *Proxy) closeIdleConns() bool {
	p.mu.Lock()
	var idle []*idleConn
	for c := range p.conns {
		if c.active.Load() == 0 {
			idle = append(idle, c)
		}
	}
	finished := len(p.exchanges) == 0 && len(p.conns) == len(idle)
	if finished {
		p.closed = true
	}
	p.mu.Unlock()
	for _, c := range idle {
		c.Close()
	}
	return finished
}

func (p *Proxy) forceClose() {
	p.mu.Lock()
	p.closed = true
	conns := make([]*idleConn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	exchanges := make([]*exchange, 0, len(p.exchanges))
	for ex := range p.exchanges {
		exchanges = append(exchanges, ex)
	}
	p.mu.Unlock()
	for _, ex := range exchanges {
		ex.abort(errShutdown)
	}
	for _, c := range conns {
		c.Close()
	}
}

func (p *Proxy) noExchanges() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.exchanges) == 0
}

func (p *Proxy) isDraining() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.draining
}
