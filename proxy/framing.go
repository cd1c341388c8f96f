package proxy

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"onpath/flow"
)

// net/http accepts a request with both Content-Length and
// Transfer-Encoding: chunked, lets Transfer-Encoding win and deletes the
// Content-Length before any handler sees it (RFC 9112 §6.3). That is safe
// for onpath, which re-frames what it forwards, but the shape is a request
// smuggling attempt or a broken client, and the RFC says it "ought to be
// handled as an error". The head scanner reads each head as it arrives
// (raw on plain connections, decrypted inside MITM) to see both headers
// and have the request refused.

// headScanner finds the end of one raw request head and whether it
// carries both framing headers. It keeps the head's first line, so that a
// request net/http refuses before any handler runs can still be recorded.
type headScanner struct {
	buf   []byte
	done  bool
	limit int
	line  []byte // the request line, once its end was read
}

// feed adds bytes read from the client; it reports true once, when a
// complete head with both Content-Length and Transfer-Encoding was seen.
func (s *headScanner) feed(p []byte) bool {
	if s.done {
		return false
	}
	room := s.limit - len(s.buf)
	if room <= 0 {
		s.done, s.buf = true, nil // the head clock closes such a connection
		return false
	}
	s.buf = append(s.buf, p[:min(len(p), room)]...)
	if s.line == nil {
		if end := bytes.IndexByte(s.buf, '\n'); end >= 0 {
			s.line = bytes.Clone(bytes.TrimSuffix(s.buf[:end], []byte("\r")))
		}
	}
	head, complete := cutHead(s.buf)
	if !complete {
		return false
	}
	s.done, s.buf = true, nil
	return hasBothFramings(head)
}

func (s *headScanner) reset() { s.buf, s.done, s.line = nil, false, nil }

// net/http answers a request it cannot read (a malformed request line or
// header, a head over MaxHeaderBytes, an unsupported Transfer-Encoding)
// itself, before any handler runs, with one write of this shape:
//
//	HTTP/1.1 400 Bad Request: malformed Host header
//	Content-Type: text/plain; charset=utf-8
//	Connection: close
//
//	400 Bad Request: malformed Host header
const serverRefusalHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// parseServerRefusal recognises net/http's own answer to an unreadable
// request, and returns its status and text.
func parseServerRefusal(p []byte) (status int, text string, ok bool) {
	rest, ok := bytes.CutPrefix(p, []byte("HTTP/1.1 "))
	if !ok || len(rest) == 0 || (rest[0] != '4' && rest[0] != '5') {
		return 0, "", false // most often a response being flushed: cheap to skip
	}
	statusLine, body, ok := bytes.Cut(rest, []byte(serverRefusalHeaders))
	if !ok || len(statusLine) < 4 || statusLine[3] != ' ' {
		return 0, "", false
	}
	status, err := strconv.Atoi(string(statusLine[:3]))
	if err != nil || status < 400 || status > 599 || len(body) == 0 {
		return 0, "", false
	}
	// The status text is net/http's own; a handler's answer carries more
	// headers (Date at least) and never matches the shape above.
	if reason := string(statusLine[4:]); reason != http.StatusText(status) && !strings.HasPrefix(reason, http.StatusText(status)+": ") {
		return 0, "", false
	}
	return status, string(body), true
}

// cutHead returns the head up to its blank line (CRLF or bare LF, as
// net/textproto accepts both).
func cutHead(b []byte) ([]byte, bool) {
	for i := 0; i < len(b); {
		nl := bytes.IndexByte(b[i:], '\n')
		if nl < 0 {
			return nil, false
		}
		line := bytes.TrimSuffix(b[i:i+nl], []byte("\r"))
		if len(line) == 0 && i > 0 {
			return b[:i], true
		}
		i += nl + 1
	}
	return nil, false
}

func hasBothFramings(head []byte) bool {
	var cl, te bool
	lines := bytes.Split(head, []byte("\n"))
	for _, line := range lines[1:] { // the request line first
		name, _, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 || name[0] == ' ' || name[0] == '\t' {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(string(name))) {
		case "content-length":
			cl = true
		case "transfer-encoding":
			te = true
		}
	}
	return cl && te
}

func ambiguousFramingRefusal() *refusal {
	return &refusal{
		status: http.StatusBadRequest,
		reason: "the request has both Content-Length and Transfer-Encoding (a request-smuggling shape); send one of them",
		header: http.Header{"Connection": {"close"}},
	}
}

// recordRefusedRequest records a request net/http refused before any
// handler ran, so that a malformed request shows in the flows with what
// it got. The request is known only by its line; its URL is kept when the
// line names an absolute http(s) URL, or a path inside tunnel t (nil for
// plain connections).
func (p *Proxy) recordRefusedRequest(clientAddr string, t *tunnel, requestLine []byte, status int, text string) {
	req := flow.Request{}
	if fields := strings.Fields(string(requestLine)); len(fields) == 3 {
		req.Method, req.Proto = fields[0], fields[2]
		if u, err := url.Parse(fields[1]); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			req.URL = u.String()
		} else if err == nil && t != nil && strings.HasPrefix(fields[1], "/") {
			req.URL = t.scheme + "://" + t.authority() + u.RequestURI()
		}
	}
	client := flow.Conn{Addr: clientAddr}
	if t != nil {
		client.TLS = t.cc.tlsInfo()
	}
	line := string(requestLine)
	if len(line) > 200 {
		line = line[:200] + "…"
	}
	msg := fmt.Sprintf("the request could not be read and was answered %q (request line %q)", text, line)
	if requestLine == nil {
		msg = fmt.Sprintf("the request could not be read and was answered %q (its first line was never complete)", text)
	}
	ex := p.startExchange(flow.KindHTTP, nil, req, client)
	if ex == nil {
		return
	}
	ex.fail(flow.PhaseProxy, msg)
	ex.finish()
}
