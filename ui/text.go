package ui

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Span is a run of text with one role.
type Span struct {
	Text string
	Role Role
}

// Line is one screen line of spans.
type Line []Span

// String is the line's plain text.
func (l Line) String() string {
	var b strings.Builder
	for _, s := range l {
		b.WriteString(s.Text)
	}
	return b.String()
}

// Width is the line's width in cells (one per rune: the viewer replaces
// control characters and does not lay out wide characters specially).
func (l Line) Width() int {
	n := 0
	for _, s := range l {
		n += utf8.RuneCountInString(s.Text)
	}
	return n
}

func text(s string) Line { return Line{{Text: s}} }

func styled(s string, r Role) Line { return Line{{Text: s, Role: r}} }

// printable replaces control characters so that bytes from the wire can
// never move the terminal's cursor or change its state.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || (unicode.IsControl(r)) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteString("    ")
		case r == utf8.RuneError || unicode.IsControl(r):
			b.WriteRune('·')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// fit pads or cuts s to exactly width cells; cut text ends with "…".
func fit(s string, width int) string {
	if width <= 0 {
		return ""
	}
	n := utf8.RuneCountInString(s)
	if n == width {
		return s
	}
	if n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return cutRunes(s, width-1) + "…"
}

// fitRight right-aligns s in width cells.
func fitRight(s string, width int) string {
	n := utf8.RuneCountInString(s)
	if n >= width {
		return fit(s, width)
	}
	return strings.Repeat(" ", width-n) + s
}

// cutRunes returns the first n runes of s.
func cutRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// shortenMiddle cuts s to at most width runes by replacing its middle
// with "…", keeping more of the end (a path's last segment says most).
func shortenMiddle(s string, width int) string {
	if width <= 0 {
		return ""
	}
	runes := []rune(s)
	if len(runes) <= width {
		return s
	}
	if width == 1 {
		return "…"
	}
	keep := width - 1
	head := keep / 3
	tail := keep - head
	return string(runes[:head]) + "…" + string(runes[len(runes)-tail:])
}

// padLine cuts or pads a line to width cells.
func padLine(l Line, width int, fill Role) Line {
	out := make(Line, 0, len(l)+1)
	left := width
	for _, s := range l {
		if left <= 0 {
			break
		}
		n := utf8.RuneCountInString(s.Text)
		if n > left {
			out = append(out, Span{Text: cutRunes(s.Text, left), Role: s.Role})
			left = 0
			break
		}
		out = append(out, s)
		left -= n
	}
	if left > 0 {
		out = append(out, Span{Text: strings.Repeat(" ", left), Role: fill})
	}
	return out
}
