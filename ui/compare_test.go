package ui

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"onpath/flow"
	"onpath/flow/content"
)

func TestHeaderChanges(t *testing.T) {
	old := http.Header{"Content-Type": {"text/plain"}, "Date": {"a"}, "X-Gone": {"1"}, "Vary": {"Accept", "Origin"}, "Server": {"s"}}
	new := http.Header{"Content-Type": {"application/json"}, "Date": {"b"}, "X-Added": {"2"}, "Vary": {"Accept"}, "Server": {"s"}}
	got := headerChanges(old, new)
	want := []headerChange{
		{name: "Content-Type", old: []string{"text/plain"}, new: []string{"application/json"}},
		{name: "Date", old: []string{"a"}, new: []string{"b"}, volatile: true},
		{name: "Vary", old: []string{"Accept", "Origin"}, new: []string{"Accept"}},
		{name: "X-Added", new: []string{"2"}},
		{name: "X-Gone", old: []string{"1"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("headerChanges =\n %+v\nwant\n %+v", got, want)
	}
	if got := headerChanges(old, old); len(got) != 0 {
		t.Errorf("headerChanges of equal headers = %+v, want none", got)
	}
}

func TestCompareBodies(t *testing.T) {
	plain := http.Header{}
	gz := http.Header{"Content-Encoding": {"gzip"}}
	data := []byte(`{"a":1}`)
	tests := []struct {
		name       string
		oldH, newH http.Header
		old, new   flow.Body
		want       bodyVerdict
	}{
		{"same bytes", plain, plain, flow.Body{Size: 7, Data: data}, flow.Body{Size: 7, Data: data}, bodyIdentical},
		{"same once decoded", plain, gz, flow.Body{Size: 7, Data: data}, flow.Body{Size: 30, Data: gzipped(t, data)}, bodyIdentical},
		{"different", plain, plain, flow.Body{Size: 7, Data: data}, flow.Body{Size: 7, Data: []byte(`{"a":2}`)}, bodyDiffers},
		{"both empty", plain, plain, flow.Body{}, flow.Body{}, bodyIdentical},
		{"truncated, same prefix", plain, plain, flow.Body{Size: 100, Truncated: true, Data: data}, flow.Body{Size: 7, Data: data}, bodyUnknown},
		{"truncated, other prefix", plain, plain, flow.Body{Size: 100, Truncated: true, Data: data}, flow.Body{Size: 7, Data: []byte("xyz")}, bodyDiffers},
	}
	for _, tt := range tests {
		if got := compareBodies(tt.oldH, tt.old, tt.newH, tt.new, content.Decode); got != tt.want {
			t.Errorf("%s: compareBodies = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestComparisonLines(t *testing.T) {
	tests := []struct {
		name string
		c    comparison
		want []string
	}{
		{"unchanged", comparison{original: 4, oldStatus: 200, newStatus: 200, oldSize: 10, newSize: 10, body: bodyIdentical},
			[]string{"── compared with the original #4 (o opens it) ──", "Request  sent as recorded", "Status   200 OK  (same)", "Headers  the same",
				"Body     10 bytes on the wire, both; decoded body identical", ""}},
		{"everything changed", comparison{original: 4, oldStatus: 0, newStatus: 502, oldSize: 0, newSize: 2048, body: bodyDiffers,
			headers: []headerChange{{name: "Age", old: []string{"1"}, new: []string{"9"}, volatile: true}, {name: "X-A", new: []string{"n"}}, {name: "X-B", old: []string{"o"}}}},
			[]string{"── compared with the original #4 (o opens it) ──", "Request  sent as recorded", "Status   no response → 502 Bad Gateway  (changed)",
				"Headers  ~ Age: 1 → 9", "         + X-A: n", "         - X-B: o",
				"Body     0 → 2.0k bytes on the wire; decoded body differs", ""}},
		{"truncated", comparison{original: 1, oldStatus: 200, newStatus: 200, oldSize: 5, newSize: 6, body: bodyUnknown},
			[]string{"── compared with the original #1 (o opens it) ──", "Request  sent as recorded", "Status   200 OK  (same)", "Headers  the same",
				"Body     5 → 6 bytes on the wire; cannot tell: a body was truncated when captured", ""}},
	}
	edited := comparison{original: 2, oldStatus: 200, newStatus: 200, body: bodyIdentical, request: requestChanges(
		&flow.Request{Method: "POST", URL: "https://a.test/x", Header: http.Header{"X-Test": {"a"}, "Content-Length": {"2"}}, Body: flow.Body{Size: 2, Data: []byte("hi")}},
		&flow.Request{Method: "PUT", URL: "https://a.test/y", Header: http.Header{"X-Test": {"b"}, "Content-Length": {"5"}}, Body: flow.Body{Size: 5, Data: []byte("hello")}})}
	tests = append(tests, struct {
		name string
		c    comparison
		want []string
	}{"edited request", edited, []string{"── compared with the original #2 (o opens it) ──",
		"Request  ~ method: POST → PUT", "         ~ URL: https://a.test/x → https://a.test/y", "         ~ X-Test: a → b", "         ~ body: 2 bytes → 5 bytes",
		"Status   200 OK  (same)", "Headers  the same", "Body     0 bytes on the wire, both; decoded body identical", ""}})
	for _, tt := range tests {
		var got []string
		for _, l := range comparisonLines(tt.c) {
			got = append(got, l.String())
		}
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s: comparisonLines =\n%s\nwant\n%s", tt.name, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
		}
	}
}

func TestReplayRefusal(t *testing.T) {
	tests := []struct {
		name  string
		f     flow.Flow
		force bool
		want  string // a substring; "" means allowed
	}{
		{"plain", flow.Flow{ID: 1, Kind: flow.KindHTTP}, false, ""},
		{"truncated", flow.Flow{ID: 2, Kind: flow.KindHTTP, Request: flow.Request{Body: flow.Body{Size: 4096, Truncated: true, Data: []byte("ab")}}}, false, "recorded only in part (2 of 4.0k)"},
		{"truncated, forced", flow.Flow{ID: 2, Kind: flow.KindHTTP, Request: flow.Request{Body: flow.Body{Size: 4096, Truncated: true}}}, true, ""},
		{"tunnel, even forced", flow.Flow{ID: 3, Kind: flow.KindTunnel}, true, "passthrough tunnel"},
	}
	for _, tt := range tests {
		got := replayRefusal(&tt.f, tt.force)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: replayRefusal = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// BenchmarkCompareResponses compares two 4 MiB gzip-encoded JSON bodies
// that differ in their last byte: the cost of opening a replay's
// Response tab.
func BenchmarkCompareResponses(b *testing.B) {
	body := []byte(`{"items":[` + strings.Repeat(`{"id":12345,"name":"widget","tags":["a","b"]},`, 4<<20/48) + `{}]}`)
	other := append([]byte(nil), body...)
	other[len(other)-4] = '['
	h := http.Header{"Content-Encoding": {"gzip"}, "Content-Type": {"application/json"}, "Date": {"a"}}
	orig := &flow.Flow{ID: 1, Response: &flow.Response{Status: 200, Header: h, Body: flow.Body{Size: 1, Data: gzipped(b, body)}}}
	replay := &flow.Flow{ID: 2, ReplayOf: 1, Response: &flow.Response{Status: 200, Header: h.Clone(), Body: flow.Body{Size: 1, Data: gzipped(b, other)}}}
	replay.Response.Header.Set("Date", "b")
	b.SetBytes(int64(2 * len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if c := compareResponses(orig, replay, content.Decode); c.body != bodyDiffers || len(c.headers) != 1 {
			b.Fatalf("comparison = %+v", c)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/compare")
}
