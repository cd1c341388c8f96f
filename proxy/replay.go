package proxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"onpath/flow"
)

// Replay sends a recorded request again through the same upstream
// transport (verification, Insecure, UpstreamRoots) and returns the
// finished new flow, with an id from NewID. The flow is not passed to
// OnStart or OnFinish: the caller records it (and sets ReplayOf). Bodies
// are captured up to BodyLimit. An upstream failure is a flow with an
// Error, not an error; the error is for a request that cannot be sent.
func (p *Proxy) Replay(ctx context.Context, r flow.Request) (*flow.Flow, error) {
	if err := p.init(); err != nil {
		return nil, err
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return nil, fmt.Errorf("proxy: replay: url %q: %w", r.URL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("proxy: replay: url %q is not an absolute http(s) URL", r.URL)
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if len(r.Body.Data) > 0 {
		body = bytes.NewReader(r.Body.Data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("proxy: replay: %w", err)
	}
	req.Header = r.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if host := req.Header.Get("Host"); host != "" {
		req.Host = host
	}
	req.Header.Del("Host")
	req.Header.Del("Content-Length") // the transport sets it from the body

	record := flow.Request{Method: method, URL: u.String(), Proto: "HTTP/1.1", Header: r.Header.Clone()}
	ex := &exchange{
		p:        p,
		replay:   true,
		reqBody:  captureBuffer{limit: p.bodyLimit()},
		respBody: captureBuffer{limit: p.bodyLimit()},
	}
	ex.f = flow.Flow{ID: p.newID(), Kind: flow.KindHTTP, Request: record, Timings: flow.Timings{Start: p.now()}}
	resp := ex.send(req)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	ex.finish()
	return &ex.f, nil
}
