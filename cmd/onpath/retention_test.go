package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onpath/internal/testupstream"
)

// sendGets sends n GETs of size-byte responses through p, one at a time.
func sendGets(t *testing.T, p *runningProxy, up *testupstream.Upstreams, first, last, size int) {
	t.Helper()
	c := p.client(t)
	for i := first; i <= last; i++ {
		resp, err := c.Get(fmt.Sprintf("%s/bytes/%d?seed=%d", up.HTTPS.URL, size, i))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// seedOf extracts the seed=N of a flow URL sent by sendGets.
func seedOf(t *testing.T, url string) int {
	t.Helper()
	i := strings.Index(url, "seed=")
	var n int
	if i < 0 {
		t.Fatalf("URL %q has no seed", url)
	}
	fmt.Sscan(url[i+len("seed="):], &n)
	return n
}

func TestKeepFlagKeepsTheNewestFlows(t *testing.T) {
	// A non-loopback listen address is refused before anything is opened.
	up := testupstream.Start(t)
	p := startProxy(t, "", "--keep", "5", "--upstream-ca", upstreamCAFile(t))
	sendGets(t, p, up, 1, 12, 100)
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows := listFlows(t, p.dir)
		if len(rows) == 5 && seedOf(t, rows[0].URL) == 8 && seedOf(t, rows[4].URL) == 12 {
			return
		}
		if time.Now().After(deadline) {
			var seeds []int
			for _, r := range rows {
				seeds = append(seeds, seedOf(t, r.URL))
			}
			t.Fatalf("with --keep 5 after 12 requests the store lists seeds %v, want 8…12", seeds)
		}
		time.Sleep(20 * time.Millisecond) // polling the store: retention runs after commits
	}
}

func TestMaxDBSizeFlagBoundsTheFile(t *testing.T) {
	up := testupstream.Start(t)
	p := startProxy(t, "", "--max-db-size", "1MiB", "--upstream-ca", upstreamCAFile(t))
	const n = 400 // 8 KiB each: over 3 MiB recorded
	sendGets(t, p, up, 1, n, 8192)
	// Recording is asynchronous: wait for the newest flow.
	deadline := time.Now().Add(10 * time.Second)
	rows := listFlows(t, p.dir)
	for len(rows) == 0 || seedOf(t, rows[len(rows)-1].URL) != n {
		if time.Now().After(deadline) {
			t.Fatalf("the newest flow (seed %d) never showed up; %d flows listed", n, len(rows))
		}
		time.Sleep(20 * time.Millisecond) // polling the store
		rows = listFlows(t, p.dir)
	}
	if len(rows) >= n {
		t.Errorf("with --max-db-size 1MiB: %d flows listed, want fewer than %d", len(rows), n)
	}
	info, err := os.Stat(filepath.Join(p.dir, "flows.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("--max-db-size 1MiB after %d flows of 8 KiB: %d flows kept, file %d KiB", n, len(rows), info.Size()>>10)
	if info.Size() > 4<<20 {
		t.Errorf("flows.db is %d bytes with --max-db-size 1MiB, want at most 4 MiB", info.Size())
	}
}

func TestStoreCompactReclaimsSpace(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	up := testupstream.Start(t)
	p := startProxy(t, dir, "--upstream-ca", upstreamCAFile(t))
	const n = 200
	sendGets(t, p, up, 1, n, 8192)
	waitForFlows(t, dir, n)
	// While the proxy runs, compaction is refused with what to do.
	_, errOut, code := cli(t, "store", "compact", "--dir", dir)
	if code == 0 || !strings.Contains(errOut, "stop") {
		t.Errorf("store compact with the proxy running: exit %d, stderr %q; want a failure saying to stop the proxy", code, errOut)
	}
	if _, errOut, code := cli(t, "flows", "clear", "--dir", dir); code != 0 {
		t.Fatalf("flows clear: exit %d: %s", code, errOut)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("onpath exited %d:\n%s", code, p.stderr.String())
	}
	path := filepath.Join(dir, "flows.db")
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := cli(t, "store", "compact", "--dir", dir)
	if code != 0 {
		t.Fatalf("store compact: exit %d: %s", code, errOut)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("store compact: %d KiB → %d KiB; said %q", before.Size()>>10, after.Size()>>10, strings.TrimSpace(out+errOut))
	if after.Size()*4 > before.Size() || after.Mode().Perm() != 0o600 {
		t.Errorf("after compact: %d bytes (from %d), mode %v; want under a quarter, mode 0600", after.Size(), before.Size(), after.Mode().Perm())
	}
}
