package ui

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"onpath/flow"
)

// column identifies one column of the flow list.
type column uint8

const (
	colID column = iota
	colTime
	colMethod
	colStatus
	colHost
	colPath
	colSize
	colDuration
	colScheme
	colSeverity
)

// listLayout is the width of every column for one screen width; a zero
// width means the column is hidden.
type listLayout struct {
	width [colSeverity + 1]int
}

// fixed widths of the columns that do not stretch.
var fixedWidths = map[column]int{
	colTime: 8, colMethod: 7, colStatus: 3, colSize: 6, colDuration: 6, colScheme: 4, colSeverity: 4,
}

// newListLayout fits the columns into screenWidth. idDigits is the width
// of the largest id, hostNeed that of the longest host on screen (0:
// unknown). Narrow screens drop, in order: time, duration, scheme, size,
// severity, method, so host and path keep room to be read.
func newListLayout(screenWidth, idDigits, hostNeed int) listLayout {
	var l listLayout
	l.width[colID] = max(idDigits, 2)
	for c, w := range fixedWidths {
		l.width[c] = w
	}
	dropOrder := []column{colTime, colDuration, colScheme, colSize, colSeverity, colMethod}
	used := func() int {
		n := 0
		for c, w := range l.width {
			if column(c) != colHost && column(c) != colPath && w > 0 {
				n += w + 1 // one space after each column
			}
		}
		return n
	}
	const minStretch = 14
	for _, c := range dropOrder {
		if screenWidth-used()-2 >= minStretch {
			break
		}
		l.width[c] = 0
	}
	// Host and path are each followed by a space too.
	rest := max(screenWidth-used()-2, 2)
	host := min(max(rest/2, 1), 32)
	if hostNeed > 0 {
		// Give the hosts on screen what they need, the path the rest.
		host = min(max(hostNeed, 4, rest/4), rest*3/5, 40)
	}
	l.width[colHost] = host
	l.width[colPath] = rest - host
	return l
}

// header is the column header line.
func (l listLayout) header() Line {
	names := [...]string{"ID", "TIME", "METHOD", "STS", "HOST", "PATH", "SIZE", "DUR", "PROT", "SEV"}
	var b strings.Builder
	for c, w := range l.width {
		if w == 0 {
			continue
		}
		if column(c) == colID || column(c) == colSize || column(c) == colDuration {
			b.WriteString(fitRight(names[c], w))
		} else {
			b.WriteString(fit(names[c], w))
		}
		b.WriteByte(' ')
	}
	return styled(b.String(), RoleHeader)
}

// row renders one summary as list cells. loc is the time zone of the
// time column.
func (l listLayout) row(s *flow.Summary, loc *time.Location) Line {
	host, path := splitURL(s.URL)
	line := make(Line, 0, 20)
	add := func(c column, txt string, r Role, right bool) {
		w := l.width[c]
		if w == 0 {
			return
		}
		if right {
			txt = fitRight(txt, w)
		} else {
			txt = fit(txt, w)
		}
		line = append(line, Span{Text: txt, Role: r}, Span{Text: " "})
	}
	add(colID, strconv.FormatUint(uint64(s.ID), 10), RoleDim, true)
	when := ""
	if !s.Start.IsZero() {
		when = s.Start.In(loc).Format("15:04:05")
	}
	add(colTime, when, RoleDim, false)
	method := printable(s.Method)
	if w := l.width[colMethod]; s.ReplayOf != 0 && w >= 3 {
		method = fit(method, w-2) + " ↻" // a replay: o jumps to the original
	}
	add(colMethod, method, RoleNormal, false)
	stxt, srole := statusCell(s)
	add(colStatus, stxt, srole, false)
	add(colHost, printable(shortenMiddle(host, l.width[colHost])), RoleNormal, false)
	add(colPath, printable(shortenMiddle(path, l.width[colPath])), RoleNormal, false)
	size := ""
	if !s.Pending || s.ResponseSize > 0 {
		size = formatSize(s.ResponseSize)
	}
	add(colSize, size, RoleNormal, true)
	dur := ""
	if !s.Pending {
		dur = formatDuration(s.Duration)
	}
	add(colDuration, dur, RoleDim, true)
	add(colScheme, schemeMarker(s), RoleDim, false)
	sv, sr := severityCell(s.Worst)
	add(colSeverity, sv, sr, false)
	return line
}

// statusCell is the status column: the code coloured by class, "..." while
// pending, "ERR" when the flow failed before a response.
func statusCell(s *flow.Summary) (string, Role) {
	switch {
	case s.Pending:
		return "...", RolePending
	case s.Status == 0 && s.ErrorPhase != "":
		return "ERR", RoleError
	case s.Status == 0:
		return "-", RoleDim
	}
	return strconv.Itoa(s.Status), statusRole(s.Status)
}

// statusRole colours a status code by its class.
func statusRole(code int) Role {
	switch {
	case code >= 500:
		return RoleStatus5xx
	case code >= 400:
		return RoleStatus4xx
	case code >= 300:
		return RoleStatus3xx
	case code >= 200:
		return RoleStatus2xx
	}
	return RoleNormal
}

// schemeMarker tells https, plain http and passthrough tunnels apart.
func schemeMarker(s *flow.Summary) string {
	if s.Kind == flow.KindTunnel {
		return "pass"
	}
	switch {
	case strings.HasPrefix(s.URL, "https:"), strings.HasPrefix(s.URL, "wss:"):
		return "tls"
	case strings.HasPrefix(s.URL, "http:"), strings.HasPrefix(s.URL, "ws:"):
		return "http"
	}
	return "?"
}

// severityCell is the worst finding's severity, short.
func severityCell(sv flow.Severity) (string, Role) {
	switch sv {
	case flow.SeverityHigh:
		return "HIGH", RoleSevHigh
	case flow.SeverityMedium:
		return "med", RoleSevMedium
	case flow.SeverityLow:
		return "low", RoleSevLow
	case flow.SeverityInfo:
		return "info", RoleSevInfo
	}
	return "", RoleNormal
}

// splitURL returns the host (with a non-default port) and the path with
// query of an absolute URL; a tunnel's "host:port" comes back as host.
func splitURL(raw string) (host, path string) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		if i := strings.Index(raw, "://"); i >= 0 {
			raw = raw[i+3:]
		}
		if i := strings.IndexByte(raw, '/'); i >= 0 {
			return raw[:i], raw[i:]
		}
		return raw, ""
	}
	path = u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	return u.Host, path
}

// formatSize is a byte count in at most 6 characters.
func formatSize(n int64) string {
	switch {
	case n < 0:
		return "?"
	case n < 1000:
		return strconv.FormatInt(n, 10)
	case n < 1000*1024:
		return fmt.Sprintf("%.1fk", float64(n)/1024)
	case n < 1000*1024*1024:
		return fmt.Sprintf("%.1fM", float64(n)/(1024*1024))
	}
	return fmt.Sprintf("%.1fG", float64(n)/(1024*1024*1024))
}

// formatDuration is a duration in at most 6 characters.
func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0ms"
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + "µs"
	case d < 10*time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < 100*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%.1fh", d.Hours())
}
