package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"onpath/audit"
	"onpath/flow"
)

// auditFinding is one finding in `onpath audit --json`.
type auditFinding struct {
	Rule     string        `json:"rule"`
	Severity flow.Severity `json:"severity"`
	Message  string        `json:"message"`
	Evidence string        `json:"evidence"`
	Fix      string        `json:"fix"`
	ID       flow.ID       `json:"id"`
	URL      string        `json:"url"`
}

// auditCookie is one cookie of a host, like a browser's cookie panel.
type auditCookie struct {
	Name     string    `json:"name"`
	Domain   string    `json:"domain"`
	Path     string    `json:"path"`
	Secure   bool      `json:"secure"`
	HttpOnly bool      `json:"http_only"`
	SameSite string    `json:"same_site"`
	Expires  string    `json:"expires"`
	Session  string    `json:"session"`
	SetBy    []flow.ID `json:"set_by"`
	SentBy   []flow.ID `json:"sent_by"`
}

type auditHost struct {
	Host     string         `json:"host"`
	Grade    string         `json:"grade"`
	Flows    int            `json:"flows"`
	Counts   map[string]int `json:"counts"`
	Cookies  []*auditCookie `json:"cookies"`
	Findings []auditFinding `json:"findings"`
}

type auditReport struct {
	Flows  int            `json:"flows"`
	Counts map[string]int `json:"counts"`
	Hosts  []*auditHost   `json:"hosts"`
}

func runAudit(ctx context.Context, e *env, args []string) error {
	fs := e.newCommand("audit")
	asJSON := fs.Bool("json", false, "the report as one JSON document (fields in the README)")
	recompute := fs.Bool("recompute", false, "run the rules again on the recorded flows first (after a rules change)")
	rest, s, err := fs.open(e, args)
	if err != nil {
		return err
	}
	defer s.close()
	q := strings.Join(rest, " ")
	if *recompute {
		n, err := s.Recompute(ctx, q)
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(e.Err, "Audited %d flows again.\n", n)
	}
	now := time.Now()
	b := newReportBuilder()
	if err := s.Flows(ctx, q, func(f *flow.Flow) error { b.add(f, now); return nil }); err != nil {
		return cliError(err)
	}
	rep := b.report()
	if *asJSON {
		enc := json.NewEncoder(e.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	out := bufio.NewWriter(e.Out)
	defer out.Flush()
	writeAuditReport(out, rep)
	return nil
}

type reportBuilder struct {
	hosts   map[string]*auditHost
	cookies map[string]map[string]*auditCookie // host → name|domain|path → cookie
	total   int
}

func newReportBuilder() *reportBuilder {
	return &reportBuilder{hosts: map[string]*auditHost{}, cookies: map[string]map[string]*auditCookie{}}
}

func (b *reportBuilder) add(f *flow.Flow, now time.Time) {
	b.total++
	u, err := url.Parse(f.Request.URL)
	if err != nil {
		return
	}
	host := u.Hostname()
	h := b.hosts[host]
	if h == nil {
		h = &auditHost{Host: host, Counts: map[string]int{}}
		b.hosts[host] = h
		b.cookies[host] = map[string]*auditCookie{}
	}
	h.Flows++
	for _, fd := range f.Findings {
		h.Findings = append(h.Findings, auditFinding{fd.Rule, fd.Severity, fd.Message, fd.Evidence, fd.Fix, f.ID, f.Request.URL})
		h.Counts[fd.Severity.String()]++
	}
	cookies := b.cookies[host]
	if f.Response != nil {
		for _, line := range f.Response.Header["Set-Cookie"] {
			c, err := audit.ParseSetCookie(line, u, now)
			if err != nil {
				continue
			}
			domain := c.Domain
			if domain == "" {
				domain = host
			}
			key := c.Name + "|" + domain + "|" + c.Path
			ac := cookies[key]
			if ac == nil {
				ac = &auditCookie{Name: c.Name, Domain: domain, Path: c.Path}
				cookies[key] = ac
			}
			ac.Secure, ac.HttpOnly, ac.SameSite = c.Secure, c.HttpOnly, c.SameSite
			if ac.SameSite == "" {
				ac.SameSite = "absent"
			}
			ac.Session = string(c.Session)
			switch exp := c.ExpiresAt(now); {
			case c.Deletion:
				ac.Expires = "deleted"
			case exp.IsZero():
				ac.Expires = "session"
			default:
				ac.Expires = exp.UTC().Format(time.RFC3339)
			}
			ac.SetBy = appendOnce(ac.SetBy, f.ID)
		}
	}
	for _, v := range f.Request.Header["Cookie"] {
		for _, rc := range audit.ParseCookieHeader(v) {
			found := false
			for _, ac := range cookies {
				if ac.Name == rc.Name {
					ac.SentBy = appendOnce(ac.SentBy, f.ID)
					found = true
				}
			}
			if !found {
				// Sent but never seen being set: still worth listing.
				key := rc.Name + "|" + host + "|?"
				cookies[key] = &auditCookie{Name: rc.Name, Domain: host, Path: "?", SameSite: "?", Expires: "?",
					Session: string(rc.Session), SentBy: []flow.ID{f.ID}}
			}
		}
	}
}

func appendOnce(ids []flow.ID, id flow.ID) []flow.ID {
	if len(ids) > 0 && ids[len(ids)-1] == id {
		return ids
	}
	return append(ids, id)
}

func (b *reportBuilder) report() auditReport {
	rep := auditReport{Flows: b.total, Counts: map[string]int{}}
	for host, h := range b.hosts {
		for _, c := range b.cookies[host] {
			h.Cookies = append(h.Cookies, c)
		}
		slices.SortFunc(h.Cookies, func(a, c *auditCookie) int {
			return cmp.Or(cmp.Compare(a.Name, c.Name), cmp.Compare(a.Domain, c.Domain), cmp.Compare(a.Path, c.Path))
		})
		slices.SortStableFunc(h.Findings, func(a, c auditFinding) int {
			return cmp.Or(-cmp.Compare(a.Severity, c.Severity), cmp.Compare(a.Rule, c.Rule), cmp.Compare(a.ID, c.ID))
		})
		if h.Findings == nil {
			h.Findings = []auditFinding{}
		}
		if h.Cookies == nil {
			h.Cookies = []*auditCookie{}
		}
		h.Grade = grade(h.Counts)
		for k, v := range h.Counts {
			rep.Counts[k] += v
		}
		rep.Hosts = append(rep.Hosts, h)
	}
	slices.SortFunc(rep.Hosts, func(a, c *auditHost) int { return cmp.Compare(a.Host, c.Host) })
	if rep.Hosts == nil {
		rep.Hosts = []*auditHost{}
	}
	return rep
}

// grade summarises a host in one letter: A clean (info at most), B low
// findings only, C medium, F high.
func grade(counts map[string]int) string {
	switch {
	case counts["high"] > 0:
		return "F"
	case counts["medium"] > 0:
		return "C"
	case counts["low"] > 0:
		return "B"
	}
	return "A"
}

func writeAuditReport(w io.Writer, rep auditReport) {
	if rep.Flows == 0 {
		fmt.Fprintln(w, "No flows to audit.")
		return
	}
	for _, h := range rep.Hosts {
		fmt.Fprintf(w, "%s  grade %s: %d flows, %s\n", h.Host, h.Grade, h.Flows, countsLine(h.Counts))
		if len(h.Cookies) > 0 {
			fmt.Fprintln(w, "\n  Cookies")
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "  NAME\tDOMAIN\tPATH\tSECURE\tHTTPONLY\tSAMESITE\tEXPIRES\tSESSION?\tSET BY\tSENT BY\t")
			for _, c := range h.Cookies {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", c.Name, c.Domain, c.Path, yesNo(c.Secure), yesNo(c.HttpOnly),
					c.SameSite, c.Expires, orDash(c.Session), idList(c.SetBy), idList(c.SentBy))
			}
			tw.Flush()
		}
		if len(h.Findings) > 0 {
			fmt.Fprintln(w, "\n  Findings")
			for _, fd := range h.Findings {
				fmt.Fprintf(w, "  %-6s %s  flow %d  %s\n", fd.Severity, fd.Rule, fd.ID, fd.Message)
				if fd.Evidence != "" {
					fmt.Fprintf(w, "                 evidence: %s\n", fd.Evidence)
				}
				if fd.Fix != "" {
					fmt.Fprintf(w, "                 fix: %s\n", fd.Fix)
				}
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%d flows, %d hosts: %s\n", rep.Flows, len(rep.Hosts), countsLine(rep.Counts))
}

func countsLine(counts map[string]int) string {
	var parts []string
	for _, sev := range []string{"high", "medium", "low", "info"} {
		if counts[sev] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[sev], sev))
		}
	}
	if len(parts) == 0 {
		return "no findings"
	}
	return strings.Join(parts, ", ")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func idList(ids []flow.ID) string {
	if len(ids) == 0 {
		return "-"
	}
	var parts []string
	for i, id := range ids {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("+%d", len(ids)-5))
			break
		}
		parts = append(parts, fmt.Sprint(id))
	}
	return strings.Join(parts, ",")
}
