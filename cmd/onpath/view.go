package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gdamore/tcell/v2"

	"onpath/audit"
	"onpath/ca"
	"onpath/control"
	"onpath/flow"
	"onpath/proxy"
	"onpath/store"
	"onpath/ui"
)

func runView(ctx context.Context, e *env, args []string) error {
	fs := e.newCommand("view")
	insecure := fs.Bool("insecure", false, "replays accept an upstream certificate that fails verification (the failure is recorded)")
	var upstreamCAs multiFlag
	fs.Var(&upstreamCAs, "upstream-ca", "PEM file of an extra CA to trust for upstream servers in replays (repeatable)")
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
	roots, err := upstreamRoots(upstreamCAs)
	if err != nil {
		return err
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
	backend := &localBackend{store: st, checker: audit.NewChecker(time.Now),
		replayer: &proxy.Proxy{UpstreamRoots: roots, Insecure: *insecure}}
	v := ui.New(viewerOptions(e, dir, st, status, backend))
	return runViewer(ctx, v)
}

// viewerOptions are the viewer's settings for the data dir dir; replays go
// through b, which records them.
func viewerOptions(e *env, dir string, st *store.Store, status ui.Status, b control.Backend) ui.Options {
	// Edited requests are kept beside the flows, private like them.
	os.MkdirAll(filepath.Join(dir, "edits"), 0o700)
	return ui.Options{
		Source:  st,
		Status:  status,
		NoColor: e.getenv("NO_COLOR") != "",
		Getenv:  e.getenv,
		EditDir: filepath.Join(dir, "edits"),
		Version: version,
		Replay: func(ctx context.Context, id flow.ID, edited *flow.Request, force bool) (*flow.Flow, error) {
			return b.Replay(ctx, control.ReplayRequest{ID: id, Request: edited, Force: force})
		},
	}
}

// runViewer runs v on the terminal until the user quits or ctx ends.
func runViewer(ctx context.Context, v *ui.Viewer) error {
	screen, err := tcell.NewScreen()
	if err != nil {
		return fmt.Errorf("cannot open the terminal for the viewer: %v (use --no-ui for plain output)", err)
	}
	return v.Run(ctx, screen)
}
