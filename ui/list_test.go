package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"onpath/flow"
	"onpath/store"
)

func TestNotifyWhileListOpen(t *testing.T) {
	fs := mixedFlows(t)[:3]
	st := openStore(t, fs)
	opts := defaultOptions(st)
	opts.Live = true
	hs := start(t, opts, 100, 12)
	start := testNow.Add(-30 * time.Minute)
	pending := flow.Summary{ID: 4, Kind: flow.KindHTTP, Start: start, Method: "POST", URL: "https://api.example.com/upload", Pending: true}
	hs.v.Notify(pending)
	txt := hs.waitText("/upload")
	if !strings.Contains(txt, "POST    ...") {
		t.Errorf("pending flow not shown as pending:\n%s", txt)
	}
	done := pending
	done.Pending, done.Status, done.Duration, done.ResponseSize = false, 201, 250*time.Millisecond, 2048
	hs.v.Notify(done)
	txt = hs.waitText("201")
	golden(t, "live_notify", txt)
	if !strings.Contains(txt, "4 flows") {
		t.Errorf("flow count not updated:\n%s", txt)
	}
}

// Flows arriving from many goroutines while keys are pressed: none lost,
// the list follows the bottom, and Notify never blocks.
func TestNotifyConcurrentNoLostWakeups(t *testing.T) {
	st := openStore(t, nil)
	opts := defaultOptions(st)
	opts.Live = true
	hs := start(t, opts, 100, 12)
	const writers, each = 8, 250
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := flow.ID(w*each + i + 1)
				s := flow.Summary{ID: id, Kind: flow.KindHTTP, Method: "GET", URL: fmt.Sprintf("https://h%d.example/p%d", w, i), Pending: true}
				hs.v.Notify(s)
				s.Pending, s.Status = false, 200
				hs.v.Notify(s)
			}
		}()
	}
	for range 20 {
		hs.key(tcell.KeyUp)
		hs.key(tcell.KeyDown)
	}
	wg.Wait()
	hs.key(tcell.KeyEnd)
	txt := hs.waitText(fmt.Sprintf("%s flows", groupDigits(writers*each)))
	if !strings.Contains(txt, fmt.Sprintf("%d          GET     200", writers*each)) {
		t.Errorf("the newest flow is not the last row:\n%s", txt)
	}
	if strings.Contains(txt, "...") {
		t.Errorf("a finished flow is still pending:\n%s", txt)
	}
}

func TestNotifyDoesNotBlockWithoutRun(t *testing.T) {
	v := New(Options{})
	done := make(chan struct{})
	go func() {
		for i := range 100000 {
			v.Notify(flow.Summary{ID: flow.ID(i + 1)})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Notify blocked")
	}
}

func TestQuitAsksWhileLive(t *testing.T) {
	st := openStore(t, mixedFlows(t)[:2])
	opts := defaultOptions(st)
	opts.Live = true
	hs := start(t, opts, 80, 10)
	hs.runes("q")
	hs.waitText("Quit onpath and stop the proxy? (y/n)")
	hs.runes("n")
	hs.waitFor("prompt gone", func(s string) bool { return !strings.Contains(s, "Quit onpath") })
	hs.runes("qy")
	select {
	case err := <-hs.done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		hs.done <- nil // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("q y did not quit")
	}
}

func TestRecorderErrorIsLoud(t *testing.T) {
	st := openStore(t, mixedFlows(t)[:2])
	opts := defaultOptions(st)
	opts.Live = true
	opts.Status = Status{Listen: "127.0.0.1:8080", QueueDepth: func() int { return 37 },
		RecorderError: func() error { return errors.New("write flows.db: no space left on device") }}
	hs := start(t, opts, 140, 8)
	txt := hs.golden("recorder_error")
	if !strings.Contains(txt, "RECORDER FAILED: write flows.db: no space left on device") || !strings.Contains(txt, "queue 37") {
		t.Errorf("status bar lacks the recorder state:\n%s", txt)
	}
	if hs.roleOf("RECORDER FAILED") != hs.v.ui.theme[RoleBarError] {
		t.Errorf("recorder error not drawn in the error style")
	}
}

// A flow open in the detail view while it is pending fills in when it
// finishes.
func TestOpenPendingFlowFillsIn(t *testing.T) {
	fs := mixedFlows(t)
	pending := fs[len(fs)-1] // flow 10, pending
	st := openStore(t, fs)
	opts := defaultOptions(st)
	opts.Live = true
	hs := start(t, opts, 100, 20)
	hs.key(tcell.KeyEnter)
	hs.waitText("(in progress)")
	hs.runes("2")
	hs.waitText("Waiting for the response")

	finished := *pending
	finished.Timings.End = finished.Timings.Start.Add(time.Second)
	finished.Response = &flow.Response{Proto: "HTTP/1.1", Status: 200, Header: http.Header{"Content-Type": {"text/plain"}},
		Body: flow.Body{Size: 5, Data: []byte("done\n")}}
	if err := st.PutBatch([]*flow.Flow{&finished}); err != nil {
		t.Fatal(err)
	}
	hs.v.Notify(finished.Summarize())
	txt := hs.waitText("HTTP/1.1 200 OK")
	if !strings.Contains(txt, "done") || !strings.Contains(txt, "[2 Response]") {
		t.Errorf("finished flow not refreshed in place:\n%s", txt)
	}
}

// Scrolled up, the selection stays put as flows arrive; at the bottom it
// follows them.
func TestFollowUnlessScrolledUp(t *testing.T) {
	st := openStore(t, mixedFlows(t)[:3])
	hs := start(t, defaultOptions(st), 100, 12)
	selected := func(sub string) bool {
		_, _, attrs := hs.roleOf(sub).Decompose()
		return attrs&tcell.AttrReverse != 0
	}
	if !selected("shop.example.com") {
		t.Fatalf("the newest flow should be selected at start")
	}
	hs.key(tcell.KeyUp)
	hs.v.Notify(flow.Summary{ID: 4, Method: "GET", URL: "https://new.example/one", Status: 200})
	hs.waitText("4 flows")
	if !selected("example.org") || selected("new.example") {
		t.Errorf("scrolled up: the selection moved with a new flow")
	}
	hs.key(tcell.KeyEnd)
	hs.v.Notify(flow.Summary{ID: 5, Method: "GET", URL: "https://newer.example/two", Status: 200})
	hs.waitText("newer.example")
	if !selected("newer.example") {
		t.Errorf("at the bottom: the selection did not follow the new flow")
	}
}

func TestStatusBarRefreshesWithoutKeys(t *testing.T) {
	st := openStore(t, mixedFlows(t)[:1])
	var depth atomic.Int64
	var recErr atomic.Value
	recErr.Store("")
	opts := defaultOptions(st)
	opts.Status = Status{QueueDepth: func() int { return int(depth.Load()) }, RecorderError: func() error {
		if s := recErr.Load().(string); s != "" {
			return errors.New(s)
		}
		return nil
	}}
	// Frames drawn by the viewer on its own, read on its goroutine.
	frames := make(chan string, 100)
	start(t, opts, 120, 6, func(v *Viewer) {
		v.statusRefresh = 5 * time.Millisecond
		v.drawn = func() {
			cells, w, _ := snapshot(v.ui.screen.(tcell.SimulationScreen))
			var top strings.Builder
			for x := range w {
				if r := cells[x].Runes; len(r) > 0 {
					top.WriteString(string(r))
				}
			}
			select {
			case frames <- top.String():
			default:
			}
		}
	})
	depth.Store(42)
	recErr.Store("disk full")
	// No key, no sync event from here on: only the refresh ticker redraws.
	deadline := time.After(10 * time.Second)
	for {
		select {
		case top := <-frames:
			if strings.Contains(top, "queue 42") && strings.Contains(top, "RECORDER FAILED: disk full") {
				return
			}
		case <-deadline:
			t.Fatal("the status bar did not refresh on its own")
		}
	}
}

func TestDeleteFlow(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	hs := start(t, defaultOptions(st), 100, 14)
	hs.key(tcell.KeyHome)
	hs.runes("d")
	txt := hs.waitText("deleted flow #1")
	if strings.Contains(txt, "api.example.com") || !strings.Contains(txt, "9 flows") {
		t.Errorf("flow 1 still listed:\n%s", txt)
	}
	if _, err := st.Get(1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("store Get(1) after delete: err = %v, want ErrNotFound", err)
	}
}

// failingSource fails every read after the first page, as a damaged
// store would.
type failingSource struct{ Source }

func (failingSource) Summaries(ctx context.Context, after flow.ID, fn func(flow.Summary) bool) error {
	return errors.New("summaries: disk read error")
}

func (failingSource) Delete(ids ...flow.ID) error { return errors.New("database is read-only") }

func (f failingSource) LastSummaries(n int) ([]flow.Summary, error) {
	all, err := f.Source.LastSummaries(n)
	if len(all) > 2 {
		all = all[len(all)-2:] // force a background load of the rest
	}
	return all, err
}

func TestFailuresAreShownAndLogged(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	var logs strings.Builder
	var logMu sync.Mutex
	opts := defaultOptions(failingSource{st})
	opts.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	hs := start(t, opts, 120, 8)
	hs.waitText("loading flows failed: summaries: disk read error")
	hs.runes("d")
	hs.waitText("delete #10 failed: database is read-only")
	logMu.Lock()
	defer logMu.Unlock()
	for _, want := range []string{"loading older flows", "disk read error", "delete flow", "read-only"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

type lockedWriter struct {
	w  *strings.Builder
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// slowLoadSource shows only the newest two flows at first and releases
// the rest when told, like a store of a million flows.
type slowLoadSource struct {
	Source
	release chan struct{}
}

func (s slowLoadSource) LastSummaries(n int) ([]flow.Summary, error) {
	all, err := s.Source.LastSummaries(n)
	return all[len(all)-2:], err
}

func (s slowLoadSource) Summaries(ctx context.Context, after flow.ID, fn func(flow.Summary) bool) error {
	<-s.release
	return s.Source.Summaries(ctx, after, fn)
}

func TestNewestPageFirstThenBackgroundLoad(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	src := slowLoadSource{Source: st, release: make(chan struct{})}
	hs := start(t, defaultOptions(src), 100, 16)
	txt := hs.waitText("2 flows (loading 0/10)")
	if !strings.Contains(txt, "slow.example.org") || strings.Contains(txt, "api.example.com") {
		t.Errorf("first frame should show only the newest page:\n%s", txt)
	}
	hs.key(tcell.KeyUp) // the user scrolls while the rest loads
	close(src.release)
	txt = hs.waitText("10 flows │")
	if !strings.Contains(txt, "api.example.com") {
		t.Errorf("older flows not merged in front:\n%s", txt)
	}
	_, _, attrs := hs.roleOf("pinned.example.com").Decompose()
	if attrs&tcell.AttrReverse == 0 {
		t.Errorf("the selection moved when older flows arrived")
	}
}
