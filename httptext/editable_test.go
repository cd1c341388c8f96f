package httptext

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"onpath/flow"
)

func body(s string) flow.Body {
	if s == "" {
		return flow.Body{}
	}
	return flow.Body{Size: int64(len(s)), Data: []byte(s)}
}

// withLength returns h with Content-Length set to n, as ParseEditable does.
func withLength(h http.Header, n int) http.Header {
	h = h.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Length", strconv.Itoa(n))
	return h
}

func editableRequests() map[string]flow.Request {
	multipart := "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ--\r\n"
	return map[string]flow.Request{
		"get no body": {Method: "GET", URL: "https://example.com/a?b=c", Proto: "HTTP/1.1",
			Header: http.Header{"Accept": {"*/*"}, "X-Multi": {"1", "2"}}},
		"json": {Method: "POST", URL: "http://127.0.0.1:8080/api", Proto: "HTTP/1.1",
			Header: withLength(http.Header{"Content-Type": {"application/json"}}, 10), Body: body(`{"a":"é"}`)},
		"trailing newline": {Method: "PUT", URL: "http://h/x", Proto: "HTTP/1.1",
			Header: withLength(nil, 6), Body: body("line1\n")},
		"only newlines": {Method: "PUT", URL: "http://h/x", Proto: "HTTP/1.1",
			Header: withLength(nil, 2), Body: body("\n\n")},
		"multipart crlf": {Method: "POST", URL: "https://h/up", Proto: "HTTP/2.0",
			Header: withLength(http.Header{"Content-Type": {"multipart/form-data; boundary=XyZ"}}, len(multipart)),
			Body:   body(multipart)},
		"binary": {Method: "POST", URL: "https://h/bin", Proto: "HTTP/1.1",
			Header: withLength(http.Header{"Content-Encoding": {"gzip"}}, 5), Body: body("\x1f\x8b\x00\xff\n")},
		"invalid utf8": {Method: "POST", URL: "https://h/bin", Proto: "HTTP/1.1",
			Header: withLength(nil, 3), Body: body("a\xc3(")},
		"escape sequence": {Method: "POST", URL: "https://h/bin", Proto: "HTTP/1.1",
			Header: withLength(nil, 5), Body: body("\x1b[31m")},
		"looks like a body file": {Method: "POST", URL: "https://h/x", Proto: "HTTP/1.1",
			Header: withLength(nil, 19), Body: body("@body-file: /etc/pw")},
		"empty header value": {Method: "DELETE", URL: "https://h/x", Proto: "HTTP/1.1",
			Header: http.Header{"X-Empty": {""}, "Cookie": {"a=1; b=2"}}},
	}
}

func TestEditableRoundTrip(t *testing.T) {
	for name, req := range editableRequests() {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			var buf bytes.Buffer
			if err := WriteEditable(&buf, &req, dir); err != nil {
				t.Fatal(err)
			}
			got, err := ParseEditable(buf.Bytes())
			if err != nil {
				t.Fatalf("ParseEditable: %v\ntext:\n%s", err, buf.String())
			}
			if !reflect.DeepEqual(got, req) {
				t.Errorf("round trip:\ngot  %#v\nwant %#v\ntext:\n%s", got, req, buf.String())
			}
		})
	}
}

// An editor that saves with CRLF line ends changes nothing for bodies
// without line breaks.
func TestEditableCRLF(t *testing.T) {
	req := flow.Request{Method: "POST", URL: "https://h/x", Proto: "HTTP/1.1",
		Header: withLength(http.Header{"X-A": {"1"}}, 3), Body: body("abc")}
	var buf bytes.Buffer
	if err := WriteEditable(&buf, &req, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	crlf := bytes.ReplaceAll(buf.Bytes(), []byte("\n"), []byte("\r\n"))
	got, err := ParseEditable(crlf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, req) {
		t.Errorf("CRLF text:\ngot  %#v\nwant %#v", got, req)
	}
}

func TestEditableBinaryBodyFile(t *testing.T) {
	dir := t.TempDir()
	data := []byte{0, 1, 2, 0xff, 0xfe}
	req := flow.Request{Method: "POST", URL: "https://h/x", Body: body(string(data))}
	var buf bytes.Buffer
	if err := WriteEditable(&buf, &req, dir); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("body dir has %v (err %v), want one file", entries, err)
	}
	path := filepath.Join(dir, entries[0].Name())
	wantLine := "\n\n" + BodyFilePrefix + " " + path + "\n"
	if !strings.HasSuffix(buf.String(), wantLine) {
		t.Errorf("text ends %q, want it to end with %q", buf.String(), wantLine)
	}
	onDisk, _ := os.ReadFile(path)
	if !bytes.Equal(onDisk, data) {
		t.Errorf("body file holds %x, want %x", onDisk, data)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("body file mode %v, want 0600", info.Mode().Perm())
	}
	// Editing the file changes the body, and Content-Length follows.
	if err := os.WriteFile(path, []byte("new\x00body!"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ParseEditable(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Body.Data) != "new\x00body!" || got.Body.Size != 9 || got.Header.Get("Content-Length") != "9" {
		t.Errorf("edited body file: got body %q size %d Content-Length %q, want the file's 9 bytes",
			got.Body.Data, got.Body.Size, got.Header.Get("Content-Length"))
	}
}

func TestParseEditableEdits(t *testing.T) {
	tests := []struct {
		name string
		text string
		want flow.Request
	}{
		{
			name: "content-length recomputed",
			text: "POST http://h/ HTTP/1.1\nContent-Length: 3\n\nlonger body\n",
			want: flow.Request{Method: "POST", URL: "http://h/", Proto: "HTTP/1.1",
				Header: http.Header{"Content-Length": {"11"}}, Body: body("longer body")},
		},
		{
			name: "content-length added for a new body",
			text: "PUT http://h/ HTTP/1.1\n\nx",
			want: flow.Request{Method: "PUT", URL: "http://h/", Proto: "HTTP/1.1",
				Header: http.Header{"Content-Length": {"1"}}, Body: body("x")},
		},
		{
			name: "body removed",
			text: "POST http://h/ HTTP/1.1\nContent-Length: 3\n\n",
			want: flow.Request{Method: "POST", URL: "http://h/", Proto: "HTTP/1.1",
				Header: http.Header{"Content-Length": {"0"}}},
		},
		{
			name: "commented header dropped, names canonical, value trimmed",
			text: "# notes\n\nGET https://h/ HTTP/2.0\n#Cookie: a=1\nx-lower:   v \t\n",
			want: flow.Request{Method: "GET", URL: "https://h/", Proto: "HTTP/2.0",
				Header: http.Header{"X-Lower": {"v"}}},
		},
		{
			name: "version omitted",
			text: "GET https://h/",
			want: flow.Request{Method: "GET", URL: "https://h/", Proto: "HTTP/1.1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEditable([]byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParseEditableErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "gone.bin")
	tests := []struct {
		name     string
		text     string
		wantLine int
		wantMsg  string
	}{
		{"empty", "", 1, "no request line"},
		{"comments only", "# a\n# b\n", 2, "no request line"},
		{"bad request line", "# c\nGET\n", 2, "bad request line"},
		{"too many fields", "GET http://h/ HTTP/1.1 extra\n", 1, "bad request line"},
		{"relative url", "GET /path HTTP/1.1\n", 1, "must be absolute"},
		{"ftp url", "GET ftp://h/ HTTP/1.1\n", 1, "must be absolute"},
		{"bad version", "GET http://h/ HTTPS/1.1\n", 1, "bad HTTP version"},
		{"bad method", "G(T http://h/ HTTP/1.1\n", 1, "bad method"},
		{"header without colon", "GET http://h/ HTTP/1.1\nA: 1\nNoColon\n\n", 3, "no colon"},
		{"header without colon crlf", "GET http://h/ HTTP/1.1\r\nA: 1\r\nNoColon\r\n\r\n", 3, "no colon"},
		{"bad header name", "GET http://h/ HTTP/1.1\nBad Name: 1\n", 2, "bad header name"},
		{"folded header", "GET http://h/ HTTP/1.1\nA: 1\n  more\n", 3, "folded"},
		{"control in value", "GET http://h/ HTTP/1.1\nA: 1\x1b\n", 2, "control character"},
		{"missing body file", "POST http://h/ HTTP/1.1\nA: 1\n\n@body-file: " + missing + "\n", 4, "body file"},
		{"body file without path", "POST http://h/ HTTP/1.1\n\n@body-file:\n", 3, "no path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEditable([]byte(tt.text))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ParseError", err)
			}
			if pe.Line != tt.wantLine || !strings.Contains(pe.Msg, tt.wantMsg) {
				t.Errorf("got line %d %q, want line %d containing %q", pe.Line, pe.Msg, tt.wantLine, tt.wantMsg)
			}
		})
	}
}

func TestWriteEditableNotes(t *testing.T) {
	req := flow.Request{Method: "POST", URL: "http://h/", Body: flow.Body{Size: 100, Truncated: true, Data: []byte("abc")}}
	var buf bytes.Buffer
	if err := WriteEditable(&buf, &req, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "# The recorded body was truncated: only its first 3 of 100 bytes") {
		t.Errorf("truncated body not announced:\n%s", buf.String())
	}
	bad := flow.Request{Method: "GET", URL: "http://h/a b"}
	if err := WriteEditable(&buf, &bad, ""); err == nil {
		t.Error("URL with a space: no error")
	}
	esc := flow.Request{Method: "GET", URL: "http://h/", Header: http.Header{"X-A": {"\x1b[31m"}}}
	if err := WriteEditable(&buf, &esc, ""); err == nil || !strings.Contains(err.Error(), "X-A") {
		t.Errorf("header with an escape character: err = %v, want an error naming X-A", err)
	}
}

// FuzzParseEditable checks that parsing never panics and that whatever
// parses survives a write and a second parse unchanged.
func FuzzParseEditable(f *testing.F) {
	f.Add([]byte("GET http://h/ HTTP/1.1\nA: b\n\nbody\n"))
	f.Add([]byte("POST https://h/x HTTP/2.0\r\nContent-Length: 1\r\n\r\n\x00\x01\r\n"))
	f.Add([]byte("# c\nPUT http://h/ HTTP/1.0\n#X: 1\n\n@body-file: /nonexistent\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		req, err := ParseEditable(text)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 {
				t.Fatalf("error %v is not a *ParseError with a line", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := WriteEditable(&buf, &req, t.TempDir()); err != nil {
			t.Fatalf("WriteEditable of a parsed request: %v", err)
		}
		again, err := ParseEditable(buf.Bytes())
		if err != nil {
			t.Fatalf("reparse: %v\ntext:\n%q", err, buf.String())
		}
		if !reflect.DeepEqual(again, req) {
			t.Fatalf("reparse differs:\ngot  %#v\nwant %#v", again, req)
		}
	})
}

// The exact text a user sees in the editor.
func TestWriteEditableText(t *testing.T) {
	req := flow.Request{Method: "PATCH", URL: "https://h.example/items/7?x=1", Proto: "HTTP/2.0",
		Header: http.Header{"Content-Type": {"application/json"}, "Accept": {"a", "b"}, "Content-Length": {"8"}},
		Body:   body(`{"n": 1}`)}
	var buf bytes.Buffer
	if err := WriteEditable(&buf, &req, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	want := editableHelp +
		"PATCH https://h.example/items/7?x=1 HTTP/2.0\n" +
		"Accept: a\n" +
		"Accept: b\n" +
		"Content-Length: 8\n" +
		"Content-Type: application/json\n" +
		"\n" +
		`{"n": 1}` + "\n"
	if got := buf.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	for i, line := range strings.Split(editableHelp, "\n") {
		if line != "" && !strings.HasPrefix(line, "# ") {
			t.Errorf("help line %d %q does not start with '# '", i+1, line)
		}
	}
}
