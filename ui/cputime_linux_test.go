//go:build linux

package ui

import (
	"syscall"
	"time"
)

// threadCPUTime is the CPU time of the calling OS thread (lock the
// goroutine to it first): on a loaded machine it measures what a key
// costs, where wall time also measures the neighbours.
func threadCPUTime() (time.Duration, bool) {
	const rusageThread = 1 // RUSAGE_THREAD
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
