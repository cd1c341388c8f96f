package ui

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"

	"onpath/internal/testupstream"
)

// scriptedEditor writes an editor script that edits its file with sed,
// in the way the file named mode says, and records the file's mode bits.
// It returns the script's path and a function that sets the mode.
func scriptedEditor(t *testing.T, url string) (editor string, setMode func(string)) {
	t.Helper()
	dir := t.TempDir()
	script := `#!/bin/sh
dir='` + dir + `'
[ "$#" -eq 1 ] || { echo "want one argument, got $#" >&2; exit 2; }
stat -c %a "$1" > "$dir/perm"
case "$(cat "$dir/mode")" in
break) sed -i -e 's|^GET .*$|GET|' -e 's/^X-Test: original$/X-Test: typed by hand/' "$1" ;;
fix)   sed -i 's|^GET$|GET ` + url + ` HTTP/1.1|' "$1" ;;
edit)  sed -i 's/^X-Test: original$/X-Test: edited/' "$1" ;;
empty) : > "$1" ;;
fail)  exit 3 ;;
esac
`
	editor = filepath.Join(dir, "editor")
	if err := os.WriteFile(editor, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	setMode = func(m string) {
		if err := os.WriteFile(filepath.Join(dir, "mode"), []byte(m), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	setMode("edit")
	return editor, setMode
}

func TestEditThenReplay(t *testing.T) {
	up := testupstream.Start(t)
	st := openStore(t, upstreamFlows(up.HTTP.URL))
	log := &callLog{}
	editDir := t.TempDir()
	editor, _ := scriptedEditor(t, up.HTTP.URL+"/anything/one?x=1")
	opts := defaultOptions(st)
	opts.Replay = upstreamReplay(st, log)
	opts.EditDir = editDir
	// The Editor option wins over the environment.
	opts.Editor = editor
	opts.Getenv = func(string) string { return "/nonexistent/editor" }
	hs := start(t, opts, 140, 20)
	hs.key(tcell.KeyHome)
	hs.key(tcell.KeyEnter)
	hs.waitText("#1 GET")
	hs.runes("e")
	hs.waitText("replayed #1 as #3: 200 OK")
	calls := log.all()
	if len(calls) != 1 || calls[0].edited == nil || calls[0].edited.Header.Get("X-Test") != "edited" {
		t.Fatalf("Replay calls = %+v, want one with the edited header", calls)
	}
	got, err := st.Get(3)
	if err != nil {
		t.Fatal(err)
	}
	if body := string(got.Response.Body.Data); !strings.Contains(body, `"edited"`) {
		t.Errorf("upstream did not get the edited header:\n%s", body)
	}
	// The detail view moved to the replay.
	hs.waitText("#3 GET " + up.HTTP.URL + "/anything/one?x=1 → 200 OK  replay of #1")
	hs.waitText("Request  ~ X-Test: original → edited")
	// The edit file was private and is gone after a successful send.
	if perm, err := os.ReadFile(filepath.Join(filepath.Dir(editor), "perm")); err != nil || strings.TrimSpace(string(perm)) != "600" {
		t.Errorf("the request text had mode %q (%v), want 600", perm, err)
	}
	if left, _ := os.ReadDir(editDir); len(left) != 0 {
		t.Errorf("edit directory not cleaned after sending: %v", left)
	}
}

func TestEditMalformedKeepsText(t *testing.T) {
	up := testupstream.Start(t)
	st := openStore(t, upstreamFlows(up.HTTP.URL))
	log := &callLog{}
	editDir := t.TempDir()
	editor, setMode := scriptedEditor(t, up.HTTP.URL+"/anything/one?x=1")
	opts := defaultOptions(st)
	opts.Replay = upstreamReplay(st, log)
	opts.EditDir = editDir
	opts.Getenv = func(name string) string { // $VISUAL is unset: $EDITOR is used
		if name == "EDITOR" {
			return editor
		}
		return ""
	}
	hs := start(t, opts, 240, 12)
	hs.key(tcell.KeyHome)
	setMode("break")
	hs.runes("e")
	txt := hs.waitText("(kept: e reopens it)")
	stable := regexp.MustCompile(regexp.QuoteMeta(editDir)+`/onpath-edit-1-[0-9]+`).ReplaceAllString(txt, "$$EDITDIR/onpath-edit-1-N")
	stable = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`).ReplaceAllString(stable, "127.0.0.1:PORT")
	golden(t, "edit_error", stable)
	m := regexp.MustCompile(`(\S+request-1\.http):(\d+): `).FindStringSubmatch(txt)
	if m == nil {
		t.Fatalf("no file:line in the error:\n%s", txt)
	}
	kept, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatalf("the malformed text was not kept: %v", err)
	}
	lines := strings.Split(string(kept), "\n")
	if n := len(lines); n < 2 || !strings.HasPrefix(lines[mustAtoi(t, m[2])-1], "GET") {
		t.Errorf("line %s of the kept text is not the broken request line:\n%s", m[2], kept)
	}
	if len(log.all()) != 0 {
		t.Fatal("a malformed edit was sent")
	}
	// e again reopens the kept text, with what was typed in it.
	setMode("fix")
	hs.runes("e")
	hs.waitText("replayed #1 as #3: 200 OK")
	calls := log.all()
	if len(calls) != 1 || calls[0].edited.Header.Get("X-Test") != "typed by hand" {
		t.Errorf("the fixed edit lost the typed header: %+v", calls)
	}
	if _, err := os.Stat(m[1]); err == nil {
		t.Errorf("the kept text %s was not removed once sent", m[1])
	}
}

func TestEditCancelledOrEditorFails(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	log := &callLog{}
	editDir := t.TempDir()
	editor, setMode := scriptedEditor(t, "http://unused.invalid/")
	opts := defaultOptions(st)
	opts.Replay = scriptedReplay(t, st, log)
	opts.EditDir = editDir
	opts.Editor = editor
	hs := start(t, opts, 240, 12)
	hs.key(tcell.KeyHome)
	setMode("fail")
	hs.runes("e")
	txt := hs.waitText("failed")
	if !strings.Contains(txt, "exit status 3") || !strings.Contains(txt, "the text is kept in "+editDir) {
		t.Errorf("editor failure message:\n%s", txt)
	}
	setMode("empty")
	hs.runes("e")
	hs.waitText("edit cancelled: the file was emptied")
	if len(log.all()) != 0 {
		t.Error("a cancelled edit was sent")
	}
	if left, _ := os.ReadDir(editDir); len(left) != 0 {
		t.Errorf("a cancelled edit left files: %v", left)
	}
}

func TestEditorCommandChoice(t *testing.T) {
	tests := []struct {
		name   string
		option string
		env    map[string]string
		want   string
	}{
		{"option wins", "nano -w", map[string]string{"VISUAL": "code --wait", "EDITOR": "vim"}, "nano -w"},
		{"visual before editor", "", map[string]string{"VISUAL": "code --wait", "EDITOR": "vim"}, "code --wait"},
		{"editor", "", map[string]string{"EDITOR": "vim"}, "vim"},
		{"blank values skipped", " ", map[string]string{"VISUAL": "  ", "EDITOR": ""}, "vi"},
		{"fallback vi", "", nil, "vi"},
	}
	for _, tt := range tests {
		u := &uiState{v: New(Options{Editor: tt.option, Getenv: func(k string) string { return tt.env[k] }})}
		if got := u.editorCommand(); got != tt.want {
			t.Errorf("%s: editorCommand() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("not a number: %q", s)
		}
		n = n*10 + int(c-'0')
	}
	return n
}
