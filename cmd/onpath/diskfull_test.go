package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"onpath/internal/testupstream"
	"onpath/internal/tmpfs"
	"onpath/store"
)

var regexpNoSpace = regexp.MustCompile(`no space left on device`)

// TestDiskFullKeepsTrafficFlowing runs the proxy with its data dir on a
// small tmpfs and sends more traffic than fits: every request is answered
// promptly while the store cannot write, the store catches up once space
// returns, and after a clean stop every flow is in the store.
func TestDiskFullKeepsTrafficFlowing(t *testing.T) {
	dir := tmpfs.Mount(t, 8<<20)
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, bytes.Repeat([]byte{1}, 4<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	up := testupstream.Start(t)
	p := startProxy(t, dir, "--upstream-ca", upstreamCAFile(t))
	c := p.client(t)

	// About 4 MiB are free: 600 responses of 8 KiB do not fit.
	const requests = 600
	for i := 1; i <= requests; i++ {
		start := time.Now()
		resp, err := c.Get(fmt.Sprintf("%s/bytes/8192?seed=%d", up.HTTPS.URL, i))
		if err != nil {
			t.Fatalf("request %d through the proxy: %v\nstderr:\n%s", i, err, p.stderr.String())
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n != 8192 {
			t.Fatalf("request %d: status %d, %d bytes; want 200 with 8192", i, resp.StatusCode, n)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("request %d took %v: recording is holding traffic up", i, d)
		}
	}
	committed := len(listFlows(t, dir))
	if committed >= requests {
		t.Fatalf("all %d flows were committed; the disk never filled", committed)
	}
	t.Logf("disk full: %d of %d flows committed, the rest held in memory", committed, requests)
	// The recorder's failure is reported loudly on stderr.
	p.stderr.waitFor(t, regexpNoSpace, 10*time.Second)

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitForFlows(t, dir, requests)
	if code := p.stop(t); code != 0 {
		t.Fatalf("onpath exited %d after the disk recovered:\n%s", code, p.stderr.String())
	}
	st, err := store.Open(filepath.Join(dir, "flows.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n, err := st.Len(); err != nil || n != requests {
		t.Errorf("store holds %d flows (%v) after a clean stop, want %d", n, err, requests)
	}
}
