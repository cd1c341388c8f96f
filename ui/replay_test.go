package ui

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"onpath/flow"
	"onpath/internal/testupstream"
	"onpath/proxy"
	"onpath/store"
)

// replayCall is one call of a test Replay callback.
type replayCall struct {
	id     flow.ID
	edited *flow.Request
	force  bool
}

// callLog records the calls of a test Replay callback.
type callLog struct {
	mu    sync.Mutex
	calls []replayCall
}

func (c *callLog) add(call replayCall) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, call)
}

func (c *callLog) all() []replayCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]replayCall(nil), c.calls...)
}

// scriptedReplay answers every replay with a fixed response, different
// from the fixtures' ones, so the screen is stable for golden files.
func scriptedReplay(t *testing.T, st *store.Store, log *callLog) func(context.Context, flow.ID, *flow.Request, bool) (*flow.Flow, error) {
	return func(ctx context.Context, id flow.ID, edited *flow.Request, force bool) (*flow.Flow, error) {
		log.add(replayCall{id, edited, force})
		orig, err := st.Get(id)
		if err != nil {
			return nil, err
		}
		nf := &flow.Flow{Kind: flow.KindHTTP, Request: orig.Request, ReplayOf: id, Forced: force,
			Client: orig.Client, Server: orig.Server, Timings: timings(time.Minute, 50*time.Millisecond)}
		if edited != nil {
			nf.Request = *edited
		}
		nf.Response = &flow.Response{Proto: "HTTP/1.1", Status: 503, Header: http.Header{
			"Content-Type": {"text/plain"}, "Date": {"Fri, 27 Nov 2026 11:01:00 GMT"}, "X-New": {"yes"},
		}, Body: flow.Body{Size: 9, Data: []byte("not found")}}
		nf.ID = st.NextID()
		if err := st.Put(nf); err != nil {
			return nil, err
		}
		return nf, st.Flush()
	}
}

// upstreamReplay replays through a real proxy.Proxy against whatever the
// recorded URL names, recording the new flow in st as the CLI does.
func upstreamReplay(st *store.Store, log *callLog) func(context.Context, flow.ID, *flow.Request, bool) (*flow.Flow, error) {
	p := &proxy.Proxy{}
	return func(ctx context.Context, id flow.ID, edited *flow.Request, force bool) (*flow.Flow, error) {
		if log != nil {
			log.add(replayCall{id, edited, force})
		}
		orig, err := st.Get(id)
		if err != nil {
			return nil, err
		}
		req := orig.Request
		if edited != nil {
			req = *edited
		}
		nf, err := p.Replay(ctx, req)
		if err != nil {
			return nil, err
		}
		nf.ID = st.NextID()
		nf.ReplayOf = id
		nf.Forced = edited == nil && orig.Request.Body.Truncated
		if err := st.Put(nf); err != nil {
			return nil, err
		}
		return nf, st.Flush()
	}
}

// upstreamFlows are recorded flows that point at a live go-httpbin.
func upstreamFlows(base string) []*flow.Flow {
	get := simpleFlow("GET", base+"/anything/one?x=1", 200, 5, 0)
	get.Request.Header.Set("X-Test", "original")
	post := simpleFlow("POST", base+"/anything/upload", 200, 5, time.Second)
	post.Request.Header.Set("Content-Type", "text/plain")
	post.Request.Body = flow.Body{Size: 100000, Truncated: true, Data: []byte("first bytes only")}
	return []*flow.Flow{get, post}
}

func TestReplayAppearsAndIsSelected(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	log := &callLog{}
	opts := defaultOptions(st)
	opts.Replay = scriptedReplay(t, st, log)
	hs := start(t, opts, 120, 16)
	hs.key(tcell.KeyHome)
	hs.runes("j")
	hs.runes("r")
	hs.waitText("replayed #2 as #11: 503 Service Unavailable")
	txt := hs.golden("replay_selected")
	if !strings.Contains(txt, "GET   ↻ 503") {
		t.Errorf("the replay row lacks its ↻ marker:\n%s", txt)
	}
	var sel flow.ID
	hs.syncDo(func() { sel, _ = hs.v.ui.selectedID() })
	if sel != 11 {
		t.Errorf("selected flow after the replay = #%d, want #11", sel)
	}
	if calls := log.all(); len(calls) != 1 || calls[0] != (replayCall{id: 2}) {
		t.Errorf("Replay calls = %+v, want one plain replay of #2", calls)
	}
	// o jumps back to the original in the list.
	hs.runes("o")
	hs.syncDo(func() { sel, _ = hs.v.ui.selectedID() })
	if sel != 2 {
		t.Errorf("o selected #%d, want the original #2", sel)
	}
	hs.runes("o")
	if txt := hs.waitText("is not a replay"); !strings.Contains(txt, "#2 is not a replay") {
		t.Errorf("o on an original:\n%s", txt)
	}
}

func TestReplayFromDetailShowsComparison(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	opts := defaultOptions(st)
	opts.Replay = scriptedReplay(t, st, &callLog{})
	hs := start(t, opts, 100, 30)
	hs.key(tcell.KeyHome)
	hs.runes("j")
	hs.key(tcell.KeyEnter)
	hs.waitText("#2 GET https://example.org/missing/page")
	hs.runes("r")
	hs.waitText("replayed #2 as #11")
	txt := hs.golden("replay_compare")
	for _, want := range []string{
		"#11 GET https://example.org/missing/page → 503 Service Unavailable  replay of #2",
		"[2 Response]",
		"compared with the original #2 (o opens it)",
		"404 Not Found → 503 Service Unavailable  (changed)",
		"+ Date: Fri, 27 Nov 2026 11:01:00 GMT",
		"+ X-New: yes",
		"9 bytes on the wire, both; decoded body differs",
	} {
		if !strings.Contains(txt, want) {
			t.Errorf("comparison screen lacks %q", want)
		}
	}
	if role := hs.roleOf("+ Date:"); role != hs.v.ui.theme[RoleDim] {
		t.Errorf("a volatile header is not dimmed: %v", role)
	}
	// o opens the original in place, on the same tab.
	hs.runes("o")
	txt = hs.waitText("#2 GET")
	if strings.Contains(txt, "replay of") || !strings.Contains(txt, "[2 Response]") {
		t.Errorf("o did not open the original on the Response tab:\n%s", txt)
	}
}

func TestReplayKeysUnboundWithoutCallback(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	hs := start(t, defaultOptions(st), 100, 30)
	hs.runes("r")
	hs.runes("?")
	txt := hs.text()
	if strings.Contains(txt, "replay    R") || strings.Contains(txt, "replaying") {
		t.Errorf("replay keys shown or acted on without a callback:\n%s", txt)
	}
	if !strings.Contains(txt, "x  export") {
		t.Errorf("help lacks the export key:\n%s", txt)
	}
}

func TestHelpListsReplayKeys(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	opts := defaultOptions(st)
	opts.Replay = scriptedReplay(t, st, &callLog{})
	hs := start(t, opts, 80, 24)
	hs.runes("?")
	txt := hs.golden("help_replay_80x24")
	for _, want := range []string{"r  replay", "R  replay a truncated body", "e  edit, then replay", "o  original of a replay", "q  quit"} {
		if !strings.Contains(txt, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

func TestReplayAgainstUpstream(t *testing.T) {
	up := testupstream.Start(t)
	st := openStore(t, upstreamFlows(up.HTTP.URL))
	log := &callLog{}
	opts := defaultOptions(st)
	opts.Replay = upstreamReplay(st, log)
	hs := start(t, opts, 120, 20)
	hs.key(tcell.KeyHome)
	hs.runes("r")
	hs.waitText("replayed #1 as #3: 200 OK")
	got, err := st.Get(3)
	if err != nil {
		t.Fatal(err)
	}
	if got.ReplayOf != 1 || got.Status() != 200 {
		t.Errorf("recorded replay: replay_of %d, status %d; want 1, 200", got.ReplayOf, got.Status())
	}
	if body := string(got.Response.Body.Data); !strings.Contains(body, `"X-Test": [`) || !strings.Contains(body, "original") {
		t.Errorf("upstream did not see the recorded header; it answered:\n%s", body)
	}
	// Open it: the comparison is with #1's recorded response.
	hs.key(tcell.KeyEnter)
	txt := hs.waitText("replay of #1")
	hs.runes("2")
	txt = hs.waitText("compared with the original #1")
	for _, want := range []string{"200 OK  (same)", "~ Content-Type: text/plain → application/json", "decoded body differs"} {
		if !strings.Contains(txt, want) {
			t.Errorf("comparison lacks %q:\n%s", want, txt)
		}
	}
}

func TestReplayRefusesTruncatedBodyUntilForced(t *testing.T) {
	up := testupstream.Start(t)
	st := openStore(t, upstreamFlows(up.HTTP.URL))
	log := &callLog{}
	opts := defaultOptions(st)
	opts.Replay = upstreamReplay(st, log)
	hs := start(t, opts, 200, 20)
	hs.runes("r") // the POST, the newest flow, is selected
	txt := hs.waitText("recorded only in part")
	if !strings.Contains(txt, "#2's request body was recorded only in part (16 of 97.7k)") || !strings.Contains(txt, "R sends the truncated body anyway") {
		t.Errorf("refusal message:\n%s", txt)
	}
	if n := len(log.all()); n != 0 {
		t.Fatalf("a refused replay called the callback %d times", n)
	}
	hs.runes("R")
	hs.waitText("replayed #2 as #3: 200 OK")
	if calls := log.all(); len(calls) != 1 || !calls[0].force {
		t.Errorf("R: calls %+v, want one forced replay", calls)
	}
	got, err := st.Get(3)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Forced || !strings.Contains(string(got.Response.Body.Data), "first bytes only") {
		t.Errorf("forced replay: Forced=%v, upstream saw:\n%s", got.Forced, got.Response.Body.Data)
	}
	hs.key(tcell.KeyEnter)
	hs.waitText("replay of #2 (forced: truncated body)")
}

func TestReplayErrorShownAndLoopStaysResponsive(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	release := make(chan struct{})
	opts := defaultOptions(st)
	opts.Replay = func(ctx context.Context, id flow.ID, _ *flow.Request, _ bool) (*flow.Flow, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil, errors.New("upstream unreachable")
	}
	hs := start(t, opts, 120, 16)
	hs.key(tcell.KeyHome)
	hs.runes("r")
	hs.waitText("replaying #1…")
	// The loop still answers while the replay hangs.
	hs.runes("j")
	hs.key(tcell.KeyEnter)
	hs.waitText("#2 GET")
	close(release)
	hs.waitText("replay of #1 failed: upstream unreachable")
}

func TestTunnelIsNotReplayed(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	log := &callLog{}
	opts := defaultOptions(st)
	opts.Replay = scriptedReplay(t, st, log)
	hs := start(t, opts, 160, 16)
	hs.key(tcell.KeyEnd)
	hs.runes("k") // #9, the passthrough tunnel
	hs.runes("r")
	hs.waitText("#9 is a passthrough tunnel")
	hs.runes("e")
	hs.waitText("#9 is a passthrough tunnel")
	if n := len(log.all()); n != 0 {
		t.Errorf("a tunnel was handed to Replay %d times", n)
	}
}
