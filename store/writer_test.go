package store

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"onpath/flow"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // polling interval, not synchronisation
	}
}

func TestPutAndGetTenThousandFlows(t *testing.T) {
	s, path := mustOpen(t)
	const n = 10000
	for i := 1; i <= n; i++ {
		if err := s.Put(testFlow(flow.ID(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openAgain(t, path)
	if got, err := s2.Len(); err != nil || got != n {
		t.Fatalf("Len() = %d, %v; want %d", got, err, n)
	}
	for i := 1; i <= n; i++ {
		got, err := s2.Get(flow.ID(i))
		if err != nil {
			t.Fatalf("Get(%d): %v", i, err)
		}
		checkFlow(t, got, stored(testFlow(flow.ID(i))))
	}
	if _, err := s2.Get(n + 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(missing) error = %v, want ErrNotFound", err)
	}
}

func TestPutCommitsManyFlowsPerTransaction(t *testing.T) {
	release := make(chan struct{})
	var first atomic.Bool
	s, _ := mustOpen(t, Options{QueueSize: 2000, beforeCommit: func(int) error {
		if first.CompareAndSwap(false, true) {
			<-release // hold the first commit until everything is queued
		}
		return nil
	}})
	const n = 1500
	for i := 0; i < n; i++ {
		if err := s.Put(testFlow(0)); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Flows != n {
		t.Errorf("Stats().Flows = %d, want %d", st.Flows, n)
	}
	// One commit held with the first flow(s), then batches of at most 512.
	if want := 1 + (n+maxBatchFlows-1)/maxBatchFlows; st.Commits > uint64(want) {
		t.Errorf("%d flows took %d commits, want at most %d", n, st.Commits, want)
	}
	if st.FileSize == 0 || st.QueueDepth != 0 {
		t.Errorf("Stats() = %+v, want a file size and an empty queue", st)
	}
}

func TestFlushMakesPutFlowsReadable(t *testing.T) {
	s, _ := mustOpen(t)
	for round := 1; round <= 5; round++ {
		for i := 0; i < 100; i++ {
			if err := s.Put(testFlow(0)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Len(); got != round*100 {
			t.Fatalf("after Flush %d: Len() = %d, want %d", round, got, round*100)
		}
		if d := s.QueueDepth(); d != 0 {
			t.Fatalf("after Flush: QueueDepth() = %d, want 0", d)
		}
	}
}

func TestPutIsLosslessWithTinyQueueAndManyWriters(t *testing.T) {
	s, path := mustOpen(t, Options{QueueSize: 1})
	const writers, each = 8, 400
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Go(func() {
			for i := 0; i < each; i++ {
				if err := s.Put(testFlow(0)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openAgain(t, path)
	for id := flow.ID(1); id <= writers*each; id++ {
		if _, err := s2.Get(id); err != nil {
			t.Fatalf("flow %d of %d lost: %v", id, writers*each, err)
		}
	}
}

func TestPutReplacesFlowWithSameID(t *testing.T) {
	s, _ := mustOpen(t)
	pending := testFlow(8) // id 8: pending, with a request body
	if !pending.Pending() {
		t.Fatal("test flow 8 should be pending")
	}
	finished := testFlow(8)
	finished.Timings.End = finished.Timings.Start.Add(time.Second)
	finished.Request.Body = flow.Body{} // the final version has no request body
	for _, f := range []*flow.Flow{pending, finished} {
		if err := s.Put(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(8)
	if err != nil {
		t.Fatal(err)
	}
	checkFlow(t, got, stored(finished))
	if n, _ := s.Len(); n != 1 {
		t.Errorf("Len() = %d after putting one id twice, want 1", n)
	}
	sums, _ := s.LastSummaries(10)
	if len(sums) != 1 || sums[0].Pending {
		t.Errorf("summaries = %+v, want one finished flow", sums)
	}
}

func TestWriteFailureKeepsFlowsAndResumes(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	enospc := fmt.Errorf("write flows.db: %w", syscall.ENOSPC)
	var reported atomic.Int64
	const queue = 4
	s, _ := mustOpen(t, Options{
		QueueSize: queue,
		// A backlog of one byte holds only the failed batch, so the queue
		// fills right away; TestWriteFailureBacklogKeepsPutReturning
		// covers a real backlog.
		MaxBacklog: 1,
		retryMin:   time.Millisecond, retryMax: 5 * time.Millisecond,
		OnError: func(error) { reported.Add(1) },
		beforeCommit: func(int) error {
			if failing.Load() {
				return enospc
			}
			return nil
		},
	})
	const n = 50
	var accepted atomic.Int64
	putterDone := make(chan struct{})
	go func() {
		defer close(putterDone)
		for i := 0; i < n; i++ {
			if err := s.Put(testFlow(0)); err != nil {
				t.Error(err)
				return
			}
			accepted.Add(1)
		}
	}()
	waitFor(t, "a few failed commits", func() bool { return reported.Load() >= 3 })
	waitFor(t, "the queue to fill", func() bool { return len(s.queue) == queue })
	select {
	case <-putterDone:
		t.Fatal("all Puts returned while the disk was full; want Put to block once the queue is full")
	default:
	}
	if got := accepted.Load(); got >= n {
		t.Errorf("accepted %d flows while failing, want fewer than %d", got, n)
	}
	if err := s.LastError(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("LastError() = %v, want one wrapping ENOSPC", err)
	}
	if d := s.QueueDepth(); d < queue {
		t.Errorf("QueueDepth() = %d while failing, want at least %d", d, queue)
	}

	failing.Store(false)
	<-putterDone
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Len(); got != n {
		t.Errorf("Len() = %d after the disk recovered, want %d", got, n)
	}
	if err := s.LastError(); err != nil {
		t.Errorf("LastError() = %v after recovery, want nil", err)
	}
}

// TestWriteFailureBacklogKeepsPutReturning: while commits fail, the writer
// holds flows in memory up to MaxBacklog bytes, so Put keeps returning
// (traffic keeps flowing); past the bound Put blocks; everything is
// committed, in order, once the disk recovers.
func TestWriteFailureBacklogKeepsPutReturning(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	var reported atomic.Int64
	const queue = 4
	flowSize := int64(encodeFlow(testFlow(1)).size())
	const fit = 200 // flows the backlog must take without blocking Put
	s, _ := mustOpen(t, Options{
		QueueSize:  queue,
		MaxBacklog: fit * flowSize * 11 / 10,
		retryMin:   time.Millisecond, retryMax: 5 * time.Millisecond,
		OnError: func(error) { reported.Add(1) },
		beforeCommit: func(int) error {
			if failing.Load() {
				return syscall.ENOSPC
			}
			return nil
		},
	})
	for i := 1; i <= fit; i++ {
		put := make(chan error, 1)
		go func() { put <- s.Put(testFlow(flow.ID(i))) }()
		select {
		case err := <-put:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Put %d of %d blocked while the backlog had room", i, fit)
		}
	}
	waitFor(t, "a failed commit reported", func() bool { return reported.Load() > 0 })
	waitFor(t, fmt.Sprintf("QueueDepth() = %d while failing", fit), func() bool { return s.QueueDepth() == fit })
	// Beyond the backlog and the queue, Put blocks.
	blocked := make(chan error, 1)
	go func() {
		for i := fit + 1; i <= fit+100; i++ {
			if err := s.Put(testFlow(flow.ID(i))); err != nil {
				blocked <- err
				return
			}
		}
		blocked <- nil
	}()
	waitFor(t, "the queue to fill", func() bool { return len(s.queue) == queue })
	select {
	case err := <-blocked:
		t.Fatalf("100 more Puts returned (%v) with a full backlog; want Put to block", err)
	default:
	}
	if err := s.LastError(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("LastError() = %v, want one wrapping ENOSPC", err)
	}
	failing.Store(false)
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	for id := flow.ID(1); id <= fit+100; id++ {
		got, err := s.Get(id)
		if err != nil {
			t.Fatalf("flow %d after recovery: %v", id, err)
		}
		checkFlow(t, got, stored(testFlow(id)))
	}
	if err := s.LastError(); err != nil {
		t.Errorf("LastError() = %v after recovery, want nil", err)
	}
}

// TestWriteFailureCommitsWhatFits: when the disk has room for a few flows
// only, the writer shrinks its batches so those get committed instead of
// retrying one batch that can never fit.
func TestWriteFailureCommitsWhatFits(t *testing.T) {
	const room = 10 // flows one commit may hold, as if the disk were nearly full
	var full atomic.Bool
	full.Store(true)
	s, _ := mustOpen(t, Options{
		retryMin: time.Millisecond, retryMax: 5 * time.Millisecond,
		beforeCommit: func(flows int) error {
			if full.Load() || flows > room {
				return syscall.ENOSPC
			}
			return nil
		},
	})
	const n = 300
	for i := 0; i < n; i++ {
		if err := s.Put(testFlow(0)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "a failed commit", func() bool { return s.LastError() != nil })
	full.Store(false)
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Len(); got != n {
		t.Errorf("Len() = %d, want %d committed in batches of at most %d", got, n, room)
	}
}

func TestCloseGivesUpWhenDiskStaysFull(t *testing.T) {
	s, _ := mustOpen(t, Options{
		retryMin: time.Millisecond, retryMax: 5 * time.Millisecond, closeWait: 200 * time.Millisecond,
		beforeCommit: func(int) error { return syscall.ENOSPC },
	})
	for i := 0; i < 10; i++ {
		if err := s.Put(testFlow(0)); err != nil {
			t.Fatal(err)
		}
	}
	flushed := make(chan error, 1)
	go func() { flushed <- s.Flush() }()
	start := time.Now()
	err := s.Close()
	if ferr := <-flushed; ferr == nil {
		t.Error("Flush returned nil although its flows were never written")
	}
	if err == nil || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "10 flows could not be written") {
		t.Errorf("Close() = %v, want an error naming 10 unwritten flows and ENOSPC", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v, want it bounded by closeWait", d)
	}
}

func TestUseAfterCloseIsErrClosed(t *testing.T) {
	s, _ := mustOpen(t)
	if err := s.Put(testFlow(0)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		err  error
	}{
		{"Put", s.Put(testFlow(0))},
		{"Flush", s.Flush()},
		{"PutBatch", s.PutBatch([]*flow.Flow{testFlow(0)})},
		{"Get", func() error { _, err := s.Get(1); return err }()},
		{"Len", func() error { _, err := s.Len(); return err }()},
		{"Delete", s.Delete(1)},
		{"Close again", s.Close()},
	}
	for _, c := range checks {
		want := ErrClosed
		if c.name == "Close again" {
			want = nil
		}
		if !errors.Is(c.err, want) || (want == nil && c.err != nil) {
			t.Errorf("%s after Close = %v, want %v", c.name, c.err, want)
		}
	}
}

func TestPutBatchIsAllOrNothing(t *testing.T) {
	var fail atomic.Bool
	s, _ := mustOpen(t, Options{beforeCommit: func(int) error {
		if fail.Load() {
			return syscall.ENOSPC
		}
		return nil
	}})
	batch := func() []*flow.Flow {
		var fs []*flow.Flow
		for i := 0; i < 100; i++ {
			f := testFlow(0)
			f.ImportID = "har-x"
			fs = append(fs, f)
		}
		return fs
	}
	fail.Store(true)
	if err := s.PutBatch(batch()); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("failing PutBatch = %v, want ENOSPC", err)
	}
	if n, _ := s.Len(); n != 0 {
		t.Fatalf("Len() = %d after a failed PutBatch, want 0", n)
	}
	fail.Store(false)
	fs := batch()
	if err := s.PutBatch(fs); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Len(); n != 100 {
		t.Fatalf("Len() = %d after PutBatch of 100, want 100", n)
	}
	for _, f := range fs {
		if f.ID == 0 {
			t.Fatal("PutBatch left a flow without an id")
		}
	}
}

func TestStatsLastCommitUsesInjectedClock(t *testing.T) {
	at := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	s, _ := mustOpen(t, Options{Now: func() time.Time { return at }})
	if st, _ := s.Stats(); !st.LastCommit.IsZero() {
		t.Errorf("LastCommit before any commit = %v, want zero", st.LastCommit)
	}
	fill(t, s, 1)
	if st, _ := s.Stats(); !st.LastCommit.Equal(at) {
		t.Errorf("LastCommit = %v, want %v", st.LastCommit, at)
	}
}
