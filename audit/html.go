package audit

import "bytes"

// htmlAttr is one attribute of a start tag, as bytes into the document.
type htmlAttr struct {
	name, value []byte
}

// scanHTMLTags walks the start tags of an HTML document and calls fn with
// each tag name and its attributes (attribute values unquoted, not
// entity-decoded). It is a hand scanner, not a parser: it skips comments,
// doctypes, end tags and the raw text of script/style/textarea/title, which
// is what the mixed-content and password rules need, without allocating.
// The attrs slice is reused between calls.
func scanHTMLTags(doc []byte, fn func(tag []byte, attrs []htmlAttr)) {
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
		attrs = attrs[:0]
		i, attrs = scanAttrs(doc, i, attrs)
		fn(tag, attrs)
		if rawTextEnd := rawTextTag(tag); rawTextEnd != "" {
			i = skipRawText(doc, i, rawTextEnd)
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

// rawTextTag returns the tag name whose end tag closes a raw-text element
// (its content holds no tags), or "".
func rawTextTag(tag []byte) string {
	for _, name := range [...]string{"script", "style", "textarea", "title", "xmp", "noembed", "noframes"} {
		if equalFoldASCII(string(tag), name) {
			return name
		}
	}
	return ""
}

// skipRawText moves past "</name" (case-insensitive) and its '>'.
func skipRawText(doc []byte, i int, name string) int {
	for {
		j := bytes.Index(doc[i:], []byte("</"))
		if j < 0 {
			return len(doc)
		}
		i += j + 2
		if len(doc)-i >= len(name) && equalFoldASCII(string(doc[i:i+len(name)]), name) {
			return skipPast(doc, i, '>')
		}
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
		if equalFoldASCII(string(a.name), name) {
			return a.value, true
		}
	}
	return nil, false
}

// isInsecureURL reports whether an attribute value is an http: URL
// (leading whitespace ignored, as URL parsing does).
func isInsecureURL(v []byte) bool {
	v = bytes.TrimLeft(v, " \t\n\r\f")
	return len(v) >= 5 && equalFoldASCII(string(v[:5]), "http:")
}
