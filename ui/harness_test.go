package ui

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/uniseg"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// harness runs a Viewer on a simulation screen.
type harness struct {
	t      *testing.T
	screen tcell.SimulationScreen
	v      *Viewer
	done   chan error
	cancel context.CancelFunc
}

func defaultOptions(src Source) Options {
	return Options{Source: src, Now: fixedNow, Location: time.UTC}
}

// start runs a viewer with opts on a w×h simulation screen and waits for
// its first frame.
func start(t *testing.T, opts Options, w, h int, configure ...func(*Viewer)) *harness {
	t.Helper()
	hs := &harness{t: t, screen: tcell.NewSimulationScreen("UTF-8"), v: New(opts), done: make(chan error, 1)}
	for _, c := range configure {
		c(hs.v)
	}
	ready := make(chan struct{})
	hs.v.started = func(s tcell.Screen) {
		s.SetSize(w, h)
		close(ready)
	}
	ctx, cancel := context.WithCancel(context.Background())
	hs.cancel = cancel
	go func() { hs.done <- hs.v.Run(ctx, hs.screen) }()
	select {
	case <-ready:
	case err := <-hs.done:
		t.Fatalf("Run returned before starting: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("viewer did not start")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-hs.done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	hs.sync()
	return hs
}

// sync waits until the viewer has handled every event injected so far
// and drawn the result.
func (hs *harness) sync() { hs.syncDo(nil) }

// syncDo is sync, running fn on the viewer's goroutine after the draw.
func (hs *harness) syncDo(fn func()) {
	hs.t.Helper()
	ch := syncTag{fn: fn, done: make(chan struct{})}
	deadline := time.Now().Add(10 * time.Second)
	for hs.screen.PostEvent(tcell.NewEventInterrupt(ch)) != nil {
		if time.Now().After(deadline) {
			hs.t.Fatal("event queue stayed full")
		}
		time.Sleep(time.Millisecond) // the queue is full: let the loop drain it
	}
	select {
	case <-ch.done:
	case <-time.After(10 * time.Second):
		hs.t.Fatal("viewer did not process the sync event")
	}
}

// key injects a special key; runes injects typed text.
func (hs *harness) key(k tcell.Key) {
	hs.screen.InjectKey(k, 0, tcell.ModNone)
}

func (hs *harness) runes(s string) {
	for _, r := range s {
		hs.screen.InjectKey(tcell.KeyRune, r, tcell.ModNone)
	}
}

// text is the screen as lines with trailing blanks removed.
func (hs *harness) text() string {
	var (
		cells []tcell.SimCell
		w, h  int
	)
	hs.syncDo(func() { cells, w, h = snapshot(hs.screen) })
	var b strings.Builder
	for y := range h {
		var line strings.Builder
		for x := 0; x < w; x++ {
			c := cells[y*w+x]
			if len(c.Runes) == 0 {
				line.WriteByte(' ')
				continue
			}
			line.WriteString(string(c.Runes))
			if uniseg.StringWidth(string(c.Runes)) == 2 {
				x++ // the glyph covers the next cell too
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

// waitFor polls the screen until cond holds.
func (hs *harness) waitFor(what string, cond func(string) bool) string {
	hs.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		txt := hs.text()
		if cond(txt) {
			return txt
		}
		if time.Now().After(deadline) {
			hs.t.Fatalf("timed out waiting for %s; screen:\n%s", what, txt)
		}
		time.Sleep(2 * time.Millisecond) // polling interval, not synchronisation
	}
}

func (hs *harness) waitText(sub string) string {
	hs.t.Helper()
	return hs.waitFor(sub, func(s string) bool { return strings.Contains(s, sub) })
}

// golden compares the screen with testdata/name.golden.
func (hs *harness) golden(name string) string {
	hs.t.Helper()
	return golden(hs.t, name, hs.text())
}

func golden(t *testing.T, name, got string) string {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return got
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ui -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("screen differs from %s\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
	return got
}

// roleOf is the style of the last cell where sub starts on screen.
func (hs *harness) roleOf(sub string) tcell.Style {
	hs.t.Helper()
	var (
		cells []tcell.SimCell
		w, h  int
	)
	hs.syncDo(func() { cells, w, h = snapshot(hs.screen) })
	var found tcell.Style
	ok := false
	for y := range h {
		var line []rune
		for x := range w {
			r := ' '
			if c := cells[y*w+x]; len(c.Runes) > 0 {
				r = c.Runes[0]
			}
			line = append(line, r)
		}
		if i := strings.Index(string(line), sub); i >= 0 {
			x := len([]rune(string(line)[:i]))
			found, ok = cells[y*w+x].Style, true
		}
	}
	if !ok {
		hs.t.Fatalf("%q not on screen", sub)
	}
	return found
}

// snapshot copies the screen's cells; call it on the viewer's goroutine.
func snapshot(s tcell.SimulationScreen) ([]tcell.SimCell, int, int) {
	cells, w, h := s.GetContents()
	out := make([]tcell.SimCell, len(cells))
	for i, c := range cells {
		out[i] = tcell.SimCell{Style: c.Style, Runes: append([]rune(nil), c.Runes...)}
	}
	return out, w, h
}
