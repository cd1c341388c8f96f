package har

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"
	"unicode/utf8"
)

// maxFormParts bounds the multipart parts listed, so a hostile body cannot
// make an export explode.
const maxFormParts = 1000

// queryList lists the query parameters of rawURL in their order.
func queryList(rawURL string) []nameValue {
	list := []nameValue{}
	u, err := url.Parse(rawURL)
	if err != nil {
		return list
	}
	for _, p := range orderedPairs(u.RawQuery) {
		list = append(list, nameValue{Name: p[0], Value: p[1]})
	}
	return list
}

// orderedPairs splits an application/x-www-form-urlencoded string keeping
// order and duplicates (url.ParseQuery loses the order). A pair that does
// not unescape is kept as written.
func orderedPairs(s string) [][2]string {
	var pairs [][2]string
	for part := range strings.SplitSeq(s, "&") {
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if v, err := url.QueryUnescape(value); err == nil {
			value = v
		}
		pairs = append(pairs, [2]string{name, value})
	}
	return pairs
}

// formParams lists the fields of a form body (urlencoded or multipart),
// nil for other media types.
func formParams(mimeType string, body []byte) []param {
	mt, attrs, err := mime.ParseMediaType(mimeType)
	if err != nil {
		return nil
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		var params []param
		for _, p := range orderedPairs(string(body)) {
			params = append(params, param{Name: p[0], Value: &p[1]})
		}
		return params
	case "multipart/form-data":
		if attrs["boundary"] == "" {
			return nil
		}
		return multipartParams(body, attrs["boundary"])
	}
	return nil
}

func multipartParams(body []byte, boundary string) []param {
	var params []param
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for range maxFormParts {
		part, err := mr.NextRawPart()
		if err != nil {
			break // the end, or a truncated body: keep the parts read so far
		}
		data, err := io.ReadAll(part)
		if err != nil {
			break
		}
		p := param{Name: part.FormName(), FileName: part.FileName()}
		if p.FileName != "" {
			p.ContentType = part.Header.Get("Content-Type")
		}
		// HAR says value holds the field, or the file's content; a binary
		// file's bytes cannot be a JSON string, so it is left out.
		if utf8.Valid(data) {
			v := string(data)
			p.Value = &v
		}
		params = append(params, p)
	}
	return params
}
