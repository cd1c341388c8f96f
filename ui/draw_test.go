package ui

import (
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/uniseg"

	"onpath/flow"
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

func TestGroupDigits(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {1234567, "1,234,567"}, {-5, "-5"}}
	for _, tc := range tests {
		if got := groupDigits(tc.n); got != tc.want {
			t.Errorf("groupDigits(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestStatusLineCompactsWhenNarrow(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	opts := defaultOptions(st)
	opts.Status = Status{Listen: "127.0.0.1:8080", CAFingerprint: "AB:CD:EF:01:23:45:67:89", QueueDepth: func() int { return 3 }}
	wide := strings.Split(start(t, opts, 120, 6).text(), "\n")[0]
	if want := " onpath 127.0.0.1:8080 CA ABCDEF01 │ 10 flows │ queue 3 │ 1 high 1 med 4 low"; wide != want {
		t.Errorf("wide status bar\n got %q\nwant %q", wide, want)
	}
	narrow := strings.Split(start(t, opts, 70, 6).text(), "\n")[0]
	if want := " 127.0.0.1:8080 CA ABCDEF01 │ 10 flows │ q 3 │ 1H 1M 4L"; narrow != want {
		t.Errorf("narrow status bar\n got %q\nwant %q", narrow, want)
	}
}
