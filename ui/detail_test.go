package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"onpath/flow"
)

func TestTimingPhases(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	tests := []struct {
		name string
		t    flow.Timings
		want string
	}{
		{"fresh https", flow.Timings{Start: t0, DNSStart: ms(0), DNSDone: ms(3), ConnectStart: ms(3), ConnectDone: ms(10), TLSStart: ms(10), TLSDone: ms(30), RequestSent: ms(31), FirstByte: ms(80), End: ms(90)},
			"DNS 3ms, connect 7ms, TLS 20ms, request sent 1ms, waiting 49ms, receiving 10ms"},
		{"reused connection", flow.Timings{Start: t0, RequestSent: ms(2), FirstByte: ms(50), End: ms(51)},
			"request sent 2ms, waiting 48ms, receiving 1ms"},
		{"in progress", flow.Timings{Start: t0, RequestSent: ms(2)}, "request sent 2ms"},
	}
	for _, tc := range tests {
		got := ""
		for i, p := range timingPhases(tc.t) {
			if i > 0 {
				got += ", "
			}
			got += fmt.Sprintf("%s %s", p.name, formatDuration(p.end.Sub(p.start)))
		}
		if got != tc.want {
			t.Errorf("%s: phases %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestTimingBarsScale(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tm := flow.Timings{Start: t0, RequestSent: t0, FirstByte: t0.Add(50 * time.Millisecond), End: t0.Add(100 * time.Millisecond)}
	for _, w := range []int{20, 80, 200} {
		for _, l := range timingLines(tm, w, time.UTC) {
			if strings.Contains(l.String(), "│") && l.Width() > max(w, 29) {
				t.Errorf("width %d: line %q is %d wide", w, l.String(), l.Width())
			}
		}
	}
}
