package ui

import (
	"strings"
	"testing"
	"time"

	"onpath/flow"
)

func TestStatusCell(t *testing.T) {
	tests := []struct {
		name     string
		s        flow.Summary
		wantText string
		wantRole Role
	}{
		{"ok", flow.Summary{Status: 200}, "200", RoleStatus2xx},
		{"redirect", flow.Summary{Status: 302}, "302", RoleStatus3xx},
		{"client error", flow.Summary{Status: 404}, "404", RoleStatus4xx},
		{"server error", flow.Summary{Status: 503}, "503", RoleStatus5xx},
		{"informational", flow.Summary{Status: 101}, "101", RoleNormal},
		{"pending", flow.Summary{Pending: true}, "...", RolePending},
		{"failed", flow.Summary{ErrorPhase: flow.PhaseDNS}, "ERR", RoleError},
		{"failed after a response", flow.Summary{Status: 200, ErrorPhase: flow.PhaseResponse}, "200", RoleStatus2xx},
		{"tunnel", flow.Summary{Kind: flow.KindTunnel}, "-", RoleDim},
	}
	for _, tc := range tests {
		text, role := statusCell(&tc.s)
		if text != tc.wantText || role != tc.wantRole {
			t.Errorf("%s: statusCell = %q, %v; want %q, %v", tc.name, text, role, tc.wantText, tc.wantRole)
		}
	}
}

func TestFormatting(t *testing.T) {
	sizes := []struct {
		n    int64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1.0k"}, {1536, "1.5k"}, {5 << 20, "5.0M"}, {3 << 30, "3.0G"}}
	for _, tc := range sizes {
		if got := formatSize(tc.n); got != tc.want {
			t.Errorf("formatSize(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	durs := []struct {
		d    time.Duration
		want string
	}{{0, "0ms"}, {500 * time.Microsecond, "500µs"}, {42 * time.Millisecond, "42ms"}, {12500 * time.Millisecond, "12.5s"}, {125 * time.Second, "2m05s"}, {3 * time.Hour, "3.0h"}}
	for _, tc := range durs {
		if got := formatDuration(tc.d); got != tc.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
		if n := len([]rune(formatDuration(tc.d))); n > 6 {
			t.Errorf("formatDuration(%v) is %d wide, the column is 6", tc.d, n)
		}
	}
}

func TestSplitURLAndScheme(t *testing.T) {
	tests := []struct {
		s                      flow.Summary
		wantHost, wantPath, sm string
	}{
		{flow.Summary{URL: "https://a.example/x/y?q=1"}, "a.example", "/x/y?q=1", "tls"},
		{flow.Summary{URL: "http://a.example:8080"}, "a.example:8080", "/", "http"},
		{flow.Summary{URL: "pinned.example:443", Kind: flow.KindTunnel}, "pinned.example:443", "", "pass"},
		{flow.Summary{URL: "wss://ws.example/socket"}, "ws.example", "/socket", "tls"},
	}
	for _, tc := range tests {
		h, p := splitURL(tc.s.URL)
		if h != tc.wantHost || p != tc.wantPath {
			t.Errorf("splitURL(%q) = %q, %q; want %q, %q", tc.s.URL, h, p, tc.wantHost, tc.wantPath)
		}
		if got := schemeMarker(&tc.s); got != tc.sm {
			t.Errorf("schemeMarker(%q) = %q, want %q", tc.s.URL, got, tc.sm)
		}
	}
}

func TestListRow(t *testing.T) {
	start := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		s    flow.Summary
		want string
		role map[string]Role // cell text → role
	}{
		{
			name: "finished https",
			s: flow.Summary{ID: 7, Start: start, Method: "GET", URL: "https://api.example.com/v1/users?page=2", Status: 404,
				ResponseSize: 2048, Duration: 35 * time.Millisecond, Worst: flow.SeverityMedium},
			want: " 7 15:04:05 GET     404 api.example.com /v1/…ers?page=2   2.0k   35ms tls  med  ",
			role: map[string]Role{"404": RoleStatus4xx, "med ": RoleSevMedium},
		},
		{
			name: "pending plain http",
			s:    flow.Summary{ID: 12, Start: start, Method: "POST", URL: "http://x.example/login", Pending: true},
			want: "12 15:04:05 POST    ... x.example       /login                        http      ",
			role: map[string]Role{"...": RolePending},
		},
	}
	l := newListLayout(80, 2, 15)
	for _, tc := range tests {
		line := l.row(&tc.s, time.UTC)
		if got := line.String(); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
		for _, sp := range line {
			if want, ok := tc.role[sp.Text]; ok && sp.Role != want {
				t.Errorf("%s: cell %q role %v, want %v", tc.name, sp.Text, sp.Role, want)
			}
		}
		if w := line.Width(); w != 80 {
			t.Errorf("%s: row is %d wide, want 80", tc.name, w)
		}
	}
}

func TestListLayoutDropsColumnsWhenNarrow(t *testing.T) {
	for _, width := range []int{1, 20, 40, 60, 80, 200} {
		l := newListLayout(width, 7, 0)
		total := 0
		for _, w := range l.width {
			if w > 0 {
				total += w + 1
			}
		}
		if width >= 40 && total > width {
			t.Errorf("width %d: columns need %d", width, total)
		}
		if l.width[colHost] < 1 || l.width[colPath] < 1 {
			t.Errorf("width %d: host/path hidden: %v", width, l.width)
		}
	}
	if l := newListLayout(40, 3, 0); l.width[colTime] != 0 {
		t.Errorf("at 40 columns the time column should be dropped first")
	}
	if l := newListLayout(120, 3, 0); strings.Contains(l.header().String(), "  ") == false {
		t.Errorf("header looks wrong: %q", l.header().String())
	}
}
