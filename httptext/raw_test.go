package httptext

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"onpath/flow"
)

func TestWriteRequest(t *testing.T) {
	req := &flow.Request{
		Method: "POST",
		URL:    "https://example.com/submit?x=1",
		Proto:  "HTTP/1.1",
		Header: http.Header{
			"X-Multi":        {"b", "a"},
			"Content-Type":   {"application/json"},
			"Content-Length": {"7"},
		},
		Body: flow.Body{Size: 7, Data: []byte(`{"a":1}`)},
	}
	var buf bytes.Buffer
	if err := WriteRequest(&buf, req); err != nil {
		t.Fatal(err)
	}
	want := "POST https://example.com/submit?x=1 HTTP/1.1\r\n" +
		"Content-Length: 7\r\n" +
		"Content-Type: application/json\r\n" +
		"X-Multi: b\r\n" +
		"X-Multi: a\r\n" +
		"\r\n" +
		`{"a":1}`
	if got := buf.String(); got != want {
		t.Errorf("WriteRequest:\ngot  %q\nwant %q", got, want)
	}
}

func TestWriteRequestDefaultsAndBinary(t *testing.T) {
	body := []byte{0x1f, 0x8b, 0, 0xff, '\r', '\n'}
	req := &flow.Request{URL: "http://h/", Body: flow.Body{Size: 6, Data: body}}
	var buf bytes.Buffer
	if err := WriteRequest(&buf, req); err != nil {
		t.Fatal(err)
	}
	want := "GET http://h/ HTTP/1.1\r\n\r\n" + string(body)
	if got := buf.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestWriteResponse(t *testing.T) {
	tests := []struct {
		name string
		resp flow.Response
		want string
	}{
		{
			name: "ok",
			resp: flow.Response{Proto: "HTTP/2.0", Status: 200,
				Header: http.Header{"Set-Cookie": {"a=1", "b=2"}, "Content-Type": {"text/plain"}},
				Body:   flow.Body{Size: 2, Data: []byte("hi")}},
			want: "HTTP/2.0 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nhi",
		},
		{
			name: "unknown status",
			resp: flow.Response{Status: 599},
			want: "HTTP/1.1 599 status code 599\r\n\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteResponse(&buf, &tt.resp); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWriteRefusesHeaderInjection(t *testing.T) {
	req := &flow.Request{URL: "http://h/", Header: http.Header{"X-A": {"ok\r\nEvil: 1"}}}
	var buf bytes.Buffer
	err := WriteRequest(&buf, req)
	if err == nil || !strings.Contains(err.Error(), "X-A") {
		t.Errorf("WriteRequest with a line break in a value: err = %v, want an error naming X-A", err)
	}
	resp := &flow.Response{Status: 200, Header: http.Header{"X\nB": {"v"}}}
	if err := WriteResponse(&buf, resp); err == nil {
		t.Error("WriteResponse with a line break in a name: no error")
	}
}
