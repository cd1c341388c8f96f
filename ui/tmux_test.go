package ui

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onpath/store"
)

// TestTmuxOnpathView drives the real binary: `onpath view` in tmux, open
// the flow with bad cookie flags, switch to the Cookies tab, check badges.
func TestTmuxOnpathView(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the onpath binary")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "onpath")
	build := exec.Command("go", "build", "-o", bin, "onpath/cmd/onpath")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := filepath.Join(tmp, "data")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "flows.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutBatch(mixedFlows(t)); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	session := fmt.Sprintf("onpath-ui-%d", os.Getpid())
	tmux := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("tmux", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	cmd := fmt.Sprintf("TERM=xterm-256color %s view --dir %s", bin, dir)
	tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "45", cmd)
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
	tmux("send-keys", "-t", session, "g", "j", "j", "Enter")
	waitFor("#3 GET https://shop.example.com/account")
	tmux("send-keys", "-t", session, "3")
	waitFor("[3 Cookies]")
	// The terminal receives a redraw in several writes: wait for each
	// badge rather than capturing once mid-redraw.
	for _, want := range []string{"[Secure] [!HttpOnly] [!SameSite absent]", "[!SameSite=None]", "[!__Host-]", "[Secure] [HttpOnly] [SameSite=Lax]", "CK04"} {
		waitFor(want)
	}
	tmux("send-keys", "-t", session, "q")
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command("tmux", "has-session", "-t", session).Run() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("q did not quit onpath view:\n%s", capture())
		}
		time.Sleep(50 * time.Millisecond) // polling tmux
	}
}
