package proxy

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"

	"onpath/flow"
)

// tunnel relays a passthrough CONNECT without decrypting it and records a
// KindTunnel flow: host, port, bytes each way, duration.
func (p *Proxy) tunnel(req *http.Request, hostport string, conn *idleConn, client net.Conn) {
	defer client.Close()
	if _, _, err := net.SplitHostPort(hostport); err != nil {
		hostport = net.JoinHostPort(hostport, "443")
	}
	target := "https://" + strings.TrimSuffix(hostport, ":443")
	record := flow.Request{Method: http.MethodConnect, URL: target, Proto: req.Proto, Header: redactProxyAuth(req.Header)}
	ex := p.startExchange(flow.KindTunnel, conn, record, flow.Conn{Addr: req.RemoteAddr})
	if ex == nil {
		writeRawError(client, http.StatusServiceUnavailable, "onpath: shutting down\n")
		return
	}
	tunnel := &flow.Tunnel{}
	ex.f.Tunnel = tunnel
	defer ex.finish()

	ctx, cancel := context.WithCancelCause(context.Background())
	ex.mu.Lock()
	ex.clientCtx, ex.upCtx, ex.cancel = ctx, ctx, cancel
	ex.mu.Unlock()

	dialReq, _ := http.NewRequestWithContext(ctx, http.MethodConnect, target, nil)
	upstream, err := p.rt.dialer.DialContext(httptrace.WithClientTrace(ctx, ex.trace()), "tcp", hostport)
	if err == nil && p.rt.self.Load().containsAddr(upstream.RemoteAddr()) {
		upstream.Close()
		upstream, err = nil, errLoop
	}
	if err != nil {
		phase, status, msg := ex.classify(dialReq, err)
		ex.fail(phase, msg)
		writeRawError(client, status, "onpath: "+msg+"\n")
		return
	}
	up := newIdleConn(upstream, p.idleTimeout(), nil)
	defer up.Close()
	ex.mu.Lock()
	ex.f.Server.Addr = upstream.RemoteAddr().String()
	ex.cancel = func(cause error) { cancel(cause); up.Close() }
	ex.mu.Unlock()

	if _, err := io.WriteString(client, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		ex.fail(flow.PhaseClientAbort, "the client went away before the tunnel opened")
		return
	}
	var upBytes, downBytes atomic.Int64
	var wg sync.WaitGroup
	wg.Add(2)
	copyCounted := func(dst, src net.Conn, n *atomic.Int64) {
		defer wg.Done()
		written, _ := io.Copy(dst, src)
		n.Add(written)
		// Either side ending ends the tunnel; closing both unblocks the other copy.
		dst.Close()
		src.Close()
	}
	go copyCounted(up, client, &upBytes)
	go copyCounted(client, up, &downBytes)
	wg.Wait()
	ex.mu.Lock()
	tunnel.BytesUp, tunnel.BytesDown = upBytes.Load(), downBytes.Load()
	ex.mu.Unlock()
}
