package ui

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"onpath/flow"
	"onpath/httptext"
)

// keptEdit is an edited request text that did not parse (or whose editor
// failed); it stays on disk until it is sent.
type keptEdit struct {
	id   flow.ID
	dir  string // the edit's private directory
	path string // the request text inside it
}

// editAndReplay opens the current flow's request in the editor and
// replays what comes back (e). The event loop waits while the editor owns
// the terminal; the replay itself then runs in the background.
func (u *uiState) editAndReplay() {
	f, ok := u.currentFlow()
	if !ok {
		return
	}
	if f.Kind == flow.KindTunnel {
		u.setError("%s", replayRefusal(f, false))
		return
	}
	edit := u.keptEdit
	if edit == nil || edit.id != f.ID {
		var err error
		if edit, err = u.writeEditable(f); err != nil {
			u.v.log.Warn("ui: write the request for editing", "id", f.ID, "err", err)
			u.setError("cannot prepare #%d for editing: %v", f.ID, err)
			return
		}
	}
	u.keptEdit = nil
	if err := u.runEditor(edit.path); err != nil {
		u.keptEdit = edit
		u.setError("%v; the text is kept in %s (e reopens it)", err, edit.path)
		return
	}
	text, err := os.ReadFile(edit.path)
	if err != nil {
		u.keptEdit = edit
		u.setError("cannot read the edited request: %v", err)
		return
	}
	if strings.TrimSpace(string(text)) == "" {
		os.RemoveAll(edit.dir)
		u.setInfo("edit cancelled: the file was emptied")
		return
	}
	req, err := httptext.ParseEditable(text)
	if err != nil {
		u.keptEdit = edit
		var pe *httptext.ParseError
		if errors.As(err, &pe) {
			u.setError("%s:%d: %s (kept: e reopens it)", edit.path, pe.Line, pe.Msg)
			return
		}
		u.setError("%s: %v (kept: e reopens it)", edit.path, err)
		return
	}
	os.RemoveAll(edit.dir)
	u.startReplay(f.ID, &req, false)
}

// writeEditable writes f's request as editable text into a new private
// directory (mode 0700) with any binary body file beside it.
func (u *uiState) writeEditable(f *flow.Flow) (*keptEdit, error) {
	base := u.v.opts.EditDir
	if base == "" {
		base = os.TempDir()
	}
	dir, err := os.MkdirTemp(base, fmt.Sprintf("onpath-edit-%d-*", f.ID))
	if err != nil {
		return nil, fmt.Errorf("ui: edit: %w", err)
	}
	path := filepath.Join(dir, fmt.Sprintf("request-%d.http", f.ID))
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("ui: edit: %w", err)
	}
	werr := httptext.WriteEditable(file, &f.Request, dir)
	if err := errors.Join(werr, file.Close()); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("ui: edit: write %s: %w", path, err)
	}
	return &keptEdit{id: f.ID, dir: dir, path: path}, nil
}

// editorCommand is the editor to run: Options.Editor, $VISUAL, $EDITOR, vi.
func (u *uiState) editorCommand() string {
	if e := strings.TrimSpace(u.v.opts.Editor); e != "" {
		return e
	}
	getenv := u.v.opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	for _, name := range []string{"VISUAL", "EDITOR"} {
		if e := strings.TrimSpace(getenv(name)); e != "" {
			return e
		}
	}
	return "vi"
}

// runEditor hands the terminal to the editor on path and takes it back.
// The editor command goes through the shell so that "code --wait" or
// "emacs -nw" work as they do for git.
func (u *uiState) runEditor(path string) error {
	editor := u.editorCommand()
	cmd := exec.Command("/bin/sh", "-c", editor+` "$@"`, "onpath-editor", path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := u.screen.Suspend(); err != nil {
		return fmt.Errorf("cannot hand the terminal to the editor: %w", err)
	}
	runErr := cmd.Run()
	resumeErr := u.screen.Resume()
	u.screen.Sync()
	if resumeErr != nil {
		u.v.log.Error("ui: resume the screen after the editor", "err", resumeErr)
	}
	if runErr != nil {
		return fmt.Errorf("the editor (%s) failed: %w", editor, runErr)
	}
	return nil
}
