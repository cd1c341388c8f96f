package ui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"
)

func TestMouseClickAndWheel(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	hs := start(t, defaultOptions(st), 100, 14)
	hs.screen.InjectMouse(10, 4, tcell.Button1, tcell.ModNone) // row 3 of the list
	hs.screen.InjectMouse(10, 4, tcell.ButtonNone, tcell.ModNone)
	hs.key(tcell.KeyEnter)
	hs.waitText("#3 GET https://shop.example.com/account")
	hs.screen.InjectMouse(20, 1, tcell.Button1, tcell.ModNone) // the Response tab title
	hs.waitText("[2 Response]")
	hs.key(tcell.KeyEsc)
	hs.screen.InjectMouse(10, 6, tcell.WheelUp, tcell.ModNone)
	hs.key(tcell.KeyEnter)
	hs.waitText("#1 GET")
}

func TestTabAt(t *testing.T) {
	bar := tabBar(tabRequest).String()
	for want := range tabCount {
		label := fmt.Sprintf("%d %s", want+1, tabNames[want])
		x := len([]rune(bar[:indexOf(bar, label)]))
		if got, ok := tabAt(tabRequest, x); !ok || got != want {
			t.Errorf("tabAt(%d) = %v, %v; want %v", x, got, ok, want)
		}
	}
}

func indexOf(s, sub string) int {
	for i := range len(s) - len(sub) + 1 {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestPromptEditing(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	hs := start(t, defaultOptions(st), 100, 10)
	hs.runes("/host:exampel")
	hs.key(tcell.KeyBackspace2)
	hs.key(tcell.KeyBackspace2)
	hs.runes("le.org")
	hs.waitText("filter: host:example.org")
	hs.key(tcell.KeyCtrlU)
	hs.runes("status:5xx")
	hs.key(tcell.KeyEnter)
	hs.waitText("filter: status:5xx → 1")
	// Esc abandons an edit and keeps the filter.
	hs.runes("/method:GET")
	hs.key(tcell.KeyEsc)
	txt := hs.waitText("filter: status:5xx → 1")
	if strings.Contains(txt, "method:GET") {
		t.Errorf("an abandoned prompt leaked into the screen:\n%s", txt)
	}
}
