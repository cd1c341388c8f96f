package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"onpath/control"
	"onpath/flow"
	"onpath/httptext"
	"onpath/proxy"
)

func runReplay(ctx context.Context, e *env, args []string) error {
	fs := e.newCommand("replay")
	edit := fs.Bool("edit", false, "edit the request in $EDITOR (default vi) before sending it")
	force := fs.Bool("force", false, "send a request whose recorded body is truncated, as recorded")
	count := fs.Int("count", 1, "send the request this many times")
	concurrency := fs.Int("concurrency", 1, "with --count, how many requests are in flight at once")
	insecure := fs.Bool("insecure", false, "accept an upstream certificate that fails verification (the failure is recorded)")
	var upstreamCAs multiFlag
	fs.Var(&upstreamCAs, "upstream-ca", "PEM file of an extra CA to trust for upstream servers (repeatable)")
	bodyLimit := sizeFlag{16 << 20}
	fs.Var(&bodyLimit, "body-limit", "bytes of each body to record")
	rest, dir, err := fs.parse(e, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("replay needs one flow id, as 'onpath flows' lists them")
	}
	id, err := flowID(rest[0])
	if err != nil {
		return err
	}
	if *count < 1 || *count > 100000 {
		return usagef("--count must be between 1 and 100000")
	}
	if *concurrency < 1 || *concurrency > 1000 {
		return usagef("--concurrency must be between 1 and 1000")
	}
	s, err := openBackend(e, dir, func() (replayer, error) {
		roots, err := upstreamRoots(upstreamCAs)
		if err != nil {
			return nil, err
		}
		return &proxy.Proxy{UpstreamRoots: roots, Insecure: *insecure, BodyLimit: bodyLimit.n}, nil
	})
	if err != nil {
		return err
	}
	defer s.close()

	req := control.ReplayRequest{ID: id, Force: *force}
	if *edit {
		orig, err := s.Flow(ctx, id)
		if err != nil {
			return cliError(err)
		}
		edited, err := editRequest(e, dir, orig)
		if err != nil {
			return err
		}
		req.Request = &edited
	}
	if *count == 1 {
		nf, err := s.Replay(ctx, req)
		if err != nil {
			return cliError(err)
		}
		fmt.Fprintf(e.Out, "flow %d (replay of %d): %s\n", nf.ID, id, flowLine(nf.Summarize()))
		if nf.Error != nil {
			return fmt.Errorf("the replay failed (%s): %s", nf.Error.Phase, nf.Error.Message)
		}
		return nil
	}
	return replayMany(ctx, e, s, req, *count, *concurrency)
}

// replayMany sends req count times, concurrency at a time, and prints a
// latency summary.
func replayMany(ctx context.Context, e *env, s *session, req control.ReplayRequest, count, concurrency int) error {
	var (
		mu        sync.Mutex
		latencies []time.Duration
		statuses  = map[string]int{}
		firstErr  error
	)
	jobs := make(chan struct{})
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for range jobs {
				start := time.Now()
				nf, err := s.Replay(ctx, req)
				elapsed := time.Since(start)
				mu.Lock()
				switch {
				case err != nil:
					statuses["failed"]++
					if firstErr == nil {
						firstErr = err
					}
				case nf.Error != nil:
					statuses[string(nf.Error.Phase)]++
				default:
					statuses[fmt.Sprint(nf.Status())]++
					latencies = append(latencies, elapsed)
				}
				mu.Unlock()
			}
		})
	}
	for i := 0; i < count && ctx.Err() == nil; i++ {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
	if len(latencies) == 0 && firstErr != nil {
		return cliError(firstErr)
	}
	slices.Sort(latencies)
	pct := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))]
	}
	fmt.Fprintf(e.Out, "sent %d replays of flow %d, %d at a time\n", count, req.ID, concurrency)
	keys := make([]string, 0, len(statuses))
	for k := range statuses {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(e.Out, "  %-14s %d\n", k, statuses[k])
	}
	if len(latencies) > 0 {
		fmt.Fprintf(e.Out, "  latency min %s  p50 %s  p90 %s  p99 %s  max %s\n", formatDuration(latencies[0]),
			formatDuration(pct(0.5)), formatDuration(pct(0.9)), formatDuration(pct(0.99)), formatDuration(latencies[len(latencies)-1]))
	}
	if firstErr != nil {
		fmt.Fprintf(e.Err, "onpath: some replays failed; the first: %v\n", firstErr)
	}
	return nil
}

// editRequest writes the flow's request as text into a file kept under
// the data dir, opens $EDITOR on it and parses it back. The file stays, so
// an edit that does not parse is never lost.
func editRequest(e *env, dir string, f *flow.Flow) (flow.Request, error) {
	editDir := filepath.Join(dir, "edits")
	if err := os.MkdirAll(editDir, 0o700); err != nil {
		return flow.Request{}, err
	}
	path := filepath.Join(editDir, fmt.Sprintf("flow-%d-%s.http", f.ID, time.Now().Format("20060102-150405")))
	var buf bytes.Buffer
	if err := httptext.WriteEditable(&buf, &f.Request, editDir); err != nil {
		return flow.Request{}, err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		return flow.Request{}, err
	}
	editor := e.getenv("VISUAL")
	if editor == "" {
		editor = e.getenv("EDITOR")
	}
	if editor == "" {
		editor = "vi"
	}
	// Through the shell, as git does, so EDITOR="code --wait" works.
	cmd := exec.Command("/bin/sh", "-c", editor+` "$@"`, editor, path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, e.Err
	if err := cmd.Run(); err != nil {
		return flow.Request{}, fmt.Errorf("the editor (%s) failed: %v\nYour text is kept in %s.", editor, err, path)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return flow.Request{}, err
	}
	req, err := httptext.ParseEditable(text)
	if err != nil {
		var pe *httptext.ParseError
		if errors.As(err, &pe) {
			return flow.Request{}, fmt.Errorf("%s:%d: %s\nNothing was sent. Your text is kept in %s; fix it and run 'onpath replay %d --edit' again, or copy from it.", path, pe.Line, pe.Msg, path, f.ID)
		}
		return flow.Request{}, fmt.Errorf("%v\nNothing was sent. Your text is kept in %s.", err, path)
	}
	fmt.Fprintf(e.Err, "Edited request kept in %s.\n", path)
	return req, nil
}
