package ui

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"onpath/audit"
	"onpath/flow"
	"onpath/store"
)

// testNow is the fixed clock of every golden test.
var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func timings(startOffset time.Duration, total time.Duration) flow.Timings {
	start := testNow.Add(-time.Hour).Add(startOffset)
	return flow.Timings{
		Start:        start,
		DNSStart:     start.Add(1 * time.Millisecond),
		DNSDone:      start.Add(5 * time.Millisecond),
		ConnectStart: start.Add(5 * time.Millisecond),
		ConnectDone:  start.Add(15 * time.Millisecond),
		TLSStart:     start.Add(15 * time.Millisecond),
		TLSDone:      start.Add(40 * time.Millisecond),
		RequestSent:  start.Add(42 * time.Millisecond),
		FirstByte:    start.Add(total - 10*time.Millisecond),
		End:          start.Add(total),
	}
}

func tlsInfo(sni string) *flow.TLSInfo {
	return &flow.TLSInfo{
		Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256, SNI: sni, ALPN: "h2",
		OfferedALPN: []string{"h2", "http/1.1"}, Verified: true,
		Chain: []flow.Certificate{
			{Subject: "CN=" + sni, Issuer: "CN=Example Issuing CA", SerialNumber: "1f2e", DNSNames: []string{sni, "www." + sni},
				NotBefore: testNow.AddDate(0, -2, 0), NotAfter: testNow.AddDate(0, 1, 0), SHA256: "aa11bb22cc33dd44ee55ff66aa11bb22cc33dd44ee55ff66aa11bb22cc33dd44"},
			{Subject: "CN=Example Issuing CA", Issuer: "CN=Example Root", IsCA: true,
				NotBefore: testNow.AddDate(-2, 0, 0), NotAfter: testNow.AddDate(3, 0, 0), SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
		},
	}
}

// jsonFlow is an https GET answered with gzip-compressed JSON.
func jsonFlow(t testing.TB) *flow.Flow {
	body := []byte(`{"user":{"id":42,"name":"Ada","roles":["admin","dev"]},"needle":"found me","items":[1,2,3]}`)
	return &flow.Flow{
		Kind:   flow.KindHTTP,
		Client: flow.Conn{Addr: "127.0.0.1:50001", TLS: tlsInfo("api.example.com")},
		Server: flow.Conn{Addr: "93.184.216.34:443", TLS: tlsInfo("api.example.com")},
		Request: flow.Request{Method: "GET", URL: "https://api.example.com/v1/users/42?expand=roles", Proto: "HTTP/2.0",
			Header: http.Header{"Accept": {"application/json"}, "Authorization": {"Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"}}},
		Response: &flow.Response{Proto: "HTTP/2.0", Status: 200,
			Header: http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}, "Strict-Transport-Security": {"max-age=31536000"}},
			Body:   flow.Body{Size: int64(len(gzipped(t, body))), Data: gzipped(t, body)}},
		Timings: timings(0, 120*time.Millisecond),
	}
}

// badCookieFlow is an https response setting a session cookie without
// HttpOnly, SameSite=None without Secure, and a broken __Host- cookie.
func badCookieFlow() *flow.Flow {
	return &flow.Flow{
		Kind:   flow.KindHTTP,
		Client: flow.Conn{Addr: "127.0.0.1:50002", TLS: tlsInfo("shop.example.com")},
		Server: flow.Conn{Addr: "203.0.113.7:443", TLS: tlsInfo("shop.example.com")},
		Request: flow.Request{Method: "GET", URL: "https://shop.example.com/account", Proto: "HTTP/1.1",
			Header: http.Header{"Cookie": {"sessionid=abc123def456ghi789; theme=dark"}}},
		Response: &flow.Response{Proto: "HTTP/1.1", Status: 200,
			Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}, "Set-Cookie": {
				"sessionid=9f8e7d6c5b4a39281706f5e4d3c2b1a0; Path=/; Secure",
				"tracking=xyz; SameSite=None",
				"__Host-csrf=tok123; Path=/app; Secure; HttpOnly; SameSite=Strict",
				"prefs=compact; Secure; HttpOnly; SameSite=Lax; Max-Age=3600",
			}},
			Body: flow.Body{Size: 21, Data: []byte("<html>account</html>\n")}},
		Timings: timings(2*time.Second, 80*time.Millisecond),
	}
}

// loginFlow is a plain-HTTP POST of a password form.
func loginFlow() *flow.Flow {
	form := "user=ada&password=hunter2&remember=1"
	return &flow.Flow{
		Kind:   flow.KindHTTP,
		Client: flow.Conn{Addr: "127.0.0.1:50003"},
		Server: flow.Conn{Addr: "198.51.100.9:80"},
		Request: flow.Request{Method: "POST", URL: "http://legacy.example.net/login?next=/home&token=s3cr3tt0k3nvalue", Proto: "HTTP/1.1",
			Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {"PHPSESSID=0123456789abcdef0123"}},
			Body:   flow.Body{Size: int64(len(form)), Data: []byte(form)}},
		Response: &flow.Response{Proto: "HTTP/1.1", Status: 302,
			Header: http.Header{"Location": {"/home"}, "Set-Cookie": {"PHPSESSID=fedcba9876543210fedc; path=/"}}},
		Timings: flow.Timings{Start: testNow.Add(-time.Hour + 4*time.Second), ConnectStart: testNow.Add(-time.Hour + 4*time.Second),
			ConnectDone: testNow.Add(-time.Hour + 4*time.Second + 9*time.Millisecond), RequestSent: testNow.Add(-time.Hour + 4*time.Second + 10*time.Millisecond),
			FirstByte: testNow.Add(-time.Hour + 4*time.Second + 60*time.Millisecond), End: testNow.Add(-time.Hour + 4*time.Second + 61*time.Millisecond)},
	}
}

func simpleFlow(method, url string, status int, size int, offset time.Duration) *flow.Flow {
	f := &flow.Flow{
		Kind:    flow.KindHTTP,
		Request: flow.Request{Method: method, URL: url, Proto: "HTTP/1.1", Header: http.Header{"User-Agent": {"curl/8.5.0"}}},
		Timings: timings(offset, 35*time.Millisecond),
	}
	if status > 0 {
		f.Response = &flow.Response{Proto: "HTTP/1.1", Status: status, Header: http.Header{"Content-Type": {"text/plain"}},
			Body: flow.Body{Size: int64(size), Data: bytes.Repeat([]byte("x"), size)}}
	}
	if len(url) > 5 && url[:5] == "https" {
		f.Server.TLS = tlsInfo("example.org")
		f.Client.TLS = tlsInfo("example.org")
	}
	return f
}

// mixedFlows is the list golden's traffic: every status class, a
// pending flow, a failed one, a passthrough tunnel, a binary body.
func mixedFlows(t testing.TB) []*flow.Flow {
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0, 1, 2, 0xfe}, 20)...)
	img := simpleFlow("GET", "https://cdn.example.org/img/logo.png", 200, 0, 6*time.Second)
	img.Response.Header.Set("Content-Type", "image/png")
	img.Response.Body = flow.Body{Size: int64(len(png)), Data: png}
	failed := simpleFlow("GET", "https://nowhere.invalid/", 0, 0, 7*time.Second)
	failed.Error = &flow.Error{Phase: flow.PhaseDNS, Message: "lookup nowhere.invalid: no such host"}
	tunnel := &flow.Flow{Kind: flow.KindTunnel, Request: flow.Request{Method: "CONNECT", URL: "pinned.example.com:443"},
		Tunnel: &flow.Tunnel{BytesUp: 5120, BytesDown: 204800}, Timings: timings(8*time.Second, 3*time.Second)}
	pending := simpleFlow("GET", "https://slow.example.org/stream/events?channel=a-very-long-channel-name-that-needs-shortening", 0, 0, 9*time.Second)
	pending.Timings.End = time.Time{}
	fs := []*flow.Flow{
		jsonFlow(t),
		simpleFlow("GET", "https://example.org/missing/page", 404, 9, time.Second),
		badCookieFlow(),
		simpleFlow("DELETE", "https://example.org/api/items/7", 500, 21, 3*time.Second),
		loginFlow(),
		simpleFlow("OPTIONS", "https://example.org/a/very/long/path/that/will/not/fit/in/the/column/at/all/index.html", 204, 0, 5*time.Second),
		img, failed, tunnel, pending,
	}
	for _, f := range fs {
		f.Findings = audit.Findings(f, testNow)
	}
	return fs
}

// openStore opens a fresh bbolt store holding fs.
func openStore(t testing.TB, fs []*flow.Flow) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "flows.db"), store.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if len(fs) > 0 {
		if err := st.PutBatch(fs); err != nil {
			t.Fatal(err)
		}
	}
	return st
}
