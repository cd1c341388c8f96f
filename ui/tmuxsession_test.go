package ui

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"onpath/store"
)

// tmuxSession is a real terminal (a detached tmux session) running one
// command, for the tests that drive the viewer as a user would.
type tmuxSession struct {
	t    *testing.T
	name string
}

// startTmux starts cmd in a new w×h tmux session, skipping the test when
// tmux is missing or under -short, and kills the session on cleanup.
func startTmux(t *testing.T, name string, w, h int, cmd string) *tmuxSession {
	t.Helper()
	if testing.Short() {
		t.Skip("drives a real terminal")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	s := &tmuxSession{t: t, name: name}
	s.run("new-session", "-d", "-s", name, "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), cmd)
	t.Cleanup(func() { exec.Command("tmux", "kill-session", "-t", name).Run() })
	return s
}

func (s *tmuxSession) run(args ...string) {
	s.t.Helper()
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
}

// send types keys into the terminal.
func (s *tmuxSession) send(keys ...string) {
	s.t.Helper()
	s.run(append([]string{"send-keys", "-t", s.name}, keys...)...)
}

func (s *tmuxSession) capture() string {
	out, _ := exec.Command("tmux", "capture-pane", "-p", "-t", s.name).CombinedOutput()
	return string(out)
}

// waitFor polls the screen until it shows want, and returns it.
func (s *tmuxSession) waitFor(want string) string {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		screen := s.capture()
		if strings.Contains(screen, want) {
			return screen
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %q; screen:\n%s", want, screen)
		}
		time.Sleep(50 * time.Millisecond) // polling tmux, not synchronising
	}
}

// waitExit polls until the command has ended the session.
func (s *tmuxSession) waitExit() {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command("tmux", "has-session", "-t", s.name).Run() == nil {
		if time.Now().After(deadline) {
			s.t.Fatalf("the command did not exit:\n%s", s.capture())
		}
		time.Sleep(50 * time.Millisecond) // polling tmux
	}
}

// seedStore writes the mixed flows into a new store at dir/flows.db.
func seedStore(t *testing.T, dir string) string {
	t.Helper()
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
	return db
}
