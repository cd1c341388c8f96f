package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"onpath/audit"
	"onpath/control"
	"onpath/flow"
	"onpath/store"
	"onpath/store/query"
)

// replayer sends a request through the proxy's upstream path.
type replayer interface {
	Replay(ctx context.Context, req flow.Request) (*flow.Flow, error)
}

// localBackend serves the CLI from a store this process holds: inside the
// running proxy (for the control socket) or in a command when no proxy runs.
type localBackend struct {
	store    *store.Store
	replayer replayer
	checker  *audit.Checker
}

var _ control.Backend = (*localBackend)(nil)

func parseQuery(q string) (*query.Query, error) {
	parsed, err := query.Parse(q)
	if err != nil {
		return nil, control.Refused(err)
	}
	return parsed, nil
}

func (b *localBackend) Summaries(ctx context.Context, q string, fn func(flow.Summary) error) error {
	parsed, err := parseQuery(q)
	if err != nil {
		return err
	}
	var fnErr error
	err = b.store.Query(ctx, parsed, nil, func(s flow.Summary) bool {
		fnErr = fn(s)
		return fnErr == nil
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

func (b *localBackend) Flows(ctx context.Context, q string, fn func(*flow.Flow) error) error {
	var ids []flow.ID
	if err := b.Summaries(ctx, q, func(s flow.Summary) error { ids = append(ids, s.ID); return nil }); err != nil {
		return err
	}
	for _, id := range ids {
		f, err := b.store.Get(id)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

func (b *localBackend) Flow(ctx context.Context, id flow.ID) (*flow.Flow, error) {
	f, err := b.store.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, control.Missing(fmt.Errorf("flow %d does not exist ('onpath flows' lists the ids)", id))
	}
	return f, err
}

func (b *localBackend) Replay(ctx context.Context, r control.ReplayRequest) (*flow.Flow, error) {
	orig, err := b.Flow(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	req := orig.Request
	if r.Request != nil {
		req = *r.Request
	} else if orig.Request.Body.Truncated && !r.Force {
		return nil, control.Refused(fmt.Errorf("flow %d's request body was recorded only in part (%s of %s), so a replay would send a different body; add --force to send the truncated body anyway",
			r.ID, formatSize(int64(len(orig.Request.Body.Data))), formatSize(orig.Request.Body.Size)))
	}
	if orig.Kind == flow.KindTunnel {
		return nil, control.Refused(fmt.Errorf("flow %d is a passthrough tunnel: onpath never saw its requests, so there is nothing to replay", r.ID))
	}
	nf, err := b.replayer.Replay(ctx, req)
	if nf == nil {
		return nil, err
	}
	nf.ID = b.store.NextID()
	nf.ReplayOf = r.ID
	nf.Forced = r.Request == nil && orig.Request.Body.Truncated
	nf.Findings = b.checker.Check(nf)
	if err := b.store.Put(nf); err != nil {
		return nil, err
	}
	if err := b.store.Flush(); err != nil {
		return nil, err
	}
	return nf, nil
}

func (b *localBackend) Import(ctx context.Context, flows []*flow.Flow) (control.ImportResult, error) {
	importID := fmt.Sprintf("%d", time.Now().UnixNano())
	for _, f := range flows {
		f.ID = 0
		// An id from the exporting store names an unrelated flow here.
		f.ReplayOf = 0
		f.ImportID = importID
		if f.Kind == "" {
			f.Kind = flow.KindHTTP
		}
		f.Findings = audit.Findings(f, time.Now())
	}
	if err := b.store.PutBatch(flows); err != nil {
		return control.ImportResult{}, err
	}
	res := control.ImportResult{ImportID: importID}
	for _, f := range flows {
		res.IDs = append(res.IDs, f.ID)
	}
	return res, nil
}

func (b *localBackend) Clear(ctx context.Context, q string) (int, error) {
	var ids []flow.ID
	if err := b.Summaries(ctx, q, func(s flow.Summary) error { ids = append(ids, s.ID); return nil }); err != nil {
		return 0, err
	}
	if err := b.store.Delete(ids...); err != nil {
		return 0, err
	}
	return len(ids), nil
}

// Recompute audits again, in capture order with a fresh checker so the
// cross-flow rules see the session as it happened, and updates the flows
// matching q.
func (b *localBackend) Recompute(ctx context.Context, q string) (int, error) {
	parsed, err := parseQuery(q)
	if err != nil {
		return 0, err
	}
	checker := audit.NewChecker(time.Now)
	var all []flow.ID
	if err := b.store.Summaries(ctx, 0, func(s flow.Summary) bool { all = append(all, s.ID); return true }); err != nil {
		return 0, err
	}
	n := 0
	for _, id := range all {
		f, err := b.store.Get(id)
		if err != nil {
			continue
		}
		findings := checker.Check(f)
		if !parsed.Match(f) {
			continue
		}
		if err := b.store.Update(id, func(g *flow.Flow) error { g.Findings = findings; return nil }); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// session is a Backend for one command, with what to release after.
type session struct {
	control.Backend
	close func() error
}

// openBackend reaches the proxy running on dir, or opens the store itself
// when none runs. rp, when set, builds the upstream client replay needs.
func openBackend(e *env, dir string, rp func() (replayer, error)) (*session, error) {
	if c, err := control.Dial(control.SocketPath(dir)); err == nil {
		return &session{Backend: c, close: func() error { c.Close(); return nil }}, nil
	}
	if _, err := os.Stat(filepath.Join(dir, "flows.db")); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no flows recorded in %s yet: start the proxy with 'onpath --dir %s' and send traffic through it", dir, dir)
	}
	return openLocal(dir, rp)
}

// openBackendCreating is openBackend for commands that may create the store.
func openBackendCreating(e *env, dir string) (*session, error) {
	if c, err := control.Dial(control.SocketPath(dir)); err == nil {
		return &session{Backend: c, close: func() error { c.Close(); return nil }}, nil
	}
	return openLocal(dir, nil)
}

func openLocal(dir string, rp func() (replayer, error)) (*session, error) {
	st, err := openStore(dir)
	if err != nil {
		return nil, err
	}
	b := &localBackend{store: st, checker: audit.NewChecker(time.Now)}
	if rp != nil {
		r, err := rp()
		if err != nil {
			st.Close()
			return nil, err
		}
		b.replayer = r
	}
	return &session{Backend: b, close: st.Close}, nil
}
