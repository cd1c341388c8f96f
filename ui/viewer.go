package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdamore/tcell/v2"

	"onpath/flow"
	"onpath/flow/content"
	"onpath/store/query"
)

// Source is what the viewer reads flows from (the store, or the running
// proxy's store). Summaries walk in ascending id order.
type Source interface {
	Len() (int, error)
	Summaries(ctx context.Context, after flow.ID, fn func(flow.Summary) bool) error
	LastSummaries(n int) ([]flow.Summary, error)
	Get(id flow.ID) (*flow.Flow, error)
	Delete(ids ...flow.ID) error
	Query(ctx context.Context, q *query.Query, progress func(done, total int), fn func(flow.Summary) bool) error
}

// Status is what the status bar shows about the proxy. Zero values (empty
// strings, nil functions) hide a field, as for `onpath view`.
type Status struct {
	Listen        string
	CAFingerprint string
	// QueueDepth reports how many flows wait to be written.
	QueueDepth func() int
	// RecorderError reports the last recording failure, shown loudly.
	RecorderError func() error
}

// Options configure a Viewer.
type Options struct {
	Source Source
	Status Status
	// Live is true while the proxy runs: q then asks before quitting.
	Live bool
	// Now is the clock (cookie lifetimes, certificate validity); nil means time.Now.
	Now func() time.Time
	// Location is the time zone of the time column; nil means time.Local.
	Location *time.Location
	// Logger receives the viewer's internal errors; nil is silent.
	Logger *slog.Logger
	// NoColor forces monochrome (the caller reads NO_COLOR).
	NoColor bool

	// Replay sends the request of flow id again (edited instead, when
	// edited is not nil), records the new flow in the store and returns it
	// finished, with its new ID and ReplayOf set. force sends a request
	// whose recorded body was truncated. The viewer calls it on a goroutine
	// of its own and refuses truncated bodies and tunnels before calling.
	// nil: the replay keys (r, R, e) are unbound and not shown.
	Replay func(ctx context.Context, id flow.ID, edited *flow.Request, force bool) (*flow.Flow, error)
	// Editor is the command `e` runs on the request text, through
	// /bin/sh -c with the file's path as its argument. Empty: $VISUAL,
	// else $EDITOR, else vi.
	Editor string
	// Getenv reads VISUAL and EDITOR; nil means os.Getenv.
	Getenv func(string) string
	// EditDir receives the request texts `e` opens in the editor (one
	// private directory per edit); empty means os.TempDir().
	EditDir string
	// ExportDir is where `x` proposes to write exports; empty means the
	// current directory.
	ExportDir string
	// Version is onpath's version, written into HAR exports.
	Version string
}

// Viewer is the terminal viewer. Create it with New; Notify may be called
// from any goroutine before, during and after Run.
type Viewer struct {
	opts   Options
	now    func() time.Time
	loc    *time.Location
	log    *slog.Logger
	decode decodeFunc

	// Shared with other goroutines (Notify, the loader, filter runs).
	mu         sync.Mutex
	screen     tcell.Screen // nil outside Run
	inbox      inbox
	wakePosted atomic.Bool

	// Owned by the event loop.
	ui uiState

	// started, when set (tests), runs after the screen is initialised
	// and before the first frame.
	started func(tcell.Screen)
	// drawn, when set (tests), runs on the loop after every frame.
	drawn func()
	// statusRefresh is how often the status bar re-reads the recorder's
	// queue depth and error while nothing else redraws the screen.
	statusRefresh time.Duration
}

// inbox collects what other goroutines hand to the event loop; the loop
// drains it on every event, so a wake-up that could not be posted is
// never lost.
type inbox struct {
	updates    map[flow.ID]flow.Summary
	loaded     *rowList
	loadErr    error
	loadCount  int
	filterMsgs []filterMsg
	// results are completions of background work (a replay, an export),
	// applied on the loop in the order they arrived.
	results []func(*uiState)
}

// wakeTag is the payload of the one outstanding wake-up event.
type wakeTag struct{}

// syncTag asks the loop to draw, run fn (if set) on the loop goroutine,
// and close done (tests read the screen this way, race-free).
type syncTag struct {
	fn   func()
	done chan struct{}
}

// New creates a viewer. Nothing is read until Run.
func New(opts Options) *Viewer {
	v := &Viewer{opts: opts, now: opts.Now, loc: opts.Location, log: opts.Logger, decode: content.Decode}
	if v.now == nil {
		v.now = time.Now
	}
	if v.loc == nil {
		v.loc = time.Local
	}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	v.inbox.updates = map[flow.ID]flow.Summary{}
	v.statusRefresh = time.Second
	return v
}

// Notify tells the viewer that a flow started (Pending) or finished. It
// never blocks: updates are coalesced per flow and one wake-up event is
// posted when none is outstanding.
func (v *Viewer) Notify(s flow.Summary) {
	v.mu.Lock()
	v.inbox.updates[s.ID] = s
	v.mu.Unlock()
	v.wake()
}

// wake posts the wake-up event unless one is outstanding. If the screen's
// queue is full the flag is released: the queued events will make the loop
// drain the inbox anyway.
func (v *Viewer) wake() {
	if !v.wakePosted.CompareAndSwap(false, true) {
		return
	}
	v.mu.Lock()
	s := v.screen
	v.mu.Unlock()
	if s == nil || s.PostEvent(tcell.NewEventInterrupt(wakeTag{})) != nil {
		v.wakePosted.Store(false)
	}
}

// Run shows the viewer on screen until the user quits or ctx is done, and
// then returns nil; it fails only when the terminal cannot be initialised
// or the first page of flows cannot be read. It initialises the screen
// and finalises it before returning. Run a Viewer once.
func (v *Viewer) Run(ctx context.Context, screen tcell.Screen) error {
	if v.opts.Source == nil {
		return errors.New("ui: no flow source")
	}
	if err := screen.Init(); err != nil {
		return fmt.Errorf("ui: init terminal: %w", err)
	}
	defer screen.Fini()
	screen.EnableMouse()
	if v.started != nil {
		v.started(screen)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	v.ui = newUIState(v, screen)
	v.ui.ctx = ctx
	if err := v.ui.openList(); err != nil {
		return err
	}
	v.mu.Lock()
	v.screen = screen
	v.mu.Unlock()
	defer func() {
		v.mu.Lock()
		v.screen = nil
		v.mu.Unlock()
		v.ui.cancelFilter()
	}()

	if st := v.opts.Status; st.QueueDepth != nil || st.RecorderError != nil {
		go v.refreshStatus(ctx)
	}
	events := make(chan tcell.Event, 64)
	quit := make(chan struct{})
	go screen.ChannelEvents(events, quit)
	defer close(quit)

	v.drain()
	v.ui.draw()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			if v.handle(ev) {
				return nil
			}
			// Handle everything already queued before drawing once.
			for more := true; more; {
				select {
				case ev, ok := <-events:
					if !ok {
						return nil
					}
					if v.handle(ev) {
						return nil
					}
				default:
					more = false
				}
			}
			v.ui.draw()
		}
	}
}

// refreshStatus wakes the loop now and then so the recorder's queue depth
// and errors show up without a key press.
func (v *Viewer) refreshStatus(ctx context.Context) {
	tick := time.NewTicker(v.statusRefresh)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			v.wake()
		}
	}
}

// handle processes one event and reports whether the viewer should quit.
func (v *Viewer) handle(ev tcell.Event) bool {
	quit := false
	switch e := ev.(type) {
	case *tcell.EventInterrupt:
		switch d := e.Data().(type) {
		case wakeTag:
			v.wakePosted.Store(false)
		case syncTag:
			v.drain()
			v.ui.draw()
			if d.fn != nil {
				d.fn()
			}
			close(d.done)
			return false
		}
	case *tcell.EventResize:
		v.ui.screen.Sync()
	case *tcell.EventKey:
		quit = v.ui.key(e)
	case *tcell.EventMouse:
		v.ui.mouse(e)
	}
	v.drain()
	return quit
}

// post hands the result of background work to the event loop; apply
// runs there.
func (v *Viewer) post(apply func(*uiState)) {
	v.mu.Lock()
	v.inbox.results = append(v.inbox.results, apply)
	v.mu.Unlock()
	v.wake()
}

// drain applies everything other goroutines left in the inbox.
func (v *Viewer) drain() {
	v.mu.Lock()
	in := v.inbox
	v.inbox = inbox{updates: in.updates, loadCount: in.loadCount}
	if len(in.updates) > 0 {
		v.inbox.updates = map[flow.ID]flow.Summary{}
	} else {
		in.updates = nil // the empty map stays in the inbox for Notify
	}
	v.mu.Unlock()
	u := &v.ui
	if in.loaded != nil {
		u.mergeLoaded(in.loaded)
	}
	if in.loadErr != nil {
		u.setError("loading flows failed: %v", in.loadErr)
	}
	u.loadCount = in.loadCount
	for _, m := range in.filterMsgs {
		u.filterMessage(m)
	}
	for _, apply := range in.results {
		apply(u)
	}
	if len(in.updates) > 0 {
		u.applyUpdates(in.updates)
	}
}
