package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gdamore/tcell/v2"

	"onpath/ca"
	"onpath/ui"
)

func runView(ctx context.Context, e *env, args []string) error {
	fs := e.newCommand("view")
	rest, dir, err := fs.parse(e, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("view takes no arguments (filter inside the viewer with /)")
	}
	if _, err := os.Stat(filepath.Join(dir, "flows.db")); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no flows recorded in %s yet: start the proxy with 'onpath --dir %s' and send traffic through it", dir, dir)
	}
	st, err := openStore(dir)
	if err != nil {
		return fmt.Errorf("%v\nA running proxy shows its own viewer; 'onpath flows' and 'onpath show' work beside it.", err)
	}
	defer st.Close()
	status := ui.Status{QueueDepth: st.QueueDepth, RecorderError: st.LastError}
	if authority, err := ca.Load(dir, ca.Options{}); err == nil {
		status.CAFingerprint = authority.Fingerprint()
	}
	v := ui.New(ui.Options{Source: st, Status: status, NoColor: e.getenv("NO_COLOR") != ""})
	return runViewer(ctx, v)
}

// runViewer runs v on the terminal until the user quits or ctx ends.
func runViewer(ctx context.Context, v *ui.Viewer) error {
	screen, err := tcell.NewScreen()
	if err != nil {
		return fmt.Errorf("cannot open the terminal for the viewer: %v (use --no-ui for plain output)", err)
	}
	return v.Run(ctx, screen)
}
