package httptext

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"onpath/flow"
)

// WriteRequest writes r as HTTP/1.1 message text: the request line with the
// absolute URL as target (so the host and scheme are kept:
// "POST https://example.com/path HTTP/1.1"), the headers sorted by name,
// a blank line and the body bytes exactly as recorded (still
// content-encoded, possibly truncated). Lines end in CRLF as on the wire.
func WriteRequest(w io.Writer, r *flow.Request) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s %s %s\r\n", methodOrGet(r.Method), r.URL, protoOrDefault(r.Proto))
	if err := writeHeader(bw, r.Header, "\r\n"); err != nil {
		return fmt.Errorf("httptext: request: %w", err)
	}
	bw.WriteString("\r\n")
	bw.Write(r.Body.Data)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("httptext: write request: %w", err)
	}
	return nil
}

// WriteResponse writes r as HTTP/1.1 message text: the status line, the
// headers sorted by name, a blank line and the body bytes exactly as
// recorded. Trailers are not written: HTTP/1.1 text can only carry them
// inside a chunked body, which the recorded body no longer is.
func WriteResponse(w io.Writer, r *flow.Response) error {
	bw := bufio.NewWriter(w)
	text := http.StatusText(r.Status)
	if text == "" {
		text = "status code " + strconv.Itoa(r.Status)
	}
	fmt.Fprintf(bw, "%s %03d %s\r\n", protoOrDefault(r.Proto), r.Status, text)
	if err := writeHeader(bw, r.Header, "\r\n"); err != nil {
		return fmt.Errorf("httptext: response: %w", err)
	}
	bw.WriteString("\r\n")
	bw.Write(r.Body.Data)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("httptext: write response: %w", err)
	}
	return nil
}

// writeHeader writes one "Name: value" line per value, names sorted, values
// in their recorded order. A value holding a line break would forge extra
// header lines in the text, and other control characters are not valid
// HTTP (RFC 9110 section 5.5) and would act on a terminal, so both are
// refused.
func writeHeader(w *bufio.Writer, h http.Header, eol string) error {
	for _, name := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[name] {
			if err := checkHeaderField(name, v); err != nil {
				return err
			}
			w.WriteString(name)
			w.WriteString(": ")
			w.WriteString(v)
			w.WriteString(eol)
		}
	}
	return nil
}

func methodOrGet(m string) string {
	if m == "" {
		return http.MethodGet
	}
	return m
}

func protoOrDefault(p string) string {
	if p == "" {
		return "HTTP/1.1"
	}
	return p
}

// checkHeaderField refuses a header that cannot be written as one text line.
func checkHeaderField(name, value string) error {
	if name == "" || strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r == ':' || r == 0x7f }) {
		return fmt.Errorf("header %q: bad name", name)
	}
	if strings.ContainsFunc(value, isControl) {
		return fmt.Errorf("header %q: control character in value", name)
	}
	return nil
}

// isControl matches the control characters a header value may not hold
// (all but tab).
func isControl(r rune) bool { return (r < ' ' && r != '\t') || r == 0x7f }
