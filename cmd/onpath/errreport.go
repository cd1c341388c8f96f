package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// errorReporter writes recorder errors to w: the first at once, then at
// most one per interval, saying how many were held back, so a full disk
// is loud without flooding the terminal.
type errorReporter struct {
	w        io.Writer
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	last    time.Time
	skipped int
}

func newErrorReporter(w io.Writer, interval time.Duration) *errorReporter {
	return &errorReporter{w: w, interval: interval, now: time.Now}
}

func (r *errorReporter) report(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if !r.last.IsZero() && now.Sub(r.last) < r.interval {
		r.skipped++
		return
	}
	more := ""
	if r.skipped > 0 {
		more = fmt.Sprintf(" (%d more failures since the last message)", r.skipped)
	}
	fmt.Fprintf(r.w, "onpath: ERROR recording flows: %v%s\nFlows wait in memory and are written when the store accepts writes again; free disk space in the data dir.\n", err, more)
	r.last, r.skipped = now, 0
}
