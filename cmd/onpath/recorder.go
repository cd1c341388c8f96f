package main

import (
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/term"

	"onpath/audit"
	"onpath/flow"
	"onpath/store"
)

// recorder takes each flow from the proxy: audits it, queues it for the
// store, and shows it (a line on stdout, or the viewer).
type recorder struct {
	store   *store.Store
	checker *audit.Checker
	// lines, when set, gets one line per finished flow.
	lines  io.Writer
	linesM sync.Mutex
	// notify, when set, tells the viewer about a started or finished flow; it never blocks.
	notify func(flow.Summary)
}

func (r *recorder) started(f *flow.Flow) {
	if r.notify != nil {
		r.notify(f.Summarize())
	}
}

func (r *recorder) finished(f *flow.Flow) {
	f.Findings = r.checker.Check(f)
	sum := f.Summarize()
	// Put blocks while the writer's queue is full: under overload the
	// recorder slows traffic rather than drop a flow.
	if err := r.store.Put(f); err != nil {
		// Only after Close, at shutdown; the proxy has finished by then.
		return
	}
	if r.lines != nil {
		r.linesM.Lock()
		fmt.Fprintln(r.lines, flowLine(sum))
		r.linesM.Unlock()
	}
	if r.notify != nil {
		r.notify(sum)
	}
}

// flowLine is the one-line form of a finished flow: time, status, method,
// URL, response size, duration and, if it failed, the error phase.
func flowLine(s flow.Summary) string {
	status := "---"
	if s.Status != 0 {
		status = fmt.Sprint(s.Status)
	}
	method := s.Method
	if s.Kind == flow.KindTunnel {
		method = "TUNNEL"
	}
	line := fmt.Sprintf("%s %s %s %s %s %s", s.Start.Local().Format("15:04:05.000"), status, method, s.URL,
		formatSize(s.ResponseSize), formatDuration(s.Duration))
	if s.ErrorPhase != "" {
		line += " error:" + string(s.ErrorPhase)
	}
	if s.Worst >= flow.SeverityLow {
		line += " finding:" + s.Worst.String()
	}
	return line
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
