package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"

	"onpath/flow"
)

func TestRowListRoundTrip(t *testing.T) {
	var l rowList
	want := flow.Summary{ID: 5, Kind: flow.KindHTTP, Start: time.Unix(1700000000, 123).UTC(), Duration: time.Second, Method: "PATCH",
		URL: "https://x.example/a?b=c", Status: 418, ResponseSize: 99, ErrorPhase: flow.PhaseResponse, Worst: flow.SeverityHigh, Imported: true, Pending: true}
	l.Upsert(&want)
	got := l.At(0)
	got.Start = got.Start.UTC()
	if got != want {
		t.Errorf("At(0) = %+v\nwant %+v", got, want)
	}
}

func TestRowListUpsertRemoveAndCounts(t *testing.T) {
	var l rowList
	add := func(id flow.ID, sev flow.Severity, pending bool) {
		s := flow.Summary{ID: id, URL: fmt.Sprintf("https://h/%d", id), Worst: sev, Pending: pending}
		l.Upsert(&s)
	}
	add(1, flow.SeverityLow, false)
	add(3, flow.SeverityNone, true)
	add(2, flow.SeverityHigh, false) // out of order: inserted
	add(3, flow.SeverityMedium, false)
	ids := []flow.ID{l.ID(0), l.ID(1), l.ID(2)}
	if l.Len() != 3 || ids[0] != 1 || ids[1] != 2 || ids[2] != 3 {
		t.Fatalf("ids = %v, want [1 2 3]", ids)
	}
	if s := l.At(2); s.Pending || s.Worst != flow.SeverityMedium {
		t.Errorf("flow 3 not replaced: %+v", s)
	}
	if got := l.bySeverity; got[flow.SeverityLow] != 1 || got[flow.SeverityHigh] != 1 || got[flow.SeverityMedium] != 1 || got[flow.SeverityNone] != 0 {
		t.Errorf("bySeverity = %v", got)
	}
	l.Remove(2, 99)
	if l.Len() != 2 || l.Find(2) != -1 || l.Find(3) != 1 {
		t.Errorf("after Remove(2): len %d, Find(2) %d, Find(3) %d", l.Len(), l.Find(2), l.Find(3))
	}
	if l.bySeverity[flow.SeverityHigh] != 0 {
		t.Errorf("bySeverity not updated on remove: %v", l.bySeverity)
	}
}

func TestRowListPrependOlder(t *testing.T) {
	var newest, older rowList
	for id := flow.ID(1); id <= 10; id++ {
		s := flow.Summary{ID: id, URL: fmt.Sprintf("https://h/%d", id), Method: "GET", Worst: flow.SeverityLow}
		if id >= 8 {
			newest.Upsert(&s)
		}
		// The loader may overshoot into the first page: duplicates are dropped.
		if id <= 8 {
			older.Upsert(&s)
		}
	}
	newest.PrependOlder(&older)
	if newest.Len() != 10 {
		t.Fatalf("len = %d, want 10", newest.Len())
	}
	for i := range 10 {
		s := newest.At(i)
		if s.ID != flow.ID(i+1) || s.URL != fmt.Sprintf("https://h/%d", i+1) || s.Method != "GET" {
			t.Errorf("row %d = %+v", i, s)
		}
	}
	if newest.bySeverity[flow.SeverityLow] != 10 {
		t.Errorf("bySeverity = %v, want 10 low", newest.bySeverity)
	}
}

func TestCompactRowSize(t *testing.T) {
	if n := unsafe.Sizeof(compactRow{}); n > 56 {
		t.Errorf("compactRow is %d bytes: a million rows must stay small", n)
	}
}

func TestURLArenaLongURL(t *testing.T) {
	var a urlArena
	long := "https://host.example/" + strings.Repeat("ä", 400) + "/tail/index.html?x=1"
	got := a.get(a.add(long))
	if len(got) > maxStoredURL || !utf8.ValidString(got) {
		t.Errorf("stored %d bytes (valid UTF-8: %v), want at most %d", len(got), utf8.ValidString(got), maxStoredURL)
	}
	if !strings.HasPrefix(got, "https://host.example/ä") || !strings.HasSuffix(got, "ä/tail/index.html?x=1") || !strings.Contains(got, "…") {
		t.Errorf("long URL lost its start or end: %q", got)
	}
	for i := range 6000 { // 2.4 MB: crosses chunk boundaries
		s := fmt.Sprintf("https://example/%d/%s", i, strings.Repeat("p", 400))
		if got := a.get(a.add(s)); got != s {
			t.Fatalf("url %d corrupted", i)
		}
	}
}

func TestRowListKeepsReplayOf(t *testing.T) {
	var newer rowList
	newer.Upsert(&flow.Summary{ID: 10, URL: "https://a.test/", ReplayOf: 3})
	newer.Upsert(&flow.Summary{ID: 11, URL: "https://a.test/"})
	var older rowList
	older.Upsert(&flow.Summary{ID: 3, URL: "https://a.test/"})
	older.Upsert(&flow.Summary{ID: 4, URL: "https://a.test/", ReplayOf: 3})
	newer.PrependOlder(&older)
	want := map[flow.ID]flow.ID{3: 0, 4: 3, 10: 3, 11: 0}
	for i := range newer.Len() {
		s := newer.At(i)
		if s.ReplayOf != want[s.ID] {
			t.Errorf("#%d: ReplayOf = %d, want %d", s.ID, s.ReplayOf, want[s.ID])
		}
	}
	// A replaced row forgets, a removed row drops its original.
	newer.Upsert(&flow.Summary{ID: 4, URL: "https://a.test/"})
	newer.Remove(10)
	if got := newer.replayOf; len(got) != 0 {
		t.Errorf("replayOf after replace and remove = %v, want empty", got)
	}
}
