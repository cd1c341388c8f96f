//go:build !linux

package ui

import "time"

func threadCPUTime() (time.Duration, bool) { return 0, false }
