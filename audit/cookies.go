package audit

import (
	"strings"
	"time"

	"onpath/flow"
)

// CookieRow is one line of a cookie table (the viewer's Cookies tab,
// `onpath audit`): either a cookie the response set (Set) or one the
// request sent (Request).
type CookieRow struct {
	Name string
	// Sent is true for a cookie from a Cookie request header (Request is
	// set), false for a Set-Cookie line (Set is set).
	Sent    bool
	Set     *SetCookie
	Request *RequestCookie
	// Findings are those whose evidence names this cookie.
	Findings []flow.Finding
}

// Session is the row's session-cookie confidence.
func (row *CookieRow) Session() Confidence {
	if row.Set != nil {
		return row.Set.Session
	}
	if row.Request != nil {
		return row.Request.Session
	}
	return ConfidenceNone
}

// Cookies lists the cookies a flow sent (in header order) and then those
// it set (in line order), each with the findings that name it. findings are
// the flow's findings (flow.Findings, or what Check returned); now is used
// for the Set-Cookie deletion test.
func Cookies(f *flow.Flow, findings []flow.Finding, now time.Time) []CookieRow {
	if f.Kind == flow.KindTunnel {
		return nil
	}
	r := newRun(f, now)
	rows := make([]CookieRow, 0, len(r.sent)+len(r.set))
	for i := range r.sent {
		rc := r.sent[i]
		rows = append(rows, CookieRow{Name: rc.Name, Sent: true, Request: &rc,
			Findings: findingsNaming(findings, "Cookie: ", rc.Name)})
	}
	for i := range r.set {
		sc := r.set[i]
		rows = append(rows, CookieRow{Name: sc.Name, Set: &sc,
			Findings: findingsNaming(findings, "Set-Cookie: ", sc.Name)})
	}
	return rows
}

// findingsNaming returns the findings whose evidence is kind followed by a
// list of names (", "-separated, as CK12 writes it) that includes name.
func findingsNaming(findings []flow.Finding, kind, name string) []flow.Finding {
	if name == "" {
		name = "(no name)"
	}
	var out []flow.Finding
	for _, fd := range findings {
		rest, ok := strings.CutPrefix(fd.Evidence, kind)
		if !ok {
			continue
		}
		for n := range strings.SplitSeq(rest, ", ") {
			if n == name {
				out = append(out, fd)
				break
			}
		}
	}
	return out
}
