package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"onpath/flow"
	"onpath/flow/content"
)

// MaxScanBytes bounds how much of a decoded body the rules read: the HTML
// scan for mixed content and the form/JSON field scan stop there.
const MaxScanBytes = 4 << 20

// Bounds on structured body scans, so a hostile body costs little.
const (
	maxJSONTokens     = 20000
	maxMultipartParts = 200
	maxFieldValue     = 1024
)

// headerValue is the first value of a canonical header key, "" if none.
// It indexes the map directly: Header.Get would canonicalise the key again.
func headerValue(h http.Header, canonicalKey string) string {
	if v := h[canonicalKey]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// mediaType is the lowercase-insensitive media type of a Content-Type
// value, without parameters.
func mediaType(contentType string) string {
	mt, _, _ := cutByte(contentType, ';')
	return trimWSP(mt)
}

// decodedBody undoes the Content-Encoding of a captured body and returns at
// most MaxScanBytes of it. An encoding we cannot decode gives nil (the raw
// bytes would be noise); a truncated capture gives what decoded.
func decodedBody(h http.Header, b flow.Body) []byte {
	if len(b.Data) == 0 {
		return nil
	}
	out, err := content.Decode(headerValue(h, "Content-Encoding"), b.Data, MaxScanBytes)
	if errors.Is(err, content.ErrUnknownEncoding) {
		return nil
	}
	if len(out) > MaxScanBytes {
		out = out[:MaxScanBytes]
	}
	return out
}

// isHTML reports whether a Content-Type names an HTML document.
func isHTML(contentType string) bool {
	mt := mediaType(contentType)
	return equalFoldASCII(mt, "text/html") || equalFoldASCII(mt, "application/xhtml+xml")
}

// bodyFields calls fn with each field of a request body the rules can read:
// an urlencoded form, JSON (every scalar, named by its innermost object
// key) or multipart/form-data (non-file parts). source is "form", "json" or
// "multipart". fn returns false to stop.
func bodyFields(h http.Header, b flow.Body, fn func(source, name, value string) bool) {
	ct := headerValue(h, "Content-Type")
	mt := mediaType(ct)
	switch {
	case equalFoldASCII(mt, "application/x-www-form-urlencoded"):
		data := decodedBody(h, b)
		ScanFields(string(data), func(name, value string) bool { return fn("form", name, value) })
	case equalFoldASCII(mt, "application/json") || hasSuffixFold(mt, "+json"):
		jsonFields(decodedBody(h, b), func(name, value string) bool { return fn("json", name, value) })
	case equalFoldASCII(mt, "multipart/form-data"):
		multipartFields(ct, decodedBody(h, b), func(name, value string) bool { return fn("multipart", name, value) })
	}
}

// jsonFields walks a JSON document token by token (so field order is
// kept and nesting costs no maps), reporting each string or number with the
// name of the object key it sits under.
func jsonFields(data []byte, fn func(name, value string) bool) {
	if len(data) == 0 {
		return
	}
	type frame struct {
		object    bool
		expectKey bool
		key       string
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []frame
	for range maxJSONTokens {
		tok, err := dec.Token()
		if err != nil {
			return
		}
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				key := ""
				if top != nil {
					key = top.key
					if top.object {
						top.expectKey = true
					}
				}
				stack = append(stack, frame{object: d == '{', expectKey: d == '{', key: key})
			default:
				if len(stack) > 0 {
					stack = stack[:len(stack)-1]
				}
			}
			continue
		}
		if top != nil && top.object && top.expectKey {
			top.key, _ = tok.(string)
			top.expectKey = false
			continue
		}
		name := ""
		if top != nil {
			name = top.key
			if top.object {
				top.expectKey = true
			}
		}
		var value string
		switch v := tok.(type) {
		case string:
			value = v
		case json.Number:
			value = v.String()
		default:
			continue // bool, null
		}
		if !fn(name, value) {
			return
		}
	}
}

// multipartFields reports the non-file parts of a multipart/form-data body
// (values cut at maxFieldValue bytes).
func multipartFields(contentType string, data []byte, fn func(name, value string) bool) {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil || params["boundary"] == "" || len(data) == 0 {
		return
	}
	mr := multipart.NewReader(bytes.NewReader(data), params["boundary"])
	for range maxMultipartParts {
		part, err := mr.NextPart()
		if err != nil {
			return
		}
		if part.FileName() != "" {
			continue
		}
		value, err := io.ReadAll(io.LimitReader(part, maxFieldValue))
		if err != nil && len(value) == 0 {
			return
		}
		if !fn(part.FormName(), strings.TrimSpace(string(value))) {
			return
		}
	}
}
