package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseSize reads a byte size: "16MiB", "16M", "512k", "1GB", "1048576".
// Decimal and binary suffixes both mean powers of 1024, as users of a
// debugging proxy mean them.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{
		{"gib", 1 << 30}, {"gb", 1 << 30}, {"g", 1 << 30},
		{"mib", 1 << 20}, {"mb", 1 << 20}, {"m", 1 << 20},
		{"kib", 1 << 10}, {"kb", 1 << 10}, {"k", 1 << 10},
		{"b", 1},
	} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size (examples: 16MiB, 512k, 1048576)", s)
	}
	return int64(n * float64(mult)), nil
}

// sizeFlag is a flag holding a byte size.
type sizeFlag struct{ n int64 }

func (f *sizeFlag) String() string { return formatSize(f.n) }
func (f *sizeFlag) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	f.n = n
	return nil
}

// formatSize prints a byte count compactly: 512B, 1.2KiB, 16MiB.
func formatSize(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%dB", n)
	case n < 1<<20:
		return trimZero(float64(n)/(1<<10)) + "KiB"
	case n < 1<<30:
		return trimZero(float64(n)/(1<<20)) + "MiB"
	default:
		return trimZero(float64(n)/(1<<30)) + "GiB"
	}
}

func trimZero(v float64) string {
	s := strconv.FormatFloat(v, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0")
}

// formatDuration prints a duration at a precision a person reads: 850µs, 12ms, 1.4s.
func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	default:
		return trimZero(d.Seconds()) + "s"
	}
}
