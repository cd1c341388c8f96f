package ui

import (
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"
)

func TestListMixedFlows(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	opts := defaultOptions(st)
	opts.Status = Status{Listen: "127.0.0.1:8080", CAFingerprint: "AB:CD:EF:01:23:45:67:89", QueueDepth: func() int { return 0 }}
	hs := start(t, opts, 120, 16)
	got := hs.golden("list_mixed")
	for _, want := range []string{"127.0.0.1:8080", "CA ABCDEF01", "10 flows", "ERR", "pass", "HIGH"} {
		if !strings.Contains(got, want) {
			t.Errorf("screen lacks %q", want)
		}
	}
}

func TestListKeysMoveSelection(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	hs := start(t, defaultOptions(st), 100, 16)
	hs.key(tcell.KeyHome)
	hs.key(tcell.KeyDown)
	hs.key(tcell.KeyEnter)
	txt := hs.waitText("[1 Request]")
	if !strings.Contains(txt, "#2 GET https://example.org/missing/page") {
		t.Errorf("Home, Down, Enter did not open flow 2:\n%s", txt)
	}
}
