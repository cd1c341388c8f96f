package ui

import "strings"

// pane is the scrollable content of a detail tab. Line renders line i
// starting xoff runes in, for a pane width cells wide.
type pane interface {
	Len(width int) int
	Line(i, xoff, width int) Line
}

// hasLine reports whether p has line n, as cheaply as p allows.
func hasLine(p pane, n, width int) bool {
	if mp, ok := p.(*messagePane); ok {
		return mp.has(n)
	}
	return n < p.Len(width)
}

// searchable panes support `/`, n and N.
type searchable interface {
	// Find returns the first line after from (before it when backward)
	// containing query, without wrapping.
	Find(query string, from int, backward bool) (int, bool)
}

// staticPane is a few pre-rendered lines.
type staticPane []Line

func (p staticPane) Len(int) int { return len(p) }

func (p staticPane) Line(i, xoff, _ int) Line {
	if i < 0 || i >= len(p) {
		return nil
	}
	return skipRunes(p[i], xoff)
}

func (p staticPane) Find(query string, from int, backward bool) (int, bool) {
	return findInLines(p, query, from, backward)
}

func findInLines(lines []Line, query string, from int, backward bool) (int, bool) {
	q := strings.ToLower(query)
	if backward {
		for i := min(from-1, len(lines)-1); i >= 0; i-- {
			if strings.Contains(strings.ToLower(lines[i].String()), q) {
				return i, true
			}
		}
		return 0, false
	}
	for i := max(from+1, 0); i < len(lines); i++ {
		if strings.Contains(strings.ToLower(lines[i].String()), q) {
			return i, true
		}
	}
	return 0, false
}

// widthPane lays its lines out for the screen width (two columns, bar
// charts) and keeps the last layout.
type widthPane struct {
	build func(width int) []Line
	width int
	lines []Line
}

func (p *widthPane) layout(width int) []Line {
	if p.lines == nil || p.width != width {
		p.lines, p.width = p.build(width), width
	}
	return p.lines
}

func (p *widthPane) Len(width int) int { return len(p.layout(width)) }

func (p *widthPane) Line(i, xoff, width int) Line {
	lines := p.layout(width)
	if i < 0 || i >= len(lines) {
		return nil
	}
	return skipRunes(lines[i], xoff)
}

func (p *widthPane) Find(query string, from int, backward bool) (int, bool) {
	return findInLines(p.lines, query, from, backward)
}

// messagePane is a request or response: head lines (start line, headers)
// then the body viewer.
type messagePane struct {
	head []Line
	body *bodyView
}

func (p *messagePane) Len(int) int { return len(p.head) + p.body.Len() }

// has reports whether line n exists, finding body line offsets only that
// far: paging down a huge body does not scan all of it.
func (p *messagePane) has(n int) bool {
	return n < len(p.head) || p.body.ensure(n-len(p.head))
}

func (p *messagePane) Line(i, xoff, width int) Line {
	if i < len(p.head) {
		if i < 0 {
			return nil
		}
		return skipRunes(p.head[i], xoff)
	}
	return p.body.Line(i-len(p.head), xoff, width)
}

func (p *messagePane) Find(query string, from int, backward bool) (int, bool) {
	h := len(p.head)
	if backward {
		if from > h {
			if n, ok := p.body.findFrom(query, from-h, true); ok {
				return n + h, true
			}
		}
		return findInLines(p.head, query, min(from, h), true)
	}
	if n, ok := findInLines(p.head, query, from, false); ok {
		return n, true
	}
	if n, ok := p.body.findFrom(query, max(from-h, -1), false); ok {
		return n + h, true
	}
	return 0, false
}

// skipRunes drops the first n runes of a line (horizontal scrolling).
func skipRunes(l Line, n int) Line {
	if n <= 0 {
		return l
	}
	out := make(Line, 0, len(l))
	for _, s := range l {
		if n <= 0 {
			out = append(out, s)
			continue
		}
		runes := []rune(s.Text)
		if len(runes) <= n {
			n -= len(runes)
			continue
		}
		out = append(out, Span{Text: string(runes[n:]), Role: s.Role})
		n = 0
	}
	return out
}

// findWrapping searches p forward or backward from line from, wrapping
// around its end once.
func findWrapping(p pane, s searchable, query string, from, width int, backward bool) (int, bool) {
	if n, ok := s.Find(query, from, backward); ok {
		return n, true
	}
	if backward {
		return s.Find(query, p.Len(width), true)
	}
	return s.Find(query, -1, false)
}
