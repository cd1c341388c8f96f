package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"onpath/flow"
	"onpath/internal/tmpfs"
)

// putFlows writes ids first..last in transactions of 1000.
func putFlows(t testing.TB, s *Store, first, last int) {
	t.Helper()
	var batch []*flow.Flow
	for i := first; i <= last; i++ {
		batch = append(batch, testFlow(flow.ID(i)))
		if len(batch) == 1000 || i == last {
			if err := s.PutBatch(batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

// deleteMost deletes every flow of 1..n except multiples of keepEvery.
func deleteMost(t testing.TB, s *Store, n, keepEvery int) {
	t.Helper()
	var ids []flow.ID
	for i := 1; i <= n; i++ {
		if i%keepEvery != 0 {
			ids = append(ids, flow.ID(i))
		}
	}
	if err := s.Delete(ids...); err != nil {
		t.Fatal(err)
	}
}

func TestCompactShrinksAndKeepsEveryFlow(t *testing.T) {
	const n, keepEvery = 10000, 10
	s, path := mustOpen(t)
	putFlows(t, s, 1, n)
	deleteMost(t, s, n, keepEvery)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A leftover of an interrupted compaction is replaced.
	if err := os.WriteFile(path+compactSuffix, []byte("half a file"), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	before, after, err := Compact(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("compacted %d flows (of %d written) from %d KiB to %d KiB in %v", n/keepEvery, n, before>>10, after>>10, time.Since(start).Round(time.Millisecond))
	if after*3 > before {
		t.Errorf("compaction went from %d to %d bytes, want under a third", before, after)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() != after || info.Mode().Perm() != 0o600 {
		t.Errorf("compacted file: size %d mode %v, want size %d mode 0600", info.Size(), info.Mode().Perm(), after)
	}
	if _, err := os.Stat(path + compactSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temporary copy is still there: %v", err)
	}
	s2 := openAgain(t, path)
	if got, _ := s2.Len(); got != n/keepEvery {
		t.Fatalf("Len() = %d after compaction, want %d", got, n/keepEvery)
	}
	for i := 1; i <= n; i++ {
		got, err := s2.Get(flow.ID(i))
		if i%keepEvery != 0 {
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("deleted flow %d: Get = %v, want ErrNotFound", i, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("flow %d lost in compaction: %v", i, err)
		}
		checkFlow(t, got, stored(testFlow(flow.ID(i))))
	}
	if id := s2.NextID(); id != n+1 {
		t.Errorf("NextID() = %d after compaction, want %d", id, n+1)
	}
	// mustOpen's cleanup checks the compacted file's consistency.
}

func TestCompactRefusesAStoreInUse(t *testing.T) {
	s, path := mustOpen(t)
	fill(t, s, 10)
	orig := fileBytes(t, path)
	_, _, err := Compact(path, Options{Timeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "stop the onpath that uses it") {
		t.Fatalf("Compact of an open store = %v, want ErrLocked saying to stop the proxy", err)
	}
	if !bytes.Equal(fileBytes(t, path), orig) {
		t.Error("the store changed although Compact was refused")
	}
	if n, err := s.Len(); err != nil || n != 10 {
		t.Errorf("Len() = %d, %v after a refused Compact, want 10", n, err)
	}
}

func TestCompactRefusesWhatIsNotAStore(t *testing.T) {
	for _, tt := range []struct {
		name string
		data []byte
		want error
	}{
		{"text", []byte("not a database, just text\n"), ErrCorrupt},
		{"zeros", make([]byte, 16384), ErrCorrupt},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "flows.db")
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, _, err := Compact(path, Options{}); !errors.Is(err, tt.want) {
				t.Errorf("Compact = %v, want %v", err, tt.want)
			}
			if got := fileBytes(t, path); !bytes.Equal(got, tt.data) {
				t.Error("the file was changed")
			}
		})
	}
}

// TestCompactOnAFullDiskLeavesTheOriginal runs out of space while writing
// the copy: the original must be untouched and the partial copy removed.
func TestCompactOnAFullDiskLeavesTheOriginal(t *testing.T) {
	dir := tmpfs.Mount(t, 4<<20)
	path := filepath.Join(dir, "flows.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1500
	putFlows(t, s, 1, n)
	deleteMost(t, s, n, 2)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	orig := fileBytes(t, path)
	tmpfs.Fill(t, dir, 32<<10)
	_, _, err = Compact(path, Options{})
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "original is unchanged") {
		t.Fatalf("Compact on a full disk = %v, want ENOSPC saying the original is unchanged", err)
	}
	if !bytes.Equal(fileBytes(t, path), orig) {
		t.Error("the original changed after a failed compaction")
	}
	if _, err := os.Stat(path + compactSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the partial copy is still there: %v", err)
	}
	s2 := openAgain(t, path)
	if got, _ := s2.Len(); got != n/2 {
		t.Errorf("Len() = %d after a failed compaction, want %d", got, n/2)
	}
}

func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
