package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gdamore/tcell/v2"

	"onpath/store"
)

// TestTmuxEditResumes runs the viewer on a real terminal (tmux), presses
// e, lets a scripted editor change the request while the screen is
// suspended, and checks that the viewer comes back whole and replays the
// edit. The viewer runs in this test binary (TestTmuxEditViewer).
func TestTmuxEditResumes(t *testing.T) {
	dir := t.TempDir()
	db := seedStore(t, dir)
	editor := filepath.Join(dir, "editor")
	script := "#!/bin/sh\nsed -i 's|^Accept: application/json$|Accept: text/edited|' \"$1\"\n"
	if err := os.WriteFile(editor, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	term := startTmux(t, fmt.Sprintf("onpath-ui-edit-%d", os.Getpid()), 140, 30,
		fmt.Sprintf("TERM=xterm-256color ONPATH_UI_TMUX_DB=%s EDITOR=%s %s -test.run='^TestTmuxEditViewer$'", db, editor, os.Args[0]))
	term.waitFor("10 flows")
	term.send("g", "Enter")
	term.waitFor("#1 GET https://api.example.com")
	term.send("e")
	term.waitFor("replayed #1 as #11")
	// Back from the editor, the whole screen is drawn again (waiting for
	// each part: a redraw reaches the terminal in several writes).
	for _, want := range []string{"11 flows", "[2 Response]", "replay of #1", "compared with the original #1"} {
		term.waitFor(want)
	}
	term.send("1")
	term.waitFor("Accept: text/edited")
	term.send("q")
	term.waitExit()
}

// TestTmuxEditViewer is the viewer that TestTmuxEditResumes runs in tmux;
// on its own it is skipped.
func TestTmuxEditViewer(t *testing.T) {
	db := os.Getenv("ONPATH_UI_TMUX_DB")
	if db == "" {
		t.Skip("runs only inside TestTmuxEditResumes")
	}
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	screen, err := tcell.NewScreen()
	if err != nil {
		t.Fatal(err)
	}
	opts := defaultOptions(st)
	opts.Replay = scriptedReplay(t, st, &callLog{})
	opts.EditDir = filepath.Dir(db)
	if err := New(opts).Run(context.Background(), screen); err != nil {
		t.Fatal(err)
	}
}
