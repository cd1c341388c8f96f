package ui

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"

	"onpath/flow"
)

func TestPagingDownDoesNotScanTheWholeBody(t *testing.T) {
	var b bytes.Buffer
	for i := range 100000 {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	p := &messagePane{head: []Line{text("HTTP/1.1 200 OK")}, body: newBodyView(http.Header{"Content-Type": {"text/plain"}}, flow.Body{Data: b.Bytes()}, nil)}
	if !hasLine(p, 100, 80) {
		t.Errorf("hasLine(100) = false")
	}
	if n := len(p.body.offsets); n > 200 || p.body.complete {
		t.Errorf("hasLine(100) scanned %d lines (complete %v)", n, p.body.complete)
	}
	if !hasLine(p, 100000, 80) || hasLine(p, 100001, 80) {
		t.Errorf("hasLine wrong at the end: 100000 lines of body plus one head line")
	}
}

func TestSkipRunes(t *testing.T) {
	l := Line{{Text: "ab", Role: RoleKey}, {Text: "cdé"}}
	tests := []struct {
		n    int
		want string
	}{{0, "abcdé"}, {1, "bcdé"}, {2, "cdé"}, {4, "é"}, {9, ""}}
	for _, tc := range tests {
		if got := skipRunes(l, tc.n).String(); got != tc.want {
			t.Errorf("skipRunes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestMessagePaneFind(t *testing.T) {
	p := &messagePane{
		head: []Line{text("GET / HTTP/1.1"), text("X-Token: needle-head"), text("")},
		body: newBodyView(http.Header{"Content-Type": {"text/plain"}}, flow.Body{Data: []byte("one\nneedle body\nthree\nneedle again\n")}, nil),
	}
	tests := []struct {
		from     int
		backward bool
		want     int
		found    bool
	}{
		{-1, false, 1, true}, // in the head
		{1, false, 4, true},  // first body line with it: head 3 + body line 1
		{4, false, 6, true},  // the next one
		{6, false, 0, false}, // none after: the caller wraps
		{6, true, 4, true},   // backwards into the body
		{4, true, 1, true},   // backwards into the head
		{1, true, 0, false},  // none before
	}
	for _, tc := range tests {
		got, ok := p.Find("NEEDLE", tc.from, tc.backward)
		if got != tc.want || ok != tc.found {
			t.Errorf("Find(from %d, backward %v) = %d, %v; want %d, %v", tc.from, tc.backward, got, ok, tc.want, tc.found)
		}
	}
	if got, ok := findWrapping(p, p, "needle", 6, 80, false); !ok || got != 1 {
		t.Errorf("findWrapping from the last match = %d, %v; want 1 (wrapped)", got, ok)
	}
}
