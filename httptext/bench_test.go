package httptext

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"onpath/flow"
)

func benchRequest() *flow.Request {
	return &flow.Request{Method: "POST", URL: "https://api.example.com/v1/items?page=2", Proto: "HTTP/1.1",
		Header: http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer abc.def.ghi"},
			"Accept": {"*/*"}, "User-Agent": {"bench/1"}, "Cookie": {"a=1; b=2; c=3"}, "Content-Length": {"4096"}},
		Body: flow.Body{Size: 4096, Data: []byte(strings.Repeat(`{"k":"v"},`, 409) + "{}    ")[:4096]}}
}

func BenchmarkParseEditable(b *testing.B) {
	var buf bytes.Buffer
	if err := WriteEditable(&buf, benchRequest(), b.TempDir()); err != nil {
		b.Fatal(err)
	}
	text := buf.Bytes()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := ParseEditable(text); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}

func BenchmarkCurl(b *testing.B) {
	req := benchRequest()
	dir := b.TempDir()
	for b.Loop() {
		if _, _, err := Curl(req, dir); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commands/s")
}
