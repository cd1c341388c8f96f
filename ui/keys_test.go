package ui

import (
	"fmt"
	"math/rand/v2"
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

// Random keys, mouse events and sizes: the viewer never panics and keeps
// answering. ('q', Ctrl-C and 'w' are left out: they quit or write files.
// 'x' exports may write files: they land in a temporary directory.)
func TestRandomInputNeverPanics(t *testing.T) {
	t.Chdir(t.TempDir())
	st := openStore(t, mixedFlows(t))
	hs := start(t, defaultOptions(st), 80, 24)
	rng := rand.New(rand.NewPCG(1, 2))
	runes := []rune("jkgGd?/nN123456hl x:-")
	keys := []tcell.Key{tcell.KeyUp, tcell.KeyDown, tcell.KeyPgUp, tcell.KeyPgDn, tcell.KeyHome, tcell.KeyEnd,
		tcell.KeyEnter, tcell.KeyEsc, tcell.KeyTab, tcell.KeyBacktab, tcell.KeyLeft, tcell.KeyRight, tcell.KeyBackspace2, tcell.KeyCtrlU, tcell.KeyCtrlL}
	sizes := [][2]int{{80, 24}, {20, 5}, {1, 1}, {200, 60}, {40, 3}, {0, 0}}
	for i := range 3000 {
		switch r := rng.IntN(20); {
		case r < 10:
			hs.screen.InjectKey(tcell.KeyRune, runes[rng.IntN(len(runes))], tcell.ModNone)
		case r < 18:
			hs.key(keys[rng.IntN(len(keys))])
		case r < 19:
			hs.screen.InjectMouse(rng.IntN(100), rng.IntN(30), []tcell.ButtonMask{tcell.Button1, tcell.WheelUp, tcell.WheelDown}[rng.IntN(3)], tcell.ModNone)
		default:
			size := sizes[rng.IntN(len(sizes))]
			hs.syncDo(func() { hs.screen.SetSize(size[0], size[1]) })
			hs.screen.PostEvent(tcell.NewEventResize(size[0], size[1]))
		}
		if i%100 == 0 {
			hs.sync()
		}
	}
	hs.sync()
}
