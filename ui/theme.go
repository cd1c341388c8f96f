package ui

import "github.com/gdamore/tcell/v2"

// Role names what a piece of text is, not how it looks; a theme maps roles
// to tcell styles, so the view-model stays independent of colours.
type Role uint8

const (
	RoleNormal Role = iota
	RoleDim
	RoleBar       // status bar background
	RoleBarError  // recorder failure, bad filter: must be loud
	RoleHeader    // column headers
	RoleSelected  // the selected list row
	RoleTab       // an inactive tab
	RoleTabActive // the active tab
	RoleKey       // header names, table keys
	RoleStatus2xx
	RoleStatus3xx
	RoleStatus4xx
	RoleStatus5xx
	RolePending
	RoleError
	RoleSevInfo
	RoleSevLow
	RoleSevMedium
	RoleSevHigh
	RoleGood   // a badge that is set right
	RoleBad    // a badge that is missing or wrong (high/medium finding)
	RoleWarn   // a badge that is questionable (low/info finding)
	RoleSecret // a sensitive value: cookie, credential, token
	RoleMatch  // a search hit
	RoleTitle
	roleCount
)

// theme maps roles to styles.
type theme [roleCount]tcell.Style

// colorTheme is used when the terminal has at least 8 colours.
func colorTheme() theme {
	d := tcell.StyleDefault
	var t theme
	for i := range t {
		t[i] = d
	}
	t[RoleDim] = d.Foreground(tcell.ColorGray)
	t[RoleBar] = d.Background(tcell.ColorNavy).Foreground(tcell.ColorWhite)
	t[RoleBarError] = d.Background(tcell.ColorMaroon).Foreground(tcell.ColorWhite).Bold(true)
	t[RoleHeader] = d.Bold(true).Underline(true)
	t[RoleSelected] = d.Reverse(true)
	t[RoleTab] = d.Foreground(tcell.ColorSilver)
	t[RoleTabActive] = d.Reverse(true).Bold(true)
	t[RoleKey] = d.Foreground(tcell.ColorTeal)
	t[RoleStatus2xx] = d.Foreground(tcell.ColorGreen)
	t[RoleStatus3xx] = d.Foreground(tcell.ColorTeal)
	t[RoleStatus4xx] = d.Foreground(tcell.ColorOlive)
	t[RoleStatus5xx] = d.Foreground(tcell.ColorRed)
	t[RolePending] = d.Foreground(tcell.ColorGray).Italic(true)
	t[RoleError] = d.Foreground(tcell.ColorRed).Bold(true)
	t[RoleSevInfo] = d.Foreground(tcell.ColorGray)
	t[RoleSevLow] = d.Foreground(tcell.ColorOlive)
	t[RoleSevMedium] = d.Foreground(tcell.ColorOrange)
	t[RoleSevHigh] = d.Foreground(tcell.ColorRed).Bold(true)
	t[RoleGood] = d.Foreground(tcell.ColorGreen)
	t[RoleBad] = d.Foreground(tcell.ColorRed).Bold(true)
	t[RoleWarn] = d.Foreground(tcell.ColorOrange)
	t[RoleSecret] = d.Foreground(tcell.ColorFuchsia).Bold(true)
	t[RoleMatch] = d.Background(tcell.ColorYellow).Foreground(tcell.ColorBlack)
	t[RoleTitle] = d.Bold(true)
	return t
}

// monoTheme is used on terminals without colour and under NO_COLOR: only
// attributes, and the view-model's text markers ("!", "~") carry meaning.
func monoTheme() theme {
	d := tcell.StyleDefault
	var t theme
	for i := range t {
		t[i] = d
	}
	t[RoleBar] = d.Reverse(true)
	t[RoleBarError] = d.Reverse(true).Bold(true)
	t[RoleHeader] = d.Bold(true).Underline(true)
	t[RoleSelected] = d.Reverse(true)
	t[RoleTabActive] = d.Reverse(true).Bold(true)
	t[RoleStatus5xx] = d.Bold(true)
	t[RoleError] = d.Bold(true)
	t[RoleSevMedium] = d.Bold(true)
	t[RoleSevHigh] = d.Bold(true).Underline(true)
	t[RoleBad] = d.Bold(true)
	t[RoleSecret] = d.Bold(true).Underline(true)
	t[RoleMatch] = d.Reverse(true)
	t[RoleTitle] = d.Bold(true)
	return t
}

// themeFor picks the theme for a screen that reports colours colours.
func themeFor(colors int, noColor bool) theme {
	if noColor || colors < 8 {
		return monoTheme()
	}
	return colorTheme()
}
