package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"onpath/flow"
)

// exposureItem is one thing an observer reads (or TLS hides).
type exposureItem struct {
	Label, Value string
	Sensitive    bool
	Why          string
}

// exposureLeg is what crossed one leg of the proxy.
type exposureLeg struct {
	Name       string
	Encrypted  bool
	TLSVersion string
	Visible    []exposureItem
	Hidden     []exposureItem
	Notes      []string
}

// exposure is the On the path tab's model, filled from audit.Exposure.
type exposure struct {
	Legs   []exposureLeg
	Active []string
	// Findings are the flow's findings other than cookie flags (those sit
	// under their cookie in the Cookies tab).
	Findings []flow.Finding
}

// exposureLines renders the tab: per leg, two columns (what a passive
// attacker reads | what TLS hides), then what an active attacker could do,
// then, for plain HTTP, the messages as they crossed the wire.
func exposureLines(e exposure, f *flow.Flow, width int) []Line {
	var lines []Line
	if len(e.Findings) > 0 {
		lines = append(lines, styled("Findings", RoleTitle))
		for _, f := range e.Findings {
			lines = append(lines, findingLines(f, true, width)...)
		}
		lines = append(lines, text(""))
	}
	colW := max((width-3)/2, 10)
	for _, leg := range e.Legs {
		state := "plain text"
		role := RoleBad
		if leg.Encrypted {
			state, role = "encrypted", RoleGood
			if leg.TLSVersion != "" {
				state += ", " + leg.TLSVersion
			}
		}
		lines = append(lines, Line{{Text: printable(leg.Name), Role: RoleTitle}, {Text: "  "}, {Text: state, Role: role}})
		if !leg.Encrypted && len(leg.Hidden) == 0 {
			// Nothing is hidden: one full-width column says so plainly.
			lines = append(lines, Line{{Text: "VISIBLE TO A PASSIVE ATTACKER", Role: RoleHeader}, {Text: "  (no TLS: nothing is hidden)", Role: RoleBad}})
			lines = append(lines, itemLines(leg.Visible, max(width, 20))...)
			for _, n := range leg.Notes {
				lines = append(lines, styled("  note: "+printable(n), RoleDim))
			}
			lines = append(lines, text(""))
			continue
		}
		left := itemLines(leg.Visible, colW)
		right := itemLines(leg.Hidden, colW)
		lines = append(lines, Line{{Text: fit("VISIBLE TO A PASSIVE ATTACKER", colW), Role: RoleHeader}, {Text: " │ "}, {Text: fit("HIDDEN BY TLS", colW), Role: RoleHeader}})
		for i := range max(len(left), len(right)) {
			var l, r Line
			if i < len(left) {
				l = left[i]
			}
			if i < len(right) {
				r = right[i]
			}
			row := append(padLine(l, colW, RoleNormal), Span{Text: " │ "})
			lines = append(lines, append(row, padLine(r, colW, RoleNormal)...))
		}
		for _, n := range leg.Notes {
			lines = append(lines, styled("  note: "+printable(n), RoleDim))
		}
		lines = append(lines, text(""))
	}
	if len(e.Active) > 0 {
		lines = append(lines, styled("An active attacker on the path could:", RoleTitle))
		for _, a := range e.Active {
			lines = append(lines, Line{{Text: "  • "}, {Text: printable(a), Role: RoleWarn}})
		}
		lines = append(lines, text(""))
	}
	if f != nil && f.Kind == flow.KindHTTP && f.Server.TLS == nil {
		lines = append(lines, styled("As it crossed the network (plain HTTP), secrets highlighted:", RoleTitle))
		lines = append(lines, wireLines(f)...)
	}
	return lines
}

// itemLines lays out items as "label: value" lines, wrapped to width, the
// sensitive ones highlighted with a "!" for monochrome terminals.
func itemLines(items []exposureItem, width int) []Line {
	var out []Line
	for _, it := range items {
		role, mark := RoleNormal, "  "
		if it.Sensitive {
			role, mark = RoleSecret, "! "
		}
		body := printable(it.Label)
		if it.Value != "" {
			body += ": " + printable(it.Value)
		}
		for i, chunk := range wrapRunes(body, width-2) {
			m := mark
			if i > 0 {
				m = "  "
			}
			out = append(out, Line{{Text: m, Role: role}, {Text: chunk, Role: role}})
		}
		if it.Why != "" {
			for _, chunk := range wrapRunes(printable(it.Why), width-4) {
				out = append(out, Line{{Text: "    " + chunk, Role: RoleDim}})
			}
		}
	}
	return out
}

// wrapRunes splits s into pieces of at most width runes, breaking after
// a space when there is one in the second half of the piece.
func wrapRunes(s string, width int) []string {
	width = max(width, 1)
	var out []string
	for utf8.RuneCountInString(s) > width {
		head := cutRunes(s, width)
		if i := strings.LastIndexByte(head, ' '); i > len(head)/2 {
			head = head[:i+1]
		}
		out = append(out, strings.TrimRight(head, " "))
		s = s[len(head):]
	}
	return append(out, s)
}

// wireLines is a plain-HTTP exchange in HTTP/1.1 wire form with secrets
// highlighted: cookies, credentials, credential-like query and form fields.
func wireLines(f *flow.Flow) []Line {
	var lines []Line
	target := f.Request.URL
	if u, err := url.Parse(f.Request.URL); err == nil {
		target = u.RequestURI()
	}
	lines = append(lines, append(Line{{Text: printable(f.Request.Method) + " "}}, append(secretQuery(target), Span{Text: " " + printable(f.Request.Proto)})...))
	lines = append(lines, headerLines(f.Request.Header)...)
	lines = append(lines, text(""))
	lines = append(lines, wireBody(f.Request.Header.Get("Content-Type"), f.Request.Body)...)
	if f.Response != nil {
		lines = append(lines, text(""), text(fmt.Sprintf("%s %d %s", printable(f.Response.Proto), f.Response.Status, http.StatusText(f.Response.Status))))
		lines = append(lines, headerLines(f.Response.Header)...)
		lines = append(lines, text(""))
		lines = append(lines, wireBody(f.Response.Header.Get("Content-Type"), f.Response.Body)...)
	}
	return lines
}

// secretQuery highlights the values of credential-like query parameters.
func secretQuery(target string) Line {
	path, query, ok := strings.Cut(target, "?")
	if !ok {
		return text(printable(target))
	}
	l := Line{{Text: printable(path) + "?"}}
	for i, pair := range strings.Split(query, "&") {
		if i > 0 {
			l = append(l, Span{Text: "&"})
		}
		name, value, hasValue := strings.Cut(pair, "=")
		if hasValue && value != "" && sensitiveName(name) {
			l = append(l, Span{Text: printable(name) + "="}, Span{Text: printable(value), Role: RoleSecret})
			continue
		}
		l = append(l, Span{Text: printable(pair)})
	}
	return l
}

// wireBody shows a body as sent: form fields with secrets highlighted,
// text as lines (at most 200), anything else as its size.
func wireBody(contentType string, b flow.Body) []Line {
	if len(b.Data) == 0 {
		return nil
	}
	if strings.HasPrefix(contentType, "application/x-www-form-urlencoded") && utf8.Valid(b.Data) {
		return []Line{secretQuery("?" + string(b.Data))[1:]}
	}
	if !isText(b.Data) {
		return []Line{styled(fmt.Sprintf("[%s of binary or compressed data]", formatSize(b.Size)), RoleDim)}
	}
	var out []Line
	for i, s := range strings.Split(string(b.Data), "\n") {
		if i == 200 {
			out = append(out, styled("[… see the Request/Response tab for the rest]", RoleDim))
			break
		}
		out = append(out, text(printable(strings.TrimRight(s, "\r"))))
	}
	return out
}
