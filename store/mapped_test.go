package store

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"onpath/flow"
)

// mappedRSS is how much of path this process has mapped in memory (the
// Rss of its mappings in /proc/self/smaps), in bytes.
func mappedRSS(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	defer f.Close()
	var total int64
	inFile := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			inFile = len(fields) >= 6 && fields[5] == path
			continue
		}
		if inFile && len(fields) == 3 && fields[0] == "Rss:" {
			kb, _ := strconv.ParseInt(fields[1], 10, 64)
			total += kb << 10
		}
	}
	return total
}

// The writer reads the file through its memory map; the pages it touches
// (and the kernel maps around them) would stay counted in the process's
// RSS, growing with the file.
func TestMappedPagesDoNotGrowWithTheFile(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/smaps")
	}
	s, path := mustOpen(t)
	const n = 40_000
	for i := 1; i <= n; i++ {
		f := testFlow(1) // one with a response
		f.ID = flow.ID(i)
		f.Response.Body.Data = patterned(2048, byte(i))
		if err := s.Put(f); err != nil {
			t.Fatal(err)
		}
		if i%20 == 0 {
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	mapped := mappedRSS(t, path)
	t.Logf("file %.1f MiB, mapped in memory %.1f MiB", float64(info.Size())/(1<<20), float64(mapped)/(1<<20))
	if mapped > info.Size()/4 {
		t.Errorf("%.1f MiB of the %.1f MiB file is mapped in memory after writing, want at most a quarter", float64(mapped)/(1<<20), float64(info.Size())/(1<<20))
	}
}
