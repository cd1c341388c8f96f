package har

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"onpath/flow"
)

func readFixture(t *testing.T, name string) []*flow.Flow {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	flows, err := Read(bytes.NewReader(data), "fixture", 1<<20)
	if err != nil {
		t.Fatalf("Read %s: %v", name, err)
	}
	for i, f := range flows {
		if f.ImportID != "fixture" || f.ID != 0 {
			t.Errorf("%s flow %d: import id %q id %d, want fixture and 0", name, i, f.ImportID, f.ID)
		}
	}
	return flows
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

type check struct {
	name      string
	got, want any
}

func runChecks(t *testing.T, checks []check) {
	t.Helper()
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func TestReadChrome(t *testing.T) {
	flows := readFixture(t, "chrome.har")
	if len(flows) != 3 {
		t.Fatalf("got %d flows, want 3 (the data: URL entry skipped)", len(flows))
	}
	page, post, failed := flows[0], flows[1], flows[2]
	start := mustTime(t, "2024-05-01T10:00:00.123Z")
	tm := page.Timings
	runChecks(t, []check{
		{"method", page.Request.Method, "GET"},
		{"url", page.Request.URL, "https://shop.example/cart?id=42&lang=en"},
		{"proto", page.Request.Proto, "HTTP/2.0"},
		{"kind", page.Kind, flow.KindHTTP},
		{"request headers canonical, pseudo-headers dropped", page.Request.Header, http.Header{
			"Accept":          {"text/html,application/xhtml+xml"},
			"Accept-Encoding": {"gzip, deflate, br, zstd"},
			"Cookie":          {"session=abc; theme=dark"},
			"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0.0.0"},
		}},
		{"no request body", page.Request.Body, flow.Body{}},
		{"status", page.Status(), 200},
		{"decoded body: coding dropped, length follows", page.Response.Header, http.Header{
			"Content-Length": {"44"},
			"Content-Type":   {"text/html; charset=utf-8"},
			"Set-Cookie":     {"session=abc; Path=/; Secure; HttpOnly; SameSite=Lax"},
		}},
		{"response body", string(page.Response.Body.Data), "<!doctype html><title>Cart</title><p>2 items"},
		{"response size", page.Response.Body.Size, int64(44)},
		{"server address from bracketed IPv6", page.Server.Addr, "[2001:db8::10]:443"},
		{"start", tm.Start.Equal(start), true},
		{"blocked", tm.DNSStart.Sub(tm.Start), ms(2.5)},
		{"dns", tm.DNSDone.Sub(tm.DNSStart), ms(10)},
		{"connect includes ssl", tm.TLSDone.Sub(tm.ConnectStart), ms(60)},
		{"tcp connect", tm.ConnectDone.Sub(tm.ConnectStart), ms(30)},
		{"ssl", tm.TLSDone.Sub(tm.TLSStart), ms(30)},
		{"send", tm.RequestSent.Sub(tm.TLSDone), ms(0.5)},
		{"wait", tm.FirstByte.Sub(tm.RequestSent), ms(150)},
		{"receive", tm.End.Sub(tm.FirstByte), ms(22.5)},
		{"duration", tm.Duration(), ms(245.5)},

		{"post method", post.Request.Method, "POST"},
		{"post body", string(post.Request.Body.Data), `{"item":7,"qty":"1 €"}`},
		{"post body size", post.Request.Body.Size, int64(len(`{"item":7,"qty":"1 €"}`))},
		{"repeated header", post.Request.Header["X-Requested-With"], []string{"fetch", "second"}},
		{"base64 image", post.Response.Body.Data, []byte("\x89PNG\r\n\x1a\n")},
		{"no dns on a reused connection", post.Timings.DNSStart.IsZero() && post.Timings.ConnectStart.IsZero(), true},
		{"post wait", post.Timings.FirstByte.Sub(post.Timings.RequestSent), ms(35)},

		{"failed: no response", failed.Response, (*flow.Response)(nil)},
		{"failed: chrome's error kept", failed.Error, &flow.Error{Phase: flow.PhaseResponse, Message: "net::ERR_CONNECTION_REFUSED"}},
		{"failed: no server address", failed.Server.Addr, ""},
	})
}

func TestReadFirefox(t *testing.T) {
	flows := readFixture(t, "firefox.har")
	if len(flows) != 2 {
		t.Fatalf("got %d flows, want 2", len(flows))
	}
	js, form := flows[0], flows[1]
	runChecks(t, []check{
		{"proto", js.Request.Proto, "HTTP/2.0"},
		{"url", js.Request.URL, "https://example.org/static/app.js?v=3"},
		{"host header kept", js.Request.Header.Get("Host"), "example.org"},
		{"missing text: body unknown, marked truncated", js.Response.Body, flow.Body{Size: 4000, Truncated: true}},
		{"coding dropped, length kept for an unknown body", js.Response.Header, http.Header{
			"Content-Type": {"text/javascript"}, "Content-Length": {"1500"}}},
		{"start with zone offset", js.Timings.Start.Equal(mustTime(t, "2024-05-01T10:00:00.250Z")), true},
		{"dns 0 is a phase", js.Timings.DNSDone.Sub(js.Timings.DNSStart), time.Duration(0)},
		{"ssl", js.Timings.TLSDone.Sub(js.Timings.TLSStart), ms(15)},
		{"connect includes ssl", js.Timings.TLSDone.Sub(js.Timings.ConnectStart), ms(25)},
		{"duration", js.Timings.Duration(), ms(62)},
		{"server address", js.Server.Addr, "93.184.215.14:443"},

		{"form body", string(form.Request.Body.Data), "q=hello+world&page=2"},
		{"form content-length", form.Request.Header.Get("Content-Length"), "20"},
		{"cookie header", form.Request.Header.Get("Cookie"), "pref=1"},
		{"json body", string(form.Response.Body.Data), "{\"results\":[],\"page\":2}\n"},
		{"decoded length", form.Response.Header.Get("Content-Length"), "24"},
		{"no coding", form.Response.Header.Get("Content-Encoding"), ""},
		{"status", form.Status(), 200},
	})
}

func TestReadCharles(t *testing.T) {
	flows := readFixture(t, "charles.har")
	if len(flows) != 1 {
		t.Fatalf("got %d flows, want 1", len(flows))
	}
	f := flows[0]
	tm := f.Timings
	runChecks(t, []check{
		{"method", f.Request.Method, "PUT"},
		{"url", f.Request.URL, "http://api.local:8080/files/blob?overwrite=1"},
		{"authorization", f.Request.Header.Get("Authorization"), "Bearer t0k3n"},
		{"base64 post data", f.Request.Body, flow.Body{Size: 6, Data: []byte{0, 1, 2, 0xff, 0x80, '\n'}}},
		{"status", f.Status(), 200},
		{"base64 content", string(f.Response.Body.Data), "%PDF-1.7\n\xff"},
		{"server address", f.Server.Addr, "10.1.2.3:8080"},
		{"no blocked: dns starts at once", tm.DNSStart.Equal(tm.Start), true},
		{"dns", tm.DNSDone.Sub(tm.DNSStart), ms(1)},
		{"connect without ssl", tm.ConnectDone.Sub(tm.ConnectStart), ms(4)},
		{"no tls", tm.TLSStart.IsZero(), true},
		{"duration", tm.Duration(), ms(130)},
	})
}

func TestReadErrors(t *testing.T) {
	valid, err := os.ReadFile(filepath.Join("testdata", "charles.har"))
	if err != nil {
		t.Fatal(err)
	}
	entry := func(s string) string {
		return `{"log":{"version":"1.2","creator":{"name":"x","version":"1"},"entries":[` + "\n" +
			`{"startedDateTime":"2024-05-01T09:00:00Z","time":1,"request":{"method":"GET","url":"http://h/"},"response":{"status":200},"timings":{}},` + "\n" + s + "]}}"
	}
	tests := []struct {
		name  string
		input string
		limit int64
		is    error
		want  string // a substring of the message
	}{
		{"malformed", "{\n  \"log\": {\n    \"version\": \"1.2\",,\n", 0, ErrSyntax, "line 3, column 22"},
		{"truncated", string(valid[:len(valid)/2]), 0, ErrSyntax, "truncated file"},
		{"empty", "", 0, ErrSyntax, "truncated file"},
		{"not json", "<html>", 0, ErrSyntax, "line 1, column 1"},
		{"no log", `{"entries":[]}`, 0, ErrNotHAR, `no "log" object`},
		{"no entries", `{"log":{"version":"1.2"}}`, 0, ErrNotHAR, "log.entries"},
		{"wrong version", `{"log":{"version":"2.0","entries":[]}}`, 0, ErrVersion, `log.version: unsupported HAR version "2.0"`},
		{"log of the wrong type", `{"log":"x"}`, 0, nil, "log"},
		{"header value of the wrong type", entry(`{"request":{"headers":[{"name":"a","value":5}]}}`), 0, nil,
			"line 3, column 44: entry 1: request.headers.value"},
		{"bad date", entry(`{"startedDateTime":"yesterday","request":{"method":"GET","url":"http://h/"}}`), 0, nil,
			"line 3, column 1: entry 1: startedDateTime: bad date-time"},
		{"empty method", entry(`{"startedDateTime":"2024-05-01T09:00:00Z","request":{"url":"http://h/"}}`), 0, nil,
			"entry 1: request.method"},
		{"relative url", entry(`{"startedDateTime":"2024-05-01T09:00:00Z","request":{"method":"GET","url":"/x"}}`), 0, nil,
			"entry 1: request.url: URL \"/x\" is not absolute"},
		{"bad base64", entry(`{"startedDateTime":"2024-05-01T09:00:00Z","request":{"method":"GET","url":"http://h/"},` +
			`"response":{"status":200,"content":{"text":"!!!","encoding":"base64"}}}`), 0, nil,
			"entry 1: response.content.text: bad base64"},
		{"bodies over the limit", string(valid), 10, ErrTooLarge, "entry 0: HAR exceeds the size limit: bodies exceed 10 bytes"},
		{"file over the limit", strings.Repeat(" ", 16<<20+100), 10, ErrTooLarge, "file is larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flows, err := Read(strings.NewReader(tt.input), "i", tt.limit)
			if err == nil {
				t.Fatalf("no error, %d flows", len(flows))
			}
			if flows != nil {
				t.Errorf("got %d flows with the error, want none", len(flows))
			}
			var re *ReadError
			if !errors.As(err, &re) {
				t.Errorf("err %T is not a *ReadError", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want errors.Is %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestReadByteOrderMark(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "charles.har"))
	if err != nil {
		t.Fatal(err)
	}
	flows, err := Read(bytes.NewReader(append([]byte("\xef\xbb\xbf"), data...)), "bom", 0)
	if err != nil || len(flows) != 1 {
		t.Fatalf("HAR with a BOM: %d flows, err %v; want 1 flow", len(flows), err)
	}
	_, err = Read(strings.NewReader("\xef\xbb\xbf{\"log\": x}"), "bom", 0)
	if err == nil || !strings.Contains(err.Error(), "line 1, column 12") {
		t.Errorf("error after a BOM: %v, want it at line 1, column 12 (BOM bytes counted)", err)
	}
}

func TestLineColumn(t *testing.T) {
	data := []byte("ab\ncd\n\nef")
	tests := []struct {
		offset    int64
		line, col int
	}{{0, 1, 1}, {1, 1, 2}, {3, 2, 1}, {4, 2, 2}, {6, 3, 1}, {7, 4, 1}, {9, 4, 3}, {99, 4, 3}}
	for _, tt := range tests {
		line, col := lineColumn(data, tt.offset)
		if line != tt.line || col != tt.col {
			t.Errorf("offset %d: got %d:%d, want %d:%d", tt.offset, line, col, tt.line, tt.col)
		}
	}
}

// FuzzRead checks that no input makes Read panic, and that what it
// accepts exports and reads back.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"chrome.har", "firefox.har", "charles.har"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"log":{"version":"1.2","entries":[{"request":{"method":"GET","url":"http://h/"},"startedDateTime":"2024-01-01T00:00:00Z","timings":{"blocked":1e308,"send":-5}}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		flows, err := Read(bytes.NewReader(data), "f", 1<<20)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := Write(&buf, flows, Options{}); err != nil {
			t.Fatalf("Write of read flows: %v", err)
		}
		if _, err := Read(&buf, "g", 1<<22); err != nil {
			t.Fatalf("reading back our export: %v", err)
		}
	})
}
