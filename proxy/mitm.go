package proxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/elazarl/goproxy"

	"onpath/flow"
)

// clientConn is what one client connection (a CONNECT tunnel, MITM'd or
// plain) shares with the requests inside it.
type clientConn struct {
	conn *idleConn

	// The CONNECT request, to report a failed client handshake.
	connect    flow.Request
	target     string // its HOST:PORT
	clientAddr string

	mu           sync.Mutex
	tls          *flow.TLSInfo // nil until the client's TLS handshake completed
	sni          string
	alpnOffered  []string
	certErr      error  // Certificate failed for this connection
	handshakeErr string // the client's TLS handshake failed

	readAtConnect   int64       // bytes read from the client when the CONNECT was handled
	readAtHandshake int64       // and when the TLS handshake was done; guarded by mu
	sawRequest      atomic.Bool // a request was read inside the tunnel
}

func (c *clientConn) recordHandshakeError(msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.handshakeErr = msg
}

func (c *clientConn) recordHello(hello *tls.ClientHelloInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sni = hello.ServerName
	c.alpnOffered = append([]string(nil), hello.SupportedProtos...)
}

func (c *clientConn) recordCertError(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.certErr = err
}

// idleAfterHandshake is more than a client sends after the server's view
// of the handshake completes (crypto/tls calls VerifyConnection before it
// reads the client's Finished: at most 80 bytes with a ChangeCipherSpec)
// and less than a few bytes of a request in TLS records (22 bytes each
// at least).
const idleAfterHandshake = 96

// reportFailedHandshake records a flow when a MITM tunnel ended without a
// request because the client's TLS handshake failed: it rejected onpath's
// certificate (an untrusted CA or a pinned app), or there was no
// certificate to offer. crypto/tls calls the server's VerifyConnection
// before the client has judged the certificate, so the failure is known
// only from goproxy's report (goproxyLogger). Tunnels goproxy or the head
// clock closed are recorded too: bytes that were neither a TLS handshake
// nor a request (phase client-tls), no handshake within HeaderTimeout
// (client-tls), a request head too slow or too large (proxy).
func (p *Proxy) reportFailedHandshake(cc *clientConn) {
	cc.mu.Lock()
	sni, offered, certErr, handshakeErr := cc.sni, cc.alpnOffered, cc.certErr, cc.handshakeErr
	handshaken := cc.tls != nil
	readAtHandshake := cc.readAtHandshake
	cc.mu.Unlock()
	var garbage, sent int64
	var cut int32
	if cc.conn != nil {
		cut = cc.conn.headCut.Load()
		sent = cc.conn.bytesRead.Load() - cc.readAtConnect
		if handshaken && cut == headTooSlow && cc.conn.bytesRead.Load()-readAtHandshake < idleAfterHandshake {
			// Only the end of the handshake came: an idle preconnected
			// socket, not a slow request.
			cut = 0
		}
		if !handshaken && handshakeErr == "" && !cc.sawRequest.Load() {
			garbage = cc.conn.bytesRead.Load() - cc.readAtConnect
		}
	}
	name := sni
	if name == "" {
		name = cc.connect.Host()
	}
	phase := flow.PhaseClientTLS
	var msg string
	switch {
	case !handshaken && cut != 0:
		// Checked before handshakeErr: closing the connection is what made
		// the handshake fail.
		msg = fmt.Sprintf("after the CONNECT to %s the client sent %d bytes but no complete TLS handshake or request within %s; the connection was closed", name, sent, p.headerTimeout())
	case certErr != nil:
		msg = fmt.Sprintf("onpath had no certificate to offer for %s: %v", name, certErr)
	case handshakeErr != "":
		msg = fmt.Sprintf("the client rejected onpath's certificate (not trusted, or pinned): trust the CA, or tunnel this host with --passthrough %s [%s: %s]", name, name, handshakeErr)
	case handshaken && cut == headTooSlow:
		phase, msg = flow.PhaseProxy, fmt.Sprintf("the client took longer than %s to send a request's headers (header timeout); the connection was closed", p.headerTimeout())
	case handshaken && cut == headTooLarge:
		phase, msg = flow.PhaseProxy, fmt.Sprintf("the client sent request headers larger than %d bytes; the connection was closed", p.maxHeaderBytes())
	case handshaken || cc.sawRequest.Load():
		return
	case garbage > 0:
		msg = fmt.Sprintf("after the CONNECT to %s the client sent %d bytes that are neither a TLS ClientHello nor an HTTP request; the connection was closed", name, garbage)
	default:
		return
	}
	info := &flow.TLSInfo{SNI: sni, OfferedALPN: offered}
	if handshaken {
		info = cc.tlsInfo()
	}
	ex := p.startExchange(flow.KindHTTP, nil, cc.connect, flow.Conn{Addr: cc.clientAddr, TLS: info})
	if ex == nil {
		return
	}
	ex.fail(phase, msg)
	ex.finish()
}

func (c *clientConn) recordState(cs tls.ConnectionState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tls = &flow.TLSInfo{
		Version:     cs.Version,
		CipherSuite: cs.CipherSuite,
		SNI:         c.sni,
		ALPN:        cs.NegotiatedProtocol,
		OfferedALPN: c.alpnOffered,
		ECHAccepted: cs.ECHAccepted,
		Verified:    true, // requests arrive only once the client accepted onpath's certificate
	}
	if c.conn != nil {
		c.readAtHandshake = c.conn.bytesRead.Load()
	}
	if cs.NegotiatedProtocol == "h2" && c.conn != nil {
		// HTTP/2 frames flow between requests; its server bounds headers.
		c.conn.disableHeadClock()
	}
}

// tlsInfo returns a copy of the client leg's TLS, nil for plain text.
func (c *clientConn) tlsInfo() *flow.TLSInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tls == nil {
		return nil
	}
	info := *c.tls
	info.OfferedALPN = append([]string(nil), c.tls.OfferedALPN...)
	return &info
}

// requestState travels in ProxyCtx.UserData of one inner request.
type requestState struct {
	client *clientConn
	ex     *exchange
}

func stripPort(hostport string) string {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return strings.Trim(hostport, "[]")
	}
	return host
}

func (p *Proxy) passthrough(host string) bool {
	host = strings.ToLower(host)
	for _, pattern := range p.Passthrough {
		if ok, _ := path.Match(strings.ToLower(pattern), host); ok {
			return true
		}
	}
	return false
}

// serveConnect decides what a CONNECT becomes: a refusal, a passthrough
// tunnel, or a MITM'd connection served by onpath's own servers
// (serveDecrypted) with leaves from Certificate (never goproxy's CA).
func (p *Proxy) serveConnect(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	conn, _ := r.Context().Value(clientConnKey{}).(*idleConn)
	if conn != nil {
		// The CONNECT head is complete; the tunnel's first request is due
		// within the header timeout (a passthrough tunnel or a refusal is
		// an exchange, which stops the clock).
		conn.startHead()
	}
	client, ahead, err := hijack(w)
	if err != nil {
		http.Error(w, "onpath: cannot take over the connection: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if rf := p.checkConnect(host, r); rf != nil {
		p.refuseConnect(r, host, conn, client, rf)
		return
	}
	if p.passthrough(stripPort(host)) {
		p.tunnel(r, host, conn, client)
		return
	}
	if p.Certificate == nil {
		defer client.Close()
		writeRawError(client, http.StatusBadGateway, "onpath: cannot intercept "+host+": no certificate source is configured\n")
		return
	}
	cc := &clientConn{
		conn:       conn,
		clientAddr: r.RemoteAddr,
		connect:    connectRecord(r, host),
		target:     host,
	}
	if conn != nil {
		cc.readAtConnect = conn.bytesRead.Load() - int64(ahead)
		conn.setAfterClose(func() { p.reportFailedHandshake(cc) })
	}
	p.intercept(cc, client)
}

// connectRecord is the flow.Request of a CONNECT, credentials redacted.
func connectRecord(req *http.Request, host string) flow.Request {
	return flow.Request{
		Method: http.MethodConnect,
		URL:    "https://" + strings.TrimSuffix(host, ":443"),
		Proto:  req.Proto,
		Header: redactProxyAuth(req.Header),
	}
}

// checkConnect refuses a CONNECT whose target is not HOST:PORT, that
// lacks the proxy credentials, or that targets the proxy itself.
func (p *Proxy) checkConnect(host string, req *http.Request) *refusal {
	if !p.authorized(req.Header) {
		return authRefusal(req.Header)
	}
	if err := validConnectTarget(host); err != nil {
		return &refusal{status: http.StatusBadRequest, reason: err.Error()}
	}
	h, port, _ := net.SplitHostPort(host)
	n, _ := strconv.Atoi(port)
	if p.rt.self.Load().containsHostPort(h, n) {
		return loopRefusal()
	}
	return nil
}

// refuseConnect answers a refused CONNECT on the hijacked connection,
// closes it, and records the flow.
func (p *Proxy) refuseConnect(req *http.Request, host string, conn *idleConn, client net.Conn, r *refusal) {
	defer client.Close()
	ex := p.startExchange(flow.KindHTTP, conn, connectRecord(req, host), flow.Conn{Addr: req.RemoteAddr})
	if ex == nil {
		writeRawError(client, http.StatusServiceUnavailable, "onpath: shutting down\n")
		return
	}
	defer ex.finish()
	ex.fail(flow.PhaseProxy, r.reason)
	writeRawResponse(client, r.status, r.header, r.body())
}

// validConnectTarget checks that a CONNECT target is HOST:PORT with a
// host name or IP and a port from 1 to 65535.
func validConnectTarget(hostport string) error {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return fmt.Errorf("bad CONNECT target %q: want HOST:PORT", hostport)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("bad CONNECT target %q: the port must be a number from 1 to 65535", hostport)
	}
	if net.ParseIP(host) != nil {
		return nil
	}
	if !validHostName(host) {
		return fmt.Errorf("bad CONNECT target %q: %q is not a host name or IP address", hostport, host)
	}
	return nil
}

// validHostName accepts DNS names (letters, digits, '-' and '_' in labels
// of 1 to 63 bytes, 253 bytes in all, an optional final dot).
func validHostName(host string) bool {
	host = strings.TrimSuffix(host, ".")
	if host == "" || len(host) > 253 {
		return false
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			ok := r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
			if !ok {
				return false
			}
		}
	}
	return true
}

// clientTLSConfig serves the leaf for the SNI name, falling back to the
// CONNECT host (IP targets usually send no SNI: they get an IP-SAN leaf).
func (p *Proxy) clientTLSConfig(connectHost string, cc *clientConn) *tls.Config {
	cfg := &tls.Config{
		NextProtos: []string{"h2", "http/1.1"},
		// Runs for every ClientHello, also those that resume a session
		// and so never ask for a certificate.
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			cc.recordHello(hello)
			return nil, nil
		},
		GetCertificate: func(hello *tls.ClientHelloInfo) (cert *tls.Certificate, err error) {
			defer func() {
				if v := recover(); v != nil {
					p.logger().Error("proxy: panic in Certificate", "panic", v)
					cert, err = nil, errors.New("proxy: certificate source panicked")
					cc.recordCertError(err)
				}
			}()
			name := hello.ServerName
			if name == "" {
				name = stripPort(connectHost)
			}
			cert, err = p.Certificate(name)
			if err != nil {
				cc.recordCertError(err)
				p.logger().Warn("proxy: no certificate for host", "host", name, "err", err)
				return nil, fmt.Errorf("proxy: certificate for %s: %w", name, err)
			}
			return cert, nil
		},
		// Called on the server side too once the handshake is done,
		// resumed or not: where the negotiated parameters are recorded.
		VerifyConnection: func(cs tls.ConnectionState) error {
			cc.recordState(cs)
			return nil
		},
	}
	// One ticket key for the process: a client resumes its session on its
	// next connection, as browsers do, instead of a full handshake.
	cfg.SetSessionTicketKeys(p.rt.ticketKeys)
	return cfg
}

// onRequest runs for every request, plain or decrypted, before goproxy
// strips any header: it records the request as the client sent it, serves
// the magic page, and routes the round trip through the capturing
// transport.
func (p *Proxy) onRequest(req *http.Request, ctx *goproxy.ProxyCtx) (rreq *http.Request, rresp *http.Response) {
	defer func() {
		if v := recover(); v != nil {
			p.logger().Error("proxy: panic in request handler", "panic", v, "url", req.URL.String())
			rreq, rresp = req, plainResponse(req, http.StatusBadGateway, "onpath: internal error\n")
		}
	}()
	var cc *clientConn
	t, tunnelled := req.Context().Value(tunnelKey{}).(*tunnel)
	if tunnelled {
		cc = t.cc
	} else {
		conn, _ := req.Context().Value(clientConnKey{}).(*idleConn)
		cc = &clientConn{conn: conn}
	}
	cc.sawRequest.Store(true)
	record := flow.Request{
		Method: req.Method,
		URL:    req.URL.String(),
		Proto:  req.Proto,
		Header: redactProxyAuth(req.Header),
	}
	if req.Host != "" && req.Header.Get("Host") == "" {
		// net/http moves Host out of the header map; keep it in the record.
		record.Header.Set("Host", req.Host)
	}
	client := flow.Conn{Addr: req.RemoteAddr, TLS: cc.tlsInfo()}
	// Inside a CONNECT tunnel the CONNECT was authenticated already.
	if !tunnelled && !p.authorized(req.Header) {
		return req, p.refuseRequest(req, record, client, cc.conn, authRefusal(req.Header))
	}
	if cc.conn != nil && cc.conn.takeAmbiguousFraming() {
		return req, p.refuseRequest(req, record, client, cc.conn, ambiguousFramingRefusal())
	}
	if isMagicHost(req.URL.Hostname()) {
		if cc.conn != nil {
			cc.conn.headDone()
		}
		return req, p.magicResponse(req)
	}
	if p.isLoopRequest(req) {
		return req, p.refuseRequest(req, record, client, cc.conn, loopRefusal())
	}
	ex := p.startExchange(flow.KindHTTP, cc.conn, record, client)
	if ex == nil {
		return req, plainResponse(req, http.StatusServiceUnavailable, "onpath: shutting down\n")
	}
	ctx.UserData = &requestState{client: cc, ex: ex}
	ctx.RoundTripper = goproxy.RoundTripperFunc(p.roundTrip)
	return req, nil
}

// roundTrip is goproxy's RoundTripper. It never returns an error: under
// MITM over HTTP/1 goproxy would close the client connection silently,
// so failures become a 502/504 response naming the cause.
func (p *Proxy) roundTrip(req *http.Request, ctx *goproxy.ProxyCtx) (resp *http.Response, err error) {
	st, _ := ctx.UserData.(*requestState)
	if st == nil || st.ex == nil {
		return plainResponse(req, http.StatusBadGateway, "onpath: internal error: request without a flow\n"), nil
	}
	defer func() {
		if v := recover(); v != nil {
			p.logger().Error("proxy: panic in round trip", "panic", v, "url", req.URL.String())
			st.ex.fail(flow.PhaseProxy, fmt.Sprintf("internal error: %v", v))
			resp, err = st.ex.textResponse(req, http.StatusBadGateway, "onpath: internal error\n"), nil
		}
	}()
	return st.ex.send(req), nil
}

// plainResponse is a short text answer that belongs to no flow.
func plainResponse(req *http.Request, status int, text string) *http.Response {
	return textAnswer(req, status, text, func() {})
}

// textAnswer is a short plain-text answer; onClose runs when goproxy has
// sent it and closes its body.
func textAnswer(req *http.Request, status int, text string, onClose func()) *http.Response {
	return &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"text/plain; charset=utf-8"}, "Content-Length": {strconv.Itoa(len(text))}},
		ContentLength: int64(len(text)),
		Body:          &closeHook{Reader: strings.NewReader(text), onClose: onClose},
		Request:       req,
	}
}

// writeRawResponse answers on a hijacked connection and asks the client
// to close it.
func writeRawResponse(w net.Conn, status int, header http.Header, text string) {
	var extra strings.Builder
	for k, vs := range header {
		for _, v := range vs {
			fmt.Fprintf(&extra, "%s: %s\r\n", k, v)
		}
	}
	fmt.Fprintf(w, "HTTP/1.1 %d %s\r\n%sContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, http.StatusText(status), extra.String(), len(text), text)
}

func writeRawError(w net.Conn, status int, text string) {
	fmt.Fprintf(w, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, http.StatusText(status), len(text), text)
}
