package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"onpath/flow"
)

// Listen creates the control socket at path with mode 0600, replacing a
// stale socket file left by a proxy that died. It refuses to replace a
// socket a live proxy still answers on.
func Listen(path string) (net.Listener, error) {
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("control: %s: another onpath answers on this socket", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("control: remove stale socket %s: %w", path, err)
	}
	// The umask makes the socket 0600 from its creation, with no window in
	// which another user could connect.
	l, err := listenPrivate(path)
	if err != nil {
		return nil, fmt.Errorf("control: listen %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("control: chmod %s: %w", path, err)
	}
	return l, nil
}

// Server answers control requests from a Backend.
type Server struct {
	Backend Backend
	Logger  *slog.Logger // nil: silent

	mu   sync.Mutex // guards srv and shut: Serve runs in its own goroutine
	srv  *http.Server
	shut bool
}

// Serve answers on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /summaries", s.summaries)
	mux.HandleFunc("GET /flows", s.flows)
	mux.HandleFunc("GET /flows/{id}", s.flow)
	mux.HandleFunc("POST /replay", s.replay)
	mux.HandleFunc("POST /import", s.importFlows)
	mux.HandleFunc("POST /clear", s.clear)
	mux.HandleFunc("POST /recompute", s.recompute)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	if s.shut {
		// Shutdown came first: serve nothing.
		s.mu.Unlock()
		l.Close()
		return nil
	}
	s.srv = srv
	s.mu.Unlock()
	err := srv.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops the server, letting requests in progress finish until ctx
// is done. A Serve that has not started yet returns at once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shut = true
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Shutdown(ctx)
}

func (s *Server) fail(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, ErrBadRequest):
		code = http.StatusBadRequest
	}
	if s.Logger != nil && code == http.StatusInternalServerError {
		s.Logger.Error("control request failed", "err", err)
	}
	http.Error(w, err.Error(), code)
}

// stream writes JSON Lines; an error after the first line is sent as a
// final {"error": ...} line, since the status is already out.
func (s *Server) stream(w http.ResponseWriter, each func(emit func(any) error) error) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	started := false
	err := each(func(v any) error {
		started = true
		return enc.Encode(v)
	})
	if err != nil {
		if !started {
			s.fail(w, err)
			return
		}
		enc.Encode(streamError{Error: err.Error()})
	}
	bw.Flush()
}

type streamError struct {
	Error string `json:"error"`
}

func (s *Server) summaries(w http.ResponseWriter, r *http.Request) {
	s.stream(w, func(emit func(any) error) error {
		return s.Backend.Summaries(r.Context(), r.URL.Query().Get("q"), func(sum flow.Summary) error { return emit(sum) })
	})
}

func (s *Server) flows(w http.ResponseWriter, r *http.Request) {
	s.stream(w, func(emit func(any) error) error {
		return s.Backend.Flows(r.Context(), r.URL.Query().Get("q"), func(f *flow.Flow) error { return emit(f) })
	})
}

func (s *Server) flow(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, fmt.Errorf("%w: flow id %q is not a number", ErrBadRequest, r.PathValue("id")))
		return
	}
	f, err := s.Backend.Flow(r.Context(), flow.ID(id))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, f)
}

func (s *Server) replay(w http.ResponseWriter, r *http.Request) {
	var req ReplayRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.fail(w, fmt.Errorf("%w: %v", ErrBadRequest, err))
		return
	}
	f, err := s.Backend.Replay(r.Context(), req)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, f)
}

func (s *Server) importFlows(w http.ResponseWriter, r *http.Request) {
	var flows []*flow.Flow
	if err := json.NewDecoder(r.Body).Decode(&flows); err != nil {
		s.fail(w, fmt.Errorf("%w: %v", ErrBadRequest, err))
		return
	}
	res, err := s.Backend.Import(r.Context(), flows)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, res)
}

type countResult struct {
	Count int `json:"count"`
}

func (s *Server) clear(w http.ResponseWriter, r *http.Request) {
	n, err := s.Backend.Clear(r.Context(), r.URL.Query().Get("q"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, countResult{n})
}

func (s *Server) recompute(w http.ResponseWriter, r *http.Request) {
	n, err := s.Backend.Recompute(r.Context(), r.URL.Query().Get("q"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, countResult{n})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
