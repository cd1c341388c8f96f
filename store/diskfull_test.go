package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"onpath/flow"
	"onpath/internal/tmpfs"
)

// TestFullDiskKeepsTrafficFlowingAndResumes fills a real (tmpfs) disk
// with flows until commits fail, then checks the promises of doc.go: Put
// keeps returning while the backlog has room, the error is reported, the
// writer resumes when space comes back, and no flow is lost, neither the
// committed ones nor those held in memory.
func TestFullDiskKeepsTrafficFlowingAndResumes(t *testing.T) {
	dir := tmpfs.Mount(t, 4<<20)
	filler := filepath.Join(dir, "filler")
	// 1 MiB to give back later.
	if err := os.WriteFile(filler, bytes.Repeat([]byte{1}, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "flows.db")
	var reported atomic.Int64
	const backlog = 256 << 10
	s, err := Open(path, Options{
		QueueSize:  8,
		MaxBacklog: backlog,
		OnError:    func(error) { reported.Add(1) },
		retryMin:   time.Millisecond, retryMax: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	body := bytes.Repeat([]byte("full disk "), 800) // 8 KiB
	newFlow := func(i int) *flow.Flow {
		f := testFlow(flow.ID(i))
		b := &f.Request.Body // every fifth test flow has no response
		if f.Response != nil {
			b = &f.Response.Body
		}
		*b = flow.Body{Size: int64(len(body)), Data: body}
		return f
	}
	// put fails the test if one Put takes long: traffic must keep flowing.
	put := func(i int) {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- s.Put(newFlow(i)) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Put of flow %d blocked with a backlog under %d bytes", i, backlog)
		}
	}
	// Write until a commit fails; 3 MiB of room takes about 400 flows.
	i := 0
	for s.LastError() == nil {
		if i == 2000 {
			t.Fatalf("%d flows of 8 KiB fit in a 4 MiB tmpfs; the disk never filled", i)
		}
		i++
		put(i)
		if i%20 == 0 {
			waitFor(t, "the writer to catch up or fail", func() bool { return s.QueueDepth() == 0 || s.LastError() != nil })
		}
	}
	firstFailure := i
	if err := s.LastError(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("LastError() = %v, want one wrapping ENOSPC", err)
	}
	committed, err := s.Len()
	if err != nil {
		t.Fatal(err)
	}
	// Traffic keeps flowing: Puts return while the backlog fills.
	held := s.QueueDepth()
	for range (backlog/len(body))/2 - held {
		i++
		put(i)
	}
	if reported.Load() == 0 {
		t.Error("OnError was never called")
	}
	t.Logf("disk full after %d flows (%d committed); %d flows held in memory", firstFailure, committed, s.QueueDepth())

	// Space returns: the writer resumes and commits the backlog.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "writes to resume", func() bool { return s.LastError() == nil && s.QueueDepth() == 0 })
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openAgain(t, path)
	if got, _ := s2.Len(); got != i {
		t.Errorf("Len() = %d after the disk recovered, want all %d flows", got, i)
	}
	for id := 1; id <= i; id++ {
		got, err := s2.Get(flow.ID(id))
		if err != nil {
			t.Fatalf("flow %d of %d: %v", id, i, err)
		}
		checkFlow(t, got, stored(newFlow(id)))
	}
	s2.Close()
	checkConsistency(t, path)
}
