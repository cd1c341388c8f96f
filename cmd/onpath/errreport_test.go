package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestErrorReporterIsLoudButNotAFlood(t *testing.T) {
	var out bytes.Buffer
	r := newErrorReporter(&out, 30*time.Second)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return now }
	full := errors.New("write flows.db: no space left on device")
	r.report(full)
	for range 5 {
		now = now.Add(time.Second)
		r.report(full)
	}
	if got := strings.Count(out.String(), "ERROR recording flows"); got != 1 {
		t.Fatalf("after 6 failures within 30 s: %d messages, want 1:\n%s", got, out.String())
	}
	now = now.Add(30 * time.Second)
	r.report(full)
	if got := out.String(); strings.Count(got, "ERROR recording flows") != 2 || !strings.Contains(got, "(5 more failures since the last message)") {
		t.Errorf("after the interval: want a second message counting the 5 held back:\n%s", got)
	}
}
