package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	"onpath/flow"
)

// decodeFunc undoes a Content-Encoding (content.Decode), producing at most
// limit bytes.
type decodeFunc func(encoding string, raw []byte, limit int64) ([]byte, error)

// bodyKind is how the body viewer shows a body.
type bodyKind uint8

const (
	bodyEmpty bodyKind = iota
	bodyText
	bodyJSON
	bodyForm
	bodyHex
)

func (k bodyKind) String() string {
	return [...]string{"empty", "text", "json", "form", "hex"}[k]
}

// Limits that keep the viewer responsive on huge bodies.
const (
	decodeLimit     = 64 << 20 // decoded bytes shown at most
	prettyJSONLimit = 16 << 20 // larger JSON is shown as text
	hexWidth        = 16       // bytes per hex dump line
)

// bodyView shows one message body. Line offsets are computed on demand,
// and only the visible lines are turned into spans, so a body of many
// megabytes opens and scrolls at the speed of a small one.
type bodyView struct {
	kind bodyKind
	// data is what is displayed: pretty JSON, text, or the raw bytes of a
	// hex dump. decoded is the body after Content-Encoding, for saving.
	data    []byte
	decoded []byte
	notes   []string
	form    []Line

	offsets  []int // start of each line found so far
	complete bool  // offsets cover all of data
	lower    []byte
}

// newBodyView classifies and prepares a body for display.
func newBodyView(header http.Header, body flow.Body, decode decodeFunc) *bodyView {
	v := &bodyView{}
	data := body.Data
	if body.Truncated {
		v.notes = append(v.notes, fmt.Sprintf("truncated: captured %s of %s", formatSize(int64(len(body.Data))), formatSize(body.Size)))
	}
	if enc := strings.TrimSpace(strings.ToLower(header.Get("Content-Encoding"))); enc != "" && enc != "identity" && len(data) > 0 {
		switch {
		case decode == nil:
			v.notes = append(v.notes, "content-encoding "+enc+": shown as captured")
		default:
			out, err := decode(enc, data, decodeLimit)
			if err != nil && len(out) == 0 {
				v.notes = append(v.notes, fmt.Sprintf("content-encoding %s: cannot decode (%v), shown as captured", enc, err))
			} else {
				note := fmt.Sprintf("decoded %s: %s → %s", enc, formatSize(int64(len(data))), formatSize(int64(len(out))))
				if err != nil {
					note += fmt.Sprintf(" (stopped: %v)", err)
				}
				v.notes = append(v.notes, note)
				data = out
			}
		}
	}
	v.decoded = data
	if len(data) == 0 {
		v.kind = bodyEmpty
		return v
	}
	mediaType, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	switch {
	case mediaType == "application/x-www-form-urlencoded" && utf8.Valid(data):
		if vals, err := url.ParseQuery(string(data)); err == nil {
			v.kind = bodyForm
			v.form = formTable(string(data), vals)
			return v
		}
	case (strings.Contains(mediaType, "json") || looksLikeJSON(data)) && len(data) <= prettyJSONLimit:
		var buf bytes.Buffer
		if json.Indent(&buf, data, "", "  ") == nil {
			v.kind = bodyJSON
			v.data = buf.Bytes()
			v.offsets = []int{0}
			return v
		}
	}
	if isText(data) {
		v.kind = bodyText
		v.data = data
		v.offsets = []int{0}
		return v
	}
	v.kind = bodyHex
	v.data = data
	return v
}

func looksLikeJSON(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 1 && (b[0] == '{' || b[0] == '[') && json.Valid(b)
}

// isText says whether the start of b reads as text: valid UTF-8 and few
// control characters besides whitespace.
func isText(b []byte) bool {
	sample := b[:min(len(b), 8192)]
	// Do not fail on a rune cut by the sample boundary.
	for i := 0; i < 3 && len(sample) < len(b) && !utf8.Valid(sample); i++ {
		sample = sample[:len(sample)-1]
	}
	if !utf8.Valid(sample) {
		return false
	}
	controls := 0
	for _, c := range sample {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' {
			controls++
		}
	}
	return controls*100 <= len(sample)
}

// formTable lays out form fields as "name  value" rows in the order sent,
// with credential-like fields highlighted.
func formTable(raw string, vals url.Values) []Line {
	type field struct{ name, value string }
	var fields []field
	width := 4
	for _, pair := range strings.Split(raw, "&") {
		if pair == "" {
			continue
		}
		k, val, _ := strings.Cut(pair, "=")
		name, err1 := url.QueryUnescape(k)
		value, err2 := url.QueryUnescape(val)
		if err1 != nil || err2 != nil {
			name, value = k, val
		}
		fields = append(fields, field{printable(name), printable(value)})
		width = max(width, min(utf8.RuneCountInString(name), 24))
	}
	lines := []Line{styled(fit("FIELD", width)+"  VALUE", RoleHeader)}
	for _, f := range fields {
		role := RoleNormal
		if sensitiveName(f.name) {
			role = RoleSecret
		}
		lines = append(lines, Line{{Text: fit(f.name, width) + "  ", Role: RoleKey}, {Text: f.value, Role: role}})
	}
	return lines
}

// ensure finds line offsets up to line n (or the end of data) and
// reports whether line n exists.
func (v *bodyView) ensure(n int) bool {
	switch v.kind {
	case bodyEmpty:
		return false
	case bodyForm:
		return n < len(v.form)
	case bodyHex:
		return n < (len(v.data)+hexWidth-1)/hexWidth
	}
	for len(v.offsets) <= n && !v.complete {
		last := v.offsets[len(v.offsets)-1]
		i := bytes.IndexByte(v.data[last:], '\n')
		if i < 0 || last+i+1 >= len(v.data) {
			v.complete = true
			break
		}
		v.offsets = append(v.offsets, last+i+1)
	}
	return n < len(v.offsets)
}

// Len is the number of lines (computing all line offsets the first time).
func (v *bodyView) Len() int {
	switch v.kind {
	case bodyEmpty:
		return 0
	case bodyForm:
		return len(v.form)
	case bodyHex:
		return (len(v.data) + hexWidth - 1) / hexWidth
	}
	for !v.complete {
		v.ensure(len(v.offsets) + 4096)
	}
	return len(v.offsets)
}

// Line renders line n starting xoff runes in, at most width runes.
func (v *bodyView) Line(n, xoff, width int) Line {
	if !v.ensure(n) {
		return nil
	}
	switch v.kind {
	case bodyForm:
		return v.form[n]
	case bodyHex:
		return hexLine(v.data, n)
	}
	start := v.offsets[n]
	end := len(v.data)
	if i := bytes.IndexByte(v.data[start:], '\n'); i >= 0 {
		end = start + i
	}
	raw := bytes.TrimSuffix(v.data[start:end], []byte("\r"))
	// Skip xoff runes and keep a little more than width, so a line of
	// megabytes costs no more than a short one.
	for i := 0; i < xoff && len(raw) > 0; i++ {
		_, size := utf8.DecodeRune(raw)
		raw = raw[size:]
	}
	if limit := (width + 1) * 4; len(raw) > limit {
		raw = raw[:limit]
	}
	s := printable(string(raw))
	if v.kind == bodyJSON {
		return jsonLine(s)
	}
	return text(s)
}

// jsonLine colours a pretty-printed JSON line's key.
func jsonLine(s string) Line {
	trimmed := strings.TrimLeft(s, " ")
	if !strings.HasPrefix(trimmed, `"`) {
		return text(s)
	}
	indent := s[:len(s)-len(trimmed)]
	if i := strings.Index(trimmed, `": `); i > 0 {
		return Line{{Text: indent}, {Text: trimmed[:i+1], Role: RoleKey}, {Text: trimmed[i+1:]}}
	}
	return text(s)
}

// hexLine is line n of a classic hex dump: offset, 16 bytes, ASCII.
func hexLine(data []byte, n int) Line {
	off := n * hexWidth
	chunk := data[off:min(off+hexWidth, len(data))]
	var hexPart, ascii strings.Builder
	for i := range hexWidth {
		if i == 8 {
			hexPart.WriteByte(' ')
		}
		if i < len(chunk) {
			fmt.Fprintf(&hexPart, "%02x ", chunk[i])
			if chunk[i] >= 0x20 && chunk[i] < 0x7f {
				ascii.WriteByte(chunk[i])
			} else {
				ascii.WriteByte('.')
			}
		} else {
			hexPart.WriteString("   ")
		}
	}
	return Line{{Text: fmt.Sprintf("%08x  ", off), Role: RoleDim}, {Text: hexPart.String()}, {Text: " |" + ascii.String() + "|", Role: RoleDim}}
}

// lineOf maps a byte offset in data to its line.
func (v *bodyView) lineOf(off int) int {
	if v.kind == bodyHex {
		return off / hexWidth
	}
	for !v.complete && v.offsets[len(v.offsets)-1] <= off {
		v.ensure(len(v.offsets) + 1024)
	}
	return sort.Search(len(v.offsets), func(i int) bool { return v.offsets[i] > off }) - 1
}

// findFrom returns the first line after from (before it, when backward)
// containing query case-insensitively, without wrapping.
func (v *bodyView) findFrom(query string, from int, backward bool) (int, bool) {
	if query == "" || v.kind == bodyEmpty {
		return 0, false
	}
	if v.kind == bodyForm {
		return findInLines(v.form, query, from, backward)
	}
	q := bytes.ToLower([]byte(query))
	if v.lower == nil {
		v.lower = bytes.ToLower(v.data)
	}
	if len(v.lower) != len(v.data) {
		// Lowercasing changed byte lengths (rare scripts): search as is.
		v.lower = v.data
	}
	if backward {
		if from <= 0 {
			return 0, false
		}
		end := v.lineStart(from)
		if i := bytes.LastIndex(v.lower[:end], q); i >= 0 {
			return v.lineOf(i), true
		}
		return 0, false
	}
	start := v.lineStart(from + 1)
	if i := bytes.Index(v.lower[start:], q); i >= 0 {
		return v.lineOf(start + i), true
	}
	return 0, false
}

// lineStart is the byte offset where line n starts (len(data) past the end).
func (v *bodyView) lineStart(n int) int {
	if n <= 0 {
		return 0
	}
	if v.kind == bodyHex {
		return min(n*hexWidth, len(v.data))
	}
	if !v.ensure(n) {
		return len(v.data)
	}
	return v.offsets[n]
}

// highlight splits the spans of l so that every case-insensitive
// occurrence of query gets RoleMatch.
func highlight(l Line, query string) Line {
	if query == "" {
		return l
	}
	q := strings.ToLower(query)
	var out Line
	for _, s := range l {
		low := strings.ToLower(s.Text)
		if len(low) != len(s.Text) || !strings.Contains(low, q) {
			out = append(out, s)
			continue
		}
		rest, lowRest := s.Text, low
		for {
			i := strings.Index(lowRest, q)
			if i < 0 {
				break
			}
			if i > 0 {
				out = append(out, Span{Text: rest[:i], Role: s.Role})
			}
			out = append(out, Span{Text: rest[i : i+len(q)], Role: RoleMatch})
			rest, lowRest = rest[i+len(q):], lowRest[i+len(q):]
		}
		if rest != "" {
			out = append(out, Span{Text: rest, Role: s.Role})
		}
	}
	return out
}

// sensitiveName is the audit rules' P(name): a field or parameter name
// that usually carries a credential.
func sensitiveName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"pass", "pwd", "secret", "token", "ticket", "sess", "sid", "auth", "apikey", "api_key", "api-key", "jwt"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
