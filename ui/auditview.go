package ui

import (
	"strconv"
	"strings"
	"time"

	"onpath/audit"
	"onpath/flow"
)

// findingsOf are the flow's recorded findings, or, for a flow recorded
// without them, the findings audit computes from the flow alone.
func findingsOf(f *flow.Flow, now time.Time) []flow.Finding {
	if len(f.Findings) > 0 {
		return f.Findings
	}
	return audit.Findings(f, now)
}

// cookiesOf turns audit's cookie table into the Cookies tab's model.
func cookiesOf(f *flow.Flow, now time.Time) []cookieEntry {
	rows := audit.Cookies(f, findingsOf(f, now), now)
	out := make([]cookieEntry, 0, len(rows))
	for _, r := range rows {
		e := cookieEntry{Sent: r.Sent, Name: r.Name, Session: string(r.Session()), Findings: r.Findings}
		if r.Request != nil {
			e.Value = r.Request.Value
		}
		if c := r.Set; c != nil {
			e.Value = c.Value
			e.Domain = c.Domain
			e.Path = c.Path
			e.Secure, e.HttpOnly, e.Partitioned = c.Secure, c.HttpOnly, c.Partitioned
			e.SameSite = c.SameSite
			if c.SameSite == "" {
				e.SameSiteRaw = c.SameSiteRaw
			}
			e.Prefix = c.Prefix
			e.Ignored = c.Ignored
			e.Lifetime = lifetime(c)
		}
		out = append(out, e)
	}
	return out
}

// lifetime describes when a set cookie expires.
func lifetime(c *audit.SetCookie) string {
	switch {
	case c.Deletion:
		return "delete"
	case c.MaxAge != nil:
		return "Max-Age=" + strconv.FormatInt(*c.MaxAge, 10)
	case !c.Expires.IsZero():
		return "Expires " + c.Expires.UTC().Format("2006-01-02 15:04")
	}
	return "session"
}

// exposureOf turns audit's on-path view into the On the path tab's model.
func exposureOf(f *flow.Flow, now time.Time) exposure {
	view := audit.Exposure(f)
	e := exposure{Active: view.Active}
	for _, fd := range findingsOf(f, now) {
		if !strings.HasPrefix(fd.Rule, "CK") {
			e.Findings = append(e.Findings, fd)
		}
	}
	items := func(in []audit.Item) []exposureItem {
		out := make([]exposureItem, len(in))
		for i, it := range in {
			out[i] = exposureItem{Label: it.Label, Value: it.Value, Sensitive: it.Sensitive, Why: it.Why}
		}
		return out
	}
	for _, leg := range view.Legs {
		e.Legs = append(e.Legs, exposureLeg{Name: leg.Name, Encrypted: leg.Encrypted, TLSVersion: leg.TLSVersion,
			Visible: items(leg.Visible), Hidden: items(leg.Hidden), Notes: leg.Notes})
	}
	return e
}
