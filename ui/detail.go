package ui

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"onpath/flow"
)

// tab is one of the detail view's tabs.
type tab int

const (
	tabRequest tab = iota
	tabResponse
	tabCookies
	tabOnPath
	tabTLS
	tabTiming
	tabCount
)

var tabNames = [tabCount]string{"Request", "Response", "Cookies", "On the path", "TLS", "Timing"}

// tabBar renders the tab titles with the active one marked.
func tabBar(active tab) Line {
	var l Line
	for t := range tabCount {
		role := RoleTab
		label := fmt.Sprintf(" %d %s ", t+1, tabNames[t])
		if t == active {
			role = RoleTabActive
			label = fmt.Sprintf("[%d %s]", t+1, tabNames[t])
		}
		l = append(l, Span{Text: label, Role: role}, Span{Text: " "})
	}
	return l
}

// flowTitle is the one-line description of a flow above the tabs; the
// URL is shortened from the middle so the outcome stays visible.
func flowTitle(f *flow.Flow, width int) Line {
	head := Line{{Text: "#" + strconv.FormatUint(uint64(f.ID), 10) + " ", Role: RoleDim}}
	if f.Kind == flow.KindTunnel {
		head = append(head, Span{Text: "passthrough tunnel ", Role: RoleTitle})
	} else {
		head = append(head, Span{Text: printable(f.Request.Method) + " ", Role: RoleTitle})
	}
	var tail Line
	switch {
	case f.Pending():
		tail = append(tail, Span{Text: "  (in progress)", Role: RolePending})
	case f.Response != nil:
		tail = append(tail, Span{Text: " → "}, Span{Text: strconv.Itoa(f.Response.Status) + " " + http.StatusText(f.Response.Status), Role: statusRole(f.Response.Status)})
	}
	if f.Error != nil {
		tail = append(tail, Span{Text: "  failed: " + printable(f.Error.Error()), Role: RoleError})
	}
	if f.ReplayOf != 0 {
		marker := fmt.Sprintf("  replay of #%d", f.ReplayOf)
		if f.Forced {
			marker += " (forced: truncated body)"
		}
		tail = append(tail, Span{Text: marker, Role: RoleTitle})
	}
	room := max(width-head.Width()-tail.Width(), 12)
	l := append(head, Span{Text: shortenMiddle(printable(f.Request.URL), room)})
	return append(l, tail...)
}

// sensitiveHeaders carry credentials or session state.
var sensitiveHeaders = map[string]bool{
	"Cookie": true, "Set-Cookie": true, "Authorization": true, "Proxy-Authorization": true,
	"X-Api-Key": true, "X-Auth-Token": true, "X-Csrf-Token": true, "X-Xsrf-Token": true,
}

// headerLines renders headers sorted by name (http.Header keeps no
// order), with credential-carrying values highlighted.
func headerLines(h http.Header) []Line {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	var lines []Line
	for _, k := range names {
		role := RoleNormal
		if sensitiveHeaders[http.CanonicalHeaderKey(k)] || sensitiveName(k) {
			role = RoleSecret
		}
		for _, v := range h[k] {
			lines = append(lines, Line{{Text: printable(k), Role: RoleKey}, {Text: ": "}, {Text: printable(v), Role: role}})
		}
	}
	return lines
}

// requestPane is the Request tab.
func requestPane(f *flow.Flow, decode decodeFunc) pane {
	r := &f.Request
	head := []Line{{
		{Text: printable(r.Method), Role: RoleTitle}, {Text: " " + printable(r.URL) + " "}, {Text: printable(r.Proto), Role: RoleDim},
	}}
	if f.Kind == flow.KindTunnel && f.Tunnel != nil {
		head = append(head, text(""), text(fmt.Sprintf("Passed through without decryption: %s sent, %s received.",
			formatSize(f.Tunnel.BytesUp), formatSize(f.Tunnel.BytesDown))))
		return staticPane(head)
	}
	head = append(head, headerLines(r.Header)...)
	body := newBodyView(r.Header, r.Body, decode)
	return &messagePane{head: append(head, bodyHeading(body, r.Body)...), body: body}
}

// responsePane is the Response tab.
func responsePane(f *flow.Flow, decode decodeFunc) pane {
	if f.Response == nil {
		var l []Line
		switch {
		case f.Error != nil:
			l = append(l, styled("No response: "+printable(f.Error.Error()), RoleError))
		case f.Pending():
			l = append(l, styled("Waiting for the response…", RolePending))
		default:
			l = append(l, styled("No response was recorded.", RoleDim))
		}
		return staticPane(l)
	}
	resp := f.Response
	head := []Line{{
		{Text: printable(resp.Proto) + " ", Role: RoleDim},
		{Text: strconv.Itoa(resp.Status) + " " + http.StatusText(resp.Status), Role: statusRole(resp.Status)},
	}}
	head = append(head, headerLines(resp.Header)...)
	if len(resp.Trailer) > 0 {
		head = append(head, styled("Trailers:", RoleDim))
		head = append(head, headerLines(resp.Trailer)...)
	}
	body := newBodyView(resp.Header, resp.Body, decode)
	return &messagePane{head: append(head, bodyHeading(body, resp.Body)...), body: body}
}

// bodyHeading separates headers from the body and says how it is shown.
func bodyHeading(v *bodyView, b flow.Body) []Line {
	desc := fmt.Sprintf("── body: %d bytes, %s", b.Size, v.kind)
	for _, n := range v.notes {
		desc += "; " + n
	}
	if v.kind == bodyEmpty {
		desc = "── no body"
		if len(v.notes) > 0 {
			desc += "; " + strings.Join(v.notes, "; ")
		}
	}
	return []Line{text(""), styled(desc+" ──", RoleDim)}
}

// tlsPane is the TLS tab: both legs, and the upstream chain like a
// browser's padlock dialog.
func tlsPane(f *flow.Flow, now time.Time) pane {
	var l []Line
	leg := func(title string, t *flow.TLSInfo) {
		l = append(l, styled(title, RoleTitle))
		if t == nil {
			l = append(l, styled("  plain text: no TLS on this leg", RoleBad), text(""))
			return
		}
		kv := func(k, v string, r Role) {
			l = append(l, Line{{Text: "  " + fit(k, 14), Role: RoleKey}, {Text: printable(v), Role: r}})
		}
		vr := RoleGood
		if t.Version < 0x0303 { // below TLS 1.2: RFC 8996
			vr = RoleBad
		}
		kv("Version", t.VersionName(), vr)
		kv("Cipher", t.CipherSuiteName(), RoleNormal)
		kv("ALPN", orDash(t.ALPN), RoleNormal)
		if len(t.OfferedALPN) > 0 {
			kv("Offered ALPN", strings.Join(t.OfferedALPN, ", "), RoleNormal)
		}
		kv("SNI", orDash(t.SNI), RoleNormal)
		if t.ECHAccepted {
			kv("ECH", "accepted: the real name was encrypted", RoleGood)
		}
		l = append(l, text(""))
	}
	leg("Client ⇄ onpath", f.Client.TLS)
	leg("onpath ⇄ server "+printable(f.Server.Addr), f.Server.TLS)
	t := f.Server.TLS
	if t == nil {
		return staticPane(l)
	}
	if t.Verified {
		l = append(l, Line{{Text: "Verification: ", Role: RoleTitle}, {Text: "✓ the chain verified for " + printable(t.SNI), Role: RoleGood}})
	} else {
		msg := "✗ not verified"
		if t.VerifyError != "" {
			msg += ": " + printable(t.VerifyError)
		}
		l = append(l, Line{{Text: "Verification: ", Role: RoleTitle}, {Text: msg, Role: RoleBad}})
	}
	l = append(l, text(""), styled(fmt.Sprintf("Certificate chain (%d)", len(t.Chain)), RoleTitle))
	for i, c := range t.Chain {
		what := "leaf"
		switch {
		case i > 0 && c.IsCA && c.Subject == c.Issuer:
			what = "root"
		case i > 0:
			what = "intermediate"
		}
		l = append(l, Line{{Text: fmt.Sprintf("%d. ", i), Role: RoleDim}, {Text: printable(c.Subject), Role: RoleTitle}, {Text: "  (" + what + ")", Role: RoleDim}})
		kv := func(k, v string, r Role) {
			l = append(l, Line{{Text: "   " + fit(k, 11), Role: RoleKey}, {Text: v, Role: r}})
		}
		kv("Issuer", printable(c.Issuer), RoleNormal)
		names := append(append([]string{}, c.DNSNames...), c.IPAddresses...)
		if len(names) > 0 {
			kv("SANs", printable(strings.Join(names, ", ")), RoleNormal)
		}
		validity := c.NotBefore.UTC().Format("2006-01-02") + " → " + c.NotAfter.UTC().Format("2006-01-02")
		vr := RoleGood
		switch {
		case now.After(c.NotAfter):
			validity += "  EXPIRED"
			vr = RoleBad
		case now.Before(c.NotBefore):
			validity += "  NOT YET VALID"
			vr = RoleBad
		}
		kv("Valid", validity, vr)
		if c.SerialNumber != "" {
			kv("Serial", printable(c.SerialNumber), RoleDim)
		}
		kv("SHA-256", printable(c.SHA256), RoleDim)
	}
	return staticPane(l)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// timingPhase is one bar of the Timing tab.
type timingPhase struct {
	name       string
	start, end time.Time
}

// timingPhases are the phases that happened, in order. "request sent"
// runs from the end of the connection set-up to the last request byte.
func timingPhases(t flow.Timings) []timingPhase {
	ready := t.Start
	for _, c := range []time.Time{t.DNSDone, t.ConnectDone, t.TLSDone} {
		if c.After(ready) {
			ready = c
		}
	}
	all := []timingPhase{
		{"DNS", t.DNSStart, t.DNSDone},
		{"connect", t.ConnectStart, t.ConnectDone},
		{"TLS", t.TLSStart, t.TLSDone},
		{"request sent", ready, t.RequestSent},
		{"waiting", t.RequestSent, t.FirstByte},
		{"receiving", t.FirstByte, t.End},
	}
	var out []timingPhase
	for _, p := range all {
		if !p.start.IsZero() && !p.end.IsZero() && !p.end.Before(p.start) {
			out = append(out, p)
		}
	}
	return out
}

// timingLines draws the phases as a waterfall scaled to width; loc is
// the time zone of the start time.
func timingLines(t flow.Timings, width int, loc *time.Location) []Line {
	total := t.Duration()
	if t.Start.IsZero() {
		return []Line{styled("No timings were recorded.", RoleDim)}
	}
	l := []Line{{{Text: "Started ", Role: RoleTitle}, {Text: t.Start.In(loc).Format("2006-01-02 15:04:05.000 MST")}}}
	if total <= 0 {
		l = append(l, styled("In progress: the phases so far.", RolePending))
		for _, p := range timingPhases(t) {
			total = max(total, p.end.Sub(t.Start))
		}
	} else {
		l = append(l, Line{{Text: "Total ", Role: RoleTitle}, {Text: formatDuration(total)}})
	}
	l = append(l, text(""))
	const labelW, durW = 13, 8
	barW := max(width-labelW-durW-4, 4)
	for _, p := range timingPhases(t) {
		from, to := 0, 0
		if total > 0 {
			from = int(int64(p.start.Sub(t.Start)) * int64(barW) / int64(total))
			to = int(int64(p.end.Sub(t.Start)) * int64(barW) / int64(total))
		}
		from = min(max(from, 0), barW-1)
		to = min(max(to, from+1), barW)
		bar := strings.Repeat(" ", from) + strings.Repeat("█", to-from) + strings.Repeat(" ", barW-to)
		l = append(l, Line{
			{Text: fit(p.name, labelW), Role: RoleKey},
			{Text: fitRight(formatDuration(p.end.Sub(p.start)), durW) + " │"},
			{Text: bar, Role: RoleStatus3xx},
			{Text: "│"},
		})
	}
	if len(timingPhases(t)) == 0 {
		l = append(l, styled("No phase timings (imported flow or tunnel).", RoleDim))
	}
	l = append(l, text(""), styled("DNS and connect are absent when a connection was reused.", RoleDim))
	return l
}
