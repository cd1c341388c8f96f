package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"onpath/store"
)

func runStore(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "compact" {
		return usagef("store needs a subcommand: 'onpath store compact' reclaims the space of deleted flows")
	}
	fs := e.newCommand("store compact")
	rest, dir, err := fs.parse(e, args[1:])
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("store compact takes no arguments")
	}
	path := filepath.Join(dir, "flows.db")
	before, after, err := store.Compact(path, store.Options{})
	switch {
	case errors.Is(err, store.ErrLocked):
		return fmt.Errorf("%s is in use by a running onpath: stop it (Ctrl-C), then run 'onpath store compact' again: compaction needs the file to itself", path)
	case err != nil:
		return err
	}
	fmt.Fprintf(e.Out, "Compacted %s: %s → %s.\n", path, formatSize(before), formatSize(after))
	return nil
}
