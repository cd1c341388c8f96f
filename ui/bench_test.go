package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"onpath/flow"
	"onpath/store"
)

// benchFlows is the size of the benchmark store.
const benchFlows = 1_000_000

// benchStore opens a store of benchFlows synthetic flows, generated once
// and cached under the temp dir (keyed by this fixture's version): writing
// a million flows takes far longer than any benchmark.
func benchStore(b *testing.B) *store.Store {
	b.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("onpath-ui-bench-v1-%d", benchFlows))
	path := filepath.Join(dir, "flows.db")
	ready := filepath.Join(dir, "complete")
	if _, err := os.Stat(ready); err == nil {
		st, err := store.Open(path, store.Options{})
		if err == nil {
			if n, err := st.Len(); err == nil && n == benchFlows {
				b.Cleanup(func() { st.Close() })
				return st
			}
			st.Close()
		}
		if err != nil && !errors.Is(err, store.ErrCorrupt) && !errors.Is(err, store.ErrNewerFormat) {
			b.Fatal(err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	began := time.Now()
	methods := []string{"GET", "GET", "GET", "POST", "PUT", "DELETE"}
	hosts := []string{"api.example.com", "cdn.example.org", "shop.example.net", "auth.example.io", "static.assets.example.com"}
	statuses := []int{200, 200, 200, 204, 301, 304, 404, 500}
	const batch = 20000
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for start := 0; start < benchFlows; start += batch {
		fs := make([]*flow.Flow, 0, batch)
		for i := start; i < start+batch; i++ {
			scheme := "https"
			if i%7 == 0 {
				scheme = "http"
			}
			f := &flow.Flow{
				ID:   flow.ID(i + 1),
				Kind: flow.KindHTTP,
				Request: flow.Request{Method: methods[i%len(methods)], Proto: "HTTP/1.1",
					URL: fmt.Sprintf("%s://%s/v1/items/%d/details?page=%d&sort=name", scheme, hosts[i%len(hosts)], i, i%13)},
				Response: &flow.Response{Proto: "HTTP/1.1", Status: statuses[i%len(statuses)], Body: flow.Body{Size: int64(i % 50000)}},
				Timings:  flow.Timings{Start: t0.Add(time.Duration(i) * time.Millisecond), End: t0.Add(time.Duration(i)*time.Millisecond + time.Duration(i%900)*time.Millisecond)},
			}
			if i%11 == 0 {
				f.Findings = []flow.Finding{{Rule: "CK04", Severity: flow.Severity(1 + i%4), Message: "x"}}
			}
			fs = append(fs, f)
		}
		if err := st.PutBatch(fs); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("generated %d flows in %v (cached in %s)", benchFlows, time.Since(began), dir)
	if err := os.WriteFile(ready, nil, 0o600); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// benchUI sets up the view-model on a simulation screen without the
// event loop, so the benchmark drives it from one goroutine.
func benchUI(b *testing.B, st Source, w, h int) (*Viewer, *uiState, context.CancelFunc) {
	b.Helper()
	screen := tcell.NewSimulationScreen("UTF-8")
	if err := screen.Init(); err != nil {
		b.Fatal(err)
	}
	screen.SetSize(w, h)
	b.Cleanup(screen.Fini)
	v := New(Options{Source: st, Now: fixedNow, Location: time.UTC})
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	v.ui = newUIState(v, screen)
	v.ui.ctx = ctx
	return v, &v.ui, cancel
}

// waitLoaded drains the inbox until the background load is merged.
func waitLoaded(b *testing.B, v *Viewer) {
	b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for v.ui.loading {
		v.drain()
		if time.Now().After(deadline) {
			b.Fatal("background load did not finish")
		}
		time.Sleep(time.Millisecond) // polling the inbox; no event loop runs here
	}
}

// BenchmarkFirstFrame: opening a store of a million flows to the first
// drawn frame (budget 500 ms). The rest loads in the background.
func BenchmarkFirstFrame(b *testing.B) {
	st := benchStore(b)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var wall, cpu time.Duration
	for b.Loop() {
		v, u, cancel := benchUI(b, st, 160, 45)
		began := time.Now()
		cpu0, _ := threadCPUTime()
		if err := u.openList(); err != nil {
			b.Fatal(err)
		}
		u.draw()
		cpu1, _ := threadCPUTime()
		wall += time.Since(began)
		cpu += cpu1 - cpu0
		// Stop the background load and wait for it, so it does not
		// compete with the next iteration.
		cancel()
		for loaded := false; !loaded; {
			v.mu.Lock()
			loaded = v.inbox.loaded != nil
			v.mu.Unlock()
			time.Sleep(time.Millisecond) // polling the loader's hand-over
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(ms(wall), "ms/first-frame-wall")
	b.ReportMetric(ms(cpu), "ms/first-frame-cpu")
}

// BenchmarkKeystrokeRedraw: a key (scroll, page, open a flow and back)
// and the full redraw, with a million flows loaded (budget 16 ms).
func BenchmarkKeystrokeRedraw(b *testing.B) {
	st := benchStore(b)
	v, u, _ := benchUI(b, st, 160, 45)
	if err := u.openList(); err != nil {
		b.Fatal(err)
	}
	waitLoaded(b, v)
	keys := []*tcell.EventKey{
		tcell.NewEventKey(tcell.KeyUp, 0, tcell.ModNone),
		tcell.NewEventKey(tcell.KeyPgUp, 0, tcell.ModNone),
		tcell.NewEventKey(tcell.KeyEnter, 0, tcell.ModNone),
		tcell.NewEventKey(tcell.KeyRune, '2', tcell.ModNone),
		tcell.NewEventKey(tcell.KeyEsc, 0, tcell.ModNone),
		tcell.NewEventKey(tcell.KeyRune, 'g', tcell.ModNone),
		tcell.NewEventKey(tcell.KeyPgDn, 0, tcell.ModNone),
		tcell.NewEventKey(tcell.KeyRune, 'G', tcell.ModNone),
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var wall, cpu []time.Duration
	perKey := make([]time.Duration, len(keys))
	i := 0
	for b.Loop() {
		began := time.Now()
		cpu0, _ := threadCPUTime()
		u.key(keys[i%len(keys)])
		u.draw()
		cpu1, ok := threadCPUTime()
		d := time.Since(began)
		wall = append(wall, d)
		if ok {
			cpu = append(cpu, cpu1-cpu0)
			perKey[i%len(keys)] = max(perKey[i%len(keys)], cpu1-cpu0)
		}
		i++
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	slices.Sort(wall)
	b.ReportMetric(ms(wall[len(wall)/2]), "ms/key-wall-p50")
	b.ReportMetric(ms(wall[len(wall)*99/100]), "ms/key-wall-p99")
	if len(cpu) > 0 {
		slices.Sort(cpu)
		b.ReportMetric(ms(cpu[len(cpu)*99/100]), "ms/key-cpu-p99")
		for k, d := range perKey {
			b.Logf("key %s: worst thread CPU %v", keys[k].Name(), d)
		}
	}
}

// BenchmarkFilter1M: a filter over a million flows, from Enter to the
// result applied (budget 2 s).
func BenchmarkFilter1M(b *testing.B) {
	st := benchStore(b)
	v, u, _ := benchUI(b, st, 160, 45)
	if err := u.openList(); err != nil {
		b.Fatal(err)
	}
	waitLoaded(b, v)
	for _, q := range []string{"host:auth.example.io status:2xx", "scheme:http -method:GET severity:high", "header:content-type"} {
		b.Run(q, func(b *testing.B) {
			var total time.Duration
			matched := 0
			for b.Loop() {
				began := time.Now()
				u.startFilter(q)
				for u.filterRun != nil {
					v.drain()
					time.Sleep(time.Millisecond) // polling the inbox; no event loop runs here
				}
				total += time.Since(began)
				if u.filter == nil {
					b.Fatalf("filter %q failed: %s", q, u.message)
				}
				matched = len(u.filter.ids)
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/filter")
			b.ReportMetric(float64(matched), "matches")
		})
	}
}

// BenchmarkMemory1M: the viewer's heap with a million flows listed
// (budget 200 MiB).
func BenchmarkMemory1M(b *testing.B) {
	st := benchStore(b)
	for b.Loop() {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		v, u, cancel := benchUI(b, st, 160, 45)
		if err := u.openList(); err != nil {
			b.Fatal(err)
		}
		waitLoaded(b, v)
		u.draw()
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapInuse)/(1<<20), "MiB-heap-inuse")
		b.ReportMetric(float64(int64(after.HeapInuse)-int64(before.HeapInuse))/(1<<20), "MiB-viewer")
		b.ReportMetric(float64(u.all.Len()), "rows")
		cancel()
		runtime.KeepAlive(v)
		u.screen.Fini() // or the benchmark itself keeps every screen until cleanup
	}
}
