package ui

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"onpath/flow"
	"onpath/flow/content"
)

func TestBodyViewKinds(t *testing.T) {
	tests := []struct {
		name      string
		header    http.Header
		body      []byte
		wantKind  bodyKind
		wantLines []string
	}{
		{"json by type", http.Header{"Content-Type": {"application/json"}}, []byte(`{"a":[1,2]}`), bodyJSON,
			[]string{"{", `  "a": [`, "    1,", "    2", "  ]", "}"}},
		{"json by shape", nil, []byte(`[true]`), bodyJSON, []string{"[", "  true", "]"}},
		{"form", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte("user=ada&pass%20word=a+b"), bodyForm,
			[]string{"FIELD      VALUE", "user       ada", "pass word  a b"}},
		{"text", http.Header{"Content-Type": {"text/plain"}}, []byte("one\r\ntwo\n\nfour"), bodyText, []string{"one", "two", "", "four"}},
		{"binary", http.Header{"Content-Type": {"image/png"}}, []byte("\x89PNG\r\n\x1a\n\x00\x01"), bodyHex,
			[]string{"00000000  89 50 4e 47 0d 0a 1a 0a  00 01                    |.PNG......|"}},
		{"empty", nil, nil, bodyEmpty, nil},
		{"bad json is text", http.Header{"Content-Type": {"application/json"}}, []byte(`{"a":`), bodyText, []string{`{"a":`}},
	}
	for _, tc := range tests {
		v := newBodyView(tc.header, flow.Body{Size: int64(len(tc.body)), Data: tc.body}, content.Decode)
		if v.kind != tc.wantKind {
			t.Errorf("%s: kind %v, want %v", tc.name, v.kind, tc.wantKind)
			continue
		}
		var got []string
		for i := range v.Len() {
			got = append(got, v.Line(i, 0, 200).String())
		}
		if strings.Join(got, "\n") != strings.Join(tc.wantLines, "\n") {
			t.Errorf("%s: lines\n got %q\nwant %q", tc.name, got, tc.wantLines)
		}
	}
}

func TestBodyViewDecodes(t *testing.T) {
	plain := []byte(`{"hello":"world"}`)
	h := http.Header{"Content-Encoding": {"gzip"}, "Content-Type": {"application/json"}}
	v := newBodyView(h, flow.Body{Size: 1, Data: gzipped(t, plain)}, content.Decode)
	if v.kind != bodyJSON || !bytes.Equal(v.decoded, plain) {
		t.Fatalf("gzip body: kind %v, decoded %q", v.kind, v.decoded)
	}
	if !strings.Contains(strings.Join(v.notes, ";"), "decoded gzip") {
		t.Errorf("notes %q do not say it was decoded", v.notes)
	}
	// Undecodable: shown as captured, with a note.
	bad := newBodyView(http.Header{"Content-Encoding": {"br"}}, flow.Body{Data: []byte("\x00\x01not brotli")}, content.Decode)
	if bad.kind != bodyHex || !strings.Contains(strings.Join(bad.notes, ";"), "cannot decode") {
		t.Errorf("bad br: kind %v, notes %q", bad.kind, bad.notes)
	}
}

// A body of megabytes: opening touches only the first lines, Line is
// bounded by the width, and search finds the last line.
func TestBodyViewLargeIsLazy(t *testing.T) {
	var b bytes.Buffer
	for i := range 200000 {
		fmt.Fprintf(&b, "line %06d some text to make it longer\n", i)
	}
	b.WriteString(strings.Repeat("y", 3<<20)) // a 3 MB last line
	v := newBodyView(http.Header{"Content-Type": {"text/plain"}}, flow.Body{Data: b.Bytes()}, nil)
	if got := v.Line(5, 0, 80).String(); got != "line 000005 some text to make it longer" {
		t.Errorf("line 5 = %q", got)
	}
	if len(v.offsets) > 10 {
		t.Errorf("drawing line 5 computed %d offsets: not lazy", len(v.offsets))
	}
	if n := v.Len(); n != 200001 {
		t.Errorf("Len = %d, want 200001", n)
	}
	if got := v.Line(200000, 10, 80).String(); len(got) > 400 {
		t.Errorf("the 3 MB line rendered %d bytes for an 80-column screen", len(got))
	}
	if n, ok := v.findFrom("LINE 199999", 0, false); !ok || n != 199999 {
		t.Errorf("findFrom = %d, %v; want 199999", n, ok)
	}
	if n, ok := v.findFrom("line 000001", 199999, true); !ok || n != 1 {
		t.Errorf("backward findFrom = %d, %v; want 1", n, ok)
	}
	if _, ok := v.findFrom("absent", 0, false); ok {
		t.Errorf("found an absent string")
	}
}

func TestHighlight(t *testing.T) {
	l := Line{{Text: "Needle in a needle", Role: RoleKey}}
	got := highlight(l, "needle")
	want := Line{{"Needle", RoleMatch}, {" in a ", RoleKey}, {"needle", RoleMatch}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("highlight = %v, want %v", got, want)
	}
}

// FuzzBodyView: whatever bytes and headers arrive, the body viewer
// classifies, renders and searches them without panicking.
func FuzzBodyView(f *testing.F) {
	f.Add([]byte(`{"a":1}`), "application/json", "", "a", 3)
	f.Add([]byte("a=1&b=%zz"), "application/x-www-form-urlencoded", "", "b", 0)
	f.Add([]byte("\x1f\x8b\x08\x00bad"), "text/plain", "gzip", "x", 1)
	f.Add([]byte("\xff\xfe\x00binary"), "application/octet-stream", "br", "", 100)
	f.Fuzz(func(t *testing.T, data []byte, ctype, encoding, query string, xoff int) {
		h := http.Header{"Content-Type": {ctype}, "Content-Encoding": {encoding}}
		v := newBodyView(h, flow.Body{Size: int64(len(data)), Data: data}, content.Decode)
		n := v.Len()
		for i := range min(n+1, 50) {
			l := v.Line(i, max(xoff, 0)%200, 80)
			highlight(l, query)
		}
		for from := -1; from <= min(n, 20); from++ {
			if line, ok := v.findFrom(query, from, false); ok && (line <= from || line >= n) {
				t.Fatalf("findFrom forward from %d = %d (of %d)", from, line, n)
			}
			if line, ok := v.findFrom(query, from, true); ok && (line >= from || line < 0) {
				t.Fatalf("findFrom backward from %d = %d", from, line)
			}
		}
	})
}
