package proxy

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strings"
	"time"

	"onpath/flow"
)

// newTransport builds the upstream client. TLS is set up per connection by
// dialTLS: verification is done by verifyUpstream rather than by
// crypto/tls, so that the chain and the verification error can be recorded
// even when Insecure lets the request go ahead.
func (p *Proxy) newTransport(rt *engine) *http.Transport {
	return &http.Transport{
		Proxy: nil, // never chain through $HTTP_PROXY: onpath talks to servers directly
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return p.dialUpstream(ctx, rt, network, addr)
		},
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return p.dialTLS(ctx, rt, network, addr)
		},
		ForceAttemptHTTP2:   true,
		DisableCompression:  true, // never add Accept-Encoding nor decode: bytes pass unchanged
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 64,
		// Pooled connections are dropped before the idle bound of
		// dialUpstream would close them under the transport's feet.
		IdleConnTimeout:       min(90*time.Second, p.idleTimeout()/2),
		ExpectContinueTimeout: time.Second,
	}
}

func (p *Proxy) dialUpstream(ctx context.Context, rt *engine, network, addr string) (net.Conn, error) {
	c, err := rt.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	// A name can resolve to the proxy itself: refuse before sending it
	// its own request.
	if rt.self.Load().containsAddr(c.RemoteAddr()) {
		c.Close()
		return nil, fmt.Errorf("proxy: dial %s: %w", addr, errLoop)
	}
	// Upstream connections get the same idle bound as client ones, so a
	// server that stops sending mid-body cannot hold a flow forever.
	return newIdleConn(c, p.idleTimeout(), nil), nil
}

type onlyHTTP1Key struct{}

// dialTLS returns a TLS client connection whose handshake the transport
// runs (with its httptrace hooks). The config is per connection because
// verification needs the host name, which crypto/tls does not report for
// IP addresses.
func (p *Proxy) dialTLS(ctx context.Context, rt *engine, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	raw, err := p.dialUpstream(ctx, rt, network, addr)
	if err != nil {
		return nil, err
	}
	// Bound the handshake: the transport runs it without a timeout of its own.
	raw.SetDeadline(time.Now().Add(p.dialTimeout()))
	protos := []string{"h2", "http/1.1"}
	if only, _ := ctx.Value(onlyHTTP1Key{}).(bool); only {
		protos = []string{"http/1.1"} // an Upgrade (WebSocket) needs HTTP/1.1
	}
	cfg := &tls.Config{
		ServerName: host,
		NextProtos: protos,
		// crypto/tls's own check is replaced, not skipped: VerifyConnection
		// runs on every handshake and verifyUpstream fails it unless
		// Insecure (--insecure) is set, after recording what failed.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			raw.SetDeadline(time.Time{})
			return p.verifyUpstream(rt, host, cs)
		},
	}
	return tls.Client(raw, cfg), nil
}

// certError is an upstream certificate that failed verification.
type certError struct {
	host   string
	reason string // which check failed: expired, wrong host, unknown authority, ...
	err    error
	state  tls.ConnectionState
}

func (e *certError) Error() string {
	return fmt.Sprintf("the certificate of %s is not valid (%s): %v", e.host, e.reason, e.err)
}

func (e *certError) Unwrap() error { return e.err }

func (p *Proxy) verifyUpstream(rt *engine, host string, cs tls.ConnectionState) error {
	verr := p.verifyChain(host, cs)
	key := verifyCacheKey(host, cs)
	if verr != nil {
		rt.verifyCache.Add(key, verr.Error())
		if !p.Insecure {
			return &certError{host: host, reason: certFailureReason(verr), err: verr, state: cs}
		}
		return nil
	}
	rt.verifyCache.Add(key, "")
	return nil
}

func (p *Proxy) verifyChain(host string, cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("x509: the server sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
		Roots:         p.UpstreamRoots,
		Intermediates: inter,
		DNSName:       host,
	})
	return err
}

func verifyCacheKey(host string, cs tls.ConnectionState) string {
	if len(cs.PeerCertificates) == 0 {
		return host
	}
	return host + "\x00" + string(cs.PeerCertificates[0].Raw)
}

// certFailureReason names the check an x509 error failed.
func certFailureReason(err error) string {
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	var unknown x509.UnknownAuthorityError
	switch {
	case errors.As(err, &invalid):
		switch invalid.Reason {
		case x509.Expired:
			return "expired or not yet valid"
		case x509.IncompatibleUsage:
			return "not for server authentication"
		case x509.NameConstraintsWithoutSANs, x509.CANotAuthorizedForThisName:
			return "name constraints"
		}
		return "invalid"
	case errors.As(err, &host):
		return "wrong host"
	case errors.As(err, &unknown):
		return "unknown authority"
	}
	return "verification failed"
}

// upstreamTLS describes the upstream leg from the connection state.
func (p *Proxy) upstreamTLS(host string, cs *tls.ConnectionState, verifyErr string, verified bool) *flow.TLSInfo {
	info := &flow.TLSInfo{
		Version:     cs.Version,
		CipherSuite: cs.CipherSuite,
		SNI:         sniOf(host),
		ALPN:        cs.NegotiatedProtocol,
		ECHAccepted: cs.ECHAccepted,
		Chain:       p.chainOf(cs.PeerCertificates),
		Verified:    verified,
		VerifyError: verifyErr,
	}
	return info
}

// sniOf is the SNI crypto/tls actually sends for a server name: none for IPs.
func sniOf(name string) string {
	if net.ParseIP(name) != nil {
		return ""
	}
	return name
}

// tlsOfResponse looks up whether the connection that carried resp verified.
func (p *Proxy) tlsOfResponse(host string, cs *tls.ConnectionState) *flow.TLSInfo {
	if cs == nil {
		return nil
	}
	if !p.Insecure {
		// Without Insecure an unverified connection never gets this far.
		return p.upstreamTLS(host, cs, "", true)
	}
	key := verifyCacheKey(host, *cs)
	verr, ok := p.rt.verifyCache.Get(key)
	if !ok {
		if err := p.verifyChain(host, *cs); err != nil {
			verr = err.Error()
		}
		p.rt.verifyCache.Add(key, verr)
	}
	return p.upstreamTLS(host, cs, verr, verr == "")
}

// chainOf describes certs, caching by leaf: a keep-alive connection shows
// the same chain on every flow. Each flow gets its own slice.
func (p *Proxy) chainOf(certs []*x509.Certificate) []flow.Certificate {
	if len(certs) == 0 {
		return nil
	}
	if chain, ok := p.rt.chainCache.Get(certs[0]); ok && len(chain) == len(certs) {
		return slices.Clone(chain)
	}
	chain := describeChain(certs)
	p.rt.chainCache.Add(certs[0], chain)
	return slices.Clone(chain)
}

func describeChain(certs []*x509.Certificate) []flow.Certificate {
	chain := make([]flow.Certificate, 0, len(certs))
	for _, c := range certs {
		sum := sha256.Sum256(c.Raw)
		fc := flow.Certificate{
			Subject:      c.Subject.String(),
			Issuer:       c.Issuer.String(),
			SerialNumber: c.SerialNumber.Text(16),
			DNSNames:     c.DNSNames,
			NotBefore:    c.NotBefore,
			NotAfter:     c.NotAfter,
			IsCA:         c.IsCA,
			SHA256:       hex.EncodeToString(sum[:]),
		}
		for _, ip := range c.IPAddresses {
			fc.IPAddresses = append(fc.IPAddresses, ip.String())
		}
		chain = append(chain, fc)
	}
	return chain
}

// trace records the upstream timings and the errors that name a failure's phase.
func (ex *exchange) trace() *httptrace.ClientTrace {
	now := ex.p.now
	set := func(fn func()) {
		ex.mu.Lock()
		defer ex.mu.Unlock()
		if !ex.finished {
			fn()
		}
	}
	return &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			set(func() { ex.f.Server.Addr = info.Conn.RemoteAddr().String() })
		},
		DNSStart: func(httptrace.DNSStartInfo) { set(func() { ex.f.Timings.DNSStart = now() }) },
		DNSDone: func(info httptrace.DNSDoneInfo) {
			set(func() { ex.f.Timings.DNSDone = now(); ex.dnsErr = info.Err })
		},
		ConnectStart: func(_, _ string) {
			set(func() {
				if ex.f.Timings.ConnectStart.IsZero() {
					ex.f.Timings.ConnectStart = now()
				}
			})
		},
		ConnectDone: func(_, addr string, err error) {
			set(func() {
				ex.f.Timings.ConnectDone = now()
				if err != nil {
					ex.connectErr = err
					if ex.f.Server.Addr == "" {
						ex.f.Server.Addr = addr
					}
				} else {
					ex.connectErr = nil
					ex.f.Server.Addr = addr
				}
			})
		},
		TLSHandshakeStart: func() { set(func() { ex.f.Timings.TLSStart = now() }) },
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			set(func() { ex.f.Timings.TLSDone = now(); ex.tlsErr = err })
		},
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			set(func() {
				sent := now()
				// The transport reports the write from its writer goroutine,
				// which may run after its reader saw the answer (HTTP/2
				// especially). A request without a body was sent before any
				// answer to it could come; one with a body may really be
				// answered early, and keeps its time.
				if first := ex.f.Timings.FirstByte; !first.IsZero() && first.Before(sent) && ex.reqBody.size == 0 {
					sent = first
				}
				ex.f.Timings.RequestSent = sent
				ex.wroteRequest = true
				ex.wroteErr = info.Err
			})
		},
		GotFirstResponseByte: func() { set(func() { ex.f.Timings.FirstByte = now() }) },
	}
}

// hopHeaders are not forwarded (RFC 9110 §7.6.1), as in httputil.ReverseProxy.
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// removeHopHeaders strips hop-by-hop headers from h, including those the
// client named in its Connection header (sent: goproxy may have deleted
// Connection from h already), keeping an Upgrade handshake (WebSocket).
func removeHopHeaders(h, sent http.Header) {
	upgrade := ""
	if headerHasToken(h, "Connection", "upgrade") {
		upgrade = h.Get("Upgrade")
	}
	for _, v := range append(h.Values("Connection"), sent.Values("Connection")...) {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				h.Del(name)
			}
		}
	}
	te := h.Get("Te")
	for _, name := range hopHeaders {
		h.Del(name)
	}
	if strings.EqualFold(strings.TrimSpace(te), "trailers") {
		h.Set("Te", "trailers")
	}
	if upgrade != "" {
		h.Set("Connection", "Upgrade")
		h.Set("Upgrade", upgrade)
	}
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// send forwards req upstream and returns what the client must get: the
// upstream's response with a capturing body, or a 502/504 naming the
// failure. It never returns nil.
func (ex *exchange) send(req *http.Request) *http.Response {
	p := ex.p
	clientCtx := req.Context()
	upCtx, cancel := context.WithCancelCause(clientCtx)
	if headerHasToken(req.Header, "Connection", "upgrade") {
		upCtx = context.WithValue(upCtx, onlyHTTP1Key{}, true)
	}
	ex.mu.Lock()
	ex.clientCtx, ex.upCtx, ex.cancel = clientCtx, upCtx, cancel
	ex.mu.Unlock()

	out := req.WithContext(httptrace.WithClientTrace(upCtx, ex.trace()))
	out.RequestURI = ""
	out.Close = false
	out.Header = req.Header.Clone()
	ex.mu.Lock()
	sent := ex.f.Request.Header
	ex.mu.Unlock()
	removeHopHeaders(out.Header, sent)
	if req.Body != nil && req.Body != http.NoBody {
		out.Body = &requestBody{rc: req.Body, ex: ex, length: req.ContentLength}
	}

	timer := time.AfterFunc(p.responseTimeout(), func() { cancel(errResponseTimeout) })
	resp, err := p.rt.transport.RoundTrip(out)
	if !timer.Stop() && err == nil {
		// The timeout fired as the headers arrived: the context is
		// cancelled, so the body cannot be read. Answer as a timeout.
		resp.Body.Close()
		err = context.Cause(upCtx)
	}
	if err != nil {
		return ex.failResponse(req, err)
	}

	ex.mu.Lock()
	ex.f.Response = &flow.Response{
		Proto:  resp.Proto,
		Status: resp.StatusCode,
		Header: resp.Header.Clone(),
	}
	ex.f.Server.TLS = p.tlsOfResponse(req.URL.Hostname(), resp.TLS)
	ex.respLength = resp.ContentLength
	ex.bodyless = req.Method == http.MethodHead || resp.StatusCode == http.StatusNoContent ||
		resp.StatusCode == http.StatusNotModified || (resp.StatusCode >= 100 && resp.StatusCode < 200) ||
		resp.Body == http.NoBody
	ex.mu.Unlock()

	ex.wrapResponseBody(resp)
	// Trailers arrive with the end of the body: record them then.
	if rb, ok := resp.Body.(*responseBody); ok {
		rb.trailer = resp
	}
	adaptForClient(req, resp, p.isDraining())
	return resp
}

// adaptForClient adjusts the response headers for the client's protocol
// (after they were recorded).
func adaptForClient(req *http.Request, resp *http.Response, draining bool) {
	if req.ProtoMajor >= 2 {
		// Connection-specific headers are illegal in HTTP/2 (RFC 9113 §8.2.2).
		for _, name := range []string{"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade"} {
			resp.Header.Del(name)
		}
		return
	}
	if len(resp.Trailer) > 0 && resp.ContentLength >= 0 {
		// An h2 upstream may send a Content-Length and trailers; HTTP/1.1
		// carries trailers only in a chunked body.
		resp.ContentLength = -1
		resp.Header.Del("Content-Length")
	}
	if resp.ContentLength < 0 && !bodylessStatus(resp.StatusCode) && req.Method != http.MethodHead {
		// goproxy flushes each write to a plain-HTTP client only when it
		// sees this header; without it /stream and /drip would be buffered.
		// Under MITM the header is not written twice: Response.Write
		// excludes it.
		resp.Header.Set("Transfer-Encoding", "chunked")
	}
	if draining {
		resp.Header.Set("Connection", "close")
	}
}

func bodylessStatus(code int) bool {
	return code == http.StatusNoContent || code == http.StatusNotModified || (code >= 100 && code < 200)
}

// failResponse records why the round trip failed and builds the answer.
func (ex *exchange) failResponse(req *http.Request, err error) *http.Response {
	phase, status, msg := ex.classify(req, err)
	ex.fail(phase, msg)
	var ce *certError
	if errors.As(err, &ce) {
		ex.mu.Lock()
		ex.f.Server.TLS = ex.p.upstreamTLS(ce.host, &ce.state, ce.err.Error(), false)
		ex.mu.Unlock()
	}
	ex.p.logger().Debug("proxy: upstream failed", "url", req.URL.String(), "phase", phase, "err", err)
	return ex.textResponse(req, status, "onpath: "+msg+"\n")
}

// textResponse is a short plain-text answer that ends the flow when goproxy
// closes it, like any upstream response.
func (ex *exchange) textResponse(req *http.Request, status int, text string) *http.Response {
	resp := textAnswer(req, status, text, ex.finish)
	if ex.p.isDraining() && req.ProtoMajor < 2 {
		resp.Header.Set("Connection", "close")
	}
	return resp
}

type closeHook struct {
	*strings.Reader
	onClose func()
}

func (c *closeHook) Close() error {
	c.onClose()
	return nil
}

// classify names the phase of a failed round trip, the status the client
// gets and a one-line cause.
func (ex *exchange) classify(req *http.Request, err error) (flow.Phase, int, string) {
	host := req.URL.Host
	ex.mu.Lock()
	dnsErr, connectErr, tlsErr, wroteErr, wrote := ex.dnsErr, ex.connectErr, ex.tlsErr, ex.wroteErr, ex.wroteRequest
	clientErr := ex.clientReadErr
	upCtx, clientCtx := ex.upCtx, ex.clientCtx
	ex.mu.Unlock()

	cause := context.Cause(upCtx)
	var ce *certError
	var dns *net.DNSError
	var op *net.OpError
	switch {
	case errors.Is(err, errLoop):
		return flow.PhaseProxy, http.StatusLoopDetected, loopRefusal().reason
	case errors.Is(cause, errResponseTimeout):
		return flow.PhaseResponse, http.StatusGatewayTimeout,
			fmt.Sprintf("%s did not answer within %s", host, ex.p.responseTimeout())
	case errors.Is(cause, errShutdown):
		return flow.PhaseResponse, http.StatusBadGateway, errShutdown.Error()
	case clientErr != nil:
		return flow.PhaseClientAbort, http.StatusBadGateway, "the client stopped sending the request body: " + clientErr.Error()
	case clientCtx.Err() != nil:
		return flow.PhaseClientAbort, http.StatusBadGateway, "the client went away before the response"
	case errors.As(err, &ce):
		return flow.PhaseUpstreamCert, http.StatusBadGateway, ce.Error()
	case errors.As(err, &dns) || dnsErr != nil:
		if dns == nil {
			errors.As(dnsErr, &dns)
		}
		name := req.URL.Hostname()
		if dns != nil && dns.IsNotFound {
			return flow.PhaseDNS, http.StatusBadGateway, fmt.Sprintf("cannot resolve %s: no such host", name)
		}
		return flow.PhaseDNS, http.StatusBadGateway, fmt.Sprintf("cannot resolve %s: %v", name, err)
	case connectErr != nil || (errors.As(err, &op) && op.Op == "dial"):
		return flow.PhaseConnect, http.StatusBadGateway, fmt.Sprintf("cannot connect to %s: %v", host, err)
	case tlsErr != nil:
		return flow.PhaseTLS, http.StatusBadGateway, fmt.Sprintf("TLS handshake with %s failed: %v", host, err)
	case !wrote || wroteErr != nil:
		return flow.PhaseRequest, http.StatusBadGateway, fmt.Sprintf("sending the request to %s failed: %v", host, err)
	}
	return flow.PhaseResponse, http.StatusBadGateway, fmt.Sprintf("%s did not send a valid response: %v", host, err)
}
