package ui

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"onpath/store"
)

// TestTmuxEditResumes runs the viewer on a real terminal (tmux), presses
// e, lets a scripted editor change the request while the screen is
// suspended, and checks that the viewer comes back whole and replays the
// edit. The viewer runs in this test binary (TestTmuxEditViewer).
func TestTmuxEditResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real terminal")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "flows.db")
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutBatch(mixedFlows(t)); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	editor := filepath.Join(dir, "editor")
	script := "#!/bin/sh\nsed -i 's|^Accept: application/json$|Accept: text/edited|' \"$1\"\n"
	if err := os.WriteFile(editor, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}

	session := fmt.Sprintf("onpath-ui-edit-%d", os.Getpid())
	tmux := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
	}
	cmd := fmt.Sprintf("TERM=xterm-256color ONPATH_UI_TMUX_DB=%s EDITOR=%s %s -test.run='^TestTmuxEditViewer$'", db, editor, os.Args[0])
	tmux("new-session", "-d", "-s", session, "-x", "140", "-y", "30", cmd)
	t.Cleanup(func() { exec.Command("tmux", "kill-session", "-t", session).Run() })
	capture := func() string {
		out, _ := exec.Command("tmux", "capture-pane", "-p", "-t", session).CombinedOutput()
		return string(out)
	}
	waitFor := func(want string) string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			screen := capture()
			if strings.Contains(screen, want) {
				return screen
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %q; screen:\n%s", want, screen)
			}
			time.Sleep(50 * time.Millisecond) // polling tmux, not synchronising
		}
	}
	waitFor("10 flows")
	tmux("send-keys", "-t", session, "g", "Enter")
	waitFor("#1 GET https://api.example.com")
	tmux("send-keys", "-t", session, "e")
	screen := waitFor("replayed #1 as #11")
	// Back from the editor, the whole screen is drawn again.
	for _, want := range []string{"11 flows", "[2 Response]", "replay of #1", "compared with the original #1"} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen after the editor lacks %q:\n%s", want, screen)
		}
	}
	tmux("send-keys", "-t", session, "1")
	waitFor("Accept: text/edited")
	tmux("send-keys", "-t", session, "q")
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command("tmux", "has-session", "-t", session).Run() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("q did not quit:\n%s", capture())
		}
		time.Sleep(50 * time.Millisecond) // polling tmux
	}
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
