package har

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// exportDoc writes the sample flows and decodes the result into a tree.
func exportDoc(t *testing.T, opts Options) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, sampleFlows(t), opts); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, buf.String())
	}
	return doc
}

// get walks a decoded JSON tree: keys for objects, ints for arrays.
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %v: not an object", path)
			}
			v, ok = m[k]
			if !ok {
				return nil
			}
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("at %v: no element %d", path, k)
			}
			v = a[k]
		}
	}
	return v
}

func TestExportFields(t *testing.T) {
	doc := exportDoc(t, Options{Version: "9.9", Findings: true})
	e := func(i int, path ...any) any { return get(t, doc, append([]any{"log", "entries", i}, path...)...) }
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"version", get(t, doc, "log", "version"), "1.2"},
		{"creator", get(t, doc, "log", "creator"), map[string]any{"name": "onpath", "version": "9.9"}},
		{"started", e(0, "startedDateTime"), "2026-03-14T15:09:26.535897Z"},
		{"time", e(0, "time"), 81.5},
		{"http version", e(0, "request", "httpVersion"), "HTTP/2.0"},
		{"request cookies", e(0, "request", "cookies"), []any{
			map[string]any{"name": "sid", "value": "abc123"}, map[string]any{"name": "theme", "value": "dark"}}},
		{"query string keeps order and duplicates", e(0, "request", "queryString"), []any{
			map[string]any{"name": "id", "value": "7"}, map[string]any{"name": "tag", "value": "a b"},
			map[string]any{"name": "tag", "value": "c"}}},
		{"request headersSize", e(0, "request", "headersSize"), -1.0},
		{"every header value", len(e(0, "response", "headers").([]any)), 6},
		{"set-cookie with attributes", e(0, "response", "cookies", 0), map[string]any{
			"name": "sid", "value": "new", "path": "/", "domain": "example.com",
			"expires": "2026-03-14T16:09:26Z", "httpOnly": true, "secure": true, "sameSite": "Strict"}},
		{"set-cookie expires", e(0, "response", "cookies", 1, "expires"), "2026-10-21T07:28:00Z"},
		{"set-cookie samesite lax", e(0, "response", "cookies", 1, "sameSite"), "Lax"},
		{"unparsable set-cookie", e(0, "response", "cookies", 2), map[string]any{"name": "", "value": "bad cookie line"}},
		{"gzip body decoded", e(0, "response", "content", "text"), `{"user":"ada","roles":["admin"],"note":"<b>&</b> é"}`},
		{"decoded size", e(0, "response", "content", "size"), 53.0},
		{"wire size", e(0, "response", "bodySize"), 77.0},
		{"compression", e(0, "response", "content", "compression"), -24.0},
		{"no encoding for text", e(0, "response", "content", "encoding"), nil},
		{"raw wire bytes kept", e(0, "_onpath", "response_body", "raw") != nil, true},
		{"timings", e(0, "timings"), map[string]any{"blocked": 1.0, "dns": 2.5, "connect": 21.65, "ssl": 15.25,
			"send": 0.75, "wait": 54.0, "receive": 1.5}},
		{"server ip", e(0, "serverIPAddress"), "93.184.216.34"},
		{"connection is the client port", e(0, "connection"), "50123"},
		{"findings", e(0, "_onpath", "findings", 0, "rule"), "CK09"},
		{"server tls", e(0, "_onpath", "tls", "server", "sni"), "api.example.com"},
		{"client tls", e(0, "_onpath", "tls", "client", "offered_alpn"), []any{"h2", "http/1.1"}},
		{"cache", e(0, "cache"), map[string]any{}},
		{"form params", e(1, "request", "postData", "params"), []any{
			map[string]any{"name": "user", "value": "ada"}, map[string]any{"name": "password", "value": "s3cr&t"},
			map[string]any{"name": "x", "value": "a b"}}},
		{"form text", e(1, "request", "postData", "text"), "user=ada&password=s3cr%26t&x=a+b"},
		{"form mime", e(1, "request", "postData", "mimeType"), "application/x-www-form-urlencoded"},
		{"ipv6 server without brackets", e(1, "serverIPAddress"), "2001:db8::1"},
		{"redirect", e(1, "response", "redirectURL"), "/home"},
		{"absent phases", e(1, "timings"), map[string]any{"blocked": -1.0, "dns": -1.0, "connect": -1.0, "ssl": -1.0,
			"send": 1.0, "wait": 1.0, "receive": 0.0}},
		{"multipart params", e(2, "request", "postData", "params"), []any{
			map[string]any{"name": "title", "value": "Hello"},
			map[string]any{"name": "file", "fileName": "a.bin", "contentType": "application/octet-stream"}}},
		{"binary post data", e(2, "request", "postData", "encoding"), "base64"},
		{"binary content", e(2, "response", "content"), map[string]any{"size": 18.0, "mimeType": "image/png",
			"text": "iVBORw0KGgoAAAANSUhEUv/+", "encoding": "base64"}},
		{"trailer", e(2, "_onpath", "response_trailer"), []any{map[string]any{"name": "X-Checksum", "value": "abc"}}},
		{"no response", e(3, "response", "status"), 0.0},
		{"error", e(3, "_onpath", "error"), map[string]any{"phase": "dns", "message": "lookup no-such-host.invalid: no such host"}},
		{"no server address", e(3, "serverIPAddress"), nil},
		{"replay", e(4, "_onpath", "replay_of"), 2.0},
		{"forced", e(4, "_onpath", "forced"), true},
		{"truncated request", e(4, "_onpath", "request_body"), map[string]any{"size": 1048576.0, "truncated": true}},
		{"truncated gzip decoded beginning", e(4, "response", "content", "text"), "012345"},
		{"truncated: no compression figure", e(4, "response", "content", "compression"), nil},
		{"unknown coding kept raw", e(5, "_onpath", "response_body", "note"),
			`not decoded (content: "x-custom": unknown content encoding): the HAR text is the body as it crossed the wire`},
		{"tunnel", e(6, "_onpath", "tunnel"), map[string]any{"bytes_up": 1200.0, "bytes_down": 56000.0}},
		{"tunnel kind", e(6, "_onpath", "kind"), "tunnel"},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: got %#v, want %#v", tt.name, tt.got, tt.want)
		}
	}
}

func TestExportWithoutFindings(t *testing.T) {
	doc := exportDoc(t, Options{})
	if got := get(t, doc, "log", "entries", 0, "_onpath", "findings"); got != nil {
		t.Errorf("findings exported without Options.Findings: %v", got)
	}
	if got := get(t, doc, "log", "creator", "name"); got != "onpath" {
		t.Errorf("default creator = %v, want onpath", got)
	}
}

func TestEncoderStreams(t *testing.T) {
	var buf bytes.Buffer
	enc := NewEncoder(&buf, Options{})
	flows := sampleFlows(t)
	for _, f := range flows[:2] {
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := enc.Encode(flows[2]); !errors.Is(err, ErrClosed) {
		t.Errorf("Encode after Close: err = %v, want ErrClosed", err)
	}
	var whole bytes.Buffer
	if err := Write(&whole, flows[:2], Options{}); err != nil {
		t.Fatal(err)
	}
	if buf.String() != whole.String() {
		t.Error("streamed export differs from Write")
	}
	if !json.Valid(buf.Bytes()) {
		t.Errorf("streamed export is not JSON:\n%s", buf.String())
	}
}

func TestExportEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, nil, Options{}); err != nil {
		t.Fatal(err)
	}
	var doc document
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("empty export is not JSON: %v\n%s", err, buf.String())
	}
	if doc.Log == nil || doc.Log.Entries == nil || len(doc.Log.Entries) != 0 {
		t.Errorf("empty export: want an empty entries array, got %s", buf.String())
	}
	if !strings.Contains(buf.String(), `"entries": []`) {
		t.Errorf("empty export lacks an empty entries array:\n%s", buf.String())
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestWriteReportsWriterErrors(t *testing.T) {
	diskFull := errors.New("disk full")
	err := Write(failingWriter{diskFull}, sampleFlows(t), Options{})
	if !errors.Is(err, diskFull) {
		t.Errorf("Write to a failing writer: err = %v, want it to wrap %v", err, diskFull)
	}
}
