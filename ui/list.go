package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/gdamore/tcell/v2"

	"onpath/flow"
)

// firstPage is how many of the newest flows are read before the first
// frame; the older ones load in the background.
const firstPage = 2000

// mode is what the screen shows.
type mode uint8

const (
	modeList mode = iota
	modeDetail
)

// uiState is everything the event loop owns.
type uiState struct {
	v      *Viewer
	ctx    context.Context
	screen tcell.Screen
	theme  theme

	all       rowList
	loading   bool // older flows are still loading
	loadCount int
	total     int // the store's count when the viewer opened

	filter    *activeFilter
	filterRun *filterRun
	filterGen int

	sel    int  // selected row in the current view
	top    int  // first visible row
	follow bool // keep the newest row selected as flows arrive

	mode    mode
	detail  *detailState
	prompt  *prompt
	help    bool
	message string
	msgRole Role

	// tasks are replays and exports running in the background.
	tasks []*task
	// menu is the export menu while it is open; export the export whose
	// destination is being asked for.
	menu   *exportMenu
	export *pendingExport
	// keptEdit is the last edit that did not parse: e on the same flow
	// opens it again, so nothing typed is lost.
	keptEdit *keptEdit
}

func newUIState(v *Viewer, s tcell.Screen) uiState {
	return uiState{v: v, screen: s, theme: themeFor(s.Colors(), v.opts.NoColor), follow: true}
}

// openList reads the newest page and starts loading the rest.
func (u *uiState) openList() error {
	src := u.v.opts.Source
	n, err := src.Len()
	if err != nil {
		return fmt.Errorf("ui: count flows: %w", err)
	}
	u.total = n
	last, err := src.LastSummaries(firstPage)
	if err != nil {
		return fmt.Errorf("ui: read newest flows: %w", err)
	}
	for i := range last {
		u.all.Upsert(&last[i])
	}
	u.sel = max(u.all.Len()-1, 0)
	if len(last) < n && len(last) > 0 {
		u.loading = true
		go u.v.loadOlder(u.ctx, last[0].ID)
	}
	return nil
}

// loadOlder reads every flow before the first page into a separate list
// and hands it to the event loop.
func (v *Viewer) loadOlder(ctx context.Context, before flow.ID) {
	older := &rowList{}
	count := 0
	err := v.opts.Source.Summaries(ctx, 0, func(s flow.Summary) bool {
		if s.ID >= before {
			return false
		}
		older.Upsert(&s)
		count++
		if count%50000 == 0 {
			v.mu.Lock()
			v.inbox.loadCount = count
			v.mu.Unlock()
			v.wake()
		}
		return true
	})
	v.mu.Lock()
	if err != nil && !errors.Is(err, context.Canceled) {
		v.inbox.loadErr = err
		v.log.Error("ui: loading older flows", "err", err, "loaded", count)
	}
	v.inbox.loaded = older
	v.mu.Unlock()
	v.wake()
}

// mergeLoaded puts the background-loaded older flows in front.
func (u *uiState) mergeLoaded(older *rowList) {
	selID, ok := u.selectedID()
	u.all.PrependOlder(older)
	u.loading = false
	if ok && !u.follow {
		u.reselect(selID)
	} else if u.follow {
		u.sel = max(u.viewLen()-1, 0)
	}
}

// applyUpdates adds or refreshes flows reported by Notify.
func (u *uiState) applyUpdates(updates map[flow.ID]flow.Summary) {
	selID, hadSel := u.selectedID()
	ids := make([]flow.ID, 0, len(updates))
	for id := range updates {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		s := updates[id]
		u.all.Upsert(&s)
		if u.filter != nil {
			u.filter.update(&s, u.v.opts.Source)
		}
		if u.filterRun != nil {
			u.filterRun.arrived = append(u.filterRun.arrived, s)
		}
		if u.detail != nil && u.detail.f.ID == id && u.detail.f.Pending() && !s.Pending {
			u.detail.reload(u)
		}
	}
	if u.follow {
		u.sel = max(u.viewLen()-1, 0)
	} else if hadSel {
		u.reselect(selID)
	}
}

// viewLen is the number of rows in the current view (filtered or all).
func (u *uiState) viewLen() int {
	if u.filter != nil {
		return len(u.filter.ids)
	}
	return u.all.Len()
}

// viewAt is the summary of row i of the current view.
func (u *uiState) viewAt(i int) flow.Summary {
	if u.filter == nil {
		return u.all.At(i)
	}
	id := u.filter.ids[i]
	if p := u.all.Find(id); p >= 0 {
		return u.all.At(p)
	}
	return flow.Summary{ID: id, URL: "(loading)", Pending: true}
}

func (u *uiState) viewID(i int) flow.ID {
	if u.filter == nil {
		return u.all.ID(i)
	}
	return u.filter.ids[i]
}

func (u *uiState) selectedID() (flow.ID, bool) {
	if u.sel < 0 || u.sel >= u.viewLen() {
		return 0, false
	}
	return u.viewID(u.sel), true
}

// reselect moves the selection to id, or to the row that took its place.
func (u *uiState) reselect(id flow.ID) {
	n := u.viewLen()
	i := sort.Search(n, func(i int) bool { return u.viewID(i) >= id })
	u.sel = min(i, max(n-1, 0))
}

// listHeight is the number of list rows on screen.
func (u *uiState) listHeight() int {
	_, h := u.screen.Size()
	return max(h-3, 0)
}

// move changes the selection by delta rows; reaching the end re-enables
// following new flows.
func (u *uiState) move(delta int) {
	n := u.viewLen()
	if n == 0 {
		u.sel, u.top = 0, 0
		return
	}
	u.sel = min(max(u.sel+delta, 0), n-1)
	u.follow = u.sel == n-1
}

// scrollIntoView adjusts top so the selection is visible.
func (u *uiState) scrollIntoView() {
	h := u.listHeight()
	n := u.viewLen()
	if u.follow && n > 0 {
		u.sel = n - 1
	}
	if h == 0 {
		return
	}
	if u.sel < u.top {
		u.top = u.sel
	}
	if u.sel >= u.top+h {
		u.top = u.sel - h + 1
	}
	u.top = max(min(u.top, n-h), 0)
}

// deleteSelected deletes the selected flow from the store and the lists.
func (u *uiState) deleteSelected() {
	id, ok := u.selectedID()
	if !ok {
		return
	}
	if err := u.v.opts.Source.Delete(id); err != nil {
		u.v.log.Warn("ui: delete flow", "id", id, "err", err)
		u.setError("delete #%d failed: %v", id, err)
		return
	}
	u.all.Remove(id)
	if u.filter != nil {
		if i, found := slices.BinarySearch(u.filter.ids, id); found {
			u.filter.ids = slices.Delete(u.filter.ids, i, i+1)
		}
	}
	u.sel = min(u.sel, max(u.viewLen()-1, 0))
	u.setInfo(fmt.Sprintf("deleted flow #%d", id))
}

func (u *uiState) setError(format string, args ...any) {
	u.message = fmt.Sprintf(format, args...)
	u.msgRole = RoleBarError
}

func (u *uiState) setInfo(msg string) {
	u.message = msg
	u.msgRole = RoleBar
}
