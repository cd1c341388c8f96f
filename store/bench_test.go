package store

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"onpath/flow"
	"onpath/store/query"
)

const bigFlows = 1_000_000

// bigStore is a database of a million list-sized flows, generated once per
// test binary run for the scan benchmarks and removed by TestMain.
var bigStore struct {
	once sync.Once
	dir  string
	path string
	err  error
	took time.Duration
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bigStore.dir != "" {
		os.RemoveAll(bigStore.dir)
	}
	os.Exit(code)
}

// listFlow is a typical small flow: what the viewer lists, no bodies.
func listFlow(i int) *flow.Flow {
	start := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond)
	f := &flow.Flow{
		Kind: flow.KindHTTP,
		Request: flow.Request{
			Method: []string{"GET", "GET", "POST", "PUT"}[i%4],
			URL:    fmt.Sprintf("https://svc%d.example.com/api/v1/items/%d?page=%d", i%50, i, i%7),
			Proto:  "HTTP/1.1",
			Body:   flow.Body{Size: int64(i % 300)},
		},
		Response: &flow.Response{Proto: "HTTP/1.1", Status: []int{200, 200, 304, 404, 500}[i%5], Body: flow.Body{Size: int64(1000 + i%5000)}},
		Timings:  flow.Timings{Start: start, End: start.Add(time.Duration(i%900) * time.Millisecond)},
	}
	if i%97 == 0 {
		f.Findings = []flow.Finding{{Rule: "CK03", Severity: flow.SeverityMedium}}
	}
	return f
}

func openBigStore(b *testing.B) *Store {
	b.Helper()
	bigStore.once.Do(func() {
		bigStore.dir, bigStore.err = os.MkdirTemp("", "onpath-store-bench-")
		if bigStore.err != nil {
			return
		}
		bigStore.path = filepath.Join(bigStore.dir, "flows.db")
		start := time.Now()
		s, err := Open(bigStore.path, Options{})
		if err != nil {
			bigStore.err = err
			return
		}
		batch := make([]*flow.Flow, 0, 10000)
		for i := 1; i <= bigFlows; i++ {
			batch = append(batch, listFlow(i))
			if len(batch) == cap(batch) {
				if err := s.PutBatch(batch); err != nil {
					bigStore.err = err
					s.Close()
					return
				}
				batch = batch[:0]
			}
		}
		bigStore.err = s.Close()
		bigStore.took = time.Since(start)
	})
	if bigStore.err != nil {
		b.Fatalf("generating %d flows: %v", bigFlows, bigStore.err)
	}
	s, err := Open(bigStore.path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if info, err := os.Stat(bigStore.path); err == nil {
		b.Logf("%d flows, %d MiB, generated in %v", bigFlows, info.Size()>>20, bigStore.took.Round(time.Millisecond))
	}
	return s
}

// BenchmarkPut measures Put throughput with 2 KiB response bodies, through
// the writer's batching, until everything is committed.
func BenchmarkPut(b *testing.B) {
	s, _ := mustOpen(b)
	i, elapsed := putUntilDone(b, s)
	st, _ := s.Stats()
	b.ReportMetric(float64(i)/elapsed.Seconds(), "flows/s")
	b.ReportMetric(float64(i)/float64(max(st.Commits, 1)), "flows/commit")
}

// BenchmarkPutParallel is Put from many goroutines, as the proxy does:
// encoding happens in the callers, the writer only commits.
func BenchmarkPutParallel(b *testing.B) {
	s, _ := mustOpen(b)
	body := bytes.Repeat([]byte("x"), 2048)
	start := time.Now()
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			f := listFlow(int(n.Add(1)))
			f.Response.Body = flow.Body{Size: 2048, Data: body}
			if err := s.Put(f); err != nil {
				b.Error(err)
				return
			}
		}
	})
	if err := s.Flush(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "flows/s")
}

func BenchmarkDecodeSummary(b *testing.B) {
	sum := listFlow(12345).Summarize()
	enc := appendSummary(nil, &sum)
	var out flow.Summary
	for b.Loop() {
		if err := decodeSummary(12345, enc, &out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSummaryScan1M walks every summary of a million flows.
func BenchmarkSummaryScan1M(b *testing.B) {
	s := openBigStore(b)
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		n := 0
		err := s.Summaries(context.Background(), 0, func(flow.Summary) bool { n++; return true })
		if err != nil || n != bigFlows {
			b.Fatalf("scanned %d summaries, err %v; want %d", n, err, bigFlows)
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N)/bigFlows, "ns/summary")
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/scan")
}

// BenchmarkQuery1M runs a summary-only query over a million flows.
func BenchmarkQuery1M(b *testing.B) {
	s := openBigStore(b)
	q, err := query.Parse("host:svc1*.example.com status:4xx|5xx -method:PUT items")
	if err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		matched := 0
		err := s.Query(context.Background(), q, nil, func(flow.Summary) bool { matched++; return true })
		if err != nil || matched == 0 {
			b.Fatalf("query matched %d, err %v", matched, err)
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/query")
}

// BenchmarkLastSummaries100 reads the newest 100 of a million flows.
func BenchmarkLastSummaries100(b *testing.B) {
	s := openBigStore(b)
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		sums, err := s.LastSummaries(100)
		if err != nil || len(sums) != 100 || sums[99].ID != bigFlows {
			b.Fatalf("LastSummaries(100): %d, err %v", len(sums), err)
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms/op")
}

// BenchmarkQueryRecords1M runs a query that needs full records (a header
// term) over a million flows: every record is decoded, no body is read.
func BenchmarkQueryRecords1M(b *testing.B) {
	s := openBigStore(b)
	q, err := query.Parse("header:X-Missing")
	if err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		err := s.Query(context.Background(), q, nil, func(flow.Summary) bool { return true })
		if err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/query")
}

// BenchmarkDecodeRecord decodes a list-sized record and a full one (TLS
// chains, headers, findings).
func BenchmarkDecodeRecord(b *testing.B) {
	for _, tt := range []struct {
		name string
		f    *flow.Flow
	}{{"small", listFlow(12345)}, {"full", testFlow(12345)}} {
		rec := encodeRecord(tt.f)
		b.Run(tt.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := decodeRecord(rec); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(rec)), "bytes/record")
		})
	}
}

// BenchmarkCompact compacts a store of 10 000 flows, 9 000 of them
// deleted, from a fresh copy each time.
func BenchmarkCompact(b *testing.B) {
	s, path := mustOpen(b)
	const n = 10000
	putFlows(b, s, 1, n)
	deleteMost(b, s, n, 10)
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	work := filepath.Join(b.TempDir(), "flows.db")
	var before, after int64
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		if err := os.WriteFile(work, orig, 0o600); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		before, after, err = Compact(work, Options{})
		total += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(before)/(1<<20), "MiB-before")
	b.ReportMetric(float64(after)/(1<<20), "MiB-after")
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/compact")
}

// BenchmarkPutWithKeep is BenchmarkPut with retention at work after every
// commit (Keep 1000): the price of trimming while recording.
func BenchmarkPutWithKeep(b *testing.B) {
	s, _ := mustOpen(b, Options{Keep: 1000})
	i, elapsed := putUntilDone(b, s)
	st, _ := s.Stats()
	b.ReportMetric(float64(i)/elapsed.Seconds(), "flows/s")
	b.ReportMetric(float64(st.Trimmed), "trimmed")
	b.ReportMetric(float64(st.InUse)/(1<<20), "MiB-in-use")
}

// BenchmarkPutWithMaxSize is BenchmarkPut with a 4 MiB MaxSize: the
// in-use size is measured and the oldest flows deleted between commits.
func BenchmarkPutWithMaxSize(b *testing.B) {
	s, path := mustOpen(b, Options{MaxSize: 4 << 20})
	i, elapsed := putUntilDone(b, s)
	st, _ := s.Stats()
	info, _ := os.Stat(path)
	b.ReportMetric(float64(i)/elapsed.Seconds(), "flows/s")
	b.ReportMetric(float64(st.InUse)/(1<<20), "MiB-in-use")
	b.ReportMetric(float64(info.Size())/(1<<20), "MiB-file")
}

// putUntilDone Puts flows with 2 KiB response bodies for as long as the
// benchmark loops, then flushes; it returns how many and how long it took.
func putUntilDone(b *testing.B, s *Store) (int, time.Duration) {
	b.Helper()
	body := bytes.Repeat([]byte("x"), 2048)
	start := time.Now()
	i := 0
	for b.Loop() {
		i++
		f := listFlow(i)
		f.Response.Body = flow.Body{Size: 2048, Data: body}
		if err := s.Put(f); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		b.Fatal(err)
	}
	return i, time.Since(start)
}
