package ui

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"onpath/flow"
)

// volatileHeaders change on every response (clocks, request ids, cache
// ages): a replay's comparison shows them dimmed, so the changes that
// matter stand out.
var volatileHeaders = map[string]bool{
	"Date": true, "Expires": true, "Age": true, "Last-Modified": true, "Etag": true,
	"X-Request-Id": true, "X-Correlation-Id": true, "Request-Id": true, "X-Amzn-Requestid": true,
	"X-Amz-Request-Id": true, "X-Amz-Id-2": true, "Cf-Ray": true, "Server-Timing": true,
	"X-Runtime": true, "Report-To": true, "Nel": true, "X-Served-By": true, "X-Timer": true,
}

// headerChange is one response header that differs between the original
// and the replay; old or new is nil when the header was added or removed.
type headerChange struct {
	name     string
	old, new []string
	volatile bool
}

// bodyVerdict says whether two bodies are the same once decoded.
type bodyVerdict uint8

const (
	bodyIdentical bodyVerdict = iota
	bodyDiffers
	bodyUnknown // a body was truncated: the captured parts cannot decide
)

// comparison is how a replay differs from its original: the request
// (an edited replay changed it) and the response.
type comparison struct {
	original flow.ID
	request  []requestChange
	// The response.
	oldStatus, newStatus int // 0: no response
	headers              []headerChange
	oldSize, newSize     int64
	body                 bodyVerdict
}

// requestChange is one difference between the sent requests: a header,
// or the method, URL or body (name "method", "URL", "body").
type requestChange struct {
	header   *headerChange
	name     string
	old, new string
}

// compareResponses compares the responses of a replay and its original.
func compareResponses(orig, replay *flow.Flow, decode decodeFunc) comparison {
	c := comparison{original: orig.ID, oldStatus: orig.Status(), newStatus: replay.Status()}
	var oldH, newH http.Header
	var oldB, newB flow.Body
	if r := orig.Response; r != nil {
		oldH, oldB = r.Header, r.Body
	}
	if r := replay.Response; r != nil {
		newH, newB = r.Header, r.Body
	}
	c.request = requestChanges(&orig.Request, &replay.Request)
	c.oldSize, c.newSize = oldB.Size, newB.Size
	c.headers = headerChanges(oldH, newH)
	c.body = compareBodies(oldH, oldB, newH, newB, decode)
	return c
}

// requestChanges lists how the replay's request differs from the
// original's. Content-Length is left out: it follows the body, which is
// compared itself.
func requestChanges(old, new *flow.Request) []requestChange {
	var out []requestChange
	if old.Method != new.Method {
		out = append(out, requestChange{name: "method", old: old.Method, new: new.Method})
	}
	if old.URL != new.URL {
		out = append(out, requestChange{name: "URL", old: old.URL, new: new.URL})
	}
	for _, h := range headerChanges(old.Header, new.Header) {
		if h.name == "Content-Length" {
			continue
		}
		out = append(out, requestChange{header: &h})
	}
	if !bytes.Equal(old.Body.Data, new.Body.Data) || old.Body.Size != new.Body.Size {
		out = append(out, requestChange{name: "body", old: formatSize(old.Body.Size) + " bytes", new: formatSize(new.Body.Size) + " bytes"})
	}
	return out
}

// headerChanges lists the headers added, removed or changed, by name.
func headerChanges(old, new http.Header) []headerChange {
	names := map[string]bool{}
	for k := range old {
		names[http.CanonicalHeaderKey(k)] = true
	}
	for k := range new {
		names[http.CanonicalHeaderKey(k)] = true
	}
	sorted := make([]string, 0, len(names))
	for k := range names {
		sorted = append(sorted, k)
	}
	slices.Sort(sorted)
	var out []headerChange
	for _, k := range sorted {
		o, n := old.Values(k), new.Values(k)
		if slices.Equal(o, n) {
			continue
		}
		out = append(out, headerChange{name: k, old: o, new: n, volatile: volatileHeaders[k]})
	}
	return out
}

// compareBodies decides whether two bodies are the same after their
// Content-Encoding is undone (a server may compress differently).
func compareBodies(oldH http.Header, oldB flow.Body, newH http.Header, newB flow.Body, decode decodeFunc) bodyVerdict {
	if oldB.Truncated || newB.Truncated {
		// Only the captured prefixes can be compared, as sent on the wire.
		n := min(len(oldB.Data), len(newB.Data))
		if !bytes.Equal(oldB.Data[:n], newB.Data[:n]) && oldH.Get("Content-Encoding") == newH.Get("Content-Encoding") {
			return bodyDiffers
		}
		return bodyUnknown
	}
	if bytes.Equal(decodedOrRaw(oldH, oldB.Data, decode), decodedOrRaw(newH, newB.Data, decode)) {
		return bodyIdentical
	}
	return bodyDiffers
}

// decodedOrRaw undoes the Content-Encoding, or returns the raw bytes when
// that fails.
func decodedOrRaw(h http.Header, data []byte, decode decodeFunc) []byte {
	enc := strings.TrimSpace(strings.ToLower(h.Get("Content-Encoding")))
	if enc == "" || enc == "identity" || decode == nil || len(data) == 0 {
		return data
	}
	out, err := decode(enc, data, decodeLimit)
	if err != nil {
		return data
	}
	return out
}

// statusText is a status code with its reason, or "no response".
func statusText(code int) string {
	if code == 0 {
		return "no response"
	}
	return strconv.Itoa(code) + " " + http.StatusText(code)
}

// comparisonLines renders a comparison above a replay's response.
func comparisonLines(c comparison) []Line {
	l := []Line{styled(fmt.Sprintf("── compared with the original #%d (o opens it) ──", c.original), RoleTitle)}
	key := func(k string) Span { return Span{Text: fit(k, 9), Role: RoleKey} }

	if len(c.request) == 0 {
		l = append(l, Line{key("Request"), {Text: "sent as recorded", Role: RoleDim}})
	}
	for i, r := range c.request {
		lead := Span{Text: fit("", 9)}
		if i == 0 {
			lead = key("Request")
		}
		if r.header != nil {
			l = append(l, append(Line{lead}, headerChangeSpans(*r.header)...))
			continue
		}
		l = append(l, Line{lead, {Text: "~ " + r.name + ": ", Role: RoleWarn}, {Text: printable(r.old)}, {Text: " → ", Role: RoleDim}, {Text: printable(r.new)}})
	}

	if c.oldStatus == c.newStatus {
		l = append(l, Line{key("Status"), {Text: statusText(c.newStatus), Role: statusRole(c.newStatus)}, {Text: "  (same)", Role: RoleDim}})
	} else {
		l = append(l, Line{key("Status"), {Text: statusText(c.oldStatus), Role: statusRole(c.oldStatus)}, {Text: " → "},
			{Text: statusText(c.newStatus), Role: statusRole(c.newStatus)}, {Text: "  (changed)", Role: RoleWarn}})
	}

	if len(c.headers) == 0 {
		l = append(l, Line{key("Headers"), {Text: "the same", Role: RoleGood}})
	}
	for i, h := range c.headers {
		lead := Span{Text: fit("", 9)}
		if i == 0 {
			lead = key("Headers")
		}
		l = append(l, append(Line{lead}, headerChangeSpans(h)...))
	}

	size := formatSize(c.oldSize) + " → " + formatSize(c.newSize) + " bytes on the wire"
	if c.oldSize == c.newSize {
		size = formatSize(c.newSize) + " bytes on the wire, both"
	}
	verdict := map[bodyVerdict]Span{
		bodyIdentical: {Text: "decoded body identical", Role: RoleGood},
		bodyDiffers:   {Text: "decoded body differs", Role: RoleWarn},
		bodyUnknown:   {Text: "cannot tell: a body was truncated when captured", Role: RoleDim},
	}[c.body]
	l = append(l, Line{key("Body"), {Text: size + "; "}, verdict}, text(""))
	return l
}

// headerChangeSpans renders one header change: + added, - removed,
// ~ changed; volatile headers dimmed.
func headerChangeSpans(h headerChange) Line {
	role := RoleNormal
	if h.volatile {
		role = RoleDim
	}
	name := printable(h.name)
	oldV, newV := printable(strings.Join(h.old, ", ")), printable(strings.Join(h.new, ", "))
	switch {
	case h.old == nil:
		return Line{{Text: "+ " + name + ": " + newV, Role: pick(h.volatile, RoleDim, RoleGood)}}
	case h.new == nil:
		return Line{{Text: "- " + name + ": " + oldV, Role: pick(h.volatile, RoleDim, RoleBad)}}
	}
	return Line{{Text: "~ " + name + ": ", Role: role}, {Text: oldV, Role: role}, {Text: " → ", Role: RoleDim}, {Text: newV, Role: role}}
}

func pick(cond bool, yes, no Role) Role {
	if cond {
		return yes
	}
	return no
}

// withPreamble puts lines above a pane's content.
func withPreamble(p pane, pre []Line) pane {
	switch x := p.(type) {
	case *messagePane:
		return &messagePane{head: append(slices.Clip(pre), x.head...), body: x.body}
	case staticPane:
		return staticPane(append(slices.Clip(pre), x...))
	}
	return p
}
