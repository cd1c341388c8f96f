package httptext

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"onpath/flow"
)

// BodyFilePrefix starts the body line that refers to a body kept in a file.
const BodyFilePrefix = "@body-file:"

// editableHelp heads every editable text; it is the format's documentation
// for the person in the editor.
const editableHelp = `# onpath request: edit, save and quit to send it.
# Format: the request line "METHOD URL VERSION", one "Name: value" line per
# header value, an empty line, then the body up to the end of the file (one
# final line break is ignored, since editors add it).
# A body made of the single line "@body-file: PATH" is read from the file
# PATH (absolute, or relative to the current directory); binary bodies are
# kept in such a file (edit it there).
# Lines starting with '#' before the empty line are ignored: comment a
# header out to drop it. Content-Length is recomputed from the body.
`

// ParseError is a malformed editable text; Line is 1-based.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("httptext: line %d: %s", e.Line, e.Msg)
}

// WriteEditable writes r in the edit format that ParseEditable reads back
// (the format is described in the text's own '#' lines). A body that is
// not plain text, or that would read as a body-file line, is written to a
// new file in bodyDir (os.TempDir when empty) and referred to by an
// "@body-file: PATH" line.
func WriteEditable(w io.Writer, r *flow.Request, bodyDir string) error {
	if strings.ContainsFunc(r.URL, isSpaceOrControl) {
		return fmt.Errorf("httptext: editable: URL %q contains white space or a control character", r.URL)
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(editableHelp)
	if r.Body.Truncated {
		fmt.Fprintf(bw, "# The recorded body was truncated: only its first %d of %d bytes are here.\n",
			len(r.Body.Data), r.Body.Size)
	}
	fmt.Fprintf(bw, "%s %s %s\n", methodOrGet(r.Method), r.URL, protoOrDefault(r.Proto))
	if err := writeHeader(bw, r.Header, "\n"); err != nil {
		return fmt.Errorf("httptext: editable: %w", err)
	}
	bw.WriteString("\n")
	if body := r.Body.Data; len(body) > 0 {
		if isText(body) && !bytes.HasPrefix(body, []byte(BodyFilePrefix)) {
			bw.Write(body)
		} else {
			path, err := writeBodyFile(bodyDir, "onpath-request-body-*.bin", body)
			if err != nil {
				return err
			}
			bw.WriteString(BodyFilePrefix + " " + path)
		}
		bw.WriteString("\n")
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("httptext: write editable: %w", err)
	}
	return nil
}

var protoPattern = regexp.MustCompile(`^HTTP/[0-9](\.[0-9])?$`)

// ParseEditable reads the edit format written by WriteEditable, with LF
// or CRLF line ends. Errors are *ParseError naming the line. The returned
// request's Content-Length header, when present or when the body is not
// empty, is set to the body's length.
func ParseEditable(text []byte) (flow.Request, error) {
	var req flow.Request
	rest := text
	lineNo := 0
	crlf := false
	// next returns the next line without its line end; ok is false at the end.
	next := func() (line string, ok bool) {
		if len(rest) == 0 {
			return "", false
		}
		lineNo++
		i := bytes.IndexByte(rest, '\n')
		var raw []byte
		if i < 0 {
			raw, rest = rest, nil
		} else {
			raw, rest = rest[:i], rest[i+1:]
		}
		return string(bytes.TrimSuffix(raw, []byte("\r"))), true
	}

	// The request line: the first line that is neither a comment nor blank.
	for {
		line, ok := next()
		if !ok {
			return req, &ParseError{Line: max(lineNo, 1), Msg: "no request line (want METHOD URL VERSION)"}
		}
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		crlf = endsLineWithCR(text, rest)
		if err := parseRequestLine(line, &req); err != nil {
			return req, &ParseError{Line: lineNo, Msg: err.Error()}
		}
		break
	}

	req.Header = http.Header{}
	for {
		line, ok := next()
		if !ok || line == "" {
			break
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, value, err := parseHeaderLine(line)
		if err != nil {
			return req, &ParseError{Line: lineNo, Msg: err.Error()}
		}
		key := http.CanonicalHeaderKey(name)
		req.Header[key] = append(req.Header[key], value)
	}

	body := rest
	switch {
	case crlf && bytes.HasSuffix(body, []byte("\r\n")):
		body = body[:len(body)-2]
	case bytes.HasSuffix(body, []byte("\n")):
		body = body[:len(body)-1]
	}
	if bytes.HasPrefix(body, []byte(BodyFilePrefix)) && !bytes.Contains(body, []byte("\n")) {
		path := strings.TrimSpace(strings.TrimPrefix(string(body), BodyFilePrefix))
		if path == "" {
			return req, &ParseError{Line: lineNo + 1, Msg: "body file: no path after " + BodyFilePrefix}
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return req, &ParseError{Line: lineNo + 1, Msg: fmt.Sprintf("body file: %v", err)}
		}
		body = data
	}
	if len(body) > 0 {
		req.Body = flow.Body{Size: int64(len(body)), Data: bytes.Clone(body)}
	}
	if len(body) > 0 || req.Header.Get("Content-Length") != "" {
		req.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	if len(req.Header) == 0 {
		req.Header = nil
	}
	return req, nil
}

// endsLineWithCR reports whether the line just consumed from text (the one
// before rest) ended in CRLF.
func endsLineWithCR(text, rest []byte) bool {
	end := len(text) - len(rest) // index just past the '\n'
	return end >= 2 && text[end-1] == '\n' && text[end-2] == '\r'
}

func parseRequestLine(line string, req *flow.Request) error {
	fields := strings.Fields(line)
	if len(fields) < 2 || len(fields) > 3 {
		return fmt.Errorf("bad request line %q (want METHOD URL VERSION)", line)
	}
	method, target := fields[0], fields[1]
	proto := "HTTP/1.1"
	if len(fields) == 3 {
		proto = fields[2]
	}
	if !isToken(method) {
		return fmt.Errorf("bad method %q", method)
	}
	if strings.ContainsFunc(target, isSpaceOrControl) {
		return fmt.Errorf("URL %q contains a control character", target)
	}
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("bad URL %q: %v", target, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("URL %q must be absolute, http:// or https://", target)
	}
	if !protoPattern.MatchString(proto) {
		return fmt.Errorf("bad HTTP version %q (want e.g. HTTP/1.1)", proto)
	}
	req.Method, req.URL, req.Proto = method, target, proto
	return nil
}

func parseHeaderLine(line string) (name, value string, err error) {
	if line[0] == ' ' || line[0] == '\t' {
		return "", "", fmt.Errorf("header line starts with white space (folded headers are not supported)")
	}
	name, value, ok := strings.Cut(line, ":")
	if !ok {
		return "", "", fmt.Errorf("header %q has no colon (want Name: value)", line)
	}
	if !isToken(name) {
		return "", "", fmt.Errorf("bad header name %q", name)
	}
	value = strings.Trim(value, " \t")
	if strings.ContainsFunc(value, isControl) {
		return "", "", fmt.Errorf("header %s: control character in value", name)
	}
	return name, value, nil
}

// isToken reports whether s is an RFC 9110 token (methods, header names).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// isSpaceOrControl matches what would split or corrupt the request line.
func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f || unicode.IsSpace(r) }
