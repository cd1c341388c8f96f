package har

import (
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"onpath/flow"
	"onpath/flow/content"
)

// harBytes returns the bytes an entry shows for a captured body: decoded
// from its Content-Encoding, as HAR wants, and a note when they are not
// simply that (the decoded beginning of a truncated body, or the wire bytes
// of a body that could not be decoded).
func harBytes(h http.Header, b flow.Body) ([]byte, string) {
	codings := contentCodings(h)
	if len(codings) == 0 {
		return b.Data, ""
	}
	decoded, err := content.Decode(strings.Join(codings, ","), b.Data, 0)
	switch {
	case err == nil:
		return decoded, ""
	case b.Truncated && len(decoded) > 0 && !errors.Is(err, content.ErrTooLarge) && !errors.Is(err, content.ErrUnknownEncoding):
		return decoded, "the body was truncated: the HAR text is its decoded beginning, raw the captured wire bytes"
	default:
		return b.Data, fmt.Sprintf("not decoded (%v): the HAR text is the body as it crossed the wire", err)
	}
}

// contentCodings lists the Content-Encoding codings of h, identity dropped.
func contentCodings(h http.Header) []string {
	return content.Codings(strings.Join(h.Values("Content-Encoding"), ","))
}

// isText reports whether data goes into a HAR text field as is: valid
// UTF-8 (JSON strings carry that exactly) of a textual media type, or of
// no media type when it holds no NUL.
func isText(mimeType string, data []byte) bool {
	if !utf8.Valid(data) {
		return false
	}
	if mimeType == "" {
		return !strings.ContainsRune(string(data), 0)
	}
	return isTextMIME(mimeType)
}

func isTextMIME(mimeType string) bool {
	mt, _, err := mime.ParseMediaType(mimeType)
	if err != nil {
		mt, _, _ = strings.Cut(strings.ToLower(mimeType), ";")
		mt = strings.TrimSpace(mt)
	}
	typ, sub, _ := strings.Cut(mt, "/")
	switch {
	case typ == "text":
		return true
	case strings.HasSuffix(sub, "+json"), strings.HasSuffix(sub, "+xml"):
		return true
	case typ == "application":
		switch sub {
		case "json", "xml", "javascript", "x-javascript", "ecmascript", "x-www-form-urlencoded",
			"graphql", "x-ndjson", "ndjson", "yaml", "x-yaml", "toml", "csv", "sql", "x-sh":
			return true
		}
	}
	return false
}

func base64Encode(data []byte) string { return base64.StdEncoding.EncodeToString(data) }
