package store

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"onpath/flow"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// storedIDs lists every flow id in the store, ascending.
func storedIDs(t *testing.T, s *Store) []flow.ID {
	t.Helper()
	var ids []flow.ID
	if err := s.Summaries(context.Background(), 0, func(sum flow.Summary) bool {
		ids = append(ids, sum.ID)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return ids
}

// checkNewest fails unless ids are exactly first..last.
func checkNewest(t *testing.T, ids []flow.ID, first, last flow.ID) {
	t.Helper()
	if len(ids) != int(last-first+1) || ids[0] != first || ids[len(ids)-1] != last {
		t.Fatalf("stored ids: %d of them, %v…%v; want exactly %d…%d", len(ids), firstIDs(ids), lastIDs(ids), first, last)
	}
	for i, id := range ids {
		if id != first+flow.ID(i) {
			t.Fatalf("stored ids have a gap at %d (want %d)", id, first+flow.ID(i))
		}
	}
}

func firstIDs(ids []flow.ID) []flow.ID { return ids[:min(3, len(ids))] }
func lastIDs(ids []flow.ID) []flow.ID  { return ids[max(0, len(ids)-3):] }

func TestKeepLeavesExactlyTheNewestFlows(t *testing.T) {
	logs := &syncBuffer{}
	const keep, n = 100, 1000
	s, _ := mustOpen(t, Options{Keep: keep, QueueSize: 64, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	for i := 1; i <= n; i++ {
		if err := s.Put(testFlow(flow.ID(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	// Retention runs right after the commit that Flush waited for.
	waitFor(t, "retention to reach Keep", func() bool { st, _ := s.Stats(); return st.Flows <= keep && st.Trimmed >= n-keep })
	checkNewest(t, storedIDs(t, s), n-keep+1, n)
	for _, id := range []flow.ID{n - keep + 1, n} {
		got, err := s.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		checkFlow(t, got, stored(testFlow(id)))
	}
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Trimmed != n-keep {
		t.Errorf("Stats().Trimmed = %d, want %d", st.Trimmed, n-keep)
	}
	if got := logs.String(); !strings.Contains(got, "retention: deleting the oldest flows") {
		t.Errorf("log has no retention report:\n%s", got)
	}
}

func TestKeepTrimsAnExistingStoreAtOpen(t *testing.T) {
	s, path := mustOpen(t)
	fill(t, s, 500)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, Options{Keep: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	waitFor(t, "retention at open", func() bool { n, _ := s2.Len(); return n <= 50 })
	checkNewest(t, storedIDs(t, s2), 451, 500)
}

// TestMaxSizeBoundsTheFile writes 10 000 flows with 10 KiB bodies (about
// 100 MiB) into a store limited to 8 MiB: the in-use size stays near the
// limit, the file stops growing, and the newest flows are kept.
func TestMaxSizeBoundsTheFile(t *testing.T) {
	const (
		n       = 10000
		maxSize = 8 << 20
	)
	s, path := mustOpen(t, Options{MaxSize: maxSize})
	body := bytes.Repeat([]byte("0123456789abcdef"), 10<<10/16)
	var maxInUse, sizeAtHalf int64
	for i := 1; i <= n; i++ {
		f := listFlow(i)
		f.Response.Body = flow.Body{Size: int64(len(body)), Data: body}
		if err := s.Put(f); err != nil {
			t.Fatal(err)
		}
		if i%500 == 0 {
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
			st, err := s.Stats()
			if err != nil {
				t.Fatal(err)
			}
			maxInUse = max(maxInUse, st.InUse)
			if i == n/2 {
				sizeAtHalf = st.FileSize
			}
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "retention to finish", func() bool { st, _ := s.Stats(); return st.InUse <= maxSize })
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("MaxSize %d KiB: peak in-use %d KiB, final in-use %d KiB, file %d KiB at %d flows and %d KiB at %d; %d flows kept, %d deleted",
		maxSize>>10, maxInUse>>10, st.InUse>>10, sizeAtHalf>>10, n/2, info.Size()>>10, n, st.Flows, st.Trimmed)
	// A commit may add up to MaxSize/8 before the trim after it runs.
	if limit := int64(maxSize) * 5 / 4; maxInUse > limit {
		t.Errorf("in-use size peaked at %d bytes, want at most %d", maxInUse, limit)
	}
	if info.Size() > sizeAtHalf*11/10 {
		t.Errorf("file grew from %d bytes at %d flows to %d at %d; want it to stop growing", sizeAtHalf, n/2, info.Size(), n)
	}
	if limit := int64(3 * maxSize); info.Size() > limit {
		t.Errorf("file is %d bytes, want at most %d with MaxSize %d", info.Size(), limit, maxSize)
	}
	if st.Flows < 100 || uint64(st.Flows)+st.Trimmed != n {
		t.Errorf("%d flows kept and %d deleted, want some kept and %d in all", st.Flows, st.Trimmed, n)
	}
	checkNewest(t, storedIDs(t, s), flow.ID(n-st.Flows+1), n)
}

// TestMaxSizeAtOpenCountsFreePages: a file with many free pages (flows
// deleted, not compacted) is over MaxSize on disk but not in use; opening
// it must not delete anything.
func TestMaxSizeAtOpenCountsFreePages(t *testing.T) {
	s, path := mustOpen(t)
	const n = 2000
	putFlows(t, s, 1, n)
	deleteMost(t, s, n, 2)
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	limit := st.InUse * 3 / 2
	if limit >= st.FileSize {
		t.Fatalf("test setup: in use %d, file %d; want a file well over 1.5× its in-use size", st.InUse, st.FileSize)
	}
	steps := make(chan int, 16)
	s2, err := Open(path, Options{MaxSize: limit, afterTrim: func(deleted int) { steps <- deleted }})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if deleted := <-steps; deleted != 0 {
		t.Errorf("the check at open deleted %d flows, want 0", deleted)
	}
	// Retention checks again after this commit.
	if err := s2.Put(testFlow(n + 1)); err != nil {
		t.Fatal(err)
	}
	if err := s2.Flush(); err != nil {
		t.Fatal(err)
	}
	st2, err := s2.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st2.Trimmed != 0 || st2.Flows != n/2+1 {
		t.Errorf("file %d bytes, %d in use, MaxSize %d: %d flows deleted, %d left; want none deleted and %d left",
			st.FileSize, st.InUse, limit, st2.Trimmed, st2.Flows, n/2+1)
	}
}
