package ui

import (
	"testing"

	"github.com/gdamore/tcell/v2"
)

func TestMonochrome(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	for _, noColor := range []bool{true, false} {
		opts := defaultOptions(st)
		opts.NoColor = noColor
		hs := start(t, opts, 100, 14)
		var cells []tcell.SimCell
		hs.syncDo(func() { cells, _, _ = snapshot(hs.screen) })
		colored := 0
		for _, c := range cells {
			fg, bg, _ := c.Style.Decompose()
			if fg != tcell.ColorDefault || bg != tcell.ColorDefault {
				colored++
			}
		}
		if noColor && colored > 0 {
			t.Errorf("NoColor: %d cells have colours", colored)
		}
		if !noColor && colored == 0 {
			t.Errorf("colour terminal: no cell has a colour")
		}
	}
	if th := themeFor(2, false); th != monoTheme() {
		t.Errorf("a 2-colour terminal (TERM=vt100) should get the monochrome theme")
	}
}

func TestThemeFor(t *testing.T) {
	tests := []struct {
		colors  int
		noColor bool
		mono    bool
	}{
		{256, false, false},
		{8, false, false},
		{2, false, true}, // TERM=vt100
		{0, false, true},
		{256, true, true}, // NO_COLOR
	}
	for _, tc := range tests {
		got := themeFor(tc.colors, tc.noColor)
		if (got == monoTheme()) != tc.mono {
			t.Errorf("themeFor(%d, %v): monochrome = %v, want %v", tc.colors, tc.noColor, got == monoTheme(), tc.mono)
		}
	}
	for r, st := range monoTheme() {
		if fg, bg, _ := st.Decompose(); fg != tcell.ColorDefault || bg != tcell.ColorDefault {
			t.Errorf("monochrome role %d has colours %v/%v", r, fg, bg)
		}
	}
}
