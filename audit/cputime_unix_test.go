//go:build unix

package audit

import (
	"syscall"
	"time"
)

// processCPUTime is the user+system CPU time of this process: on a shared
// machine it is a steadier cost figure than wall time.
func processCPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
