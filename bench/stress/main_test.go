package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestQuickRunRecordsEveryFlow runs every phase with -quick against the
// real onpath binary and mitmdump. It takes about half a minute and needs
// mitmdump, so it runs only with ONPATH_BENCH=1.
func TestQuickRunRecordsEveryFlow(t *testing.T) {
	if os.Getenv("ONPATH_BENCH") != "1" {
		t.Skip("set ONPATH_BENCH=1 to run the quick load and comparison run (needs mitmdump)")
	}
	if _, err := exec.LookPath("mitmdump"); err != nil {
		t.Skip("mitmdump not installed (apt-get install mitmproxy)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	md := filepath.Join(t.TempDir(), "bench.md")
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"-quick", "-markdown", md}, &out, &errOut); err != nil {
		t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	text := out.String()

	checks := []struct {
		name string
		re   string
	}{
		{"concurrency phase has no errors", `(?m)^errors\s+0$`},
		{"concurrency phase loses no flow", `(?m)^flows lost \(answered − recorded\)\s+0$`},
		{"soak loses no flow and has no errors", `0 errors; \d+ flows recorded, flows lost: 0\.`},
		{"comparison loses no onpath flow", `onpath flows: (\d+) requests sent through it, (\d+) recorded, lost 0\.`},
		{"comparison has the HTTPS keep-alive row with a ratio", `(?m)^HTTPS keep-alive, \d+ clients \(req/s\)\s+\d+\s+[\d.]+\s+[\d.]+×`},
		{"comparison has the distinct-hosts row", `(?m)^20 distinct hosts, first request to each`},
		{"comparison has the download row", `(?m)^4 MiB HTTPS download \(MiB/s\)`},
		{"comparison has the RSS row", `(?m)^RSS after 500 HTTPS flows \(MiB\)\s+[\d.]+\s+[\d.]+`},
	}
	for _, c := range checks {
		if !regexp.MustCompile(c.re).MatchString(text) {
			t.Errorf("%s: output does not match %q:\n%s", c.name, c.re, text)
		}
	}
	if strings.Contains(text, " errors (") {
		t.Errorf("some requests failed:\n%s", text)
	}

	data, err := os.ReadFile(md)
	if err != nil {
		t.Fatalf("markdown: %v", err)
	}
	for _, want := range []string{"| measure | onpath | mitmproxy | onpath/mitmproxy | target | met |", "|---|---:|", "#### RSS across"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("markdown lacks %q:\n%s", want, data)
		}
	}
}
