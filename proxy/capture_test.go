package proxy

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/mccutchen/go-httpbin/v2/httpbin"

	"onpath/flow"
	"onpath/internal/testupstream"
)

func TestPostOneMiBIsCapturedExactly(t *testing.T) {
	h := newHarness(t)
	payload := make([]byte, 1<<20)
	rand.Read(payload)
	for _, h2 := range []bool{false, true} {
		t.Run("h2="+strconv.FormatBool(h2), func(t *testing.T) {
			url := h.up.HTTPS.URL + "/anything?h2=" + strconv.FormatBool(h2)
			resp, err := h.client(h2).Post(url, "application/octet-stream", bytes.NewReader(payload))
			if err != nil {
				t.Fatalf("POST: %v", err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("got status %d, want 200", resp.StatusCode)
			}
			f := h.flowFor(url)
			if !bytes.Equal(f.Request.Body.Data, payload) || f.Request.Body.Size != int64(len(payload)) || f.Request.Body.Truncated {
				t.Errorf("request body: got %d bytes size %d truncated %v, want the exact %d bytes",
					len(f.Request.Body.Data), f.Request.Body.Size, f.Request.Body.Truncated, len(payload))
			}
			if got := f.Request.Header.Get("Content-Type"); got != "application/octet-stream" {
				t.Errorf("request Content-Type: got %q", got)
			}
		})
	}
}

func TestCookiesSetRecordsRedirectAndSetCookie(t *testing.T) {
	h := newHarness(t)
	url := h.up.HTTPS.URL + "/cookies/set?name=jordan"
	resp, err := h.client(false).Get(url)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("client got %d, want 302", resp.StatusCode)
	}
	f := h.flowFor(url)
	if f.Status() != http.StatusFound {
		t.Errorf("flow status: got %d, want 302", f.Status())
	}
	cookies := f.Response.Header.Values("Set-Cookie")
	if len(cookies) != 1 || !strings.HasPrefix(cookies[0], "name=jordan") {
		t.Errorf("flow Set-Cookie: got %q, want name=jordan...", cookies)
	}
	if loc := f.Response.Header.Get("Location"); loc == "" {
		t.Errorf("flow Location: missing")
	}
}

// TestCompressedBodiesPassUnchanged: what the client receives is byte for
// byte what the server sent, Content-Encoding and Content-Length included.
// go-httpbin answers /brotli with 501, so a small handler serves a fixed
// brotli body next to it.
func TestCompressedBodiesPassUnchanged(t *testing.T) {
	var brBody bytes.Buffer
	bw := brotli.NewWriter(&brBody)
	io.WriteString(bw, `{"brotli": true, "who": "onpath-test"}`)
	bw.Close()
	mux := http.NewServeMux()
	mux.Handle("/", testupstreamHandler())
	mux.HandleFunc("/brotli", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "br")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(brBody.Len()))
		w.Write(brBody.Bytes())
	})
	upstream := testupstream.StartTLS(t, mux)
	h := newHarness(t)
	direct := &http.Client{Transport: &http.Transport{
		TLSClientConfig:    &tls.Config{RootCAs: h.up.Roots},
		DisableCompression: true,
	}}
	for _, tt := range []struct {
		path, encoding string
		decode         func(io.Reader) (io.Reader, error)
	}{
		{"/gzip", "gzip", func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }},
		{"/brotli", "br", func(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil }},
	} {
		t.Run(tt.encoding, func(t *testing.T) {
			fetch := func(c *http.Client) (*http.Response, []byte) {
				req, _ := http.NewRequest("GET", upstream.URL+tt.path, nil)
				req.Header.Set("User-Agent", "onpath-test")
				req.Header.Set("Accept-Encoding", tt.encoding)
				resp, err := c.Do(req)
				if err != nil {
					t.Fatalf("GET %s: %v", tt.path, err)
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				if err != nil {
					t.Fatalf("read %s: %v", tt.path, err)
				}
				return resp, b
			}
			wantResp, want := fetch(direct)
			gotResp, got := fetch(h.client(false))
			if !bytes.Equal(got, want) {
				t.Errorf("body through the proxy differs from the direct fetch: got %d bytes, want %d", len(got), len(want))
			}
			if ce := gotResp.Header.Get("Content-Encoding"); ce != tt.encoding {
				t.Errorf("Content-Encoding: got %q, want %q", ce, tt.encoding)
			}
			if gotResp.ContentLength != wantResp.ContentLength || gotResp.ContentLength != int64(len(got)) {
				t.Errorf("Content-Length: got %d, want %d as sent directly", gotResp.ContentLength, wantResp.ContentLength)
			}
			dec, err := tt.decode(bytes.NewReader(got))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if plain, err := io.ReadAll(dec); err != nil || !bytes.Contains(plain, []byte(`"onpath-test"`)) {
				t.Errorf("decoded body: got %q, %v; want JSON naming onpath-test", plain, err)
			}
			f := h.flowFor(upstream.URL + tt.path)
			if !bytes.Equal(f.Response.Body.Data, got) {
				t.Errorf("flow body is not the raw wire bytes (%d vs %d)", len(f.Response.Body.Data), len(got))
			}
		})
	}
}

func testupstreamHandler() http.Handler { return httpbin.New() }

// TestStreamingReachesClientBeforeUpstreamFinishes proves the proxy does
// not buffer: the upstream holds the rest of its body until the client
// reports that it has read the first chunk, with a chunked body and with
// a Content-Length; and with ?head, it holds the whole body until the
// client has the response head.
func TestStreamingReachesClientBeforeUpstreamFinishes(t *testing.T) {
	type released struct{ byClient bool }
	// Each request has its own pair of channels, so that a failed case
	// cannot leave a signal behind for the next one.
	type signals struct {
		sawFirst chan struct{}
		outcome  chan released
	}
	var cases sync.Map // the request's "case" query value -> *signals
	const body = "first chunk\nsecond chunk\n"
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok := cases.Load(r.URL.Query().Get("case"))
		if !ok {
			http.Error(w, "unknown case", http.StatusBadRequest)
			return
		}
		sig := v.(*signals)
		wait := func() {
			select {
			case <-sig.sawFirst:
				sig.outcome <- released{true}
			case <-time.After(10 * time.Second):
				sig.outcome <- released{false}
			}
		}
		w.Header().Set("Content-Type", "text/plain")
		if r.URL.Query().Has("length") {
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		}
		if r.URL.Query().Has("head") {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			wait()
			io.WriteString(w, body)
			return
		}
		io.WriteString(w, "first chunk\n")
		w.(http.Flusher).Flush()
		wait()
		io.WriteString(w, "second chunk\n")
	})
	plain := httptest.NewServer(handler)
	t.Cleanup(plain.Close)
	secure := testupstream.StartTLS(t, handler)
	h := newHarness(t)

	for _, tt := range []struct {
		name string
		url  string
		h2   bool
	}{
		{"http", plain.URL + "/s", false},
		{"https h1", secure.URL + "/s1", false},
		{"https h2", secure.URL + "/s2", true},
	} {
		for _, query := range []string{"?", "?length&", "?head&", "?head&length&"} {
			t.Run(tt.name+strings.TrimRight(query, "&"), func(t *testing.T) {
				key := strings.ReplaceAll(tt.name+query, "&", "-")
				url := tt.url + query + "case=" + strings.ReplaceAll(key, " ", "-")
				sig := &signals{sawFirst: make(chan struct{}, 1), outcome: make(chan released, 1)}
				cases.Store(strings.ReplaceAll(key, " ", "-"), sig)
				sawFirst, outcome := sig.sawFirst, sig.outcome
				resp, err := h.client(tt.h2).Get(url)
				if err != nil {
					t.Fatalf("GET: %v", err)
				}
				defer resp.Body.Close()
				if strings.HasPrefix(query, "?head") {
					sawFirst <- struct{}{}
					if o := <-outcome; !o.byClient {
						t.Fatalf("the upstream timed out waiting: the response head was held by the proxy")
					}
				} else {
					buf := make([]byte, len("first chunk\n"))
					if _, err := io.ReadFull(resp.Body, buf); err != nil {
						t.Fatalf("reading the first chunk: %v", err)
					}
					sawFirst <- struct{}{}
					if o := <-outcome; !o.byClient {
						t.Fatalf("the upstream timed out waiting: the first chunk was buffered by the proxy")
					}
				}
				rest, _ := io.ReadAll(resp.Body)
				if !strings.HasSuffix(body, string(rest)) || !strings.HasSuffix(string(rest), "second chunk\n") {
					t.Errorf("rest: got %q", rest)
				}
				if strings.Contains(query, "length") && resp.ContentLength != int64(len(body)) {
					t.Errorf("Content-Length %d, want the upstream's %d", resp.ContentLength, len(body))
				}
				f := h.flowFor(url)
				if string(f.Response.Body.Data) != body || f.Error != nil {
					t.Errorf("flow: got body %q error %v", f.Response.Body.Data, f.Error)
				}
			})
		}
	}
}

func TestHTTPBinStreamAndDrip(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/stream/20", "/drip?duration=0.2&numbytes=10&delay=0"} {
		for _, h2 := range []bool{false, true} {
			url := h.up.HTTPS.URL + path
			resp, err := h.client(h2).Get(url)
			if err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			f := h.flowFor(url)
			if f.Error != nil || !bytes.Equal(f.Response.Body.Data, body) {
				t.Errorf("%s h2=%v: flow error %v, captured %d bytes, client got %d", path, h2, f.Error, len(f.Response.Body.Data), len(body))
			}
			if path == "/stream/20" && bytes.Count(body, []byte("\n")) != 20 {
				t.Errorf("%s: got %d lines, want 20", path, bytes.Count(body, []byte("\n")))
			}
		}
	}
}

func TestStatus500IsRecordedNotAnError(t *testing.T) {
	h := newHarness(t)
	url := h.up.HTTP.URL + "/status/500"
	resp, err := h.client(false).Get(url)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Errorf("client got %d, want 500", resp.StatusCode)
	}
	f := h.flowFor(url)
	if f.Status() != 500 || f.Error != nil {
		t.Errorf("flow: got status %d error %v, want 500 and no error", f.Status(), f.Error)
	}
}

func TestBodyLimitTruncatesCaptureNotTraffic(t *testing.T) {
	h := newHarness(t, func(p *Proxy) { p.BodyLimit = 1000 })
	payload := bytes.Repeat([]byte("x"), 3000)
	for _, base := range []string{h.up.HTTP.URL, h.up.HTTPS.URL} {
		url := base + "/bytes/5000"
		resp, err := h.client(false).Get(url)
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if len(body) != 5000 {
			t.Errorf("%s: client got %d bytes, want all 5000", url, len(body))
		}
		f := h.flowFor(url)
		want := flow.Body{Size: 5000, Truncated: true}
		if got := f.Response.Body; got.Size != want.Size || !got.Truncated || !bytes.Equal(got.Data, body[:1000]) {
			t.Errorf("%s: response body: got size %d truncated %v data %d bytes, want the first 1000 of 5000", url, got.Size, got.Truncated, len(got.Data))
		}

		url = base + "/anything"
		resp, err = h.client(false).Post(url, "text/plain", bytes.NewReader(payload))
		if err != nil {
			t.Fatalf("POST: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		f = h.flowFor(url)
		if got := f.Request.Body; got.Size != 3000 || !got.Truncated || len(got.Data) != 1000 {
			t.Errorf("%s: request body: got size %d truncated %v data %d, want 1000 of 3000", url, got.Size, got.Truncated, len(got.Data))
		}
	}
}

func TestBodylessResponsesEndCleanly(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		method, path string
		want         int
	}{
		{"HEAD", "/get", 200},
		{"GET", "/status/204", 204},
		{"GET", "/status/304", 304},
		{"GET", "/bytes/0", 200},
	}
	for _, base := range []string{h.up.HTTP.URL, h.up.HTTPS.URL} {
		for _, h2 := range []bool{false, true} {
			for _, tt := range tests {
				req, _ := http.NewRequest(tt.method, base+tt.path, nil)
				resp, err := h.client(h2).Do(req)
				if err != nil {
					t.Fatalf("%s %s: %v", tt.method, base+tt.path, err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				f := h.flowFor(base + tt.path)
				if resp.StatusCode != tt.want || f.Status() != tt.want || f.Error != nil {
					t.Errorf("%s %s h2=%v: client %d, flow %d error %v; want %d and no error", tt.method, base+tt.path, h2, resp.StatusCode, f.Status(), f.Error, tt.want)
				}
			}
		}
	}
}

func TestCaptureBufferKeepsTheFirstLimitBytes(t *testing.T) {
	tests := []struct {
		limit, reserve int64
		writes         []string
		want           string
		size           int64
	}{
		{10, 0, []string{"hello", " ", "world"}, "hello worl", 11},
		{10, 4, []string{"abc", "defghijklmnop"}, "abcdefghij", 16},
		{100, 0, []string{"a", "b"}, "ab", 2},
		{3, 0, []string{"", "abcd", "e"}, "abc", 5},
	}
	for _, tt := range tests {
		b := captureBuffer{limit: tt.limit}
		b.reserve(tt.reserve)
		for _, w := range tt.writes {
			b.write([]byte(w))
		}
		got := b.body()
		if string(got.Data) != tt.want || got.Size != tt.size || got.Truncated != (tt.size > int64(len(tt.want))) {
			t.Errorf("limit %d writes %q: got %q size %d truncated %v, want %q size %d", tt.limit, tt.writes, got.Data, got.Size, got.Truncated, tt.want, tt.size)
		}
		if int64(cap(got.Data)) > tt.limit {
			t.Errorf("limit %d: buffer capacity %d exceeds the limit", tt.limit, cap(got.Data))
		}
	}
}

// A large body of unknown length (chunked, or HTTP/2 without
// Content-Length) must not leave behind as much garbage as it keeps: the
// collector lets the heap grow by the live size before it runs, so the
// discarded buffers raise the proxy's peak RSS while streaming.
func TestCaptureBufferGrowthGarbageOfALargeBody(t *testing.T) {
	const limit = 16 << 20
	b := captureBuffer{limit: limit}
	chunk := make([]byte, 16<<10)
	var discarded int
	for range limit / len(chunk) {
		before := cap(b.data)
		b.write(chunk)
		if cap(b.data) != before {
			discarded += before
		}
	}
	if got := cap(b.data); got != limit {
		t.Fatalf("capacity after %d bytes: got %d, want %d", limit, got, limit)
	}
	if want := limit / 2; discarded > want {
		t.Errorf("discarded buffers while growing to %d bytes: got %d bytes, want at most %d", limit, discarded, want)
	}
}

func TestOnStartGetsAPendingCopy(t *testing.T) {
	h := newHarness(t)
	url := h.up.HTTP.URL + "/get?start"
	getText(t, h.client(false), url)
	started := <-h.started
	finished := h.flowFor(url)
	if !started.Pending() || started.Response != nil {
		t.Errorf("OnStart flow: pending %v response %v, want a pending flow without response", started.Pending(), started.Response)
	}
	if started.ID != finished.ID || started.Request.URL != url {
		t.Errorf("OnStart flow: got id %d url %s, want %d %s", started.ID, started.Request.URL, finished.ID, url)
	}
	started.Request.Header.Set("X-Mutated", "1")
	if finished.Request.Header.Get("X-Mutated") != "" {
		t.Errorf("the OnStart copy shares its headers with the finished flow")
	}
}

func TestTrailersAreRecorded(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Checksum")
		io.WriteString(w, "body")
		w.Header().Set("X-Checksum", "abc123")
	})
	plain := httptest.NewServer(handler)
	t.Cleanup(plain.Close)
	secure := testupstream.StartTLS(t, handler)
	h := newHarness(t)
	for _, tt := range []struct {
		url string
		h2  bool
	}{{plain.URL + "/t", false}, {secure.URL + "/t", false}, {secure.URL + "/t2", true}} {
		resp, err := h.client(tt.h2).Get(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if got := resp.Trailer.Get("X-Checksum"); got != "abc123" {
			t.Errorf("%s h2=%v: client trailer %q, want abc123", tt.url, tt.h2, got)
		}
		f := h.flowFor(tt.url)
		if got := f.Response.Trailer.Get("X-Checksum"); got != "abc123" {
			t.Errorf("%s h2=%v: flow trailer %q, want abc123", tt.url, tt.h2, got)
		}
	}
}

// TestClientAbortDuringUpload: the client promises 1000 bytes, sends 10
// and hangs up.
func TestClientAbortDuringUpload(t *testing.T) {
	h := newHarness(t)
	conn, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	url := h.up.HTTP.URL + "/anything"
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000\r\n\r\n0123456789", url, strings.TrimPrefix(h.up.HTTP.URL, "http://"))
	conn.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, conn)
	conn.Close()
	f := h.flowFor(url)
	if f.Error == nil || f.Error.Phase != flow.PhaseClientAbort {
		t.Errorf("flow error: got %v, want client-abort", f.Error)
	}
	if string(f.Request.Body.Data) != "0123456789" {
		t.Errorf("captured request body: got %q, want the 10 bytes sent", f.Request.Body.Data)
	}
}

// TestExpectContinue: a client that asks for 100 Continue before sending
// its body gets it, on a plain connection and inside MITM, and the body
// reaches the upstream and the flow.
func TestExpectContinue(t *testing.T) {
	h := newHarness(t)
	_, tlsPort, _ := net.SplitHostPort(strings.TrimPrefix(h.up.HTTPS.URL, "https://"))
	plainHost := strings.TrimPrefix(h.up.HTTP.URL, "http://")
	body := strings.Repeat("b", 100<<10)
	for _, leg := range []struct {
		name, target, host, flowURL string
		dial                        func(t *testing.T) net.Conn
	}{
		{"plain", h.up.HTTP.URL + "/anything?expect", plainHost, h.up.HTTP.URL + "/anything?expect", func(t *testing.T) net.Conn {
			c, err := net.Dial("tcp", h.addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			c.SetDeadline(time.Now().Add(10 * time.Second))
			return c
		}},
		{"mitm", "/anything?expect", "localhost:" + tlsPort, "https://localhost:" + tlsPort + "/anything?expect", func(t *testing.T) net.Conn {
			return h.mitmConn(t, "localhost:"+tlsPort)
		}},
	} {
		t.Run(leg.name, func(t *testing.T) {
			conn := leg.dial(t)
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n", leg.target, leg.host, len(body))
			br := bufio.NewReader(conn)
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			line, err := br.ReadString('\n')
			if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
				t.Fatalf("before the body: got %q %v, want 100 Continue", line, err)
			}
			if _, err := br.ReadString('\n'); err != nil { // the blank line ending the interim response
				t.Fatal(err)
			}
			io.WriteString(conn, body)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("answer: %v", err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(got), "YmJiYmJiYmJi") { // base64 of the b...s
				t.Errorf("got %d (%d bytes), want 200 with the body echoed", resp.StatusCode, len(got))
			}
			if f := h.flowFor(leg.flowURL); len(f.Request.Body.Data) != len(body) {
				t.Errorf("flow request body %d bytes, want %d", len(f.Request.Body.Data), len(body))
			}
		})
	}
}

// TestResponseHeadersReachClientAsSent: a response without Content-Type
// or Date gets neither on its way to the client (net/http's server would
// sniff one and stamp the other), plain, inside MITM and over HTTP/2.
func TestResponseHeadersReachClientAsSent(t *testing.T) {
	h := newHarness(t)
	serve := func(l net.Listener) {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 15\r\nX-Upstream: as sent\r\n\r\n<html>hi</html>")
				}
			}()
		}
	}
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plain.Close() })
	go serve(plain)
	secure, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{testupstream.Leaf(t, "127.0.0.1")},
		NextProtos:   []string{"http/1.1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { secure.Close() })
	go serve(secure)

	for _, c := range []struct {
		name string
		url  string
		h2   bool
	}{
		{"plain", "http://" + plain.Addr().String() + "/", false},
		{"mitm", "https://" + secure.Addr().String() + "/", false},
		{"mitm h2", "https://" + secure.Addr().String() + "/h2", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, err := h.client(c.h2).Get(c.url)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != "<html>hi</html>" || resp.Header.Get("X-Upstream") != "as sent" {
				t.Errorf("got %q with headers %v, want the upstream's", body, resp.Header)
			}
			for _, name := range []string{"Content-Type", "Date"} {
				if v, ok := resp.Header[name]; ok {
					t.Errorf("the client got %s: %q, which the upstream did not send", name, v)
				}
			}
			h.flowFor(c.url)
		})
	}
}
