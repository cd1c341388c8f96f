package ui

import (
	"fmt"
	"unicode/utf8"

	"github.com/gdamore/tcell/v2"
)

// promptKind says what a prompt's answer is for.
type promptKind uint8

const (
	promptFilter promptKind = iota
	promptSearch
	promptSave
	promptQuit
	promptExport    // the destination of an export
	promptOverwrite // leave to replace an existing export file (y/n)
)

// prompt is the one-line input at the bottom of the screen.
type prompt struct {
	kind  promptKind
	label string
	input []rune
}

// key handles one key press and reports whether the viewer should quit.
func (u *uiState) key(ev *tcell.EventKey) bool {
	if u.prompt != nil {
		return u.promptKey(ev)
	}
	if u.help {
		u.help = false
		return false
	}
	if u.menu != nil {
		u.menuKey(ev)
		return false
	}
	u.message = ""
	if ev.Key() == tcell.KeyCtrlC || (ev.Key() == tcell.KeyRune && ev.Rune() == 'q') {
		if u.v.opts.Live {
			u.prompt = &prompt{kind: promptQuit, label: "Quit onpath and stop the proxy? (y/n) "}
			return false
		}
		return true
	}
	if ev.Key() == tcell.KeyCtrlL {
		u.screen.Sync() // repaint a terminal something else scribbled on
		return false
	}
	if ev.Key() == tcell.KeyRune && ev.Rune() == '?' {
		u.help = true
		return false
	}
	if ev.Key() == tcell.KeyRune && u.actionKey(ev.Rune()) {
		return false
	}
	if u.mode == modeDetail {
		u.detailKey(ev)
	} else {
		u.listKey(ev)
	}
	return false
}

// actionKey handles the keys that act on the current flow in the list
// and the detail view alike, and reports whether r was one of them. The
// replay keys are unbound without a Replay callback.
func (u *uiState) actionKey(r rune) bool {
	replay := u.v.opts.Replay != nil
	switch {
	case r == 'r' && replay:
		u.replayCurrent(false)
	case r == 'R' && replay:
		u.replayCurrent(true)
	case r == 'e' && replay:
		u.editAndReplay()
	case r == 'o':
		u.openOriginal()
	case r == 'x':
		u.openExportMenu()
	default:
		return false
	}
	if u.mode == modeList {
		u.scrollIntoView()
	}
	return true
}

func (u *uiState) listKey(ev *tcell.EventKey) {
	page := max(u.listHeight()-1, 1)
	switch ev.Key() {
	case tcell.KeyUp:
		u.move(-1)
	case tcell.KeyDown:
		u.move(1)
	case tcell.KeyPgUp, tcell.KeyCtrlB:
		u.move(-page)
	case tcell.KeyPgDn, tcell.KeyCtrlF:
		u.move(page)
	case tcell.KeyHome:
		u.move(-u.viewLen())
	case tcell.KeyEnd:
		u.move(u.viewLen())
	case tcell.KeyEnter:
		u.openDetail()
	case tcell.KeyEsc:
		switch {
		case u.cancelFilter():
			u.setInfo("filter cancelled; previous filter kept")
		case u.filter != nil:
			u.startFilter("")
		}
	case tcell.KeyRune:
		switch ev.Rune() {
		case 'k':
			u.move(-1)
		case 'j':
			u.move(1)
		case 'g':
			u.move(-u.viewLen())
		case 'G':
			u.move(u.viewLen())
		case '/':
			current := ""
			if u.filter != nil {
				current = u.filter.text
			}
			u.prompt = &prompt{kind: promptFilter, label: "filter: ", input: []rune(current)}
		case 'd':
			u.deleteSelected()
		}
	}
	u.scrollIntoView()
}

func (u *uiState) detailKey(ev *tcell.EventKey) {
	d := u.detail
	page := max(u.contentHeight()-1, 1)
	switch ev.Key() {
	case tcell.KeyEsc:
		u.mode = modeList
		u.detail = nil
		return
	case tcell.KeyTab:
		d.tab = (d.tab + 1) % tabCount
	case tcell.KeyBacktab:
		d.tab = (d.tab + tabCount - 1) % tabCount
	case tcell.KeyUp:
		u.scrollDetail(-1)
	case tcell.KeyDown:
		u.scrollDetail(1)
	case tcell.KeyPgUp, tcell.KeyCtrlB:
		u.scrollDetail(-page)
	case tcell.KeyPgDn, tcell.KeyCtrlF:
		u.scrollDetail(page)
	case tcell.KeyHome:
		d.top[d.tab] = 0
	case tcell.KeyEnd:
		u.scrollDetail(1 << 30)
	case tcell.KeyLeft:
		d.xoff[d.tab] = max(d.xoff[d.tab]-8, 0)
	case tcell.KeyRight:
		d.xoff[d.tab] += 8
	case tcell.KeyRune:
		r := ev.Rune()
		switch {
		case r >= '1' && r <= '6':
			d.tab = tab(r - '1')
		case r == 'k':
			u.scrollDetail(-1)
		case r == 'j' || r == ' ':
			u.scrollDetail(1)
		case r == 'g':
			d.top[d.tab] = 0
		case r == 'G':
			u.scrollDetail(1 << 30)
		case r == 'h':
			d.xoff[d.tab] = max(d.xoff[d.tab]-8, 0)
		case r == 'l':
			d.xoff[d.tab] += 8
		case r == '[':
			u.stepDetail(-1)
		case r == ']':
			u.stepDetail(1)
		case r == '/':
			u.prompt = &prompt{kind: promptSearch, label: "search: ", input: []rune(d.search)}
		case r == 'n':
			u.searchDetail(false)
		case r == 'N':
			u.searchDetail(true)
		case r == 'w':
			if b, side := d.bodyOf(u); b != nil {
				if len(b.decoded) == 0 {
					u.setError("the %s has no body to save", side)
					break
				}
				u.prompt = &prompt{kind: promptSave, label: "save body to: ", input: []rune(defaultSaveName(d.f.ID, side, b.kind))}
			}
		}
	}
}

// promptKey edits the prompt's input; Enter submits, Esc cancels.
func (u *uiState) promptKey(ev *tcell.EventKey) bool {
	p := u.prompt
	if p.kind == promptQuit || p.kind == promptOverwrite {
		u.prompt = nil
		yes := ev.Key() == tcell.KeyRune && (ev.Rune() == 'y' || ev.Rune() == 'Y')
		if p.kind == promptQuit {
			return yes
		}
		if yes {
			u.runExport(true)
		} else {
			u.export = nil
			u.setInfo("export cancelled: the existing file was kept")
		}
		return false
	}
	switch ev.Key() {
	case tcell.KeyEsc:
		u.prompt = nil
		if p.kind == promptExport {
			u.export = nil
		}
	case tcell.KeyEnter:
		u.prompt = nil
		u.submit(p.kind, string(p.input))
	case tcell.KeyBackspace, tcell.KeyBackspace2:
		if len(p.input) > 0 {
			p.input = p.input[:len(p.input)-1]
		}
	case tcell.KeyCtrlU:
		p.input = p.input[:0]
	case tcell.KeyRune:
		if utf8.ValidRune(ev.Rune()) && len(p.input) < 1024 {
			p.input = append(p.input, ev.Rune())
		}
	}
	return false
}

// submit acts on a prompt's answer.
func (u *uiState) submit(kind promptKind, input string) {
	switch kind {
	case promptFilter:
		u.startFilter(input)
		u.scrollIntoView()
	case promptSearch:
		u.detail.search = input
		if input != "" {
			u.searchDetail(false)
		}
	case promptExport:
		u.submitExportPath(input)
	case promptSave:
		b, side := u.detail.bodyOf(u)
		if b == nil || input == "" {
			return
		}
		path, err := saveBody(b, input)
		if err != nil {
			u.setError("%v", err)
			return
		}
		u.setInfo(fmt.Sprintf("saved the %s body (%s) to %s", side, formatSize(int64(len(b.decoded))), path))
	}
}

// mouse: a click selects a row (or a tab), the wheel scrolls.
func (u *uiState) mouse(ev *tcell.EventMouse) {
	x, y := ev.Position()
	btn := ev.Buttons()
	if u.prompt != nil || u.help || u.menu != nil {
		return
	}
	if u.mode == modeDetail {
		switch {
		case btn&tcell.WheelUp != 0:
			u.scrollDetail(-3)
		case btn&tcell.WheelDown != 0:
			u.scrollDetail(3)
		case btn&tcell.Button1 != 0 && y == 1:
			if t, ok := tabAt(u.detail.tab, x); ok {
				u.detail.tab = t
			}
		}
		return
	}
	switch {
	case btn&tcell.WheelUp != 0:
		u.move(-3)
	case btn&tcell.WheelDown != 0:
		u.move(3)
	case btn&tcell.Button1 != 0:
		row := u.top + y - 2
		if y >= 2 && y < 2+u.listHeight() && row < u.viewLen() {
			u.sel = row
			u.follow = row == u.viewLen()-1
		}
	}
	u.scrollIntoView()
}

// tabAt is the tab under column x of the tab bar.
func tabAt(active tab, x int) (tab, bool) {
	pos := 0
	for _, s := range tabBar(active) {
		n := utf8.RuneCountInString(s.Text)
		if x >= pos && x < pos+n && len(s.Text) > 1 {
			var t int
			if _, err := fmt.Sscanf(s.Text[1:], "%d", &t); err == nil && t >= 1 && t <= int(tabCount) {
				return tab(t - 1), true
			}
		}
		pos += n
	}
	return 0, false
}
