package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"onpath/flow"
)

// flowRow is one line of `onpath flows --json`. The field names are a
// stable interface, documented in the README.
type flowRow struct {
	ID           flow.ID   `json:"id"`
	Time         time.Time `json:"time"`
	Kind         flow.Kind `json:"kind"`
	Method       string    `json:"method"`
	URL          string    `json:"url"`
	Scheme       string    `json:"scheme"`
	Host         string    `json:"host"`
	Status       int       `json:"status"`
	RequestSize  int64     `json:"request_size"`
	ResponseSize int64     `json:"response_size"`
	DurationMS   float64   `json:"duration_ms"`
	Error        *string   `json:"error"`
	Severity     *string   `json:"severity"`
	ReplayOf     *flow.ID  `json:"replay_of"`
	Imported     bool      `json:"imported"`
	Pending      bool      `json:"pending"`
}

func newFlowRow(s flow.Summary) flowRow {
	r := flowRow{
		ID: s.ID, Time: s.Start, Kind: s.Kind, Method: s.Method, URL: s.URL, Status: s.Status,
		RequestSize: s.RequestSize, ResponseSize: s.ResponseSize,
		DurationMS: float64(s.Duration.Microseconds()) / 1000, Imported: s.Imported, Pending: s.Pending,
	}
	if u, err := url.Parse(s.URL); err == nil {
		r.Scheme, r.Host = u.Scheme, u.Hostname()
	}
	if s.ErrorPhase != "" {
		phase := string(s.ErrorPhase)
		r.Error = &phase
	}
	if s.Worst != flow.SeverityNone {
		sev := s.Worst.String()
		r.Severity = &sev
	}
	if s.ReplayOf != 0 {
		id := s.ReplayOf
		r.ReplayOf = &id
	}
	return r
}

func runFlows(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "clear" {
		return runFlowsClear(ctx, e, args[1:])
	}
	fs := e.newCommand("flows")
	asJSON := fs.Bool("json", false, "JSON Lines, one object per flow (fields in the README)")
	rest, s, err := fs.open(e, args)
	if err != nil {
		return err
	}
	defer s.close()
	out := bufio.NewWriter(e.Out)
	defer out.Flush()
	q := strings.Join(rest, " ")
	if *asJSON {
		enc := json.NewEncoder(out)
		return cliError(s.Summaries(ctx, q, func(sum flow.Summary) error { return enc.Encode(newFlowRow(sum)) }))
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tSTATUS\tMETHOD\tURL\tSIZE\tDURATION\tFINDING\t")
	n := 0
	err = s.Summaries(ctx, q, func(sum flow.Summary) error {
		n++
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", sum.ID, sum.Start.Local().Format("15:04:05"),
			statusWord(sum), methodWord(sum), sum.URL, formatSize(sum.ResponseSize), formatDuration(sum.Duration), severityWord(sum.Worst))
		return nil
	})
	tw.Flush()
	if err != nil {
		return cliError(err)
	}
	if n == 0 {
		if q != "" {
			fmt.Fprintf(e.Err, "No flow matches %q.\n", q)
		} else {
			fmt.Fprintln(e.Err, "No flows recorded yet: send traffic through the proxy.")
		}
	}
	return nil
}

func runFlowsClear(ctx context.Context, e *env, args []string) error {
	fs := e.newCommand("flows clear")
	rest, s, err := fs.open(e, args)
	if err != nil {
		return err
	}
	defer s.close()
	n, err := s.Clear(ctx, strings.Join(rest, " "))
	if err != nil {
		return cliError(err)
	}
	fmt.Fprintf(e.Out, "Deleted %d flows. The file keeps its size until 'onpath store compact' (with the proxy stopped).\n", n)
	return nil
}

func statusWord(s flow.Summary) string {
	switch {
	case s.Pending:
		return "…"
	case s.ErrorPhase != "" && s.Status == 0:
		return string(s.ErrorPhase)
	case s.Kind == flow.KindTunnel:
		return "tunnel"
	case s.Status == 0:
		return "-"
	}
	return fmt.Sprint(s.Status)
}

func methodWord(s flow.Summary) string {
	if s.Kind == flow.KindTunnel {
		return "CONNECT"
	}
	return s.Method
}

func severityWord(s flow.Severity) string {
	if s == flow.SeverityNone {
		return "-"
	}
	return s.String()
}
