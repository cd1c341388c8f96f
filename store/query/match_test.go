package query

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"onpath/flow"
)

func gzipped(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

// testFlows are the flows the match table runs against, by name.
func testFlows() map[string]*flow.Flow {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return map[string]*flow.Flow{
		"login": {
			ID: 1, Kind: flow.KindHTTP,
			Request: flow.Request{
				Method: "POST", URL: "https://API.Example.com:8443/Login?next=/home",
				Header: http.Header{"Cookie": {"sid=abc; theme=dark"}, "Content-Type": {"application/json"}},
				Body:   flow.Body{Size: 30, Data: []byte(`{"user":"bob","password":"hunter2"}`)},
			},
			Response: &flow.Response{
				Status: 302,
				Header: http.Header{"Set-Cookie": {"SessionToken=xyz; Secure; HttpOnly"}, "Location": {"/home"}},
			},
			Timings:  flow.Timings{Start: start, End: start.Add(time.Second)},
			Findings: []flow.Finding{{Rule: "CK04", Severity: flow.SeverityMedium}},
		},
		"gzip": {
			ID: 2, Kind: flow.KindHTTP,
			Request: flow.Request{Method: "GET", URL: "http://example.com/page"},
			Response: &flow.Response{
				Status: 200,
				Header: http.Header{"Content-Encoding": {"gzip"}, "Content-Type": {"text/html"}},
				Body:   flow.Body{Size: 100, Data: gzipped("<html>Secret Recipe</html>")},
			},
			Timings: flow.Timings{Start: start, End: start.Add(time.Second)},
		},
		"failed": {
			ID: 3, Kind: flow.KindHTTP,
			Request: flow.Request{Method: "get", URL: "https://[::1]:9000/x"},
			Error:   &flow.Error{Phase: flow.PhaseConnect, Message: "refused"},
			Timings: flow.Timings{Start: start},
		},
		"tunnel": {
			ID: 40, Kind: flow.KindTunnel,
			Request:  flow.Request{Method: "CONNECT", URL: "https://pinned.bank.test:443"},
			Tunnel:   &flow.Tunnel{BytesUp: 10, BytesDown: 20},
			Timings:  flow.Timings{Start: start, End: start.Add(time.Second)},
			ReplayOf: 0,
		},
		"replay": {
			ID: 41, Kind: flow.KindHTTP, ReplayOf: 1, ImportID: "har-1",
			Request:  flow.Request{Method: "DELETE", URL: "http://user:pw@old.example.org/item/9"},
			Response: &flow.Response{Status: 503, Header: http.Header{"x-lower": {"Mixed Value"}}},
			Timings:  flow.Timings{Start: start, End: start.Add(time.Second)},
			Findings: []flow.Finding{{Rule: "TX01", Severity: flow.SeverityHigh}, {Rule: "CK05", Severity: flow.SeverityLow}},
		},
	}
}

func TestMatchEveryTerm(t *testing.T) {
	flows := testFlows()
	tests := []struct {
		query string
		want  string // names of matching flows, sorted, space-separated
	}{
		{"", "failed gzip login replay tunnel"},
		{"login", "login"},
		{"LOGIN", "login"},
		{"example", "gzip login replay"},
		{`"/item/9"`, "replay"},
		{"host:api.example.com", "login"},
		{"host:example.com", "gzip"},
		{"host:*.example.com", "login"},
		{"host:*example.*", "gzip login replay"},
		{"host:::1", "failed"},
		{"host:old.example.org", "replay"},
		{"host:nomatch|pinned.bank.test", "tunnel"},
		{"method:get", "failed gzip"},
		{"method:POST|DELETE", "login replay"},
		{"status:3xx", "login"},
		{"status:200", "gzip"},
		{"status:500-599", "replay"},
		{"status:0", "failed tunnel"},
		{"status:2xx|5xx", "gzip replay"},
		{"scheme:http", "gzip replay"},
		{"scheme:https", "failed login tunnel"},
		{"has:finding", "login replay"},
		{"has:error", "failed"},
		{"has:body", "gzip login"},
		{"has:cookie", "login"},
		{"has:replay", "replay"},
		{"has:import", "replay"},
		{"severity:medium", "login replay"},
		{"severity:high", "replay"},
		{"severity:info", "login replay"},
		{"cookie:sid", "login"},
		{"cookie:theme", "login"},
		{"cookie:sessiontoken", "login"},
		{"cookie:xyz", ""},
		{"header:location", "login"},
		{"header:X-Lower", "replay"},
		{"header:x-lower=mixed", "replay"},
		{`header:"Content-Type=text/html"`, "gzip"},
		{"header:content-type=json", "login"},
		{"header:content-type=xml", ""},
		{"body:hunter2", "login"},
		{"body:secret", "gzip"},
		{`body:"secret recipe"`, "gzip"},
		{"body:html", "gzip"},
		{"id:3", "failed"},
		{"id:2-40", "failed gzip tunnel"},
		{"id:1|41", "login replay"},
		{"kind:tunnel", "tunnel"},
		{"kind:http", "failed gzip login replay"},
		{"replay:1", "replay"},
		{"replay:2", ""},
		{"-has:error", "gzip login replay tunnel"},
		{"-kind:tunnel -method:get", "login replay"},
		{"-body:secret", "failed login replay tunnel"},
		{"scheme:https -host:*.bank.test status:0", "failed"},
		{`-"example"`, "failed tunnel"},
	}
	for _, tt := range tests {
		q, err := Parse(tt.query)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.query, err)
			continue
		}
		var got, gotSummary []string
		for _, name := range []string{"failed", "gzip", "login", "replay", "tunnel"} {
			f := flows[name]
			if q.Match(f) {
				got = append(got, name)
			}
			if s := f.Summarize(); !q.MayMatch(&s) && q.Match(f) {
				t.Errorf("%q: MayMatch is false for %s, but Match is true", tt.query, name)
			}
			if !q.NeedsFlow() {
				s := f.Summarize()
				if q.MatchSummary(&s) {
					gotSummary = append(gotSummary, name)
				}
			}
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("Match(%q) = [%s], want [%s]", tt.query, g, tt.want)
		}
		if !q.NeedsFlow() {
			if g := strings.Join(gotSummary, " "); g != tt.want {
				t.Errorf("MatchSummary(%q) = [%s], want [%s] (as Match)", tt.query, g, tt.want)
			}
		}
	}
}

func TestMayMatchDecidesSummaryTermsOnly(t *testing.T) {
	s := testFlows()["login"].Summarize()
	tests := []struct {
		query string
		want  bool
	}{
		{"header:X-None", true},
		{"status:302 header:X-None", true},
		{"status:200 header:Location", false},
		{"-host:api.example.com cookie:sid", false},
		{"", true},
	}
	for _, tt := range tests {
		q, err := Parse(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		if got := q.MayMatch(&s); got != tt.want {
			t.Errorf("Parse(%q).MayMatch(login) = %t, want %t", tt.query, got, tt.want)
		}
	}
}

func TestMatchSummaryRejectsWhenFlowIsNeeded(t *testing.T) {
	q, _ := Parse("header:Location")
	s := testFlows()["login"].Summarize()
	if q.MatchSummary(&s) {
		t.Error("MatchSummary with a header: term matched; want false (the caller must use Match)")
	}
}

func TestBodyUsesInjectedDecoder(t *testing.T) {
	q, _ := Parse("body:decoded")
	var gotEncoding string
	q.Decode = func(encoding string, raw []byte, limit int64) ([]byte, error) {
		gotEncoding = encoding
		return []byte("DECODED text"), nil
	}
	f := testFlows()["gzip"]
	f.Response.Header.Set("Content-Encoding", "br")
	if !q.Match(f) {
		t.Error("body:decoded did not match the injected decoder's output")
	}
	if gotEncoding != "br" {
		t.Errorf("decoder got encoding %q, want br", gotEncoding)
	}
}

func TestBodyOfTruncatedGzipSearchesWhatDecodes(t *testing.T) {
	full := gzipped(strings.Repeat("needle ", 2000))
	f := testFlows()["gzip"]
	f.Response.Body = flow.Body{Size: int64(len(full)), Truncated: true, Data: full[:len(full)/2]}
	q, _ := Parse("body:needle")
	if !q.Match(f) {
		t.Error("body: did not search the decodable part of a truncated gzip body")
	}
}

func TestURLHost(t *testing.T) {
	tests := []struct{ url, want string }{
		{"https://example.com/x", "example.com"},
		{"https://example.com:8443/x", "example.com"},
		{"http://user:pw@host.test:80?q", "host.test"},
		{"https://[2001:db8::1]:443/", "2001:db8::1"},
		{"https://[::1]", "::1"},
		{"example.com#frag", "example.com"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := urlHost(tt.url); got != tt.want {
			t.Errorf("urlHost(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"a.test", "a.test", true},
		{"a.test", "b.a.test", false},
		{"*.a.test", "b.a.test", true},
		{"*.a.test", "a.test", false},
		{"*", "anything", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"*ab*ab", "ab", false},
		{"ab*ba", "aba", false},
	}
	for _, tt := range tests {
		if got := glob(tt.pattern, tt.name); got != tt.want {
			t.Errorf("glob(%q, %q) = %t, want %t", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func BenchmarkMatchSummary(b *testing.B) {
	q, err := Parse("host:*.example.com status:2xx|5xx -method:OPTIONS login")
	if err != nil {
		b.Fatal(err)
	}
	s := testFlows()["login"].Summarize()
	for b.Loop() {
		q.MatchSummary(&s)
	}
}

func TestBodyDecodesBrotliAndZstdByDefault(t *testing.T) {
	var br, zs bytes.Buffer
	bw := brotli.NewWriter(&br)
	bw.Write([]byte("brotli needle"))
	bw.Close()
	zw, _ := zstd.NewWriter(&zs)
	zw.Write([]byte("zstd needle"))
	zw.Close()
	tests := []struct {
		encoding string
		data     []byte
		query    string
	}{
		{"br", br.Bytes(), "body:brotli"},
		{"zstd", zs.Bytes(), "body:zstd"},
		{"identity", []byte("plain needle"), "body:plain"},
		{"x-unknown", []byte("raw needle"), "body:raw"},
	}
	for _, tt := range tests {
		f := testFlows()["gzip"]
		f.Response.Header.Set("Content-Encoding", tt.encoding)
		f.Response.Body.Data = tt.data
		q, _ := Parse(tt.query)
		if !q.Match(f) {
			t.Errorf("%s on a %s body did not match", tt.query, tt.encoding)
		}
	}
}
