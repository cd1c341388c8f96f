package proxy

import (
	"bytes"
	"net/http"
	"strings"
)

// net/http accepts a request with both Content-Length and
// Transfer-Encoding: chunked, lets Transfer-Encoding win and deletes the
// Content-Length before any handler sees it (RFC 9112 §6.3). That is safe
// for onpath, which re-frames what it forwards, but the shape is a request
// smuggling attempt or a broken client, and the RFC says it "ought to be
// handled as an error". On plain connections the head scanner reads the
// raw head as it arrives to see both headers and have the request refused.
// Inside MITM the raw bytes are TLS records: there the request is
// re-framed (see the package doc).

// headScanner finds the end of one raw request head and whether it
// carries both framing headers.
type headScanner struct {
	buf   []byte
	done  bool
	limit int
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
	head, complete := cutHead(s.buf)
	if !complete {
		return false
	}
	s.done, s.buf = true, nil
	return hasBothFramings(head)
}

func (s *headScanner) reset() { s.buf, s.done = nil, false }

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
