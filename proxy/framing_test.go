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
