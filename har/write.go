package har

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"onpath/flow"
)

// Options tunes an export.
type Options struct {
	// Creator is log.creator.name; "onpath" when empty.
	Creator string
	// Version is log.creator.version.
	Version string
	// Findings adds each flow's audit findings to its "_onpath" object.
	Findings bool
}

// ErrClosed is returned by Encode after Close.
var ErrClosed = errors.New("har: encoder closed")

// Encoder writes a HAR document one entry at a time, so an export of many
// flows never holds them all in memory. Close must be called to end the
// document. An Encoder is not safe for concurrent use.
type Encoder struct {
	w       *bufio.Writer
	opts    Options
	entries int
	started bool
	closed  bool
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer, opts Options) *Encoder {
	if opts.Creator == "" {
		opts.Creator = "onpath"
	}
	return &Encoder{w: bufio.NewWriter(w), opts: opts}
}

// Write writes flows as one HAR 1.2 document.
func Write(w io.Writer, flows []*flow.Flow, opts Options) error {
	enc := NewEncoder(w, opts)
	for _, f := range flows {
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	return enc.Close()
}

// The document is written by hand around the entries so that entries can
// stream; its indentation matches json.MarshalIndent with two spaces.
const entryIndent = "      "

func (e *Encoder) start() error {
	if e.started {
		return nil
	}
	e.started = true
	c, err := json.MarshalIndent(creator{Name: e.opts.Creator, Version: e.opts.Version}, "    ", "  ")
	if err != nil {
		return fmt.Errorf("har: encode creator: %w", err)
	}
	fmt.Fprintf(e.w, "{\n  \"log\": {\n    \"version\": \"1.2\",\n    \"creator\": %s,\n    \"entries\": [", c)
	return nil
}

// Encode writes one flow as the next entry.
func (e *Encoder) Encode(f *flow.Flow) error {
	if e.closed {
		return ErrClosed
	}
	if err := e.start(); err != nil {
		return err
	}
	ent := toEntry(f, e.opts)
	b, err := marshalIndent(ent, entryIndent)
	if err != nil {
		return fmt.Errorf("har: encode flow %d: %w", f.ID, err)
	}
	if e.entries > 0 {
		e.w.WriteString(",")
	}
	e.w.WriteString("\n" + entryIndent)
	e.w.Write(b)
	e.entries++
	if e.w.Buffered() > 1<<20 {
		if err := e.w.Flush(); err != nil {
			return fmt.Errorf("har: write: %w", err)
		}
	}
	return nil
}

// Close ends the document and flushes it. It does not close the writer.
func (e *Encoder) Close() error {
	if e.closed {
		return nil
	}
	if err := e.start(); err != nil {
		return err
	}
	e.closed = true
	if e.entries > 0 {
		e.w.WriteString("\n    ")
	}
	e.w.WriteString("]\n  }\n}\n")
	if err := e.w.Flush(); err != nil {
		return fmt.Errorf("har: write: %w", err)
	}
	return nil
}

// marshalIndent is json.MarshalIndent without HTML escaping: bodies and
// URLs stay readable ("<", ">" and "&" are not turned into \u003c...).
func marshalIndent(v any, prefix string) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(b.String(), "\n")), nil
}

func toEntry(f *flow.Flow, opts Options) entry {
	ext := &onpathEntry{
		ID:         f.ID,
		ReplayOf:   f.ReplayOf,
		Forced:     f.Forced,
		Kind:       f.Kind,
		Error:      f.Error,
		ClientAddr: f.Client.Addr,
		ServerAddr: f.Server.Addr,
		Tunnel:     f.Tunnel,
	}
	if opts.Findings {
		ext.Findings = f.Findings
	}
	if f.Client.TLS != nil || f.Server.TLS != nil {
		ext.TLS = &onpathTLS{Client: f.Client.TLS, Server: f.Server.TLS}
	}
	exact := f.Timings
	ext.Timings = &exact

	ent := entry{
		StartedDateTime: f.Timings.Start.Format(time.RFC3339Nano),
		Time:            millis(f.Timings.Duration()),
		Request:         toRequest(&f.Request, ext),
		Response:        toResponse(f, ext),
		Cache:           json.RawMessage("{}"),
		Timings:         toTimings(f.Timings),
		Onpath:          ext,
	}
	if host, _, err := net.SplitHostPort(f.Server.Addr); err == nil && net.ParseIP(host) != nil {
		ent.ServerIPAddress = looseString(host)
	}
	if _, port, err := net.SplitHostPort(f.Client.Addr); err == nil {
		// The client's source port names its TCP connection to onpath.
		ent.Connection = looseString(port)
	}
	return ent
}

func toRequest(r *flow.Request, ext *onpathEntry) request {
	req := request{
		Method:      r.Method,
		URL:         r.URL,
		HTTPVersion: r.Proto,
		Cookies:     requestCookies(r.Header),
		Headers:     headerList(r.Header),
		QueryString: queryList(r.URL),
		HeadersSize: -1,
		BodySize:    lenientInt(r.Body.Size),
	}
	if r.Body.Size == 0 && len(r.Body.Data) == 0 {
		return req
	}
	mimeType := r.Header.Get("Content-Type")
	data, note := harBytes(r.Header, r.Body)
	pd := &postData{MimeType: mimeType}
	// JSON strings carry any valid UTF-8 exactly; only other bytes need base64.
	if isText("", data) {
		pd.Text = string(data)
	} else {
		pd.Text = base64Encode(data)
		pd.Encoding = "base64"
	}
	pd.Params = formParams(mimeType, data)
	req.PostData = pd
	ext.RequestBody = bodyExtension(r.Body, data, note)
	return req
}

func toResponse(f *flow.Flow, ext *onpathEntry) response {
	r := f.Response
	if r == nil {
		// HAR requires a response; status 0 is how DevTools marks none.
		return response{Cookies: cookieList{}, Headers: []nameValue{}, HeadersSize: -1, BodySize: -1}
	}
	resp := response{
		Status:      r.Status,
		StatusText:  http.StatusText(r.Status),
		HTTPVersion: r.Proto,
		Cookies:     responseCookies(r.Header, f.Timings.Start),
		Headers:     headerList(r.Header),
		RedirectURL: r.Header.Get("Location"),
		HeadersSize: -1,
		BodySize:    lenientInt(r.Body.Size),
	}
	mimeType := r.Header.Get("Content-Type")
	data, note := harBytes(r.Header, r.Body)
	c := responseContent{Size: lenientInt(len(data)), MimeType: mimeType}
	if len(data) > 0 {
		var text string
		if isText(mimeType, data) {
			text = string(data)
		} else {
			text = base64Encode(data)
			c.Encoding = "base64"
		}
		c.Text = &text
	}
	if note == "" && len(contentCodings(r.Header)) > 0 && !r.Body.Truncated {
		saved := lenientInt(int64(len(data)) - r.Body.Size)
		c.Compression = &saved
	}
	resp.Content = c
	ext.ResponseBody = bodyExtension(r.Body, data, note)
	if len(r.Trailer) > 0 {
		ext.Trailer = headerList(r.Trailer)
	}
	return resp
}

// bodyExtension returns what "_onpath" must add so that the body can be
// restored exactly from data (the bytes the HAR text gives back), or nil
// when data already is the whole captured body.
func bodyExtension(b flow.Body, data []byte, note string) *onpathBody {
	same := string(data) == string(b.Data)
	if same && note == "" && !b.Truncated && b.Size == int64(len(b.Data)) {
		return nil
	}
	ext := &onpathBody{Size: b.Size, Truncated: b.Truncated, Note: note}
	if !same {
		ext.Raw = b.Data
		if ext.Note == "" {
			ext.Note = "the HAR text is the decoded body; raw is the body as it crossed the wire"
		}
	}
	return ext
}

// headerList lists every header value, names sorted so that exports are
// reproducible.
func headerList(h http.Header) []nameValue {
	list := []nameValue{}
	for _, name := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[name] {
			list = append(list, nameValue{Name: name, Value: v})
		}
	}
	return list
}

// millis converts d to HAR's milliseconds, rounded to the microsecond.
func millis(d time.Duration) float64 {
	return math.Round(float64(d)/1e3) / 1e3
}
