package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"onpath/flow"
)

// task is background work shown in the bottom bar while it runs.
type task struct {
	label string
}

func (u *uiState) startTask(label string) *task {
	t := &task{label: label}
	u.tasks = append(u.tasks, t)
	return t
}

func (u *uiState) endTask(t *task) {
	for i, x := range u.tasks {
		if x == t {
			u.tasks = append(u.tasks[:i], u.tasks[i+1:]...)
			return
		}
	}
}

// currentFlow is the flow the keys act on: the open one in the detail
// view, else the selected row, read in full.
func (u *uiState) currentFlow() (*flow.Flow, bool) {
	if u.mode == modeDetail && u.detail != nil {
		return u.detail.f, true
	}
	id, ok := u.selectedID()
	if !ok {
		u.setError("no flow is selected")
		return nil, false
	}
	f, err := u.v.opts.Source.Get(id)
	if err != nil {
		u.v.log.Warn("ui: read flow", "id", id, "err", err)
		u.setError("cannot read flow #%d: %v", id, err)
		return nil, false
	}
	return f, true
}

// replayRefusal says why f cannot be replayed as recorded, or "".
func replayRefusal(f *flow.Flow, force bool) string {
	switch {
	case f.Kind == flow.KindTunnel:
		return fmt.Sprintf("#%d is a passthrough tunnel: onpath never saw its requests, so there is nothing to replay", f.ID)
	case f.Request.Body.Truncated && !force:
		return fmt.Sprintf("#%d's request body was recorded only in part (%s of %s), so a replay would send a different body; R sends the truncated body anyway",
			f.ID, formatSize(int64(len(f.Request.Body.Data))), formatSize(f.Request.Body.Size))
	}
	return ""
}

// replayCurrent replays the current flow as recorded (r, or R to force).
func (u *uiState) replayCurrent(force bool) {
	f, ok := u.currentFlow()
	if !ok {
		return
	}
	if why := replayRefusal(f, force); why != "" {
		u.setError("%s", why)
		return
	}
	u.startReplay(f.ID, nil, force)
}

// startReplay runs the Replay callback on its own goroutine; the loop
// goes on and applies the result when it arrives.
func (u *uiState) startReplay(id flow.ID, edited *flow.Request, force bool) {
	label := fmt.Sprintf("replaying #%d…", id)
	if edited != nil {
		label = fmt.Sprintf("replaying edited #%d…", id)
	}
	t := u.startTask(label)
	v, replay, ctx := u.v, u.v.opts.Replay, u.ctx
	go func() {
		f, err := replay(ctx, id, edited, force)
		if err == nil && f == nil {
			err = errors.New("the replay returned no flow")
		}
		v.post(func(u *uiState) { u.replayDone(t, id, f, err) })
	}()
}

// replayDone adds the new flow to the list and selects it; if the
// original was open, the replay opens in its place on the Response tab,
// where it is compared with the original.
func (u *uiState) replayDone(t *task, orig flow.ID, f *flow.Flow, err error) {
	u.endTask(t)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			u.v.log.Warn("ui: replay", "id", orig, "err", err)
		}
		u.setError("replay of #%d failed: %v", orig, err)
		return
	}
	s := f.Summarize()
	u.all.Upsert(&s)
	if u.filter != nil {
		u.filter.update(&s, u.v.opts.Source)
	}
	shown := u.selectID(f.ID)
	if u.mode == modeDetail && u.detail != nil && u.detail.f.ID == orig {
		u.detail = &detailState{f: f, tab: tabResponse}
	}
	outcome := "no response"
	switch {
	case f.Error != nil:
		outcome = "failed: " + f.Error.Error()
	case f.Response != nil:
		outcome = fmt.Sprintf("%d %s", f.Response.Status, http.StatusText(f.Response.Status))
	}
	msg := fmt.Sprintf("replayed #%d as #%d: %s", orig, f.ID, outcome)
	if !shown {
		msg += " (hidden by the filter)"
	}
	if f.Error != nil {
		u.setError("%s", msg)
		return
	}
	u.setInfo(msg)
}

// selectID selects id in the current view and reports whether it is there.
func (u *uiState) selectID(id flow.ID) bool {
	n := u.viewLen()
	for i := n - 1; i >= 0; i-- {
		got := u.viewID(i)
		if got == id {
			u.sel = i
			u.follow = i == n-1
			u.scrollIntoView()
			return true
		}
		if got < id {
			break
		}
	}
	return false
}

// openOriginal jumps from a replay to the flow it replays (o).
func (u *uiState) openOriginal() {
	var id, orig flow.ID
	if u.mode == modeDetail && u.detail != nil {
		id, orig = u.detail.f.ID, u.detail.f.ReplayOf
	} else {
		sid, ok := u.selectedID()
		if !ok {
			return
		}
		id, orig = sid, u.viewAt(u.sel).ReplayOf
	}
	if orig == 0 {
		u.setError("#%d is not a replay", id)
		return
	}
	shown := u.selectID(orig)
	if u.mode != modeDetail {
		if !shown {
			u.setError("the original #%d is hidden by the filter (Esc clears it) or was deleted", orig)
		}
		return
	}
	f, err := u.v.opts.Source.Get(orig)
	if err != nil {
		u.setError("cannot open the original #%d (deleted?): %v", orig, err)
		return
	}
	u.detail = &detailState{f: f, tab: u.detail.tab}
}
