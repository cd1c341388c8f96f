package ui

import (
	"strings"
	"unicode/utf8"

	"onpath/flow"
)

// cookieEntry is one cookie of a flow as the Cookies tab shows it; it is
// filled from the audit package (auditview.go) so the rendering here is
// pure and table-tested.
type cookieEntry struct {
	// Sent is true for a pair from a Cookie request header, false for a
	// Set-Cookie line of the response.
	Sent        bool
	Name, Value string
	Domain      string // "" means host-only
	Path        string
	Lifetime    string // "session", "Max-Age=3600", "Expires 2026-…", "delete"
	Secure      bool
	HttpOnly    bool
	Partitioned bool
	SameSite    string // "Strict", "Lax", "None", or "" when absent/unknown
	SameSiteRaw string // as written, when unknown
	Prefix      string // "__Secure-", "__Host-" or ""
	Session     string // "high", "medium" or "" (not a session cookie)
	Ignored     string // why a browser drops it, if it does
	Findings    []flow.Finding
}

// badge is one flag of a cookie row.
type badge struct {
	Text string
	Role Role
}

// Which audit rules concern which badge (RULES.md).
var badgeRules = map[string][]string{
	"Secure":      {"CK01", "CK02", "CK03", "XF01"},
	"HttpOnly":    {"CK04"},
	"SameSite":    {"CK05", "CK06", "CK07"},
	"prefix":      {"CK08"},
	"Partitioned": {"CK10"},
}

// worstFor is the highest severity of the findings with one of rules.
func worstFor(findings []flow.Finding, rules []string) flow.Severity {
	worst := flow.SeverityNone
	for _, f := range findings {
		for _, r := range rules {
			if f.Rule == r {
				worst = max(worst, f.Severity)
			}
		}
	}
	return worst
}

// problemRole: medium and high findings are red, low and info amber.
func problemRole(s flow.Severity) Role {
	if s >= flow.SeverityMedium {
		return RoleBad
	}
	return RoleWarn
}

// cookieBadges computes the badges of a Set-Cookie row: green when the
// flag is set and no finding objects, red or amber (with a "!" for
// monochrome terminals) when a finding concerns it, dim when absent and
// harmless.
func cookieBadges(c *cookieEntry) []badge {
	mk := func(kind, label string, set bool) badge {
		sv := worstFor(c.Findings, badgeRules[kind])
		switch {
		case sv > flow.SeverityNone:
			return badge{"!" + label, problemRole(sv)}
		case set:
			return badge{label, RoleGood}
		}
		return badge{"-" + label, RoleDim}
	}
	same := "SameSite"
	switch {
	case c.SameSite != "":
		same += "=" + c.SameSite
	case c.SameSiteRaw != "":
		same += "=" + c.SameSiteRaw + "?"
	default:
		same += " absent"
	}
	out := []badge{
		mk("Secure", "Secure", c.Secure),
		mk("HttpOnly", "HttpOnly", c.HttpOnly),
		mk("SameSite", same, c.SameSite != ""),
	}
	if c.Prefix != "" || worstFor(c.Findings, badgeRules["prefix"]) > 0 {
		out = append(out, mk("prefix", orDash(c.Prefix), c.Prefix != ""))
	}
	if c.Partitioned || worstFor(c.Findings, badgeRules["Partitioned"]) > 0 {
		out = append(out, mk("Partitioned", "Partitioned", c.Partitioned))
	}
	return out
}

// cookieLines renders the Cookies tab for a pane width.
func cookieLines(entries []cookieEntry, width int) []Line {
	if len(entries) == 0 {
		return []Line{styled("No cookies in this flow.", RoleDim)}
	}
	const nameW, valueW, domainW, pathW, lifeW = 18, 16, 18, 10, 22
	hdr := fit("", 5) + fit("NAME", nameW) + " " + fit("VALUE", valueW) + " " + fit("DOMAIN", domainW) + " " + fit("PATH", pathW) + " " + fit("EXPIRES/MAX-AGE", lifeW)
	lines := []Line{styled(hdr, RoleHeader)}
	for i := range entries {
		c := &entries[i]
		dir := "set  "
		if c.Sent {
			dir = "sent "
		}
		nameRole := RoleNormal
		if c.Session != "" {
			nameRole = RoleSecret
		}
		domain := c.Domain
		switch {
		case c.Sent:
			domain = ""
		case domain == "":
			domain = "(host-only)"
		default:
			domain = "." + domain
		}
		row := Line{
			{Text: dir, Role: RoleDim},
			{Text: fit(printable(c.Name), nameW), Role: nameRole}, {Text: " "},
			{Text: fit(shortenMiddle(printable(c.Value), valueW), valueW), Role: RoleDim}, {Text: " "},
			{Text: fit(printable(domain), domainW)}, {Text: " "},
			{Text: fit(printable(c.Path), pathW)}, {Text: " "},
			{Text: fit(c.Lifetime, lifeW)},
		}
		lines = append(lines, row)
		var flags Line
		flags = append(flags, Span{Text: "    "})
		if !c.Sent {
			for _, b := range cookieBadges(c) {
				flags = append(flags, Span{Text: "[" + b.Text + "]", Role: b.Role}, Span{Text: " "})
			}
		}
		if c.Session != "" {
			flags = append(flags, Span{Text: "session cookie (" + c.Session + " confidence)", Role: RoleSecret})
		}
		if len(flags) > 1 {
			lines = append(lines, flags)
		}
		if c.Ignored != "" {
			lines = append(lines, Line{{Text: "    "}, {Text: "browser drops it: " + printable(c.Ignored), Role: RoleBad}})
		}
		for _, f := range c.Findings {
			lines = append(lines, findingLines(f, false, width)...)
		}
		lines = append(lines, text(""))
	}
	return lines
}

// findingLines is one finding, wrapped to width: severity, rule, message,
// what it concerns (when the place it is shown does not say), then the fix.
func findingLines(f flow.Finding, withEvidence bool, width int) []Line {
	sev, role := severityCell(f.Severity)
	if role == RoleNormal {
		role = RoleDim
	}
	const indent = "    "
	prefix := indent + fit(strings.ToUpper(sev), 4) + " " + f.Rule + " "
	msg := printable(f.Message)
	if withEvidence && f.Evidence != "" {
		msg += " (" + printable(f.Evidence) + ")"
	}
	textW := max(width-utf8.RuneCountInString(prefix), 20)
	var out []Line
	for i, chunk := range wrapRunes(msg, textW) {
		if i == 0 {
			out = append(out, Line{{Text: indent}, {Text: fit(strings.ToUpper(sev), 4), Role: role}, {Text: " " + f.Rule + " ", Role: RoleDim}, {Text: chunk}})
			continue
		}
		out = append(out, Line{{Text: strings.Repeat(" ", utf8.RuneCountInString(prefix))}, {Text: chunk}})
	}
	if f.Fix != "" {
		pad := strings.Repeat(" ", utf8.RuneCountInString(prefix))
		for _, chunk := range wrapRunes("fix: "+printable(f.Fix), textW) {
			out = append(out, Line{{Text: pad}, {Text: chunk, Role: RoleDim}})
		}
	}
	return out
}
