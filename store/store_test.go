package store

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"onpath/flow"
	"onpath/store/query"
)

// The helper process: tests re-run the test binary with
// ONPATH_STORE_HELPER set to act as a second onpath process.
const helperEnv = "ONPATH_STORE_HELPER"

func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("only runs as a child of another test")
	}
	path := os.Getenv("ONPATH_STORE_PATH")
	switch mode {
	case "open":
		// Try to open a store another process holds; report the outcome.
		start := time.Now()
		s, err := Open(path, Options{})
		if err == nil {
			s.Close()
		}
		fmt.Printf("elapsed=%d locked=%t err=%v\n", time.Since(start).Milliseconds(), errors.Is(err, ErrLocked), err)
		os.Exit(0)
	case "writer":
		// Put flows in rounds and print each id once Flush confirmed it,
		// until killed (or bounded by count and time).
		s, err := Open(path, Options{QueueSize: 64})
		if err != nil {
			fmt.Println("open:", err)
			os.Exit(1)
		}
		deadline := time.Now().Add(30 * time.Second)
		out := bufio.NewWriter(os.Stdout)
		for round := 0; round < 20000 && time.Now().Before(deadline); round++ {
			var ids []flow.ID
			for range 7 {
				f := testFlow(s.NextID())
				ids = append(ids, f.ID)
				if err := s.Put(f); err != nil {
					fmt.Println("put:", err)
					os.Exit(1)
				}
			}
			if err := s.Flush(); err != nil {
				fmt.Println("flush:", err)
				os.Exit(1)
			}
			for _, id := range ids {
				fmt.Fprintf(out, "ok %d\n", id)
			}
			out.Flush()
		}
		os.Exit(0)
	}
	t.Fatalf("unknown helper mode %q", mode)
}

func helperCommand(t *testing.T, mode, path string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "ONPATH_STORE_PATH="+path)
	cmd.Stderr = os.Stderr
	return cmd
}

func TestOpenCreatesPrivateFileWithBuckets(t *testing.T) {
	s, path := mustOpen(t)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("mode of new store = %v, want 0600", got)
	}
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
	if n, err := s.Len(); err != nil || n != 0 {
		t.Errorf("Len() = %d, %v; want 0, nil", n, err)
	}
}

func TestOpenTightensPermissiveFile(t *testing.T) {
	s, path := mustOpen(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	openAgain(t, path)
	info, _ := os.Stat(path)
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("mode after reopening a 0644 store = %v, want 0600", got)
	}
}

func TestOpenLockedByAnotherProcess(t *testing.T) {
	_, path := mustOpen(t)
	out, err := helperCommand(t, "open", path).Output()
	if err != nil {
		t.Fatalf("helper: %v (output %q)", err, out)
	}
	var elapsed int
	var locked bool
	line := strings.TrimSpace(string(out))
	if _, err := fmt.Sscanf(line, "elapsed=%d locked=%t", &elapsed, &locked); err != nil {
		t.Fatalf("helper output %q: %v", line, err)
	}
	if !locked {
		t.Fatalf("second opener: %s; want an error wrapping ErrLocked", line)
	}
	if !strings.Contains(line, path) {
		t.Errorf("second opener's error %q does not name the file %s", line, path)
	}
	if elapsed > 1900 {
		t.Errorf("second opener failed after %d ms, want about 1 s (Options.Timeout)", elapsed)
	}
}

func TestOpenRefusesBadFilesAndLeavesThemUntouched(t *testing.T) {
	// A real store with enough data to span many pages, to truncate.
	realDB := func(t *testing.T) []byte {
		s, path := mustOpen(t)
		var fs []*flow.Flow
		for i := 1; i <= 500; i++ {
			fs = append(fs, testFlow(flow.ID(i)))
		}
		if err := s.PutBatch(fs); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	random := func(n int) func(*testing.T) []byte {
		return func(*testing.T) []byte { b := make([]byte, n); rand.Read(b); return b }
	}
	foreignBolt := func(t *testing.T) []byte {
		path := filepath.Join(t.TempDir(), "other.db")
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		db.Update(func(tx *bolt.Tx) error {
			b, _ := tx.CreateBucket([]byte("someone-else"))
			return b.Put([]byte("k"), []byte("v"))
		})
		db.Close()
		b, _ := os.ReadFile(path)
		return b
	}
	tests := []struct {
		name    string
		content func(*testing.T) []byte
		want    error
	}{
		{"random 64 KiB", random(64 << 10), ErrCorrupt},
		{"random 100 bytes", random(100), ErrCorrupt},
		{"text file", func(*testing.T) []byte { return []byte("not a database\n") }, ErrCorrupt},
		{"truncated store", func(t *testing.T) []byte {
			// Cut inside the pages in use: the file may extend past them.
			b := realDB(t)
			m, ok := readMeta(bytes.NewReader(b), 0)
			if !ok {
				t.Fatal("the store's first meta page does not read")
			}
			return b[:int64(m.pgid)*int64(m.pageSize)/2]
		}, ErrCorrupt},
		{"store cut inside the first page", func(t *testing.T) []byte { b := realDB(t); return b[:3000] }, ErrCorrupt},
		{"bbolt file of another program", foreignBolt, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			content := tt.content(t)
			path := filepath.Join(t.TempDir(), "flows.db")
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(path, Options{})
			if err == nil {
				s.Close()
				t.Fatalf("Open succeeded, want an error wrapping %v", tt.want)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open error = %v, want one wrapping %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(after, content) {
				t.Errorf("file changed: %d bytes before, %d after", len(content), len(after))
			}
		})
	}
}

func TestOpenRefusesNewerFormat(t *testing.T) {
	s, path := mustOpen(t)
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(metaFormat, binary.BigEndian.AppendUint64(nil, formatVersion+1))
	})
	db.Close()
	s2, err := Open(path, Options{})
	if err == nil {
		s2.Close()
		t.Fatal("Open of a newer-format store succeeded")
	}
	if !errors.Is(err, ErrNewerFormat) || !strings.Contains(err.Error(), "upgrade") {
		t.Errorf("Open error = %v, want ErrNewerFormat telling to upgrade", err)
	}
}

func TestNextIDContinuesAfterHighestStoredID(t *testing.T) {
	s, path := mustOpen(t)
	for _, id := range []flow.ID{5, 100, 42} {
		if err := s.Put(testFlow(id)); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.NextID(); got != 101 {
		t.Errorf("NextID after Put of id 100 = %d, want 101", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openAgain(t, path)
	if got := s2.NextID(); got != 101 {
		t.Errorf("NextID after reopen = %d, want 101", got)
	}
}

// TestKill9KeepsConfirmedFlows kills a writing child process with SIGKILL
// and checks every flow it had confirmed (Flush returned) is intact.
func TestKill9KeepsConfirmedFlows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flows.db")
	cmd := helperCommand(t, "writer", path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var confirmed []flow.ID
	sc := bufio.NewScanner(stdout)
	deadline := time.Now().Add(20 * time.Second)
	for len(confirmed) < 2000 && time.Now().Before(deadline) && sc.Scan() {
		line := sc.Text()
		id, err := strconv.ParseUint(strings.TrimPrefix(line, "ok "), 10, 64)
		if err != nil {
			t.Fatalf("child said %q", line)
		}
		confirmed = append(confirmed, flow.ID(id))
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if len(confirmed) < 100 {
		t.Fatalf("child confirmed only %d flows before the deadline", len(confirmed))
	}
	checkConsistency(t, path)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	defer s.Close()
	for _, id := range confirmed {
		got, err := s.Get(id)
		if err != nil {
			t.Fatalf("confirmed flow %d after kill -9: %v", id, err)
		}
		checkFlow(t, got, stored(testFlow(id)))
	}
	n, _ := s.Len()
	t.Logf("%d flows confirmed, %d in the store after kill -9", len(confirmed), n)
	if n < len(confirmed) {
		t.Errorf("Len() = %d after kill -9, want at least the %d confirmed", n, len(confirmed))
	}
}

// TestDamagedPagesGiveErrCorruptNotACrash overwrites single pages of a real
// store with garbage: opening and reading must either work or fail with
// ErrCorrupt; bbolt's panics and faults on the map must not escape.
func TestDamagedPagesGiveErrCorruptNotACrash(t *testing.T) {
	s, path := mustOpen(t)
	var fs []*flow.Flow
	for i := 1; i <= 1500; i++ {
		fs = append(fs, testFlow(flow.ID(i)))
	}
	if err := s.PutBatch(fs); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	pristine, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const pageSize = 4096
	pages := len(pristine) / pageSize
	corruptSeen := 0
	for _, page := range []int{2, 3, 4, 5, pages / 3, pages / 2, pages - 2, pages - 1} {
		t.Run(fmt.Sprintf("page %d of %d", page, pages), func(t *testing.T) {
			damaged := bytes.Clone(pristine)
			garbage := damaged[page*pageSize : (page+1)*pageSize]
			for i := range garbage {
				garbage[i] = byte(i*131 + page*7 + 0x5a) // deterministic noise
			}
			dpath := filepath.Join(t.TempDir(), "flows.db")
			if err := os.WriteFile(dpath, damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			check := func(what string, err error) bool {
				if err == nil {
					return true
				}
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("%s: %v, want nil or an error wrapping ErrCorrupt", what, err)
				}
				corruptSeen++
				t.Logf("%s: %v", what, err)
				return false
			}
			ds, err := Open(dpath, Options{})
			if !check("Open", err) {
				return
			}
			defer ds.Close()
			check("Summaries", ds.Summaries(context.Background(), 0, func(flow.Summary) bool { return true }))
			q, _ := query.Parse("header:X-Trace")
			check("Query", ds.Query(context.Background(), q, nil, func(flow.Summary) bool { return true }))
			for id := flow.ID(1); id <= 1500; id += 37 {
				if _, err := ds.Get(id); !check(fmt.Sprintf("Get(%d)", id), err) {
					break
				}
			}
		})
	}
	if corruptSeen == 0 {
		t.Error("no damaged page was noticed; the test does not exercise anything")
	}
	t.Logf("%d reads reported ErrCorrupt", corruptSeen)
}

func TestDamagedFreelistIsRefusedBeforeBboltMapsIt(t *testing.T) {
	s, path := mustOpen(t)
	fill(t, s, 300)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	pristine, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b := bytes.Clone(pristine)
	r := bytes.NewReader(b)
	m0, ok0 := readMeta(r, 0)
	m1, ok1 := readMeta(r, int64(m0.pageSize))
	if !ok0 || !ok1 {
		t.Fatal("fresh store has an invalid meta page")
	}
	meta := m0
	if m1.txid > m0.txid {
		meta = m1
	}
	if meta.freelist == boltNoFreelist {
		t.Skip("store has no freelist page")
	}
	page := b[meta.freelist*uint64(meta.pageSize):][:meta.pageSize]
	for i := range page {
		page[i] = 0xA5
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, Options{})
	if err == nil {
		s2.Close()
		t.Fatal("Open with a damaged freelist succeeded")
	}
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "freelist") {
		t.Fatalf("Open = %v, want ErrCorrupt naming the freelist", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, b) {
		t.Error("Open changed the damaged file")
	}
	// The cleanup's consistency check would report the damage; restore the
	// freelist so it checks that the file was released (not locked).
	if err := os.WriteFile(path, pristine, 0o600); err != nil {
		t.Fatal(err)
	}
}
