package ui

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/uniseg"

	"onpath/flow"

	"onpath/store"
)

// Every screen and key at a tiny size: nothing panics, the list golden
// stays readable.
func TestTinyScreen(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	hs := start(t, defaultOptions(st), 20, 5)
	hs.golden("tiny_20x5")
	hs.runes("?")
	hs.text()
	hs.runes("x") // closes help
	hs.key(tcell.KeyHome)
	hs.key(tcell.KeyEnter)
	for _, r := range "123456" {
		hs.runes(string(r))
		hs.key(tcell.KeyPgDn)
		hs.key(tcell.KeyEnd)
		hs.key(tcell.KeyRight)
		hs.text()
	}
	hs.key(tcell.KeyEsc)
	for _, size := range [][2]int{{1, 1}, {0, 0}, {5, 2}, {200, 3}, {80, 24}} {
		hs.syncDo(func() { hs.screen.SetSize(size[0], size[1]) })
		hs.screen.PostEvent(tcell.NewEventResize(size[0], size[1]))
		hs.key(tcell.KeyDown)
		hs.runes("/")
		hs.key(tcell.KeyEsc)
		hs.text()
	}
	hs.golden("resized_80x24")
}

func TestHelpOverlay(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	hs := start(t, defaultOptions(st), 80, 24)
	hs.runes("?")
	txt := hs.golden("help_80x24")
	if !strings.Contains(txt, "Enter           open the flow") {
		t.Errorf("help lacks the keys:\n%s", txt)
	}
	hs.runes("j")
	if txt := hs.text(); strings.Contains(txt, "onpath viewer keys") {
		t.Errorf("a key did not close the help")
	}
}

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

func TestDeleteFlow(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	hs := start(t, defaultOptions(st), 100, 14)
	hs.key(tcell.KeyHome)
	hs.runes("d")
	txt := hs.waitText("deleted flow #1")
	if strings.Contains(txt, "api.example.com") || !strings.Contains(txt, "9 flows") {
		t.Errorf("flow 1 still listed:\n%s", txt)
	}
	if _, err := st.Get(1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("store Get(1) after delete: err = %v, want ErrNotFound", err)
	}
}

func TestBodySearchAndSave(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	hs := start(t, defaultOptions(st), 100, 10)
	hs.key(tcell.KeyHome)
	hs.key(tcell.KeyEnter)
	hs.runes("2/needle")
	hs.key(tcell.KeyEnter)
	txt := hs.waitText("/needle: line")
	if !strings.Contains(strings.Split(txt, "\n")[3], `"needle": "found me"`) {
		t.Errorf("search did not scroll the match to the top:\n%s", txt)
	}
	if hs.roleOf(`needle": "found`) != hs.v.ui.theme[RoleMatch] {
		t.Errorf("the match is not highlighted")
	}
	hs.runes("N")
	hs.waitText("/needle: line")

	dir := t.TempDir()
	path := filepath.Join(dir, "body.json")
	hs.runes("w")
	hs.waitText("save body to: onpath-1-response.json")
	hs.key(tcell.KeyCtrlU)
	hs.runes(path)
	hs.key(tcell.KeyEnter)
	hs.waitText("saved the response body (91) to " + path)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(got), `{"user":{"id":42`) {
		t.Errorf("saved body = %q, want the decoded JSON", got)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("saved body mode = %v, want 0600", fi.Mode().Perm())
	}
	// Never overwrite.
	hs.runes("w")
	hs.key(tcell.KeyCtrlU)
	hs.runes(path)
	hs.key(tcell.KeyEnter)
	hs.waitText("already exists")
}

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

// Wide and combining characters from the wire never push text past the
// screen edge or overlap.
func TestWideCharacters(t *testing.T) {
	f := simpleFlow("GET", "https://例え.jp/パス/ファイル?q=é", 200, 0, 0)
	f.Response.Body = flow.Body{Size: 30, Data: []byte("日本語のテキスト e\u0301 😀 end\n")}
	st := openStore(t, []*flow.Flow{f})
	hs := start(t, defaultOptions(st), 40, 12)
	hs.key(tcell.KeyEnter)
	hs.runes("2")
	txt := hs.waitText("日本語のテキスト")
	if !strings.Contains(txt, "😀 end") {
		t.Errorf("text after a wide character is lost:\n%s", txt)
	}
	for i, line := range strings.Split(strings.TrimRight(txt, "\n"), "\n") {
		if w := uniseg.StringWidth(line); w > 40 {
			t.Errorf("line %d is %d cells wide on a 40-cell screen: %q", i, w, line)
		}
	}
}
