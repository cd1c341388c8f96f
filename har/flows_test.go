package har

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"net/http"
	"strconv"
	"testing"
	"time"

	"onpath/flow"
)

// base is a fixed instant: exports must not depend on the clock.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

func at(ms float64) time.Time { return base.Add(time.Duration(ms * float64(time.Millisecond))) }

func gzipped(t testing.TB, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func wire(data []byte) flow.Body { return flow.Body{Size: int64(len(data)), Data: data} }

// sampleFlows covers what an export must carry: every body shape, cookies,
// forms, TLS on both legs, errors, truncation, replays and tunnels.
func sampleFlows(t testing.TB) []*flow.Flow {
	t.Helper()
	jsonBody := `{"user":"ada","roles":["admin"],"note":"<b>&</b> é"}`
	gz := gzipped(t, jsonBody)
	longText := bytes.Repeat([]byte("0123456789abcdef"), 512)
	truncGz := gzipped(t, string(longText))
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
	multipart := "--BOUND\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHello\r\n" +
		"--BOUND\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n\x00\x01\xff\r\n" +
		"--BOUND--\r\n"
	serverTLS := &flow.TLSInfo{
		Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256, SNI: "api.example.com", ALPN: "h2",
		Chain: []flow.Certificate{{Subject: "CN=api.example.com", Issuer: "CN=Example CA", SerialNumber: "01",
			DNSNames: []string{"api.example.com"}, NotBefore: base.AddDate(0, -1, 0), NotAfter: base.AddDate(0, 2, 0),
			SHA256: "ab12"}},
		Verified: true,
	}
	clientTLS := &flow.TLSInfo{Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256, SNI: "api.example.com",
		ALPN: "h2", OfferedALPN: []string{"h2", "http/1.1"}, Verified: true}

	return []*flow.Flow{
		{
			ID: 1, Kind: flow.KindHTTP,
			Client: flow.Conn{Addr: "127.0.0.1:50123", TLS: clientTLS},
			Server: flow.Conn{Addr: "93.184.216.34:443", TLS: serverTLS},
			Request: flow.Request{Method: "GET", URL: "https://api.example.com/users?id=7&tag=a%20b&tag=c", Proto: "HTTP/2.0",
				Header: http.Header{"Accept-Encoding": {"gzip, br"}, "Cookie": {"sid=abc123; theme=dark"},
					"User-Agent": {"test/1.0"}}},
			Response: &flow.Response{Proto: "HTTP/2.0", Status: 200,
				Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}, "Content-Encoding": {"gzip"},
					"Content-Length": {strconv.Itoa(len(gz))},
					"Set-Cookie": {"sid=new; Path=/; Domain=example.com; Secure; HttpOnly; SameSite=Strict; Max-Age=3600",
						"theme=light; Expires=Wed, 21 Oct 2026 07:28:00 GMT; SameSite=Lax", "bad cookie line"}},
				Body: wire(gz)},
			Timings: flow.Timings{Start: base, DNSStart: at(1), DNSDone: at(3.5), ConnectStart: at(3.6), ConnectDone: at(10),
				TLSStart: at(10), TLSDone: at(25.25), RequestSent: at(26), FirstByte: at(80), End: at(81.5)},
			Findings: []flow.Finding{{Rule: "CK09", Severity: flow.SeverityLow, Message: "Domain set", Evidence: "sid", Fix: "use __Host-"}},
		},
		{
			ID: 2, Kind: flow.KindHTTP,
			Client: flow.Conn{Addr: "[::1]:50200"},
			Server: flow.Conn{Addr: "[2001:db8::1]:8080"},
			Request: flow.Request{Method: "POST", URL: "http://[2001:db8::1]:8080/login", Proto: "HTTP/1.1",
				Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Content-Length": {"32"}},
				Body:   wire([]byte("user=ada&password=s3cr%26t&x=a+b"))},
			Response: &flow.Response{Proto: "HTTP/1.1", Status: 302,
				Header: http.Header{"Location": {"/home"}, "Content-Length": {"0"}}},
			Timings: flow.Timings{Start: base, RequestSent: at(1), FirstByte: at(2), End: at(2)},
		},
		{
			ID: 3, Kind: flow.KindHTTP,
			Client: flow.Conn{Addr: "127.0.0.1:50124"}, Server: flow.Conn{Addr: "93.184.216.34:443", TLS: serverTLS},
			Request: flow.Request{Method: "PUT", URL: "https://api.example.com/upload", Proto: "HTTP/1.1",
				Header: http.Header{"Content-Type": {"multipart/form-data; boundary=BOUND"}},
				Body:   wire([]byte(multipart))},
			Response: &flow.Response{Proto: "HTTP/1.1", Status: 201,
				Header:  http.Header{"Content-Type": {"image/png"}},
				Trailer: http.Header{"X-Checksum": {"abc"}},
				Body:    wire(png)},
			Timings: flow.Timings{Start: base, RequestSent: at(5), FirstByte: at(6), End: at(9)},
		},
		{
			ID: 4, Kind: flow.KindHTTP,
			Client:  flow.Conn{Addr: "127.0.0.1:50125"},
			Request: flow.Request{Method: "GET", URL: "https://no-such-host.invalid/", Proto: "HTTP/1.1"},
			Error:   &flow.Error{Phase: flow.PhaseDNS, Message: "lookup no-such-host.invalid: no such host"},
			Timings: flow.Timings{Start: base, DNSStart: at(0.1), End: at(4)},
		},
		{
			ID: 5, Kind: flow.KindHTTP, ReplayOf: 2, Forced: true,
			Client: flow.Conn{Addr: "127.0.0.1:50126"}, Server: flow.Conn{Addr: "10.0.0.1:80"},
			Request: flow.Request{Method: "POST", URL: "http://10.0.0.1/big", Proto: "HTTP/1.1",
				Header: http.Header{"Content-Type": {"application/octet-stream"}},
				Body:   flow.Body{Size: 1 << 20, Truncated: true, Data: []byte{0, 1, 2, 3}}},
			Response: &flow.Response{Proto: "HTTP/1.1", Status: 200,
				Header: http.Header{"Content-Type": {"text/plain"}, "Content-Encoding": {"gzip"}},
				Body:   flow.Body{Size: int64(len(truncGz)), Truncated: true, Data: truncGz[:len(truncGz)/2]}},
			Timings: flow.Timings{Start: base, RequestSent: at(1), FirstByte: at(2), End: at(3)},
		},
		{
			ID: 6, Kind: flow.KindHTTP,
			Client: flow.Conn{Addr: "127.0.0.1:50127"}, Server: flow.Conn{Addr: "10.0.0.2:80"},
			Request: flow.Request{Method: "GET", URL: "http://10.0.0.2/odd", Proto: "HTTP/1.1"},
			Response: &flow.Response{Proto: "HTTP/1.1", Status: 200,
				Header: http.Header{"Content-Type": {"text/plain"}, "Content-Encoding": {"x-custom"}},
				Body:   wire([]byte("opaque\x00bytes"))},
			Timings: flow.Timings{Start: base, RequestSent: at(1), FirstByte: at(2), End: at(3)},
		},
		{
			ID: 7, Kind: flow.KindTunnel,
			Client: flow.Conn{Addr: "127.0.0.1:50128"}, Server: flow.Conn{Addr: "142.250.1.1:443"},
			Request: flow.Request{Method: "CONNECT", URL: "https://pinned.example.com:443", Proto: "HTTP/1.1"},
			Tunnel:  &flow.Tunnel{BytesUp: 1200, BytesDown: 56000},
			Timings: flow.Timings{Start: base, ConnectStart: at(0.5), ConnectDone: at(2), End: at(900)},
		},
	}
}
