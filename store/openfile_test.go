package store

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// openDescriptors counts this process's open descriptors of path.
func openDescriptors(t *testing.T, path string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	n := 0
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && target == path {
			n++
		}
	}
	return n
}

// TestOpenWaitingThroughACompactionOpensTheNewFile: a process waiting for
// the lock while Compact renames the new file over the old one must end up
// with the new file, not the unlinked old one.
func TestOpenWaitingThroughACompactionOpensTheNewFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flows.db")
	holder, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, holder, 10)

	replacement := filepath.Join(dir, "new.db")
	s2, err := Open(replacement, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, s2, 3)
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}

	type result struct {
		s   *Store
		err error
	}
	opened := make(chan result, 1)
	go func() {
		s, err := Open(path, Options{Timeout: 10 * time.Second})
		opened <- result{s, err}
	}()
	// The waiter holds its own descriptor of the old file while bbolt
	// polls for the lock; seen twice in a row, it is not preflight's.
	seen := 0
	waitFor(t, "the second opener to wait for the lock", func() bool {
		if openDescriptors(t, path) >= 2 {
			seen++
		} else {
			seen = 0
		}
		if seen < 2 {
			time.Sleep(20 * time.Millisecond) // poll interval
		}
		return seen >= 2
	})
	if err := os.Rename(replacement, path); err != nil {
		t.Fatal(err)
	}
	if err := holder.Close(); err != nil {
		t.Fatal(err)
	}
	r := <-opened
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.s.Close()
	if n, err := r.s.Len(); n != 3 || err != nil {
		t.Errorf("Len() = %d, %v; want the replacement's 3 flows (10 means the unlinked old file was opened)", n, err)
	}
}
