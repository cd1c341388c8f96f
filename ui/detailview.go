package ui

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"onpath/flow"
)

// detailState is the open flow and the state of its tabs.
type detailState struct {
	f      *flow.Flow
	tab    tab
	panes  [tabCount]pane
	top    [tabCount]int
	xoff   [tabCount]int
	search string
}

// openDetail reads the selected flow in full and shows it.
func (u *uiState) openDetail() {
	id, ok := u.selectedID()
	if !ok {
		return
	}
	f, err := u.v.opts.Source.Get(id)
	if err != nil {
		u.v.log.Warn("ui: open flow", "id", id, "err", err)
		u.setError("cannot open flow #%d: %v", id, err)
		return
	}
	u.detail = &detailState{f: f}
	u.mode = modeDetail
}

// stepDetail opens the previous (-1) or next (+1) flow of the list in
// place, on the same tab.
func (u *uiState) stepDetail(delta int) {
	before := u.sel
	u.move(delta)
	u.scrollIntoView()
	if u.sel == before {
		return
	}
	t := u.detail.tab
	u.openDetail()
	if u.detail != nil {
		u.detail.tab = t
	}
}

// reload re-reads the open flow (it finished while shown), keeping the
// tab and scroll positions.
func (d *detailState) reload(u *uiState) {
	f, err := u.v.opts.Source.Get(d.f.ID)
	if err != nil {
		// Not recorded yet: the summary update is enough for now.
		u.v.log.Debug("ui: reload finished flow", "id", d.f.ID, "err", err)
		return
	}
	d.f = f
	d.panes = [tabCount]pane{}
}

// pane builds the tab's content on first use.
func (d *detailState) pane(u *uiState, t tab) pane {
	if d.panes[t] != nil {
		return d.panes[t]
	}
	f := d.f
	var p pane
	switch t {
	case tabRequest:
		p = requestPane(f, u.v.decode)
	case tabResponse:
		p = responsePane(f, u.v.decode)
		if f.ReplayOf != 0 {
			p = withPreamble(p, u.replayComparison(f))
		}
	case tabCookies:
		entries := cookiesOf(f, u.v.now())
		p = &widthPane{build: func(w int) []Line { return cookieLines(entries, w) }}
	case tabOnPath:
		e := exposureOf(f, u.v.now())
		p = &widthPane{build: func(w int) []Line { return exposureLines(e, f, w) }}
	case tabTLS:
		p = tlsPane(f, u.v.now())
	case tabTiming:
		p = &widthPane{build: func(w int) []Line { return timingLines(f.Timings, w, u.v.loc) }}
	}
	d.panes[t] = p
	return p
}

// contentHeight is the number of content lines below the tab bar and title.
func (u *uiState) contentHeight() int {
	_, h := u.screen.Size()
	return max(h-4, 0)
}

// scrollDetail moves the current tab by delta lines, clamped.
func (u *uiState) scrollDetail(delta int) {
	d := u.detail
	w, _ := u.screen.Size()
	p := d.pane(u, d.tab)
	top := d.top[d.tab] + delta
	if delta > 0 && !hasLine(p, top+u.contentHeight()-1, w) {
		// Near the end: clamp so the last page stays full.
		top = min(top, max(p.Len(w)-u.contentHeight(), 0))
	}
	d.top[d.tab] = max(top, 0)
}

// searchDetail finds the next (or previous) line containing the search
// text in the current tab and scrolls to it.
func (u *uiState) searchDetail(backward bool) {
	d := u.detail
	if d.search == "" {
		return
	}
	p := d.pane(u, d.tab)
	s, ok := p.(searchable)
	if !ok {
		return
	}
	w, _ := u.screen.Size()
	from := d.top[d.tab]
	if n, found := findWrapping(p, s, d.search, from, w, backward); found {
		d.top[d.tab] = n
		u.setInfo(fmt.Sprintf("/%s: line %d", d.search, n+1))
		return
	}
	u.setError("/%s: not found", d.search)
}

// bodyOf is the body viewer of the current tab, if it has one.
func (d *detailState) bodyOf(u *uiState) (*bodyView, string) {
	if d.tab != tabRequest && d.tab != tabResponse {
		return nil, ""
	}
	mp, ok := d.pane(u, d.tab).(*messagePane)
	if !ok {
		return nil, ""
	}
	side := "request"
	if d.tab == tabResponse {
		side = "response"
	}
	return mp.body, side
}

// defaultSaveName proposes a file name in the current directory.
func defaultSaveName(id flow.ID, side string, kind bodyKind) string {
	ext := map[bodyKind]string{bodyJSON: "json", bodyText: "txt", bodyForm: "txt", bodyHex: "bin", bodyEmpty: "txt"}[kind]
	return fmt.Sprintf("onpath-%d-%s.%s", id, side, ext)
}

// saveBody writes the decoded body to path, never overwriting a file,
// and returns the absolute path written.
func saveBody(b *bodyView, path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("ui: save body: %w", err)
	}
	file, err := os.OpenFile(abs, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("%s already exists: choose another name", abs)
		}
		return "", fmt.Errorf("ui: save body: %w", err)
	}
	_, werr := file.Write(b.decoded)
	cerr := file.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return "", fmt.Errorf("ui: save body to %s: %w", abs, err)
	}
	return abs, nil
}

// replayComparison compares a replay with its original, read from the
// source.
func (u *uiState) replayComparison(f *flow.Flow) []Line {
	orig, err := u.v.opts.Source.Get(f.ReplayOf)
	if err != nil {
		u.v.log.Debug("ui: read the original of a replay", "id", f.ReplayOf, "err", err)
		return []Line{styled(fmt.Sprintf("── the original #%d cannot be read (deleted?) ──", f.ReplayOf), RoleDim), text("")}
	}
	return comparisonLines(compareResponses(orig, f, u.v.decode))
}
