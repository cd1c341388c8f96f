package proxy

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"onpath/flow"
	"onpath/flow/content"
	"onpath/internal/testupstream"
)

// badInputProxy is a harness with short limits, so that the cases run fast.
func badInputProxy(t *testing.T) *harness {
	t.Helper()
	return newHarness(t, func(p *Proxy) {
		p.HeaderTimeout = 500 * time.Millisecond
		p.MaxHeaderBytes = 16 << 10
	})
}

// steadiness is what must hold after each bad-input case: the proxy still
// serves a normal request, goroutines return to the baseline, and every
// flow that started also finished (exactly once: the harness checks that).
type steadiness struct {
	h        *harness
	baseline int
	started  map[flow.ID]bool
}

func newSteadiness(t *testing.T, h *harness) *steadiness {
	t.Helper()
	s := &steadiness{h: h, started: map[flow.ID]bool{}}
	s.normalRequest(t) // warm up: the proxy's and the upstream's lazy goroutines
	s.baseline = settledGoroutines(h)
	return s
}

// settledGoroutines closes pooled connections and waits until the
// goroutine count stops moving.
func settledGoroutines(h *harness) int {
	last := -1
	for range 50 {
		h.p.rt.transport.CloseIdleConnections()
		n := runtime.NumGoroutine()
		if n == last {
			return n
		}
		last = n
		<-time.After(20 * time.Millisecond)
	}
	return last
}

func (s *steadiness) normalRequest(t *testing.T) {
	t.Helper()
	tr := s.h.transport(false)
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 15 * time.Second}
	for _, target := range []string{s.h.up.HTTP.URL + "/get?steady", s.h.up.HTTPS.URL + "/get?steady"} {
		status, _, _ := getText(t, c, target)
		if status != http.StatusOK {
			t.Fatalf("the proxy no longer serves: %s got %d, want 200", target, status)
		}
		s.h.flowFor(target)
	}
}

// check runs after a case in the test's own goroutine; checkSub after a
// case in a subtest, whose goroutine is not in the baseline.
func (s *steadiness) check(t *testing.T, name string) { t.Helper(); s.checkWith(t, name, 0) }

func (s *steadiness) checkSub(t *testing.T, name string) { t.Helper(); s.checkWith(t, name, 1) }

func (s *steadiness) checkWith(t *testing.T, name string, extra int) {
	t.Helper()
	s.normalRequest(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.h.p.rt.transport.CloseIdleConnections()
		n := runtime.NumGoroutine()
		if n <= s.baseline+extra {
			break
		}
		if time.Now().After(deadline) {
			var dump bytes.Buffer
			pprof.Lookup("goroutine").WriteTo(&dump, 1)
			t.Fatalf("%s: %d goroutines 10 s after the case, baseline %d: a leak\n%s", name, n, s.baseline+extra, dump.String())
		}
		<-time.After(20 * time.Millisecond)
	}
	for {
		select {
		case f := <-s.h.started:
			s.started[f.ID] = true
			continue
		default:
		}
		break
	}
	deadline = time.Now().Add(10 * time.Second)
	for id := range s.started {
		for {
			s.h.mu.Lock()
			n := s.h.finishes[id]
			s.h.mu.Unlock()
			if n == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: flow %d started but was never finished: a lost flow", name, id)
			}
			<-time.After(10 * time.Millisecond)
		}
	}
}

// flowWhere waits for a finished flow matching keep, skipping others.
func (h *harness) flowWhere(keep func(*flow.Flow) bool) *flow.Flow {
	h.t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case f := <-h.finished:
			if keep(f) {
				return f
			}
		case <-deadline:
			h.t.Fatalf("no matching flow within 15s")
			return nil
		}
	}
}

// rawAnswer writes payload on a new connection to addr and returns the
// status of the answer, 0 if the connection closed without one.
func rawAnswer(t *testing.T, addr, payload string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, payload); err != nil {
		return 0, ""
	}
	return readAnswer(conn)
}

func readAnswer(conn net.Conn) (int, string) {
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// mitmConn opens a CONNECT tunnel to hostport and completes TLS with
// onpath's leaf, speaking HTTP/1.1.
func (h *harness) mitmConn(t *testing.T, hostport string) *tls.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", hostport, hostport)
	if status := readConnectReply(t, conn); status != http.StatusOK {
		conn.Close()
		t.Fatalf("CONNECT %s: status %d, want 200", hostport, status)
	}
	host, _, _ := net.SplitHostPort(hostport)
	tc := tls.Client(conn, &tls.Config{RootCAs: h.roots, ServerName: host, NextProtos: []string{"http/1.1"}})
	if err := tc.Handshake(); err != nil {
		conn.Close()
		t.Fatalf("TLS through the tunnel: %v", err)
	}
	t.Cleanup(func() { tc.Close() })
	return tc
}

// readConnectReply reads the CONNECT reply byte by byte, so that nothing
// after it is consumed.
func readConnectReply(t *testing.T, conn net.Conn) int {
	t.Helper()
	var head []byte
	one := make([]byte, 1)
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		if _, err := conn.Read(one); err != nil {
			return 0
		}
		head = append(head, one[0])
	}
	var status int
	fmt.Sscanf(string(head), "HTTP/1.1 %d", &status)
	return status
}

func hostOf(rawURL string) string {
	return rawURL[strings.Index(rawURL, "://")+3:]
}

// TestMalformedRequestsGet400: on plain connections and inside MITM alike,
// net/http answers what it cannot read, and the flow is recorded.
func TestMalformedRequestsGet400(t *testing.T) {
	h := badInputProxy(t)
	s := newSteadiness(t, h)
	up := hostOf(h.up.HTTP.URL)
	_, tlsPort, _ := net.SplitHostPort(hostOf(h.up.HTTPS.URL))
	legs := []struct {
		name   string
		target string // prefix of the request target
		host   string
		answer func(t *testing.T, payload string) (int, string)
	}{
		{"plain", "http://" + up, up, func(t *testing.T, payload string) (int, string) { return rawAnswer(t, h.addr, payload) }},
		{"mitm", "", "localhost:" + tlsPort, func(t *testing.T, payload string) (int, string) {
			tc := h.mitmConn(t, "localhost:"+tlsPort)
			go io.WriteString(tc, payload) // an oversized head is answered before it is all read
			return readAnswer(tc)
		}},
	}
	for _, leg := range legs {
		target, host := leg.target, leg.host
		cases := []struct {
			name, payload string
			want          int
		}{
			{"garbage request line", "GARBAGE / / /\r\n\r\n", http.StatusBadRequest},
			{"method only", "GET\r\n\r\n", http.StatusBadRequest},
			{"binary", "\x00\x01\x02\x03\r\n\r\n", http.StatusBadRequest},
			{"header without colon", "GET " + target + "/get HTTP/1.1\r\nHost: " + host + "\r\nno colon here\r\n\r\n", http.StatusBadRequest},
			{"space in header name", "GET " + target + "/get HTTP/1.1\r\nHost: " + host + "\r\nBad Name: x\r\n\r\n", http.StatusBadRequest},
			{"NUL in header value", "GET " + target + "/get HTTP/1.1\r\nHost: " + host + "\r\nX-A: a\x00b\r\n\r\n", http.StatusBadRequest},
			{"no Host in HTTP/1.1", "GET /get HTTP/1.1\r\n\r\n", http.StatusBadRequest},
			{"two Hosts", "GET " + target + "/get HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", http.StatusBadRequest},
			{"oversized header", "GET " + target + "/get HTTP/1.1\r\nHost: " + host + "\r\nX-Big: " + strings.Repeat("a", 40<<10) + "\r\n\r\n", http.StatusRequestHeaderFieldsTooLarge},
			{"many headers", "GET " + target + "/get HTTP/1.1\r\nHost: " + host + "\r\n" + strings.Repeat("X-Many: aaaaaaaaaaaaaaaa\r\n", 2000) + "\r\n", http.StatusRequestHeaderFieldsTooLarge},
			{"two different Content-Lengths", "POST " + target + "/anything HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", http.StatusBadRequest},
			{"bad Content-Length", "POST " + target + "/anything HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: -5\r\n\r\n", http.StatusBadRequest},
			{"two Transfer-Encodings", "POST " + target + "/anything HTTP/1.1\r\nHost: " + host + "\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", http.StatusNotImplemented},
			{"Transfer-Encoding other than chunked", "POST " + target + "/anything HTTP/1.1\r\nHost: " + host + "\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", http.StatusNotImplemented},
		}
		for _, c := range cases {
			t.Run(leg.name+" "+c.name, func(t *testing.T) {
				if got, body := leg.answer(t, c.payload); got != c.want {
					t.Errorf("got %d %q, want %d", got, body, c.want)
				}
				// net/http answered before any handler ran; the flow is
				// recorded all the same, with the answer and what was known
				// of the request.
				f := h.flowWhere(func(f *flow.Flow) bool { return f.Error != nil && f.Error.Phase == flow.PhaseProxy })
				if !strings.Contains(f.Error.Message, fmt.Sprintf("answered \"%d ", c.want)) && !strings.Contains(f.Error.Message, fmt.Sprintf("answered \"Unsupported")) {
					t.Errorf("flow error %q does not give the answer %d", f.Error.Message, c.want)
				}
				if c.want == http.StatusNotImplemented && !strings.Contains(f.Error.Message, "Unsupported transfer encoding") {
					t.Errorf("flow error %q does not give the 501's text", f.Error.Message)
				}
				line, _, _ := strings.Cut(c.payload, "\r\n")
				fields := strings.Fields(line)
				if len(fields) == 3 && strings.HasPrefix(fields[1], "http://") && f.Request.URL != fields[1] {
					t.Errorf("flow URL %q, want %q from the request line", f.Request.URL, fields[1])
				}
				if leg.name == "mitm" {
					if want := "https://" + host + "/get"; len(fields) == 3 && fields[1] == "/get" && f.Request.URL != want {
						t.Errorf("flow URL %q, want %q", f.Request.URL, want)
					}
					if f.Client.TLS == nil || f.Client.TLS.Version == 0 {
						t.Errorf("flow client TLS %+v, want the tunnel's", f.Client.TLS)
					}
				}
				s.checkSub(t, c.name)
			})
		}
	}
	t.Run("header under the limit", func(t *testing.T) {
		got, _ := rawAnswer(t, h.addr, "GET http://"+up+"/get?under HTTP/1.1\r\nHost: "+up+"\r\nX-Big: "+strings.Repeat("a", 8<<10)+"\r\nConnection: close\r\n\r\n")
		if got != http.StatusOK {
			t.Errorf("an 8 KiB header under a 16 KiB limit: got %d, want 200", got)
		}
		h.flowFor(h.up.HTTP.URL + "/get?under")
		tc := h.mitmConn(t, "localhost:"+tlsPort)
		io.WriteString(tc, "GET /get?under HTTP/1.1\r\nHost: localhost:"+tlsPort+"\r\nX-Big: "+strings.Repeat("a", 8<<10)+"\r\nConnection: close\r\n\r\n")
		if got, _ := readAnswer(tc); got != http.StatusOK {
			t.Errorf("inside MITM, an 8 KiB header under a 16 KiB limit: got %d, want 200", got)
		}
		h.flowFor("https://localhost:" + tlsPort + "/get?under")
		s.checkSub(t, "header under the limit")
	})
}

// TestContentLengthWithTransferEncoding: the head scanner sees both
// headers (in the raw bytes on plain connections, in the decrypted ones
// inside MITM) and the request is refused (400, recorded). A head
// pipelined while the previous request was in flight is not scanned: its
// body is re-framed as chunked, so the upstream never sees the two
// headers disagree.
func TestContentLengthWithTransferEncoding(t *testing.T) {
	h := badInputProxy(t)
	s := newSteadiness(t, h)
	smuggle := func(target, host string) string {
		return "POST " + target + " HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
			"5\r\nhello\r\n0\r\n\r\n"
	}
	refused := func(t *testing.T, status int, body, url string) {
		t.Helper()
		if status != http.StatusBadRequest || !strings.Contains(body, "request-smuggling") {
			t.Errorf("got %d %q, want 400 naming the smuggling shape", status, body)
		}
		f := h.flowFor(url)
		if f.Error == nil || f.Error.Phase != flow.PhaseProxy {
			t.Errorf("flow error %v, want phase proxy", f.Error)
		}
	}
	t.Run("plain", func(t *testing.T) {
		up := hostOf(h.up.HTTP.URL)
		for _, eol := range []string{"\r\n", "\n"} {
			payload := strings.ReplaceAll(smuggle("http://"+up+"/anything?smuggle", up), "\r\n", eol)
			status, body := rawAnswer(t, h.addr, payload)
			refused(t, status, body, h.up.HTTP.URL+"/anything?smuggle")
		}
		// Chunked alone, and Content-Length alone, on one kept-alive connection.
		conn, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(conn)
		for _, framing := range []string{"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "Content-Length: 5\r\n\r\nhello"} {
			fmt.Fprintf(conn, "POST http://%s/anything?single HTTP/1.1\r\nHost: %s\r\n%s", up, up, framing)
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("%q: %v %v, want 200", framing, resp, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			h.flowFor(h.up.HTTP.URL + "/anything?single")
		}
		conn.Close()
		s.checkSub(t, "CL+TE plain")
	})
	t.Run("mitm", func(t *testing.T) {
		_, port, _ := net.SplitHostPort(hostOf(h.up.HTTPS.URL))
		tc := h.mitmConn(t, "localhost:"+port)
		io.WriteString(tc, smuggle("/anything?smuggle", "localhost:"+port))
		status, body := readAnswer(tc)
		tc.Close()
		refused(t, status, body, "https://localhost:"+port+"/anything?smuggle")
		s.checkSub(t, "CL+TE mitm")
	})
	t.Run("pipelined", func(t *testing.T) {
		// The second head arrives while the first request is in flight.
		_, port, _ := net.SplitHostPort(hostOf(h.up.HTTPS.URL))
		tc := h.mitmConn(t, "localhost:"+port)
		host := "localhost:" + port
		io.WriteString(tc, "GET /delay/0.2 HTTP/1.1\r\nHost: "+host+"\r\n\r\n"+smuggle("/anything?pipelined", host))
		br := bufio.NewReader(tc)
		for i := range 2 {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("answer %d: %v", i+1, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if i == 1 {
				if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `base64,aGVsbG8=`) {
					t.Errorf("got %d %q, want 200 with the whole chunked body echoed", resp.StatusCode, body)
				}
				if strings.Contains(string(body), `"Content-Length": [`+"\n"+`      "4"`) {
					t.Errorf("the upstream received the client's Content-Length: 4: %s", body)
				}
			}
		}
		tc.Close()
		if f := h.flowFor("https://" + host + "/anything?pipelined"); string(f.Request.Body.Data) != "hello" {
			t.Errorf("recorded body %q, want hello", f.Request.Body.Data)
		}
		s.checkSub(t, "CL+TE pipelined")
	})
}

func TestInvalidConnectTargetsGet400(t *testing.T) {
	h := badInputProxy(t)
	s := newSteadiness(t, h)
	// net/http itself answers 400 to targets it cannot parse, before any
	// handler (not recorded); the others reach onpath's check.
	notParsed := map[string]bool{"localhost:https": true, "[::1:443": true}
	for _, target := range []string{"example.com", "localhost:0", "localhost:99999", "localhost:https", "[::1:443", ":443", "exa$mple.com:443", "a..b:443", strings.Repeat("a", 64) + ".com:443"} {
		t.Run(target, func(t *testing.T) {
			got, body := rawAnswer(t, h.addr, "CONNECT "+target+" HTTP/1.1\r\nHost: "+target+"\r\n\r\n")
			if got != http.StatusBadRequest {
				t.Errorf("CONNECT %s: got %d %q, want 400", target, got, body)
			}
			if notParsed[target] {
				s.checkSub(t, target)
				return
			}
			f := h.flowWhere(func(f *flow.Flow) bool { return f.Request.Method == http.MethodConnect })
			if f.Error == nil || f.Error.Phase != flow.PhaseProxy || !strings.Contains(f.Error.Message, "bad CONNECT target") {
				t.Errorf("flow error %v, want phase proxy naming the bad target", f.Error)
			}
			s.checkSub(t, target)
		})
	}
}

func TestConnectToANonTLSServiceGets502InsideTLS(t *testing.T) {
	h := badInputProxy(t)
	s := newSteadiness(t, h)
	_, port, _ := net.SplitHostPort(hostOf(h.up.HTTP.URL))
	url := "https://localhost:" + port + "/get"
	client := h.client(false)
	status, body, _ := getText(t, client, url)
	client.CloseIdleConnections()
	if status != http.StatusBadGateway || !strings.Contains(body, "TLS handshake") {
		t.Errorf("got %d %q, want a 502 naming the TLS handshake", status, body)
	}
	if f := h.flowFor(url); f.Error == nil || f.Error.Phase != flow.PhaseTLS {
		t.Errorf("flow error %v, want phase tls", f.Error)
	}
	s.check(t, "CONNECT to a plain service")
}

func TestGarbageInsteadOfClientHello(t *testing.T) {
	h := badInputProxy(t)
	s := newSteadiness(t, h)
	_, port, _ := net.SplitHostPort(hostOf(h.up.HTTPS.URL))
	for _, c := range []struct{ name, garbage, want string }{
		{"not TLS", "\x00\x01garbage, more garbage, and more garbage\r\n\r\n", "neither a TLS ClientHello nor an HTTP request"},
		{"short, not TLS", "\x00\x01garbage\r\n\r\n", "neither a TLS ClientHello nor an HTTP request"},
		{"not TLS, no line end", "\x00\x01garbage", "after the CONNECT to localhost the client sent 9 bytes"}, // closed by whichever header timeout fires first
		{"broken TLS record", "\x16\x03\x01\x00\x05hello", "rejected onpath's certificate"},
		{"a partial TLS record", "\x16\x03\x01\x02\x00", "sent 5 bytes but no complete TLS handshake or request within 500ms"},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", h.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			fmt.Fprintf(conn, "CONNECT localhost:%s HTTP/1.1\r\nHost: localhost:%s\r\n\r\n", port, port)
			if status := readConnectReply(t, conn); status != http.StatusOK {
				t.Fatalf("CONNECT: %d, want 200", status)
			}
			io.WriteString(conn, c.garbage)
			if _, err := io.Copy(io.Discard, conn); err != nil {
				t.Errorf("the proxy did not close the connection: %v", err)
			}
			f := h.flowWhere(func(f *flow.Flow) bool { return f.Request.Method == http.MethodConnect })
			if f.Error == nil || f.Error.Phase != flow.PhaseClientTLS || !strings.Contains(f.Error.Message, c.want) {
				t.Errorf("flow error %v, want phase client-tls with %q", f.Error, c.want)
			}
			s.checkSub(t, c.name)
		})
	}
}

func TestRejectedCertificateFlowHintsAtPassthrough(t *testing.T) {
	h := badInputProxy(t)
	s := newSteadiness(t, h)
	distrust := &http.Client{Transport: &http.Transport{Proxy: h.transport(false).Proxy, TLSClientConfig: &tls.Config{}}, Timeout: 10 * time.Second}
	_, port, _ := net.SplitHostPort(hostOf(h.up.HTTPS.URL))
	if _, err := distrust.Get("https://localhost:" + port + "/get"); err == nil {
		t.Fatal("a client that does not trust onpath's CA got through")
	}
	distrust.CloseIdleConnections()
	f := h.flowWhere(func(f *flow.Flow) bool { return f.Error != nil })
	want := "the client rejected onpath's certificate (not trusted, or pinned): trust the CA, or tunnel this host with --passthrough localhost"
	if f.Error.Phase != flow.PhaseClientTLS || !strings.Contains(f.Error.Message, want) {
		t.Errorf("flow error %v, want phase client-tls with %q", f.Error, want)
	}
	s.check(t, "pinning")
}

// TestSlowlorisIsDisconnected: a client that sends a header byte every
// 50 ms never goes idle, but the header timeout (500 ms here) closes it.
func TestSlowlorisIsDisconnected(t *testing.T) {
	h := badInputProxy(t)
	s := newSteadiness(t, h)
	up := hostOf(h.up.HTTP.URL)
	_, port, _ := net.SplitHostPort(hostOf(h.up.HTTPS.URL))
	for _, c := range []struct {
		name string
		dial func(t *testing.T) net.Conn
		head string
	}{
		{"plain", func(t *testing.T) net.Conn {
			conn, err := net.Dial("tcp", h.addr)
			if err != nil {
				t.Fatal(err)
			}
			return conn
		}, "GET http://" + up + "/get HTTP/1.1\r\nHost: " + up + "\r\n" + strings.Repeat("X-Slow: 1\r\n", 100)},
		{"mitm", func(t *testing.T) net.Conn { return h.mitmConn(t, "localhost:"+port) },
			"GET /get HTTP/1.1\r\nHost: localhost\r\n" + strings.Repeat("X-Slow: 1\r\n", 100)},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := c.dial(t)
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(20 * time.Second))
			start := time.Now()
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			sent := 0
			closed := make(chan struct{})
			go func() { io.Copy(io.Discard, conn); close(closed) }()
		loop:
			for sent < len(c.head) {
				select {
				case <-closed:
					break loop
				case <-tick.C:
					if _, err := io.WriteString(conn, c.head[sent:sent+1]); err != nil {
						break loop
					}
					sent++
				}
			}
			select {
			case <-closed:
			case <-time.After(10 * time.Second):
				t.Fatal("the slow client is still connected 10 s on")
			}
			took := time.Since(start)
			if sent >= len(c.head) || took < 400*time.Millisecond || took > 5*time.Second {
				t.Errorf("closed after %v and %d of %d bytes, want about the 500ms header timeout", took, sent, len(c.head))
			}
			if c.name == "mitm" {
				f := h.flowWhere(func(f *flow.Flow) bool { return f.Request.Method == http.MethodConnect })
				if f.Error == nil || f.Error.Phase != flow.PhaseProxy || !strings.Contains(f.Error.Message, "header timeout") {
					t.Errorf("flow error %v, want phase proxy naming the header timeout", f.Error)
				}
			}
			s.checkSub(t, "slowloris "+c.name)
		})
	}
}

// TestKeepAliveIsNotTakenForSlowloris: an idle keep-alive connection
// outlives the header timeout (IdleTimeout bounds it), plain and MITM.
func TestKeepAliveIsNotTakenForSlowloris(t *testing.T) {
	h := badInputProxy(t)
	up := hostOf(h.up.HTTP.URL)
	_, port, _ := net.SplitHostPort(hostOf(h.up.HTTPS.URL))
	plain, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	mitm := h.mitmConn(t, "localhost:"+port)
	upTLS := "localhost:" + port
	for round := range 2 {
		if round == 1 {
			<-time.After(3 * h.p.HeaderTimeout) // idle, longer than the header timeout
		}
		for name, conn := range map[string]net.Conn{"plain": plain, "mitm": mitm} {
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			target, host := "http://"+up+"/get", up
			if name == "mitm" {
				target, host = "/get", upTLS
			}
			fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, host)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("%s, round %d: %v %v, want 200 on the kept-alive connection", name, round, resp, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
}

// TestUpstreamResetMidBody: the client sees the body end early, and the
// flow records a response-phase error.
func TestUpstreamResetMidBody(t *testing.T) {
	h := badInputProxy(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				br := bufio.NewReader(c)
				for line, err := br.ReadString('\n'); err == nil && line != "\r\n"; line, err = br.ReadString('\n') {
				}
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nContent-Type: text/plain\r\n\r\n")
				c.Write(bytes.Repeat([]byte("x"), 1000))
				c.(*net.TCPConn).SetLinger(0) // RST, not FIN
				c.Close()
			}()
		}
	}()
	s := newSteadiness(t, h)
	url := "http://" + l.Addr().String() + "/reset"
	client := h.client(false)
	defer client.CloseIdleConnections()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || len(got) >= 100000 {
		t.Errorf("client read %d bytes, err %v; want an aborted body", len(got), err)
	}
	f := h.flowFor(url)
	if f.Error == nil || f.Error.Phase != flow.PhaseResponse {
		t.Errorf("flow error %v, want phase response", f.Error)
	}
	client.CloseIdleConnections()
	if f.Response == nil || f.Response.Body.Size != 1000 {
		t.Errorf("recorded response %+v, want the 1000 bytes that came", f.Response)
	}
	s.check(t, "upstream reset")
}

// TestGzipBombPassesUntouchedAndDecodesBounded: the proxy forwards the
// compressed bytes as they are; decoding the recorded copy for display
// stops at the limit.
func TestGzipBombPassesUntouchedAndDecodesBounded(t *testing.T) {
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for range 256 { // 256 MiB of zeros, about 256 KiB compressed
		zw.Write(zeros)
	}
	zw.Close()
	upstream := testServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", fmt.Sprint(bomb.Len()))
		w.Write(bomb.Bytes())
	}))
	h := badInputProxy(t)
	s := newSteadiness(t, h)
	url := upstream + "/bomb"
	client := h.client(false)
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	client.CloseIdleConnections()
	if err != nil || !bytes.Equal(got, bomb.Bytes()) {
		t.Fatalf("client got %d bytes (err %v), want the %d compressed bytes untouched", len(got), err, bomb.Len())
	}
	f := h.flowFor(url)
	if f.Response == nil || !bytes.Equal(f.Response.Body.Data, bomb.Bytes()) {
		t.Fatalf("recorded body differs from the compressed bytes")
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const limit = 1 << 20
	decoded, err := content.Decode("gzip", f.Response.Body.Data, limit)
	runtime.ReadMemStats(&after)
	if int64(len(decoded)) != limit || err == nil {
		t.Errorf("decoded %d bytes, err %v; want exactly %d and an error saying it stopped", len(decoded), err, limit)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16*limit {
		t.Errorf("decoding allocated %d bytes for a %d-byte limit", grew, limit)
	}
	s.check(t, "gzip bomb")
}

func testServer(t *testing.T, handler http.Handler) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "http://" + l.Addr().String()
}

// TestGarbageSentWithTheConnect: bytes in the same write as the CONNECT
// are read as the tunnel's first bytes: neither TLS nor a request, they
// close the tunnel and are recorded.
func TestGarbageSentWithTheConnect(t *testing.T) {
	h := badInputProxy(t)
	s := newSteadiness(t, h)
	_, port, _ := net.SplitHostPort(hostOf(h.up.HTTPS.URL))
	conn, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "CONNECT localhost:%s HTTP/1.1\r\nHost: x\r\n\r\n\x00\x01garbage\r\n", port)
	if _, err := io.Copy(io.Discard, conn); err != nil {
		t.Errorf("the proxy did not close the connection: %v", err)
	}
	f := h.flowWhere(func(f *flow.Flow) bool { return f.Request.Method == http.MethodConnect })
	if f.Error == nil || f.Error.Phase != flow.PhaseClientTLS || !strings.Contains(f.Error.Message, "sent 11 bytes that are neither a TLS ClientHello nor an HTTP request") {
		t.Errorf("flow error %v, want phase client-tls", f.Error)
	}
	s.check(t, "garbage with the CONNECT")
}

// TestIdlePreconnectIsClosedNotRecorded: a tunnel whose TLS handshake
// completed but that carries no request (a browser's preconnected socket)
// is closed at the header timeout without a flow.
func TestIdlePreconnectIsClosedNotRecorded(t *testing.T) {
	h := badInputProxy(t)
	s := newSteadiness(t, h)
	_, port, _ := net.SplitHostPort(hostOf(h.up.HTTPS.URL))
	tc := h.mitmConn(t, "localhost:"+port)
	if _, err := io.Copy(io.Discard, tc); err != nil {
		t.Errorf("the idle tunnel was not closed: %v", err)
	}
	tc.Close()
	s.check(t, "idle preconnect")
	for {
		select {
		case f := <-h.finished:
			if f.Request.Method == http.MethodConnect {
				t.Errorf("an idle preconnected tunnel was recorded: %v", f.Error)
			}
			continue
		default:
		}
		break
	}
}

// TestSilentUpstreamLeavesNothingBehind: the 504 case with the
// steadiness checks (TestSilentUpstreamGets504 checks the answer).
func TestSilentUpstreamLeavesNothingBehind(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	plain := testServer(t, handler)
	secure := testupstream.StartTLS(t, handler)
	h := newHarness(t, func(p *Proxy) { p.ResponseTimeout = 200 * time.Millisecond })
	s := newSteadiness(t, h)
	client := h.client(false)
	for _, url := range []string{plain + "/silent", secure.URL + "/silent"} {
		if status, _, _ := getText(t, client, url); status != http.StatusGatewayTimeout {
			t.Errorf("%s: status %d, want 504", url, status)
		}
		h.flowFor(url)
	}
	client.CloseIdleConnections()
	s.check(t, "silent upstream")
}

// TestConnectInsideTheTunnel: a CONNECT sent inside a MITM'd tunnel is
// answered 405 and recorded, and the tunnel still serves.
func TestConnectInsideTheTunnel(t *testing.T) {
	h := badInputProxy(t)
	s := newSteadiness(t, h)
	_, port, _ := net.SplitHostPort(hostOf(h.up.HTTPS.URL))
	tc := h.mitmConn(t, "localhost:"+port)
	br := bufio.NewReader(tc)
	io.WriteString(tc, "CONNECT other.test:443 HTTP/1.1\r\nHost: other.test:443\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(string(body), "inside a CONNECT tunnel") {
		t.Errorf("got %d %q, want 405 saying why", resp.StatusCode, body)
	}
	f := h.flowWhere(func(f *flow.Flow) bool { return f.Request.Method == http.MethodConnect })
	if f.Error == nil || f.Error.Phase != flow.PhaseProxy || f.Request.URL != "https://other.test" {
		t.Errorf("flow %s error %v, want the nested CONNECT refused with phase proxy", f.Request.URL, f.Error)
	}
	io.WriteString(tc, "GET /get?after HTTP/1.1\r\nHost: localhost:"+port+"\r\n\r\n")
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("the tunnel after the refusal: %v %v, want 200", resp, err)
	} else {
		resp.Body.Close()
	}
	tc.Close()
	s.check(t, "CONNECT inside the tunnel")
}
