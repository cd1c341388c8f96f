package control

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"onpath/flow"
)

// memoryBackend is a Backend over a slice, enough to exercise the protocol.
type memoryBackend struct {
	flows    []*flow.Flow
	replayed []ReplayRequest
}

func (m *memoryBackend) match(query string, f *flow.Flow) (bool, error) {
	if query == "bad:" {
		return false, fmt.Errorf("%w: term %q is not known", ErrBadRequest, query)
	}
	return strings.Contains(f.Request.URL, query), nil
}

func (m *memoryBackend) Summaries(ctx context.Context, query string, fn func(flow.Summary) error) error {
	return m.Flows(ctx, query, func(f *flow.Flow) error { return fn(f.Summarize()) })
}

func (m *memoryBackend) Flows(_ context.Context, query string, fn func(*flow.Flow) error) error {
	for _, f := range m.flows {
		ok, err := m.match(query, f)
		if err != nil {
			return err
		}
		if ok {
			if err := fn(f); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *memoryBackend) Flow(_ context.Context, id flow.ID) (*flow.Flow, error) {
	for _, f := range m.flows {
		if f.ID == id {
			return f, nil
		}
	}
	return nil, fmt.Errorf("flow %d: %w", id, ErrNotFound)
}

func (m *memoryBackend) Replay(_ context.Context, r ReplayRequest) (*flow.Flow, error) {
	m.replayed = append(m.replayed, r)
	nf := &flow.Flow{ID: flow.ID(len(m.flows) + 1), ReplayOf: r.ID}
	m.flows = append(m.flows, nf)
	return nf, nil
}

func (m *memoryBackend) Import(_ context.Context, flows []*flow.Flow) (ImportResult, error) {
	res := ImportResult{ImportID: "imp1"}
	for _, f := range flows {
		f.ID = flow.ID(len(m.flows) + 1)
		m.flows = append(m.flows, f)
		res.IDs = append(res.IDs, f.ID)
	}
	return res, nil
}

func (m *memoryBackend) Clear(_ context.Context, query string) (int, error) {
	n := len(m.flows)
	m.flows = nil
	return n, nil
}

func (m *memoryBackend) Recompute(_ context.Context, query string) (int, error) {
	return len(m.flows), nil
}

func startServer(t *testing.T, b Backend) (*Client, string) {
	t.Helper()
	dir := t.TempDir()
	path := SocketPath(dir)
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Backend: b}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	c, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, path
}

func sampleFlows() []*flow.Flow {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return []*flow.Flow{
		{ID: 1, Kind: flow.KindHTTP, Request: flow.Request{Method: "GET", URL: "https://a.test/one", Header: map[string][]string{"Cookie": {"a=1", "b=2"}}},
			Response: &flow.Response{Status: 200, Body: flow.Body{Size: 3, Data: []byte{0, 1, 2}}},
			Timings:  flow.Timings{Start: start, End: start.Add(time.Second)}},
		{ID: 2, Kind: flow.KindHTTP, Request: flow.Request{Method: "POST", URL: "http://b.test/two"},
			Error:    &flow.Error{Phase: flow.PhaseDNS, Message: "no such host"},
			Findings: []flow.Finding{{Rule: "CK02", Severity: flow.SeverityHigh}}},
	}
}

func TestClientServerRoundTrip(t *testing.T) {
	b := &memoryBackend{flows: sampleFlows()}
	c, path := startServer(t, b)
	ctx := context.Background()

	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 || st.Mode()&os.ModeSocket == 0 {
		t.Errorf("socket mode = %v, want a 0600 socket", st.Mode())
	}

	var sums []flow.Summary
	if err := c.Summaries(ctx, "", func(s flow.Summary) error { sums = append(sums, s); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []flow.Summary{b.flows[0].Summarize(), b.flows[1].Summarize()}
	if !reflect.DeepEqual(sums, want) {
		t.Errorf("Summaries = %+v\nwant %+v", sums, want)
	}

	var urls []string
	if err := c.Flows(ctx, "b.test", func(f *flow.Flow) error { urls = append(urls, f.Request.URL); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(urls, []string{"http://b.test/two"}) {
		t.Errorf("Flows(b.test) = %v", urls)
	}

	got, err := c.Flow(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Response.Body.Data, []byte{0, 1, 2}) || !reflect.DeepEqual(got.Request.Header["Cookie"], []string{"a=1", "b=2"}) {
		t.Errorf("Flow(1) lost data: %+v", got)
	}

	rep, err := c.Replay(ctx, ReplayRequest{ID: 1, Force: true})
	if err != nil || rep.ReplayOf != 1 || !b.replayed[0].Force {
		t.Errorf("Replay = %+v, %v (backend saw %+v)", rep, err, b.replayed)
	}

	res, err := c.Import(ctx, []*flow.Flow{{Request: flow.Request{URL: "https://imported.test/"}}})
	if err != nil || res.ImportID != "imp1" || len(res.IDs) != 1 {
		t.Errorf("Import = %+v, %v", res, err)
	}
	if n, err := c.Recompute(ctx, ""); err != nil || n != 4 {
		t.Errorf("Recompute = %d, %v; want 4", n, err)
	}
	if n, err := c.Clear(ctx, ""); err != nil || n != 4 {
		t.Errorf("Clear = %d, %v; want 4", n, err)
	}
}

func TestClientErrorsKeepTheirKind(t *testing.T) {
	c, _ := startServer(t, &memoryBackend{flows: sampleFlows()})
	ctx := context.Background()
	if _, err := c.Flow(ctx, 99); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "flow 99") {
		t.Errorf("Flow(99) error = %v, want ErrNotFound naming the flow", err)
	}
	err := c.Summaries(ctx, "bad:", func(flow.Summary) error { return nil })
	if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "not known") {
		t.Errorf("bad query error = %v, want ErrBadRequest with the reason", err)
	}
}

func TestDialWithoutServer(t *testing.T) {
	_, err := Dial(filepath.Join(t.TempDir(), SocketName))
	if !errors.Is(err, ErrNoServer) {
		t.Errorf("Dial error = %v, want ErrNoServer", err)
	}
}

func TestListenReplacesStaleSocketOnly(t *testing.T) {
	dir := t.TempDir()
	path := SocketPath(dir)
	// A socket file with nobody listening, as a killed proxy leaves it.
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	l2, err := Listen(path)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	defer l2.Close()
	go func() {
		for {
			c, err := l2.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if _, err := Listen(path); err == nil || !strings.Contains(err.Error(), "another onpath") {
		t.Errorf("Listen over a live socket: error = %v, want a refusal", err)
	}
}

// onpath starts Serve in a goroutine and may shut down before it runs:
// Serve must then return at once, and close its listener.
func TestShutdownBeforeServe(t *testing.T) {
	path := SocketPath(t.TempDir())
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Backend: &memoryBackend{}}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve after Shutdown = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve after Shutdown still serving after 5 s")
	}
	if _, err := Dial(path); !errors.Is(err, ErrNoServer) {
		t.Errorf("Dial after Serve returned: %v, want ErrNoServer", err)
	}
}
