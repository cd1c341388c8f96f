package ui

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestTmuxOnpathView drives the real `onpath view` binary in a terminal:
// open a flow, switch to the Cookies tab, check the badges, quit.
func TestTmuxOnpathView(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the onpath binary")
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
	seedStore(t, dir)

	term := startTmux(t, fmt.Sprintf("onpath-ui-%d", os.Getpid()), 160, 45,
		fmt.Sprintf("TERM=xterm-256color %s view --dir %s", bin, dir))
	term.waitFor("10 flows")
	term.send("g", "j", "j", "Enter")
	term.waitFor("#3 GET https://shop.example.com/account")
	term.send("3")
	term.waitFor("[3 Cookies]")
	// The terminal receives a redraw in several writes: wait for each
	// badge rather than capturing once mid-redraw.
	for _, want := range []string{"[Secure] [!HttpOnly] [!SameSite absent]", "[!SameSite=None]", "[!__Host-]", "[Secure] [HttpOnly] [SameSite=Lax]", "CK04"} {
		term.waitFor(want)
	}
	term.send("q")
	term.waitExit()
}
