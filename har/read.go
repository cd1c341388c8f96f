package har

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"onpath/flow"
)

// DefaultReadLimit bounds the decoded body bytes of one import when the
// caller passes no limit.
const DefaultReadLimit = 256 << 20

var (
	// ErrTooLarge means the file, or the bodies it holds, exceed the limit.
	ErrTooLarge = errors.New("HAR exceeds the size limit")
	// ErrVersion means a HAR version other than 1.1 or 1.2.
	ErrVersion = errors.New("unsupported HAR version")
	// ErrNotHAR means JSON without a HAR log.
	ErrNotHAR = errors.New("not a HAR file")
	// ErrSyntax means malformed or truncated JSON.
	ErrSyntax = errors.New("malformed JSON")
)

// ReadError says where a HAR file is wrong.
type ReadError struct {
	// Line and Column are 1-based; 0 when unknown.
	Line, Column int
	// Entry is the index in log.entries, -1 when outside the entries.
	Entry int
	// Field is the JSON path inside the entry (or the log), e.g. "request.url".
	Field string
	Err   error
}

func (e *ReadError) Error() string {
	var b strings.Builder
	b.WriteString("har: ")
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d, column %d: ", e.Line, e.Column)
	}
	if e.Entry >= 0 {
		fmt.Fprintf(&b, "entry %d: ", e.Entry)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ReadError) Unwrap() error { return e.Err }

// Read parses a HAR file into flows marked with importID, their ids left
// zero for the store to assign. limit caps the total of body bytes the
// flows hold (DefaultReadLimit when limit <= 0); the file itself may be at
// most twice that plus 16 MiB, room for base64 and JSON around the bodies.
// Entries whose URL is not http(s) or ws(s) (data:, blob:, extensions)
// are skipped: there is nothing to replay. Any error means no flows.
func Read(r io.Reader, importID string, limit int64) ([]*flow.Flow, error) {
	if limit <= 0 {
		limit = DefaultReadLimit
	}
	maxInput := int64(math.MaxInt64 - 1)
	if limit < (maxInput-16<<20)/2 {
		maxInput = 2*limit + 16<<20
	}
	data, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("har: read: %w", err)
	}
	if int64(len(data)) > maxInput {
		return nil, &ReadError{Entry: -1, Err: fmt.Errorf("%w: the file is larger than %d bytes", ErrTooLarge, maxInput)}
	}

	// A UTF-8 byte order mark (Windows tools write one) is not JSON; blank
	// it out rather than cut it, so that positions stay those of the file.
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		copy(data, "   ")
	}

	// One pass checks the syntax (with the offset of any error) and reads
	// the log's version; the entries are then decoded one by one straight
	// from data, so that memory holds the file and the flows, not a third
	// copy of every entry.
	var head struct {
		Log *struct {
			Version string      `json:"version"`
			Entries arrayMarker `json:"entries"`
		} `json:"log"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, jsonError(data, 0, -1, err)
	}
	switch {
	case head.Log == nil:
		return nil, &ReadError{Entry: -1, Err: fmt.Errorf(`%w: no "log" object`, ErrNotHAR)}
	case head.Log.Version != "" && head.Log.Version != "1.2" && head.Log.Version != "1.1":
		return nil, &ReadError{Entry: -1, Field: "log.version",
			Err: fmt.Errorf("%w %q (onpath reads 1.1 and 1.2)", ErrVersion, head.Log.Version)}
	case !head.Log.Entries.isArray:
		return nil, &ReadError{Entry: -1, Err: fmt.Errorf(`%w: no "log.entries" array`, ErrNotHAR)}
	}

	var flows []*flow.Flow
	var total int64
	err = forEachEntry(data, func(i int, base int64, dec *json.Decoder) error {
		var ent entry
		if err := dec.Decode(&ent); err != nil {
			return jsonError(data, base, i, err)
		}
		start := skipSpace(data, base)
		f, field, err := fromEntry(&ent, importID)
		if err != nil {
			return positioned(data, start, &ReadError{Entry: i, Field: field, Err: err})
		}
		if f == nil {
			return nil
		}
		total += int64(len(f.Request.Body.Data))
		if f.Response != nil {
			total += int64(len(f.Response.Body.Data))
		}
		if total > limit {
			return positioned(data, start, &ReadError{Entry: i,
				Err: fmt.Errorf("%w: bodies exceed %d bytes", ErrTooLarge, limit)})
		}
		flows = append(flows, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if flows == nil {
		flows = []*flow.Flow{}
	}
	return flows, nil
}

// arrayMarker notes whether a JSON value is an array without keeping it.
type arrayMarker struct{ isArray bool }

func (m *arrayMarker) UnmarshalJSON(b []byte) error {
	m.isArray = len(b) > 0 && b[0] == '['
	return nil
}

// jsonError turns a json error into a ReadError positioned in data; base
// is where the decoded value starts in data (-1 when unknown).
func jsonError(data []byte, base int64, entryIndex int, err error) error {
	re := &ReadError{Entry: entryIndex, Err: err}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		re.Err = fmt.Errorf("%w: %v", ErrSyntax, syn)
		if syn.Offset >= int64(len(data)) || strings.Contains(syn.Error(), "unexpected end") {
			re.Err = fmt.Errorf("%w: unexpected end of input (truncated file?)", ErrSyntax)
		}
		// Offset counts the bytes read, the bad one included.
		re.Line, re.Column = lineColumn(data, max(base, 0)+syn.Offset-1)
	case errors.As(err, &typ):
		re.Field = typ.Field
		re.Err = fmt.Errorf("want %v, got JSON %s", typ.Type, typ.Value)
		if base >= 0 {
			re.Line, re.Column = lineColumn(data, base+typ.Offset-1)
		}
	default:
		if base >= 0 {
			re.Line, re.Column = lineColumn(data, base)
		}
	}
	return re
}

// positioned sets the error's position to the start of its entry.
func positioned(data []byte, start int64, re *ReadError) *ReadError {
	if start >= 0 {
		re.Line, re.Column = lineColumn(data, start)
	}
	return re
}

// lineColumn converts a byte offset into a 1-based line and column
// (counted in bytes).
func lineColumn(data []byte, offset int64) (line, column int) {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	column = int(offset) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, column
}

// forEachEntry calls fn for each element of log.entries in data (whose
// syntax is known to be valid) with a decoder about to decode it. base is
// where that decoder's error offsets count from: just after the '[' or the
// comma before the element.
func forEachEntry(data []byte, fn func(i int, base int64, dec *json.Decoder) error) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	// enter moves into the object value of key, skipping other members.
	enter := func(key string, open json.Delim) bool {
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return false
			}
			if k != key {
				var skip json.RawMessage
				if dec.Decode(&skip) != nil {
					return false
				}
				continue
			}
			t, err := dec.Token()
			return err == nil && t == open
		}
		return false
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return &ReadError{Entry: -1, Err: fmt.Errorf("%w: not a JSON object", ErrNotHAR)}
	}
	if !enter("log", '{') || !enter("entries", '[') {
		return &ReadError{Entry: -1, Err: fmt.Errorf(`%w: no "log.entries" array`, ErrNotHAR)}
	}
	for i := 0; dec.More(); i++ {
		base := skipSpace(data, dec.InputOffset())
		if base < int64(len(data)) && data[base] == ',' {
			base++
		} else {
			base = dec.InputOffset()
		}
		if err := fn(i, base, dec); err != nil {
			return err
		}
	}
	return nil
}

// skipSpace returns the offset of the first non-space byte from off.
func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) && strings.IndexByte(" \t\r\n", data[off]) >= 0 {
		off++
	}
	return off
}

// fromEntry converts one entry. It returns a nil flow for entries onpath
// skips, and on error the field at fault.
func fromEntry(ent *entry, importID string) (*flow.Flow, string, error) {
	ext := ent.Onpath
	foreign := ext == nil
	if foreign {
		ext = &onpathEntry{}
	}
	f := &flow.Flow{
		Kind:     ext.Kind,
		ReplayOf: ext.ReplayOf,
		Forced:   ext.Forced,
		ImportID: importID,
		Error:    ext.Error,
		Findings: ext.Findings,
		Tunnel:   ext.Tunnel,
	}
	if f.Kind == "" {
		f.Kind = flow.KindHTTP
	}

	start, err := parseTime(ent.StartedDateTime)
	if err != nil {
		return nil, "startedDateTime", err
	}

	req := &ent.Request
	if strings.TrimSpace(req.Method) == "" {
		return nil, "request.method", errors.New("empty method")
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		return nil, "request.url", fmt.Errorf("bad URL: %v", err)
	}
	if f.Kind == flow.KindHTTP {
		switch u.Scheme {
		case "http", "https", "ws", "wss":
		case "":
			return nil, "request.url", fmt.Errorf("URL %q is not absolute", req.URL)
		default:
			return nil, "", nil // data:, blob:, chrome-extension: ... nothing to replay
		}
		if u.Host == "" {
			return nil, "request.url", fmt.Errorf("URL %q has no host", req.URL)
		}
	}
	f.Request = flow.Request{
		Method: req.Method,
		URL:    req.URL,
		Proto:  protoOf(req.HTTPVersion, foreign),
		Header: headerOf(req.Headers, foreign),
	}
	if foreign && f.Request.Header.Get("Cookie") == "" && len(req.Cookies) > 0 {
		pairs := make([]string, len(req.Cookies))
		for i, c := range req.Cookies {
			pairs[i] = c.Name + "=" + c.Value
		}
		if f.Request.Header == nil {
			f.Request.Header = http.Header{}
		}
		f.Request.Header.Set("Cookie", strings.Join(pairs, "; "))
	}
	var reqData []byte
	if pd := req.PostData; pd != nil {
		reqData, err = textBytes(pd.Text, pd.Encoding)
		if err != nil {
			return nil, "request.postData.text", err
		}
		if len(reqData) == 0 && len(pd.Params) > 0 && strings.HasPrefix(pd.MimeType, "application/x-www-form-urlencoded") {
			reqData = encodeParams(pd.Params)
		}
	}
	f.Request.Body = bodyOf(reqData, int64(req.BodySize), ext.RequestBody, foreign)
	if foreign {
		decodedBody(f.Request.Header, f.Request.Body)
	}

	resp := &ent.Response
	if resp.Status != 0 {
		f.Response = &flow.Response{
			Proto:  protoOf(resp.HTTPVersion, foreign),
			Status: resp.Status,
			Header: headerOf(resp.Headers, foreign),
		}
		if len(ext.Trailer) > 0 {
			f.Response.Trailer = headerOf(ext.Trailer, false)
		}
		var data []byte
		size := int64(resp.BodySize)
		if c := resp.Content; c.Text != nil {
			data, err = textBytes(*c.Text, c.Encoding)
			if err != nil {
				return nil, "response.content.text", err
			}
		} else if foreign {
			size = int64(c.Size) // the tool did not save the body (Firefox may not)
		}
		f.Response.Body = bodyOf(data, size, ext.ResponseBody, foreign)
		if foreign {
			decodedBody(f.Response.Header, f.Response.Body)
		}
	} else if foreign && resp.ChromeError != "" {
		f.Error = &flow.Error{Phase: flow.PhaseResponse, Message: resp.ChromeError}
	}

	if ext.Timings != nil {
		f.Timings = *ext.Timings
	} else {
		f.Timings = fromTimings(start, ent.Time, ent.Timings)
	}
	f.Client.Addr = ext.ClientAddr
	f.Server.Addr = ext.ServerAddr
	if foreign && ent.ServerIPAddress != "" {
		f.Server.Addr = net.JoinHostPort(strings.Trim(string(ent.ServerIPAddress), "[]"), portOf(u))
	}
	if ext.TLS != nil {
		f.Client.TLS, f.Server.TLS = ext.TLS.Client, ext.TLS.Server
	}
	return f, "", nil
}

// bodyOf builds a flow body from the bytes the HAR text gives back. An
// onpath "_onpath" body restores the exact capture; for other tools a
// missing body of known size is marked truncated, so that a replay does
// not silently send nothing.
func bodyOf(data []byte, harSize int64, ext *onpathBody, foreign bool) flow.Body {
	if ext != nil {
		b := flow.Body{Size: ext.Size, Truncated: ext.Truncated, Data: data}
		if ext.Raw != nil {
			b.Data = ext.Raw
		}
		if len(b.Data) == 0 {
			b.Data = nil
		}
		return b
	}
	if len(data) == 0 {
		if foreign && harSize > 0 {
			return flow.Body{Size: harSize, Truncated: true}
		}
		return flow.Body{}
	}
	return flow.Body{Size: int64(len(data)), Data: data}
}

// decodedBody adjusts the headers of a body imported from another tool.
// HAR holds bodies decoded, while a flow's body is what crossed the wire
// with its headers describing it; keeping "Content-Encoding: gzip" over
// decoded bytes would make the viewer try to gunzip plain text and a replay
// send plain bytes labelled gzip. So the coding is dropped, and
// Content-Length follows the decoded size: the flow then describes the
// bytes it holds, which is what display and replay both need.
func decodedBody(h http.Header, b flow.Body) {
	if len(contentCodings(h)) == 0 {
		return
	}
	h.Del("Content-Encoding")
	if !b.Truncated && h.Get("Content-Length") != "" {
		h.Set("Content-Length", strconv.Itoa(len(b.Data)))
	}
}

// headerOf builds a header from HAR name/value pairs. Names of onpath's own
// exports are kept as written, so that a round trip is exact; other tools'
// names are canonicalized (Chrome writes HTTP/2 names in lower case) so
// that lookups work, and HTTP/2 pseudo-headers (":authority") dropped:
// they are not headers, and the URL and method already carry them.
func headerOf(list []nameValue, foreign bool) http.Header {
	if len(list) == 0 {
		return nil
	}
	h := http.Header{}
	for _, nv := range list {
		name := nv.Name
		if foreign {
			name = strings.TrimSpace(name)
			if name == "" || strings.HasPrefix(name, ":") {
				continue
			}
			name = http.CanonicalHeaderKey(name)
		}
		h[name] = append(h[name], nv.Value)
	}
	if len(h) == 0 {
		return nil
	}
	return h
}

// protoOf normalizes the spellings of the HTTP version used by browsers
// ("h2", "http/2.0", "HTTP/2") to Go's ("HTTP/2.0").
func protoOf(v string, foreign bool) string {
	if !foreign {
		return v
	}
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "H2", "HTTP/2", "HTTP/2.0":
		return "HTTP/2.0"
	case "H3", "HTTP/3", "HTTP/3.0":
		return "HTTP/3.0"
	case "HTTP/1.1":
		return "HTTP/1.1"
	case "HTTP/1.0":
		return "HTTP/1.0"
	}
	if strings.HasPrefix(strings.ToLower(v), "h3-") {
		return "HTTP/3.0"
	}
	return v
}

// textBytes returns the bytes a HAR text field stands for.
func textBytes(text, encoding string) ([]byte, error) {
	if text == "" {
		return nil, nil
	}
	if strings.EqualFold(encoding, "base64") {
		data, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			// Some tools write unpadded or URL-safe base64.
			if d2, err2 := base64.RawStdEncoding.DecodeString(strings.TrimRight(text, "=")); err2 == nil {
				return d2, nil
			}
			return nil, fmt.Errorf("bad base64: %v", err)
		}
		return data, nil
	}
	return []byte(text), nil
}

func encodeParams(params []param) []byte {
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.Name))
		b.WriteByte('=')
		if p.Value != nil {
			b.WriteString(url.QueryEscape(*p.Value))
		}
	}
	return []byte(b.String())
}

// parseTime reads startedDateTime: ISO 8601 as written by browsers, with
// or without a colon in the zone offset.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad date-time %q (want ISO 8601, e.g. 2024-05-01T10:00:00.123Z)", s)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" || u.Scheme == "wss" {
		return "443"
	}
	return "80"
}
