package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"
)

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

func TestStepBetweenFlowsKeepsTab(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	hs := start(t, defaultOptions(st), 100, 12)
	hs.key(tcell.KeyHome)
	hs.key(tcell.KeyEnter)
	hs.runes("5]")
	txt := hs.waitText("#2 GET https://example.org/missing/page")
	if !strings.Contains(txt, "[5 TLS]") {
		t.Errorf("] changed the tab:\n%s", txt)
	}
	hs.runes("[[") // the second one stops at the first flow
	hs.waitText("#1 GET https://api.example.com")
	hs.key(tcell.KeyEsc)
	hs.key(tcell.KeyEnter)
	hs.waitText("#1 GET") // the list selection followed
}
