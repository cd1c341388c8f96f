package audit

import (
	"testing"
	"time"
)

func TestParseCookieDate(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time // zero: must fail
	}{
		{"Wed, 21 Oct 2015 07:28:00 GMT", time.Date(2015, 10, 21, 7, 28, 0, 0, time.UTC)},
		{"Wednesday, 21-Oct-15 07:28:00 GMT", time.Date(2015, 10, 21, 7, 28, 0, 0, time.UTC)},
		{"Wed Oct 21 07:28:00 2015", time.Date(2015, 10, 21, 7, 28, 0, 0, time.UTC)},
		{"21 october 1999 7:8:9", time.Date(1999, 10, 21, 7, 8, 9, 0, time.UTC)},
		{"Thu, 01 Jan 70 00:00:00 GMT", time.Unix(0, 0).UTC()},
		{"Sat, 01 Jan 69 00:00:00 GMT", time.Date(2069, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"31 Feb 2026 00:00:00", time.Time{}},
		{"32 Jan 2026 00:00:00", time.Time{}},
		{"1 Jan 1600 00:00:00", time.Time{}},
		{"1 Jan 2026 24:00:00", time.Time{}},
		{"1 Jan 2026", time.Time{}},
		{"soon", time.Time{}},
		{"", time.Time{}},
		{"1 Jan 20260 00:00:00", time.Time{}},
	}
	for _, tc := range tests {
		got, ok := parseCookieDate(tc.in)
		if ok != !tc.want.IsZero() || !got.Equal(tc.want) {
			t.Errorf("parseCookieDate(%q) = %v, %v; want %v", tc.in, got, ok, tc.want)
		}
	}
}
