package store

import (
	"context"
	"errors"
	bolt "go.etcd.io/bbolt"
	"strings"
	"testing"

	"onpath/flow"
	"onpath/store/query"
)

// fill puts flows 1..n through Put and flushes.
func fill(t *testing.T, s *Store, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		if err := s.Put(testFlow(flow.ID(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
}

func TestSummariesMatchRecordsInIDOrder(t *testing.T) {
	s, _ := mustOpen(t)
	const n = scanChunk + 500 // spans two read chunks
	fill(t, s, n)
	tests := []struct {
		after flow.ID
		stop  int // fn returns false after this many; 0 = never
		want  []flow.ID
	}{
		{after: 0, want: idRange(1, n)},
		{after: 4000, want: idRange(4001, n)},
		{after: n, want: nil},
		{after: 10, stop: 3, want: idRange(11, 13)},
	}
	for _, tt := range tests {
		var got []flow.ID
		err := s.Summaries(context.Background(), tt.after, func(sum flow.Summary) bool {
			got = append(got, sum.ID)
			want := testFlow(sum.ID).Summarize()
			if !sum.Start.Equal(want.Start) {
				t.Fatalf("summary %d: Start %v, want %v", sum.ID, sum.Start, want.Start)
			}
			sum.Start = want.Start
			if sum != want {
				t.Fatalf("summary %d:\n got %+v\nwant %+v", sum.ID, sum, want)
			}
			return tt.stop == 0 || len(got) < tt.stop
		})
		if err != nil {
			t.Fatal(err)
		}
		if !equalIDs(got, tt.want) {
			t.Errorf("Summaries(after %d, stop %d): got %d ids %v…, want %d", tt.after, tt.stop, len(got), head(got), len(tt.want))
		}
	}
}

func TestLastSummaries(t *testing.T) {
	s, _ := mustOpen(t)
	fill(t, s, 250)
	tests := []struct {
		n    int
		want []flow.ID
	}{
		{0, nil},
		{1, []flow.ID{250}},
		{100, idRange(151, 250)},
		{1000, idRange(1, 250)},
	}
	for _, tt := range tests {
		sums, err := s.LastSummaries(tt.n)
		if err != nil {
			t.Fatal(err)
		}
		var got []flow.ID
		for _, sum := range sums {
			got = append(got, sum.ID)
		}
		if !equalIDs(got, tt.want) {
			t.Errorf("LastSummaries(%d) = %v…, want %v…", tt.n, head(got), head(tt.want))
		}
	}
}

func TestQueryUsesSummariesRecordsOrBodies(t *testing.T) {
	s, _ := mustOpen(t)
	const n = 300
	fill(t, s, n)
	tests := []struct {
		query string
		want  func(*flow.Flow) bool
	}{
		{"", func(*flow.Flow) bool { return true }},
		{"status:404", func(f *flow.Flow) bool { return f.Status() == 404 }},
		{"host:host3.example -method:GET", func(f *flow.Flow) bool {
			return f.Request.Host() == "host3.example" && f.Request.Method != "GET"
		}},
		{"cookie:sid has:error", func(f *flow.Flow) bool { return f.Error != nil }},
		{`header:"X-Trace=17"`, func(f *flow.Flow) bool { return strings.Contains(f.Request.Header.Get("X-Trace"), "17") }},
		{`body:"body 42 "`, func(f *flow.Flow) bool { return f.ID == 42 }},
	}
	for _, tt := range tests {
		q, err := query.Parse(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		var want []flow.ID
		for i := 1; i <= n; i++ {
			if f := testFlow(flow.ID(i)); tt.want(f) {
				want = append(want, f.ID)
			}
		}
		var got []flow.ID
		var lastDone, lastTotal int
		err = s.Query(context.Background(), q, func(done, total int) { lastDone, lastTotal = done, total }, func(sum flow.Summary) bool {
			got = append(got, sum.ID)
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		if !equalIDs(got, want) {
			t.Errorf("Query(%q) = %d ids %v…, want %d ids %v…", tt.query, len(got), head(got), len(want), head(want))
		}
		if lastDone != n || lastTotal != n {
			t.Errorf("Query(%q) last progress = %d/%d, want %d/%d", tt.query, lastDone, lastTotal, n, n)
		}
	}
}

func TestQueryStopsOnCancelAndOnFalse(t *testing.T) {
	s, _ := mustOpen(t)
	fill(t, s, 3*scanChunk)
	ctx, cancel := context.WithCancel(context.Background())
	seen := 0
	err := s.Query(ctx, nil, nil, func(flow.Summary) bool {
		seen++
		if seen == 10 {
			cancel()
		}
		return true
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Query after cancel = %v, want context.Canceled", err)
	}
	if seen > scanChunk {
		t.Errorf("Query delivered %d summaries after cancel, want at most one chunk (%d)", seen, scanChunk)
	}
	seen = 0
	err = s.Query(context.Background(), nil, nil, func(flow.Summary) bool { seen++; return seen < 5 })
	if err != nil || seen != 5 {
		t.Errorf("Query stopping at 5: seen %d, err %v", seen, err)
	}
}

func idRange(lo, hi int) []flow.ID {
	var ids []flow.ID
	for i := lo; i <= hi; i++ {
		ids = append(ids, flow.ID(i))
	}
	return ids
}

func equalIDs(a, b []flow.ID) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func head(ids []flow.ID) []flow.ID { return ids[:min(len(ids), 5)] }

func TestQueryReportsCorruptRecord(t *testing.T) {
	s, _ := mustOpen(t)
	fill(t, s, 200)
	err := s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFlows).Put(idKey(150), []byte{recordVersion, '{', 'x'})
	})
	if err != nil {
		t.Fatal(err)
	}
	q, _ := query.Parse("header:X-Trace")
	err = s.Query(context.Background(), q, nil, func(flow.Summary) bool { return true })
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "flow 150") {
		t.Errorf("Query over a corrupt record = %v, want ErrCorrupt naming flow 150", err)
	}
	// A summary-only query does not read records and still works.
	q, _ = query.Parse("status:404")
	if err := s.Query(context.Background(), q, nil, func(flow.Summary) bool { return true }); err != nil {
		t.Errorf("summary-only Query = %v, want nil", err)
	}
}

func TestQueryReportsSummaryWithoutRecord(t *testing.T) {
	s, _ := mustOpen(t)
	fill(t, s, 100)
	err := s.update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketFlows).Delete(idKey(60)); err != nil {
			return err
		}
		return tx.Bucket(bucketSummaries).Delete(idKey(61))
	})
	if err != nil {
		t.Fatal(err)
	}
	q, _ := query.Parse("header:X-Trace")
	err = s.Query(context.Background(), q, nil, func(flow.Summary) bool { return true })
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "flow 60 has a summary but no record") {
		t.Errorf("Query = %v, want ErrCorrupt naming flow 60", err)
	}
	// Repair so that the cleanup consistency check passes; the stored count
	// never changed, so finish (which writes it) is not called.
	err = s.update(func(tx *bolt.Tx) error {
		w := newTxWriter(tx)
		for _, id := range []flow.ID{60, 61} {
			if err := w.put(encodeFlow(testFlow(id))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
