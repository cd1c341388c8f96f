package proxy

import "testing"

func TestHeadScanner(t *testing.T) {
	cases := []struct {
		name   string
		chunks []string
		want   bool
	}{
		{"both", []string{"POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"}, true},
		{"both, any case, bare LF", []string{"POST / HTTP/1.1\ncontent-LENGTH: 4\nTRANSFER-encoding: chunked\n\n"}, true},
		{"split across reads", []string{"POST / HTTP/1.1\r\nContent-Len", "gth: 4\r\nTransfer-Encoding: chu", "nked\r\n", "\r\n"}, true},
		{"Content-Length only", []string{"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nTransfer-Encoding: chunked\r\n\r\n"}, false},
		{"Transfer-Encoding only", []string{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"}, false},
		{"names in values do not count", []string{"GET / HTTP/1.1\r\nX-A: Content-Length: 1\r\nX-B: Transfer-Encoding: chunked\r\n\r\n"}, false},
		{"continuation lines do not count", []string{"GET / HTTP/1.1\r\nContent-Length: 1\r\n Transfer-Encoding: chunked\r\n\r\n"}, false},
		{"incomplete head", []string{"POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n"}, false},
		{"over the limit", []string{"POST / HTTP/1.1\r\nX: " + string(make([]byte, 100)) + "\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"}, false},
	}
	for _, c := range cases {
		s := &headScanner{limit: 64}
		if c.name != "over the limit" {
			s.limit = 1 << 10
		}
		got := false
		for _, chunk := range c.chunks {
			if s.feed([]byte(chunk)) {
				got = true
			}
		}
		if got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
		if done := s.done; s.feed([]byte("POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n")) && done {
			t.Errorf("%s: a finished scan reported a second head before reset", c.name)
		}
	}
}

func TestHeadScannerResets(t *testing.T) {
	s := &headScanner{limit: 1 << 10}
	head := []byte("POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n")
	if !s.feed(head) {
		t.Fatal("first head: not reported")
	}
	if s.feed(head) {
		t.Error("second head before reset: reported, want ignored until the next head starts")
	}
	s.reset()
	if !s.feed(head) {
		t.Error("head after reset: not reported")
	}
}

func TestParseServerRefusal(t *testing.T) {
	tests := []struct {
		name, answer string
		status       int
		text         string
	}{
		{"400 with a reason", "HTTP/1.1 400 Bad Request: malformed Host header" + serverRefusalHeaders + "400 Bad Request: malformed Host header", 400, "400 Bad Request: malformed Host header"},
		{"431", "HTTP/1.1 431 Request Header Fields Too Large" + serverRefusalHeaders + "431 Request Header Fields Too Large", 431, "431 Request Header Fields Too Large"},
		{"501", "HTTP/1.1 501 Not Implemented" + serverRefusalHeaders + "Unsupported transfer encoding", 501, "Unsupported transfer encoding"},
		{"a handler's 400 has more headers", "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nDate: Fri, 27 Nov 2026 12:00:00 GMT\r\nConnection: close\r\n\r\nno", 0, ""},
		{"a success", "HTTP/1.1 200 OK" + serverRefusalHeaders + "200 OK", 0, ""},
		{"a status text not net/http's", "HTTP/1.1 400 Nope" + serverRefusalHeaders + "400 Nope", 0, ""},
		{"HTTP/1.0", "HTTP/1.0 400 Bad Request" + serverRefusalHeaders + "400 Bad Request", 0, ""},
		{"no body", "HTTP/1.1 400 Bad Request" + serverRefusalHeaders, 0, ""},
		{"a goproxy 502", "HTTP/1.1 502 Bad Gateway\r\n\r\ndial tcp: refused", 0, ""},
		{"the prefix alone", "HTTP/1.1 ", 0, ""},
		{"a status line cut short", "HTTP/1.1 40", 0, ""},
	}
	for _, tt := range tests {
		status, text, ok := parseServerRefusal([]byte(tt.answer))
		if ok != (tt.status != 0) || status != tt.status || text != tt.text {
			t.Errorf("%s: got %d %q %v, want %d %q", tt.name, status, text, ok, tt.status, tt.text)
		}
	}
}

// net/http's refusal is recognised in whatever the proxy writes to a plain
// client while no exchange is in flight; nothing written there may panic.
func FuzzParseServerRefusal(f *testing.F) {
	f.Add([]byte("HTTP/1.1 400 Bad Request" + serverRefusalHeaders + "400 Bad Request"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nDate: x\r\n\r\nbody"))
	f.Add([]byte("HTTP/1.1 "))
	f.Fuzz(func(t *testing.T, p []byte) {
		status, text, ok := parseServerRefusal(p)
		if ok && (status < 400 || status > 599 || text == "") {
			t.Errorf("accepted %q as a refusal with status %d, text %q", p, status, text)
		}
	})
}
