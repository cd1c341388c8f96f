package ui

import (
	"sort"
	"time"
	"unicode/utf8"

	"onpath/flow"
)

// rowList holds the list's summaries compactly: a million flows must fit
// the viewer's memory budget, so each row is a fixed 48-byte struct and
// URLs live in a chunked byte arena instead of a million strings.
type rowList struct {
	rows    []compactRow
	arena   urlArena
	strings interner
	// count of flows by worst severity, kept up to date on every change.
	bySeverity [flow.SeverityHigh + 1]int
	// replayOf maps a replayed flow to its original. Replays are few, so a
	// map beside the rows costs less than a field in every row.
	replayOf map[flow.ID]flow.ID
}

type compactRow struct {
	id       flow.ID
	start    int64 // Unix nanoseconds, 0 when unknown
	duration time.Duration
	respSize int64
	url      arenaRef
	status   uint16
	method   uint8 // index into the interner
	phase    uint8 // error phase, index into the interner (0 = none)
	kind     uint8 // index into the interner
	worst    uint8
	flags    uint8
}

const (
	flagPending uint8 = 1 << iota
	flagImported
)

// arenaRef locates bytes in an urlArena.
type arenaRef struct {
	chunk  uint32
	offset uint32
	length uint32
}

// urlArena stores URL bytes in fixed chunks: appending never copies what is
// already stored (a growing single slice would double peak memory).
type urlArena struct {
	chunks [][]byte
}

const arenaChunk = 1 << 20

// maxStoredURL bounds one URL in the list, which only displays it (the
// filter runs in the store, the detail view reads the full URL): a longer
// one keeps its start (scheme, host, path head) and its end, joined by
// "…", which is all a middle-shortened list cell can show.
const maxStoredURL = 512

func (a *urlArena) add(s string) arenaRef {
	s = clipMiddle(s, maxStoredURL)
	if len(a.chunks) == 0 || len(a.chunks[len(a.chunks)-1])+len(s) > arenaChunk {
		a.chunks = append(a.chunks, make([]byte, 0, arenaChunk))
	}
	i := len(a.chunks) - 1
	ref := arenaRef{chunk: uint32(i), offset: uint32(len(a.chunks[i])), length: uint32(len(s))}
	a.chunks[i] = append(a.chunks[i], s...)
	return ref
}

func (a *urlArena) get(r arenaRef) string {
	return string(a.chunks[r.chunk][r.offset : r.offset+r.length])
}

// clipMiddle shortens s to at most max bytes by replacing its middle with
// "…", cutting on rune boundaries.
func clipMiddle(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const ellipsis = "…"
	head := (max - len(ellipsis)) / 2
	tail := max - len(ellipsis) - head
	for head > 0 && !utf8.RuneStart(s[head]) {
		head--
	}
	start := len(s) - tail
	for start < len(s) && !utf8.RuneStart(s[start]) {
		start++
	}
	return s[:head] + ellipsis + s[start:]
}

// interner maps the few distinct methods, kinds and phases to small ints;
// index 0 is the empty string. Past 255 entries new strings map to "?".
type interner struct {
	names []string
	index map[string]uint8
}

func (in *interner) id(s string) uint8 {
	if s == "" {
		return 0
	}
	if in.index == nil {
		in.index = map[string]uint8{}
		in.names = []string{""}
	}
	if i, ok := in.index[s]; ok {
		return i
	}
	if len(in.names) >= 255 {
		return in.id("?")
	}
	i := uint8(len(in.names))
	in.names = append(in.names, s)
	in.index[s] = i
	return i
}

func (in *interner) name(i uint8) string {
	if int(i) >= len(in.names) {
		return ""
	}
	return in.names[i]
}

// Len is the number of rows.
func (l *rowList) Len() int { return len(l.rows) }

func (l *rowList) compact(s *flow.Summary) compactRow {
	r := compactRow{
		id:       s.ID,
		duration: s.Duration,
		respSize: s.ResponseSize,
		url:      l.arena.add(s.URL),
		status:   uint16(min(max(s.Status, 0), 65535)),
		method:   l.strings.id(s.Method),
		phase:    l.strings.id(string(s.ErrorPhase)),
		kind:     l.strings.id(string(s.Kind)),
		worst:    uint8(min(max(s.Worst, 0), flow.SeverityHigh)),
	}
	if !s.Start.IsZero() {
		r.start = s.Start.UnixNano()
	}
	if s.Pending {
		r.flags |= flagPending
	}
	if s.Imported {
		r.flags |= flagImported
	}
	return r
}

// At expands row i back into a Summary (for drawing the visible rows).
func (l *rowList) At(i int) flow.Summary {
	r := &l.rows[i]
	s := flow.Summary{
		ID:           r.id,
		Kind:         flow.Kind(l.strings.name(r.kind)),
		Duration:     r.duration,
		Method:       l.strings.name(r.method),
		URL:          l.arena.get(r.url),
		Status:       int(r.status),
		ResponseSize: r.respSize,
		ErrorPhase:   flow.Phase(l.strings.name(r.phase)),
		Worst:        flow.Severity(r.worst),
		Pending:      r.flags&flagPending != 0,
		Imported:     r.flags&flagImported != 0,
		ReplayOf:     l.replayOf[r.id],
	}
	if r.start != 0 {
		s.Start = time.Unix(0, r.start)
	}
	return s
}

// ID is the id of row i.
func (l *rowList) ID(i int) flow.ID { return l.rows[i].id }

// Find returns the position of id, or -1.
func (l *rowList) Find(id flow.ID) int {
	i := sort.Search(len(l.rows), func(i int) bool { return l.rows[i].id >= id })
	if i < len(l.rows) && l.rows[i].id == id {
		return i
	}
	return -1
}

// Upsert adds s, or replaces the row with the same id (a pending flow
// that finished). Rows stay sorted by id; the common case, a new id
// larger than all others, is an append.
func (l *rowList) Upsert(s *flow.Summary) {
	l.noteReplay(s)
	n := len(l.rows)
	if n == 0 || l.rows[n-1].id < s.ID {
		l.rows = append(l.rows, l.compact(s))
		l.bySeverity[l.rows[n].worst]++
		return
	}
	i := sort.Search(n, func(i int) bool { return l.rows[i].id >= s.ID })
	if i < n && l.rows[i].id == s.ID {
		l.bySeverity[l.rows[i].worst]--
		l.rows[i] = l.compact(s)
		l.bySeverity[l.rows[i].worst]++
		return
	}
	l.rows = append(l.rows, compactRow{})
	copy(l.rows[i+1:], l.rows[i:])
	l.rows[i] = l.compact(s)
	l.bySeverity[l.rows[i].worst]++
}

// noteReplay records or forgets s's original.
func (l *rowList) noteReplay(s *flow.Summary) {
	switch {
	case s.ReplayOf != 0:
		if l.replayOf == nil {
			l.replayOf = map[flow.ID]flow.ID{}
		}
		l.replayOf[s.ID] = s.ReplayOf
	case l.replayOf != nil:
		delete(l.replayOf, s.ID)
	}
}

// Remove deletes the rows with the given ids, if present.
func (l *rowList) Remove(ids ...flow.ID) {
	for _, id := range ids {
		delete(l.replayOf, id)
		if i := l.Find(id); i >= 0 {
			l.bySeverity[l.rows[i].worst]--
			l.rows = append(l.rows[:i], l.rows[i+1:]...)
		}
	}
}

// PrependOlder puts older (ids all below l's first id) in front of l.
// The background loader builds older separately so the event loop never
// waits on it; merging copies only the fixed-size rows.
func (l *rowList) PrependOlder(older *rowList) {
	first := flow.ID(1<<64 - 1)
	if len(l.rows) > 0 {
		first = l.rows[0].id
	}
	keep := sort.Search(len(older.rows), func(i int) bool { return older.rows[i].id >= first })
	merged := make([]compactRow, 0, keep+len(l.rows))
	// Re-home l's rows into older's arena and interner so one of each remains.
	for i := range keep {
		merged = append(merged, older.rows[i])
	}
	for i := range l.rows {
		s := l.At(i)
		merged = append(merged, older.compact(&s))
	}
	for i := range older.rows[keep:] {
		older.bySeverity[older.rows[keep+i].worst]--
	}
	l.rows = merged
	l.arena = older.arena
	l.strings = older.strings
	l.bySeverity = older.bySeverity
	for id, orig := range l.replayOf {
		if older.replayOf == nil {
			older.replayOf = map[flow.ID]flow.ID{}
		}
		older.replayOf[id] = orig
	}
	l.replayOf = older.replayOf
	for i := keep; i < len(merged); i++ {
		l.bySeverity[merged[i].worst]++
	}
}
