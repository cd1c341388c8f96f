package audit

import "bytes"

// htmlAttr is one attribute of a start tag, as bytes into the document.
type htmlAttr struct {
	name, value []byte
}

// tagKind classifies the tags the rules look at.
type tagKind uint8

const (
	tagOther tagKind = iota
	tagScript
	tagRawText // style, textarea, title, xmp, noembed, noframes: no tags inside
	tagIframe
	tagFrame
	tagEmbed
	tagObject
	tagBase
	tagLink
	tagImg
	tagAudio
	tagVideo
	tagSource
	tagTrack
	tagInput
	tagForm
	tagButton
)

// kindOf lowercases a tag name into a stack buffer and switches on it
// (the compiler does not allocate for string(buf) in a switch).
func kindOf(tag []byte) tagKind {
	var buf [8]byte
	if len(tag) > len(buf) {
		return tagOther
	}
	for i, c := range tag {
		buf[i] = lowerASCII(c)
	}
	switch string(buf[:len(tag)]) {
	case "script":
		return tagScript
	case "style", "textarea", "title", "xmp", "noembed", "noframes":
		return tagRawText
	case "iframe":
		return tagIframe
	case "frame":
		return tagFrame
	case "embed":
		return tagEmbed
	case "object":
		return tagObject
	case "base":
		return tagBase
	case "link":
		return tagLink
	case "img":
		return tagImg
	case "audio":
		return tagAudio
	case "video":
		return tagVideo
	case "source":
		return tagSource
	case "track":
		return tagTrack
	case "input":
		return tagInput
	case "form":
		return tagForm
	case "button":
		return tagButton
	}
	return tagOther
}

// scanHTMLTags walks the start tags of an HTML document. For each tag whose
// kind want accepts, it calls fn with the tag name and its attributes
// (values unquoted, not entity-decoded); the attrs slice is reused between
// calls. It is a hand scanner, not a parser: it skips comments, doctypes,
// end tags and the raw text of script/style/textarea/title, which is what
// the mixed-content and password rules need, without allocating.
//
// Tags want rejects are skipped to the next '>' without reading their
// attributes: a quoted '>' inside them makes the scanner resume early,
// in text, which costs nothing but a possible extra match on markup
// hidden in an attribute value.
func scanHTMLTags(doc []byte, want func(tagKind) bool, fn func(kind tagKind, tag []byte, attrs []htmlAttr)) {
	var buf [16]htmlAttr
	attrs := buf[:0]
	i := 0
	for i < len(doc) {
		j := bytes.IndexByte(doc[i:], '<')
		if j < 0 {
			return
		}
		i += j + 1
		if i >= len(doc) {
			return
		}
		switch c := doc[i]; {
		case c == '!':
			if bytes.HasPrefix(doc[i:], []byte("!--")) {
				end := bytes.Index(doc[i+3:], []byte("-->"))
				if end < 0 {
					return
				}
				i += 3 + end + 3
				continue
			}
			i = skipPast(doc, i, '>')
			continue
		case c == '/' || c == '?':
			i = skipPast(doc, i, '>')
			continue
		case !isASCIILetter(c):
			continue // a stray '<' in text
		}
		start := i
		for i < len(doc) && !isHTMLSpace(doc[i]) && doc[i] != '>' && doc[i] != '/' {
			i++
		}
		tag := doc[start:i]
		kind := kindOf(tag)
		if want(kind) {
			attrs = attrs[:0]
			i, attrs = scanAttrs(doc, i, attrs)
			fn(kind, tag, attrs)
		} else {
			i = skipPast(doc, i, '>')
		}
		if kind == tagScript || kind == tagRawText {
			i = skipRawText(doc, i, tag)
		}
	}
}

// scanAttrs reads attributes from doc[i:] up to and past the closing '>'.
func scanAttrs(doc []byte, i int, attrs []htmlAttr) (int, []htmlAttr) {
	for i < len(doc) {
		for i < len(doc) && (isHTMLSpace(doc[i]) || doc[i] == '/') {
			i++
		}
		if i >= len(doc) {
			return i, attrs
		}
		if doc[i] == '>' {
			return i + 1, attrs
		}
		start := i
		for i < len(doc) && !isHTMLSpace(doc[i]) && doc[i] != '=' && doc[i] != '>' && doc[i] != '/' {
			i++
		}
		if i == start { // a lone '=' in attribute position: skip it
			i++
			continue
		}
		name := doc[start:i]
		for i < len(doc) && isHTMLSpace(doc[i]) {
			i++
		}
		var value []byte
		if i < len(doc) && doc[i] == '=' {
			i++
			for i < len(doc) && isHTMLSpace(doc[i]) {
				i++
			}
			if i < len(doc) && (doc[i] == '"' || doc[i] == '\'') {
				quote := doc[i]
				i++
				end := bytes.IndexByte(doc[i:], quote)
				if end < 0 {
					return len(doc), append(attrs, htmlAttr{name, doc[i:]})
				}
				value = doc[i : i+end]
				i += end + 1
			} else {
				vs := i
				for i < len(doc) && !isHTMLSpace(doc[i]) && doc[i] != '>' {
					i++
				}
				value = doc[vs:i]
			}
		}
		attrs = append(attrs, htmlAttr{name, value})
	}
	return i, attrs
}

func skipPast(doc []byte, i int, c byte) int {
	j := bytes.IndexByte(doc[i:], c)
	if j < 0 {
		return len(doc)
	}
	return i + j + 1
}

// skipRawText moves past "</name" (case-insensitive) and its '>'.
func skipRawText(doc []byte, i int, name []byte) int {
	for {
		j := bytes.Index(doc[i:], []byte("</"))
		if j < 0 {
			return len(doc)
		}
		i += j + 2
		if len(doc)-i >= len(name) && equalFoldBytes(doc[i:i+len(name)], name) {
			return skipPast(doc, i, '>')
		}
	}
}

func equalFoldBytes(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

// equalFoldBytesString compares bytes to an ASCII string, ignoring case.
func equalFoldBytesString(a []byte, s string) bool {
	if len(a) != len(s) {
		return false
	}
	for i := range a {
		if lowerASCII(a[i]) != lowerASCII(s[i]) {
			return false
		}
	}
	return true
}

// containsFoldBytes reports whether b contains the lowercase ASCII sub,
// ignoring case.
func containsFoldBytes(b []byte, sub string) bool {
	for i := 0; i+len(sub) <= len(b); i++ {
		if equalFoldBytesString(b[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// indexHTTPColon returns the index of the next "http:" (any case) in b at
// or after from, or -1; it jumps from ':' to ':' with the vectorised
// IndexByte.
func indexHTTPColon(b []byte, from int) int {
	for i := max(from+4, 4); i < len(b); {
		j := bytes.IndexByte(b[i:], ':')
		if j < 0 {
			return -1
		}
		i += j
		if equalFoldBytesString(b[i-4:i], "http") {
			return i - 4
		}
		i++
	}
	return -1
}

// containsHTTPColon reports whether b holds "http:" in any case.
func containsHTTPColon(b []byte) bool { return indexHTTPColon(b, 0) >= 0 }

// foldFinder finds a lowercase ASCII word in a document, ignoring case.
// It remembers where the next lowercase and uppercase first letters are,
// so a sequence of calls with growing from costs one pass over the
// document, however often the letters occur.
type foldFinder struct {
	doc                  []byte
	word                 string
	nextLower, nextUpper int // absolute index; -1 none left; -2 not searched yet
}

func newFoldFinder(doc []byte, word string) *foldFinder {
	return &foldFinder{doc: doc, word: word, nextLower: -2, nextUpper: -2}
}

// index returns the next match at or after from, or -1.
func (f *foldFinder) index(from int) int {
	lower, upper := f.word[0], f.word[0]-'a'+'A'
	for i := from; i+len(f.word) <= len(f.doc); {
		f.nextLower = nextByte(f.doc, lower, i, f.nextLower)
		f.nextUpper = nextByte(f.doc, upper, i, f.nextUpper)
		next := f.nextLower
		if next < 0 || (f.nextUpper >= 0 && f.nextUpper < next) {
			next = f.nextUpper
		}
		if next < 0 || next+len(f.word) > len(f.doc) {
			return -1
		}
		if equalFoldBytesString(f.doc[next:next+len(f.word)], f.word) {
			return next
		}
		i = next + 1
	}
	return -1
}

// nextByte returns the first index >= i of c, reusing cached when it is
// still ahead of i (or -1: none left).
func nextByte(doc []byte, c byte, i, cached int) int {
	if cached == -1 || cached >= i {
		return cached
	}
	j := bytes.IndexByte(doc[i:], c)
	if j < 0 {
		return -1
	}
	return i + j
}

// anyInTag is the cheap pre-filter in front of scanHTMLTags: it reports
// whether some match of find sits after the '<' of a tag whose kind want
// accepts. Most pages have no such match and skip the full scan; a false
// positive costs only that scan. (A '<' inside an attribute value can hide
// the real tag from it; that is the price of not parsing.) The backward
// search for '<' stops at the previous match, whose answer carries over
// when no '<' lies between, so each byte is looked at a bounded number of
// times.
func anyInTag(doc []byte, find func(from int) int, want func(tagKind) bool) bool {
	prev, kind := 0, tagOther
	for from := 0; ; {
		pos := find(from)
		if pos < 0 {
			return false
		}
		if lt := bytes.LastIndexByte(doc[prev:pos], '<'); lt >= 0 {
			i := prev + lt + 1
			start := i
			for i < len(doc) && isASCIILetter(doc[i]) {
				i++
			}
			kind = kindOf(doc[start:i])
		}
		if want(kind) {
			return true
		}
		prev, from = pos, pos+1
	}
}

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

func isASCIILetter(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// attrValue returns the value of the first attribute named name.
func attrValue(attrs []htmlAttr, name string) ([]byte, bool) {
	for _, a := range attrs {
		if equalFoldBytesString(a.name, name) {
			return a.value, true
		}
	}
	return nil, false
}

// isInsecureURL reports whether an attribute value is an http: URL
// (leading whitespace ignored, as URL parsing does).
func isInsecureURL(v []byte) bool {
	for len(v) > 0 && isHTMLSpace(v[0]) {
		v = v[1:]
	}
	return len(v) >= 5 && equalFoldBytesString(v[:5], "http:")
}
