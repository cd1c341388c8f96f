package main

import (
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"16MiB", 16 << 20, true},
		{"16M", 16 << 20, true},
		{"512k", 512 << 10, true},
		{"1GB", 1 << 30, true},
		{"1048576", 1 << 20, true},
		{"1.5KiB", 1536, true},
		{"0", 0, true},
		{"-1", 0, false},
		{"lots", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestFormatSizeAndDuration(t *testing.T) {
	sizes := map[int64]string{0: "0B", 1023: "1023B", 1536: "1.5KiB", 16 << 20: "16MiB", 3 << 30: "3GiB"}
	for n, want := range sizes {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
	}
	durations := map[time.Duration]string{0: "-", 850 * time.Microsecond: "850µs", 12 * time.Millisecond: "12ms", 1400 * time.Millisecond: "1.4s"}
	for d, want := range durations {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
