package ui

import (
	"context"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"

	"onpath/flow"
	"onpath/store/query"
)

func TestFilterAndBadFilter(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	hs := start(t, defaultOptions(st), 110, 14)
	hs.runes("/status:4xx")
	hs.key(tcell.KeyEnter)
	txt := hs.waitText("filter: status:4xx → 1")
	golden(t, "filter_status_4xx", txt)
	if strings.Contains(txt, "shop.example.com") {
		t.Errorf("a 200 flow survived status:4xx:\n%s", txt)
	}

	// A bad query: error in the status bar, previous filter kept.
	hs.runes("/")
	hs.key(tcell.KeyCtrlU)
	hs.runes("status:4yx")
	hs.key(tcell.KeyEnter)
	txt = hs.waitText("bad filter")
	golden(t, "filter_bad", txt)
	if !strings.Contains(txt, "filter: status:4xx → 1") || !strings.Contains(txt, "/missing/page") {
		t.Errorf("bad filter dropped the previous one:\n%s", txt)
	}

	// Esc clears the filter.
	hs.key(tcell.KeyEsc)
	txt = hs.waitText("filter cleared")
	if !strings.Contains(txt, "shop.example.com") {
		t.Errorf("Esc did not clear the filter:\n%s", txt)
	}
}

func TestFilterNeedingBodies(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	hs := start(t, defaultOptions(st), 110, 14)
	hs.runes("/body:needle")
	hs.key(tcell.KeyEnter)
	txt := hs.waitText("filter: body:needle → 1")
	if !strings.Contains(txt, "api.example.com") {
		t.Errorf("body: filter should find the gzip JSON flow (decoded):\n%s", txt)
	}
}

// slowSource is a Source whose Query reports half the work done and then
// waits to be cancelled, as a filter over a huge store would.
type slowSource struct {
	Source
	started chan struct{}
}

func (s *slowSource) Query(ctx context.Context, q *query.Query, progress func(done, total int), fn func(flow.Summary) bool) error {
	progress(500000, 1000000)
	close(s.started)
	<-ctx.Done()
	return ctx.Err()
}

func TestFilterProgressAndCancel(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	src := &slowSource{Source: st, started: make(chan struct{})}
	hs := start(t, defaultOptions(src), 110, 14)
	hs.runes("/host:example.org")
	hs.key(tcell.KeyEnter)
	<-src.started
	txt := hs.waitText(`filtering "host:example.org" 50% (Esc cancels)`)
	golden(t, "filter_progress", txt)
	hs.key(tcell.KeyEsc)
	txt = hs.waitText("filter cancelled")
	if strings.Contains(txt, "filtering") || strings.Contains(txt, "filter:") {
		t.Errorf("cancelled filter still shown:\n%s", txt)
	}
	if !strings.Contains(txt, "10 flows") {
		t.Errorf("list changed after a cancelled filter:\n%s", txt)
	}
}

// Flows that arrive while a filter scans the store are matched against
// it when it finishes.
func TestFlowsArrivingDuringFilter(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	src := &gatedSource{Source: st, scanned: make(chan struct{}), release: make(chan struct{})}
	hs := start(t, defaultOptions(src), 110, 16)
	hs.runes("/host:example.org")
	hs.key(tcell.KeyEnter)
	<-src.scanned
	hs.v.Notify(flow.Summary{ID: 11, Method: "GET", URL: "https://example.org/arrived-late", Status: 200})
	hs.v.Notify(flow.Summary{ID: 12, Method: "GET", URL: "https://other.example/not-matching", Status: 200})
	hs.waitText("12 flows")
	close(src.release)
	txt := hs.waitText("filter: host:example.org → 4")
	if !strings.Contains(txt, "/arrived-late") || strings.Contains(txt, "not-matching") {
		t.Errorf("late flows not matched against the new filter:\n%s", txt)
	}
}

// gatedSource runs the real query, then holds its result until released.
type gatedSource struct {
	Source
	scanned, release chan struct{}
}

func (s *gatedSource) Query(ctx context.Context, q *query.Query, progress func(done, total int), fn func(flow.Summary) bool) error {
	err := s.Source.Query(ctx, q, progress, fn)
	close(s.scanned)
	<-s.release
	return err
}
