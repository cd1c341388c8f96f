package ui

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"onpath/flow"
	"onpath/store/query"
)

// activeFilter is an applied filter: the matching ids, ascending.
type activeFilter struct {
	text string
	q    *query.Query
	ids  []flow.ID
}

// filterRun is a filter being computed in the background.
type filterRun struct {
	gen         int
	text        string
	q           *query.Query
	cancel      context.CancelFunc
	done, total int
	// arrived are flows notified while the run scanned the store: the
	// scan may have passed them, so they are matched again at the end.
	arrived []flow.Summary
}

// filterMsg is a filter run's progress or result.
type filterMsg struct {
	gen         int
	done, total int
	finished    bool
	ids         []flow.ID
	err         error
}

// update adds or removes a live flow from the filter's matches. Filters
// that need the full record check it once the flow has finished and been
// recorded.
func (f *activeFilter) update(s *flow.Summary, src Source) {
	var match bool
	if !f.q.NeedsFlow() {
		match = f.q.MatchSummary(s)
	} else if !s.Pending {
		if fl, err := src.Get(s.ID); err == nil {
			match = f.q.Match(fl)
		}
	}
	i, found := slices.BinarySearch(f.ids, s.ID)
	switch {
	case match && !found:
		f.ids = slices.Insert(f.ids, i, s.ID)
	case !match && found && (!f.q.NeedsFlow() || !s.Pending):
		f.ids = slices.Delete(f.ids, i, i+1)
	}
}

// startFilter parses text and, if it is valid, runs it in the background.
// A bad query leaves the previous filter in place.
func (u *uiState) startFilter(text string) {
	q, err := query.Parse(text)
	if err != nil {
		u.setError("bad filter: %v (filter unchanged)", err)
		return
	}
	u.cancelFilter()
	if q.Empty() {
		selID, ok := u.selectedID()
		u.filter = nil
		if ok && !u.follow {
			u.reselect(selID)
		}
		u.setInfo("filter cleared")
		return
	}
	q.Decode = u.v.decode
	u.filterGen++
	ctx, cancel := context.WithCancel(u.ctx)
	run := &filterRun{gen: u.filterGen, text: text, q: q, cancel: cancel, total: u.all.Len()}
	u.filterRun = run
	go u.v.runFilter(ctx, run.gen, q)
}

// runFilter evaluates q over the store, reporting progress.
func (v *Viewer) runFilter(ctx context.Context, gen int, q *query.Query) {
	var ids []flow.ID
	lastReport := 0
	err := v.opts.Source.Query(ctx, q, func(done, total int) {
		if done-lastReport < 20000 && done != total {
			return
		}
		lastReport = done
		v.mu.Lock()
		v.inbox.filterMsgs = append(v.inbox.filterMsgs, filterMsg{gen: gen, done: done, total: total})
		v.mu.Unlock()
		v.wake()
	}, func(s flow.Summary) bool {
		ids = append(ids, s.ID)
		return true
	})
	if !slices.IsSorted(ids) {
		slices.Sort(ids)
	}
	ids = slices.Compact(ids)
	v.mu.Lock()
	v.inbox.filterMsgs = append(v.inbox.filterMsgs, filterMsg{gen: gen, finished: true, ids: ids, err: err})
	v.mu.Unlock()
	v.wake()
}

// filterMessage applies a filter run's progress or result.
func (u *uiState) filterMessage(m filterMsg) {
	run := u.filterRun
	if run == nil || run.gen != m.gen {
		return // cancelled or superseded
	}
	if !m.finished {
		run.done, run.total = m.done, m.total
		return
	}
	run.cancel()
	u.filterRun = nil
	if m.err != nil {
		if !errors.Is(m.err, context.Canceled) {
			u.v.log.Error("ui: filter", "query", run.text, "err", m.err)
			u.setError("filter failed: %v", m.err)
		}
		return
	}
	u.filter = &activeFilter{text: run.text, q: run.q, ids: m.ids}
	for i := range run.arrived {
		u.filter.update(&run.arrived[i], u.v.opts.Source)
	}
	u.follow = true
	u.sel = max(len(m.ids)-1, 0)
	u.top = 0
	u.setInfo(strconv.Itoa(len(m.ids)) + " flows match")
}

// cancelFilter stops a running filter; the previous one stays.
func (u *uiState) cancelFilter() bool {
	if u.filterRun == nil {
		return false
	}
	u.filterRun.cancel()
	u.filterRun = nil
	return true
}
