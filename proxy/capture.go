package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"onpath/flow"
)

var (
	errShutdown        = errors.New("onpath is shutting down")
	errResponseTimeout = errors.New("no response headers within the response timeout")
)

// largeCapture is the capacity from which a capture buffer grows fourfold.
const largeCapture = 1 << 20

// captureBuffer keeps the first limit bytes written to it and counts all.
type captureBuffer struct {
	limit int64
	data  []byte
	size  int64
}

func (b *captureBuffer) write(p []byte) {
	b.size += int64(len(p))
	room := b.limit - int64(len(b.data))
	if room <= 0 || len(p) == 0 {
		return
	}
	take := min(room, int64(len(p)))
	if int64(cap(b.data)-len(b.data)) < take {
		// Grow geometrically, never past the limit: append alone would
		// round a 16 MiB capture up. Past largeCapture the factor is 4, so
		// a large body of unknown length leaves a third of its size behind
		// as garbage instead of all of it (which the collector lets the
		// heap grow over before it runs).
		factor := int64(2)
		if cap(b.data) >= largeCapture {
			factor = 4
		}
		newCap := min(b.limit, max(factor*int64(cap(b.data)), int64(len(b.data))+take, 4096))
		grown := make([]byte, len(b.data), newCap)
		copy(grown, b.data)
		b.data = grown
	}
	b.data = append(b.data, p[:take]...)
}

// reserve allocates room for a body of known length n at once, so a large
// capture costs one allocation instead of a chain of doublings.
func (b *captureBuffer) reserve(n int64) {
	if n <= 0 || b.data != nil {
		return
	}
	b.data = make([]byte, 0, min(n, b.limit))
}

func (b *captureBuffer) body() flow.Body {
	return flow.Body{Size: b.size, Truncated: b.size > int64(len(b.data)), Data: b.data}
}

// exchange is one flow in progress. Its fields are guarded by mu because
// the transport's goroutines (request body writer, httptrace hooks) touch
// it while the handler's goroutine reads the response.
type exchange struct {
	p      *Proxy
	replay bool      // Replay's flows are returned, not reported or tracked
	conn   *idleConn // the client connection, nil for Replay

	mu       sync.Mutex
	f        flow.Flow
	reqBody  captureBuffer
	respBody captureBuffer
	finished bool

	clientCtx context.Context // cancelled when the client goes away
	upCtx     context.Context // the upstream request's context, a child of clientCtx
	cancel    context.CancelCauseFunc

	clientReadErr error // reading the request body from the client failed
	upstreamErr   error // reading the response body from the upstream failed
	respEOF       bool
	respLength    int64 // Content-Length of the response, -1 if unknown
	bodyless      bool  // the response cannot have a body (HEAD, 1xx, 204, 304)

	// httptrace results, used to name the phase of a failure.
	dnsErr, connectErr, tlsErr, wroteErr error
	wroteRequest                         bool
}

// startExchange registers a new flow and reports it to OnStart. It returns
// nil when the proxy has shut down.
func (p *Proxy) startExchange(kind flow.Kind, conn *idleConn, req flow.Request, client flow.Conn) *exchange {
	ex := &exchange{
		p:        p,
		conn:     conn,
		reqBody:  captureBuffer{limit: p.bodyLimit()},
		respBody: captureBuffer{limit: p.bodyLimit()},
	}
	ex.f = flow.Flow{
		ID:      p.newID(),
		Kind:    kind,
		Client:  client,
		Request: req,
		Timings: flow.Timings{Start: p.now()},
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.exchanges[ex] = struct{}{}
	p.mu.Unlock()
	if conn != nil {
		conn.active.Add(1)
		conn.headDone()
	}
	if p.OnStart != nil {
		ex.mu.Lock()
		started := cloneFlow(&ex.f)
		ex.mu.Unlock()
		p.callHook("OnStart", p.OnStart, started)
	}
	return ex
}

// callHook runs a user callback behind a recover: a panicking hook is
// logged and must not take the proxy down.
func (p *Proxy) callHook(name string, hook func(*flow.Flow), f *flow.Flow) {
	defer func() {
		if v := recover(); v != nil {
			p.logger().Error("proxy: panic in "+name, "panic", v, "flow", f.ID)
		}
	}()
	hook(f)
}

// cloneFlow copies f deeply enough that the copy shares no mutable state
// with an exchange still in progress.
func cloneFlow(f *flow.Flow) *flow.Flow {
	c := *f
	c.Request.Header = f.Request.Header.Clone()
	c.Request.Body.Data = append([]byte(nil), f.Request.Body.Data...)
	if f.Response != nil {
		r := *f.Response
		r.Header = f.Response.Header.Clone()
		r.Trailer = f.Response.Trailer.Clone()
		r.Body.Data = append([]byte(nil), f.Response.Body.Data...)
		c.Response = &r
	}
	if f.Error != nil {
		e := *f.Error
		c.Error = &e
	}
	if f.Tunnel != nil {
		t := *f.Tunnel
		c.Tunnel = &t
	}
	return &c
}

// fail records err as the flow's error unless one is already recorded.
func (ex *exchange) fail(phase flow.Phase, msg string) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.f.Error == nil && !ex.finished {
		ex.f.Error = &flow.Error{Phase: phase, Message: msg}
	}
}

// abort cancels the upstream side of the exchange (Shutdown).
func (ex *exchange) abort(cause error) {
	ex.mu.Lock()
	cancel := ex.cancel
	ex.mu.Unlock()
	if cancel != nil {
		cancel(cause)
	}
}

// finish ends the flow once: it fills End, the bodies and, when the
// exchange stopped early, the error; then reports the flow to OnFinish.
func (ex *exchange) finish() {
	ex.mu.Lock()
	if ex.finished {
		ex.mu.Unlock()
		return
	}
	ex.finished = true
	f := &ex.f
	f.Timings.End = ex.p.now()
	if f.Kind == flow.KindHTTP {
		f.Request.Body = ex.reqBody.body()
		if f.Response != nil {
			f.Response.Body = ex.respBody.body()
		}
	}
	if f.Error == nil {
		f.Error = ex.earlyEndLocked()
	}
	cancel := ex.cancel
	ex.mu.Unlock()

	if cancel != nil {
		cancel(nil)
	}
	if ex.replay {
		return
	}
	if ex.p.OnFinish != nil {
		ex.p.callHook("OnFinish", ex.p.OnFinish, f)
	}
	if ex.conn != nil {
		ex.conn.active.Add(-1)
	}
	ex.p.mu.Lock()
	delete(ex.p.exchanges, ex)
	ex.p.mu.Unlock()
}

// earlyEndLocked names why a flow whose response started did not complete,
// or returns nil when it did.
func (ex *exchange) earlyEndLocked() *flow.Error {
	f := &ex.f
	if ex.clientReadErr != nil {
		return &flow.Error{Phase: flow.PhaseClientAbort, Message: "the client stopped sending the request body: " + ex.clientReadErr.Error()}
	}
	if f.Response == nil || f.Kind != flow.KindHTTP {
		return nil
	}
	if ex.upstreamErr != nil {
		var cause error
		if ex.upCtx != nil {
			cause = context.Cause(ex.upCtx)
		}
		switch {
		case errors.Is(cause, errShutdown):
			return &flow.Error{Phase: flow.PhaseResponse, Message: errShutdown.Error()}
		case ex.clientCtx != nil && ex.clientCtx.Err() != nil:
			return &flow.Error{Phase: flow.PhaseClientAbort, Message: "the client went away during the response body"}
		default:
			return &flow.Error{Phase: flow.PhaseResponse, Message: "reading the response body: " + ex.upstreamErr.Error()}
		}
	}
	complete := ex.bodyless || ex.respEOF || (ex.respLength >= 0 && ex.respBody.size >= ex.respLength)
	if !complete {
		msg := fmt.Sprintf("the client closed the connection after %d bytes of the response", ex.respBody.size)
		if ex.respLength >= 0 {
			msg = fmt.Sprintf("the client closed the connection after %d of %d bytes of the response", ex.respBody.size, ex.respLength)
		}
		return &flow.Error{Phase: flow.PhaseClientAbort, Message: msg}
	}
	return nil
}

// requestBody tees the client's request body into the capture buffer.
type requestBody struct {
	rc     io.ReadCloser
	ex     *exchange
	length int64 // Content-Length, -1 if unknown
}

func (b *requestBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.ex.mu.Lock()
	if !b.ex.finished {
		if b.ex.reqBody.data == nil {
			b.ex.reqBody.reserve(b.length)
		}
		b.ex.reqBody.write(p[:n])
		if err != nil && err != io.EOF && b.ex.clientReadErr == nil {
			b.ex.clientReadErr = err
		}
	}
	b.ex.mu.Unlock()
	return n, err
}

func (b *requestBody) Close() error { return b.rc.Close() }

// responseBody tees the upstream's response body into the capture buffer
// as the client reads it, and ends the flow when goproxy closes it (after
// the last byte was written to the client, or after a write failed).
type responseBody struct {
	rc      io.ReadCloser
	ex      *exchange
	trailer *http.Response // its Trailer is complete after EOF
}

func (b *responseBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.ex.mu.Lock()
	if !b.ex.finished {
		if b.ex.respBody.data == nil {
			b.ex.respBody.reserve(b.ex.respLength)
		}
		b.ex.respBody.write(p[:n])
		if err == io.EOF {
			b.ex.respEOF = true
			if b.trailer != nil && len(b.trailer.Trailer) > 0 && b.ex.f.Response != nil {
				b.ex.f.Response.Trailer = b.trailer.Trailer.Clone()
			}
		} else if err != nil && b.ex.upstreamErr == nil {
			b.ex.upstreamErr = err
		}
	}
	b.ex.mu.Unlock()
	return n, err
}

func (b *responseBody) Close() error {
	err := b.rc.Close()
	b.ex.finish()
	return err
}

// upgradedBody is the response body of a 101 Switching Protocols: goproxy
// needs it to be writable to relay WebSocket frames (not captured).
type upgradedBody struct {
	rwc io.ReadWriteCloser
	ex  *exchange
}

func (b *upgradedBody) Read(p []byte) (int, error)  { return b.rwc.Read(p) }
func (b *upgradedBody) Write(p []byte) (int, error) { return b.rwc.Write(p) }
func (b *upgradedBody) Close() error {
	err := b.rwc.Close()
	b.ex.finish()
	return err
}

// wrapResponse records resp on the flow and wraps its body.
func (ex *exchange) wrapResponseBody(resp *http.Response) {
	if resp.StatusCode == http.StatusSwitchingProtocols {
		if rwc, ok := resp.Body.(io.ReadWriteCloser); ok {
			resp.Body = &upgradedBody{rwc: rwc, ex: ex}
			return
		}
	}
	body := resp.Body
	if body == nil {
		body = http.NoBody
	}
	resp.Body = &responseBody{rc: body, ex: ex}
}
