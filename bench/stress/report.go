package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// section is one phase's output: a table and notes, printed as aligned
// text as soon as the phase ends and gathered into the markdown report.
type section struct {
	title  string
	header []string
	rows   [][]string
	notes  []string
}

func (s *section) row(cells ...string) { s.rows = append(s.rows, cells) }

func (s *section) note(format string, args ...any) {
	s.notes = append(s.notes, fmt.Sprintf(format, args...))
}

func (s *section) writeText(w io.Writer) {
	fmt.Fprintf(w, "\n== %s\n", s.title)
	widths := make([]int, len(s.header))
	for _, r := range append([][]string{s.header}, s.rows...) {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	line := func(r []string) {
		var b strings.Builder
		for i, c := range r {
			if i == 0 {
				fmt.Fprintf(&b, "%-*s", widths[i], c)
			} else {
				fmt.Fprintf(&b, "  %*s", widths[i], c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(s.header)
	for _, r := range s.rows {
		line(r)
	}
	for _, n := range s.notes {
		fmt.Fprintln(w, n)
	}
}

func (s *section) writeMarkdown(w io.Writer) {
	fmt.Fprintf(w, "#### %s\n\n", s.title)
	fmt.Fprintf(w, "| %s |\n", strings.Join(s.header, " | "))
	seps := make([]string, len(s.header))
	for i := range seps {
		seps[i] = "---:"
	}
	seps[0] = "---"
	fmt.Fprintf(w, "|%s|\n", strings.Join(seps, "|"))
	for _, r := range s.rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
	}
	if len(s.notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range s.notes {
			fmt.Fprintf(w, "%s\n", n)
		}
	}
	fmt.Fprintln(w)
}

func writeMarkdown(path string, preamble []string, sections []*section) error {
	var b strings.Builder
	for _, p := range preamble {
		fmt.Fprintf(&b, "%s\n", p)
	}
	fmt.Fprintln(&b)
	for _, s := range sections {
		s.writeMarkdown(&b)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write markdown: %w", err)
	}
	return nil
}

func msec(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

func mib(v float64) string { return fmt.Sprintf("%.1f", v) }

func perSec(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// ratio formats a/b, or "n/a" when b is zero.
func ratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// loadAverage is /proc/loadavg's first three fields.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
