package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"onpath/audit"
	"onpath/flow"
)

// writeCookies prints the flow's cookies like a browser's cookie panel,
// each followed by the findings about it.
func writeCookies(w io.Writer, f *flow.Flow, now time.Time) {
	rows := audit.Cookies(f, f.Findings, now)
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w, "\nCookies")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  \tNAME\tVALUE\tDOMAIN\tPATH\tEXPIRES\tFLAGS\tSESSION?\t")
	for _, row := range rows {
		session := orDash(string(row.Session()))
		if row.Sent {
			fmt.Fprintf(tw, "  sent\t%s\t%s\t\t\t\t\t%s\t\n", row.Name, shorten(row.Request.Value, 24), session)
		} else {
			c := row.Set
			domain := c.Domain
			if c.HostOnly || domain == "" {
				domain = "(host only)"
			}
			fmt.Fprintf(tw, "  set\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", c.Name, shorten(c.Value, 24), domain, c.Path,
				cookieExpiry(c, now), cookieFlags(c), session)
		}
		for _, fd := range row.Findings {
			fmt.Fprintf(tw, "  \t  %s %s: %s\t\t\t\t\t\t\t\n", fd.Severity, fd.Rule, fd.Message)
		}
	}
	tw.Flush()
}

func cookieExpiry(c *audit.SetCookie, now time.Time) string {
	switch {
	case c.Deletion:
		return "deletes"
	case c.MaxAge != nil:
		return fmt.Sprintf("Max-Age=%d", *c.MaxAge)
	case !c.Expires.IsZero():
		return c.Expires.UTC().Format("2006-01-02 15:04")
	}
	return "session"
}

// cookieFlags lists the flags a cookie has, and the missing ones that
// matter, marked with "no-".
func cookieFlags(c *audit.SetCookie) string {
	var flags []string
	flag := func(set bool, name string) {
		if set {
			flags = append(flags, name)
		} else {
			flags = append(flags, "no-"+name)
		}
	}
	flag(c.Secure, "Secure")
	flag(c.HttpOnly, "HttpOnly")
	switch {
	case c.SameSite != "":
		flags = append(flags, "SameSite="+c.SameSite)
	case c.SameSiteRaw != "":
		flags = append(flags, fmt.Sprintf("SameSite=%q(invalid)", c.SameSiteRaw))
	default:
		flags = append(flags, "no-SameSite")
	}
	if c.Prefix != "" {
		flags = append(flags, c.Prefix)
	}
	if c.Partitioned {
		flags = append(flags, "Partitioned")
	}
	if c.Ignored != "" {
		flags = append(flags, "REJECTED("+c.Ignored+")")
	}
	return strings.Join(flags, " ")
}

// shorten keeps the start and end of long values.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	half := (n - 1) / 2
	return string(r[:half]) + "…" + string(r[len(r)-(n-1-half):])
}

// writeExposure prints what an attacker on each leg reads, what TLS hides,
// and what an active attacker could do.
func writeExposure(w io.Writer, f *flow.Flow) {
	view := audit.Exposure(f)
	if len(view.Legs) == 0 {
		return
	}
	fmt.Fprintln(w, "\nOn the path")
	for _, leg := range view.Legs {
		how := "plain text: everything is readable"
		if leg.Encrypted {
			how = "encrypted"
			if leg.TLSVersion != "" {
				how += " (" + leg.TLSVersion + ")"
			}
		}
		fmt.Fprintf(w, "  %s: %s\n", leg.Name, how)
		writeItems(w, "    a passive attacker reads:", leg.Visible)
		writeItems(w, "    TLS hides:", leg.Hidden)
		for _, n := range leg.Notes {
			fmt.Fprintf(w, "    note: %s\n", n)
		}
	}
	if len(view.Active) > 0 {
		fmt.Fprintln(w, "  an active attacker could also:")
		for _, a := range view.Active {
			fmt.Fprintf(w, "    - %s\n", a)
		}
	}
}

func writeItems(w io.Writer, title string, items []audit.Item) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintln(w, title)
	for _, it := range items {
		mark := " "
		if it.Sensitive {
			mark = "!"
		}
		line := fmt.Sprintf("     %s %s", mark, it.Label)
		if it.Value != "" {
			line += ": " + shorten(strings.ReplaceAll(it.Value, "\n", " "), 100)
		}
		if it.Sensitive && it.Why != "" {
			line += "   (" + it.Why + ")"
		}
		fmt.Fprintln(w, line)
	}
}
