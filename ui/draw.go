package ui

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/uniseg"

	"onpath/flow"
)

// draw renders the whole screen. Only visible rows are expanded from the
// compact list and only visible body lines are rendered.
func (u *uiState) draw() {
	s := u.screen
	w, h := s.Size()
	s.Clear()
	if w <= 0 || h <= 0 {
		s.Show()
		return
	}
	u.drawLine(0, w, u.statusLine(w), RoleBar)
	if u.mode == modeDetail && u.detail != nil {
		u.drawDetail(w, h)
	} else {
		u.drawList(w, h)
	}
	if h >= 2 {
		line, fill := u.bottomLine()
		u.drawLine(h-1, w, line, fill)
	}
	if u.menu != nil {
		u.drawBox(w, h, u.menu.lines(u.filter != nil))
	}
	if u.help {
		u.drawBox(w, h, u.helpLines())
	}
	s.Show()
	if u.v.drawn != nil {
		u.v.drawn()
	}
}

// drawLine draws l on row y, padded to width w with the fill role.
func (u *uiState) drawLine(y, w int, l Line, fill Role) {
	u.drawLineAt(0, y, w, l, fill, false)
}

func (u *uiState) drawLineAt(x0, y, w int, l Line, fill Role, selected bool) {
	x := x0
	put := func(r rune, role Role) {
		st := u.theme[role]
		if fill == RoleBar || fill == RoleBarError {
			// Bar text keeps the bar's background.
			_, bg, _ := u.theme[fill].Decompose()
			if role != RoleBarError && role != RoleBar {
				st = u.theme[fill]
				if fg, _, _ := u.theme[role].Decompose(); fg != tcell.ColorDefault && bg != tcell.ColorDefault {
					st = st.Foreground(fg)
				}
			}
		}
		if selected {
			st = st.Reverse(true)
		}
		cells := 1
		if r >= 0x1100 { // below that every rune is one cell wide
			cells = uniseg.StringWidth(string(r))
		}
		switch {
		case cells <= 0:
			return // a combining mark: skip it rather than misplace it
		case x+cells > x0+w:
			r, cells = ' ', 1 // a wide rune does not fit at the edge
		}
		u.screen.SetContent(x, y, r, nil, st)
		x += cells
	}
	for _, sp := range l {
		for _, r := range sp.Text {
			if x >= x0+w {
				return
			}
			put(r, sp.Role)
		}
	}
	for x < x0+w {
		put(' ', fill)
	}
}

// statusLine is the top bar: where the proxy listens, the CA, the flow
// count, the filter, the recorder and the findings. When that does not
// fit in w cells, a compact form keeps every field but shortens labels.
func (u *uiState) statusLine(w int) Line {
	if l := u.statusSpans(false); l.Width() <= w {
		return l
	}
	return u.statusSpans(true)
}

func (u *uiState) statusSpans(compact bool) Line {
	st := u.v.opts.Status
	l := Line{{Text: " onpath", Role: RoleBar}}
	if compact {
		l = Line{{Text: "", Role: RoleBar}}
	}
	if st.Listen != "" {
		l = append(l, Span{Text: " " + st.Listen, Role: RoleBar})
	}
	if st.CAFingerprint != "" {
		fp := strings.ReplaceAll(st.CAFingerprint, ":", "")
		l = append(l, Span{Text: " CA " + cutRunes(fp, 8), Role: RoleBar})
	}
	if st.RecorderError != nil {
		if err := st.RecorderError(); err != nil {
			l = append(l, Span{Text: " │ ", Role: RoleBar}, Span{Text: " RECORDER FAILED: " + printable(err.Error()) + " ", Role: RoleBarError})
		}
	}
	count := groupDigits(u.all.Len()) + " flows"
	if u.all.Len() == 1 {
		count = "1 flow"
	}
	if u.loading {
		count = fmt.Sprintf("%s flows (loading %s/%s)", groupDigits(u.all.Len()), groupDigits(u.loadCount), groupDigits(u.total))
	}
	sep := " │ "
	if l.Width() == 0 {
		sep = " " // compact, and nothing before the count
	}
	l = append(l, Span{Text: sep + count, Role: RoleBar})
	switch {
	case u.filterRun != nil:
		pct := 0
		if u.filterRun.total > 0 {
			pct = u.filterRun.done * 100 / u.filterRun.total
		}
		l = append(l, Span{Text: fmt.Sprintf(" │ filtering %q %d%% (Esc cancels)", u.filterRun.text, min(pct, 100)), Role: RoleBar})
	case u.filter != nil:
		l = append(l, Span{Text: fmt.Sprintf(" │ filter: %s → %s", printable(u.filter.text), groupDigits(len(u.filter.ids))), Role: RoleBar})
	}
	if st.QueueDepth != nil {
		label := " │ queue "
		if compact {
			label = " │ q "
		}
		l = append(l, Span{Text: label + strconv.Itoa(st.QueueDepth()), Role: RoleBar})
	}
	sev := u.all.bySeverity
	if sev[flow.SeverityHigh]+sev[flow.SeverityMedium]+sev[flow.SeverityLow]+sev[flow.SeverityInfo] > 0 {
		l = append(l, Span{Text: " │", Role: RoleBar})
		for _, x := range []struct {
			s           flow.Severity
			name, short string
			role        Role
		}{
			{flow.SeverityHigh, " high", "H", RoleSevHigh},
			{flow.SeverityMedium, " med", "M", RoleSevMedium},
			{flow.SeverityLow, " low", "L", RoleSevLow},
			{flow.SeverityInfo, " info", "I", RoleSevInfo},
		} {
			if sev[x.s] > 0 {
				name := x.name
				if compact {
					name = x.short
				}
				l = append(l, Span{Text: fmt.Sprintf(" %d%s", sev[x.s], name), Role: x.role})
			}
		}
	}
	return l
}

// bottomLine is the prompt, an info message, or the key hints.
func (u *uiState) bottomLine() (Line, Role) {
	if p := u.prompt; p != nil {
		return Line{{Text: p.label, Role: RoleTitle}, {Text: string(p.input)}, {Text: "█", Role: RoleDim}}, RoleNormal
	}
	if u.message != "" {
		// Errors (a bad filter, a failed delete) fill the bottom bar, loud
		// and at full width, so the whole explanation is readable.
		return styled(" "+printable(u.message), u.msgRole), u.msgRole
	}
	if len(u.tasks) > 0 {
		label := u.tasks[len(u.tasks)-1].label
		if more := len(u.tasks) - 1; more > 0 {
			label += fmt.Sprintf(" (and %d more)", more)
		}
		return styled(" "+printable(label), RoleBar), RoleBar
	}
	if u.mode == modeDetail {
		hint := " Tab/1-6 tabs  ↑↓ PgUp/PgDn scroll  / search  n/N next/prev  Esc back  ? help"
		if u.detail != nil && (u.detail.tab == tabRequest || u.detail.tab == tabResponse) {
			hint = " Tab/1-6 tabs  ↑↓ scroll  / search  n/N  w save body  Esc back  ? help"
		}
		return styled(hint, RoleDim), RoleNormal
	}
	if u.v.opts.Replay != nil {
		return styled(" ↑↓ move  Enter open  / filter  r replay  x export  d delete  ? help  q quit", RoleDim), RoleNormal
	}
	return styled(" ↑↓ move  Enter open  / filter  x export  d delete  ? help  q quit", RoleDim), RoleNormal
}

// drawList draws the column header and the visible rows.
func (u *uiState) drawList(w, h int) {
	listH := max(h-3, 0)
	if h < 3 {
		return
	}
	n := u.viewLen()
	maxID := flow.ID(0)
	if u.all.Len() > 0 {
		maxID = u.all.ID(u.all.Len() - 1)
	}
	u.scrollIntoView()
	rows := make([]flow.Summary, 0, listH)
	hostNeed := 0
	for i := 0; i < listH && u.top+i < n; i++ {
		s := u.viewAt(u.top + i)
		host, _ := splitURL(s.URL)
		hostNeed = max(hostNeed, utf8.RuneCountInString(host))
		rows = append(rows, s)
	}
	layout := newListLayout(w, len(strconv.FormatUint(uint64(maxID), 10)), hostNeed)
	u.drawLine(1, w, layout.header(), RoleHeader)
	if n == 0 {
		msg := "No flows yet. Point a client at the proxy; flows appear here as they happen."
		switch {
		case u.filter != nil:
			msg = "No flow matches the filter. Esc clears it."
		case !u.v.opts.Live:
			msg = "No recorded flows."
		}
		if listH > 0 {
			u.drawLine(2, w, styled(msg, RoleDim), RoleNormal)
		}
		return
	}
	for i := range rows {
		u.drawLineAt(0, 2+i, w, layout.row(&rows[i], u.v.loc), RoleNormal, u.top+i == u.sel)
	}
}

// drawDetail draws the tab bar, the flow title and the tab content.
func (u *uiState) drawDetail(w, h int) {
	d := u.detail
	if h >= 3 {
		u.drawLine(1, w, tabBar(d.tab), RoleNormal)
	}
	if h >= 4 {
		u.drawLine(2, w, flowTitle(d.f, w), RoleNormal)
	}
	contentH := max(h-4, 0)
	if contentH == 0 {
		return
	}
	p := d.pane(u, d.tab)
	top := d.top[d.tab]
	query := ""
	if d.search != "" {
		query = d.search
	}
	for i := range contentH {
		l := p.Line(top+i, d.xoff[d.tab], w)
		if l == nil && top+i > 0 {
			// Past the end: nothing more to draw.
			if top+i >= p.Len(w) {
				break
			}
		}
		u.drawLine(3+i, w, highlight(l, query), RoleNormal)
	}
}

// helpLines are the keys, shown by `?`; the replay keys only when a
// Replay callback is set.
func (u *uiState) helpLines() []string {
	lines := []string{
		"onpath viewer keys (any key closes this help)",
		"",
		"Flow list",
		"  ↑ ↓  j k        move          PgUp PgDn   page",
		"  g G  Home End   first / last (follows new flows)",
		"  Enter           open the flow  d           delete the flow",
		"  /               filter: host:x method:POST status:4xx",
		"                  scheme:http has:finding severity:high",
		"                  cookie:NAME header:NAME[=V] body:TEXT",
		"                  -term negates; spaces mean AND",
		"  Esc             cancel a running filter / clear it",
		"  mouse           click selects, wheel scrolls",
		"",
		"Flow detail",
		"  Tab Shift-Tab 1-6   switch tabs     Esc   back to the list",
		"  ↑ ↓ PgUp PgDn g G   scroll          ← →   scroll sideways",
		"  / n N               search          w     save the body",
		"  [ ]                 previous / next flow",
		"",
		"Both views",
	}
	if u.v.opts.Replay != nil {
		lines = append(lines,
			"  r  replay    R  replay a truncated body    e  edit, then replay")
	}
	return append(lines,
		"  o  original of a replay   x  export (HAR, curl, text)   q  quit")
}

// drawBox draws lines in a frame centred over the screen (help, menus);
// the first line is the title.
func (u *uiState) drawBox(w, h int, lines []string) {
	boxW := min(w, 68)
	boxH := min(h, len(lines)+2)
	x0, y0 := (w-boxW)/2, (h-boxH)/2
	inner := max(boxW-2, 0)
	for row := range boxH {
		var l Line
		switch {
		case row == 0:
			l = styled("┌"+strings.Repeat("─", inner)+"┐", RoleDim)
		case row == boxH-1:
			l = styled("└"+strings.Repeat("─", inner)+"┘", RoleDim)
		default:
			role := RoleNormal
			if row == 1 {
				role = RoleTitle
			}
			content := ""
			if row-1 < len(lines) {
				content = lines[row-1]
			}
			l = Line{{Text: "│", Role: RoleDim}, {Text: fit(" "+content, inner), Role: role}, {Text: "│", Role: RoleDim}}
		}
		u.drawLineAt(x0, y0+row, boxW, l, RoleNormal, false)
	}
}

// groupDigits writes n with thin thousands separators: 1,234,567.
func groupDigits(n int) string {
	s := strconv.Itoa(n)
	if n < 0 || len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}
