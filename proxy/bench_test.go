package proxy

// Benchmarks print figures as ratios against a direct connection to the
// same upstream, measured in the same run. Each benchmark runs one bounded
// measurement whatever b.N is; run them with
//
//	go test -run '^$' -bench . -benchtime 1x ./proxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"onpath/ca"
	"onpath/flow"
	"onpath/internal/loadgen"
	"onpath/internal/testupstream"
)

const (
	benchConcurrency = 32
	benchPhase       = time.Second // per measured phase
	benchMaxRequests = 200_000     // per phase, whatever the speed
	// benchRounds alternates direct and proxied phases and keeps the best
	// of each, so a burst of load from elsewhere on the machine skews less.
	benchRounds = 3
)

// bestOf runs direct and proxied loads alternately and keeps the fastest
// run of each.
func bestOf(direct, proxied func() loadgen.Result) (d, p loadgen.Result) {
	for range benchRounds {
		if r := direct(); r.RPS() > d.RPS() || d.Elapsed == 0 {
			d = r
		}
		if r := proxied(); r.RPS() > p.RPS() || p.Elapsed == 0 {
			p = r
		}
	}
	return d, p
}

// runLoad calls do from benchConcurrency goroutines until benchPhase
// elapsed or benchMaxRequests were sent.
func runLoad(do func() error) loadgen.Result {
	return loadgen.ClosedLoop(context.Background(), benchConcurrency, benchPhase, benchMaxRequests, func(int) error { return do() })
}

// benchProxy is a proxy that counts finished flows instead of keeping them.
func benchProxy(b *testing.B) (*harness, *atomic.Int64) {
	var finished atomic.Int64
	h := newHarness(b, func(p *Proxy) {
		p.OnStart = nil
		p.OnFinish = func(*flow.Flow) { finished.Add(1) }
	})
	return h, &finished
}

func benchUpstreams(b *testing.B) (plain, secure string, roots *testupstream.Upstreams) {
	body := bytes.Repeat([]byte("o"), 1024)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
	p := httptest.NewServer(handler)
	b.Cleanup(p.Close)
	s := testupstream.StartTLS(b, handler)
	return p.URL + "/small", s.URL + "/small", nil
}

// BenchmarkProxyVsDirect: requests/s and p50/p99 latency at concurrency
// 32, for HTTP and HTTPS keep-alive and HTTPS with a new connection per
// request, through the proxy and directly.
func BenchmarkProxyVsDirect(b *testing.B) {
	plainURL, secureURL, _ := benchUpstreams(b)
	h, finished := benchProxy(b)
	upstreamTLS := &tls.Config{RootCAs: testupstream.Roots()}
	proxyTLS := &tls.Config{RootCAs: h.roots}
	cases := []struct {
		name      string
		url       string
		keepAlive bool
	}{
		{"http-keepalive", plainURL, true},
		{"https-keepalive", secureURL, true},
		{"https-newconn", secureURL, false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			direct := loadgen.Client("", upstreamTLS, c.keepAlive, 2*benchConcurrency)
			proxied := loadgen.Client(h.addr, proxyTLS, c.keepAlive, 2*benchConcurrency)
			defer direct.CloseIdleConnections()
			defer proxied.CloseIdleConnections()
			before := finished.Load()
			var sent int64
			d, p := bestOf(
				func() loadgen.Result { return runLoad(func() error { return loadgen.Fetch(direct, c.url, -1) }) },
				func() loadgen.Result {
					r := runLoad(func() error { return loadgen.Fetch(proxied, c.url, -1) })
					sent += int64(r.Answered() + r.Errors)
					return r
				})
			proxied.CloseIdleConnections()
			lost := waitFlows(finished, before+sent, 10*time.Second)
			b.ReportMetric(p.RPS(), "proxy-req/s")
			b.ReportMetric(d.RPS(), "direct-req/s")
			b.ReportMetric(p.RPS()/d.RPS(), "throughput-ratio")
			b.ReportMetric(float64(p.Percentile(0.50).Microseconds()), "proxy-p50-µs")
			b.ReportMetric(float64(p.Percentile(0.99).Microseconds()), "proxy-p99-µs")
			b.ReportMetric(float64(d.Percentile(0.50).Microseconds()), "direct-p50-µs")
			b.ReportMetric(float64(d.Percentile(0.99).Microseconds()), "direct-p99-µs")
			b.ReportMetric(float64((p.Percentile(0.99) - d.Percentile(0.99)).Microseconds()), "added-p99-µs")
			b.ReportMetric(float64(p.Errors+d.Errors), "errors")
			b.ReportMetric(float64(lost), "flows-lost")
		})
	}
}

// waitFlows waits until finished reaches want and returns how many are missing.
func waitFlows(finished *atomic.Int64, want int64, limit time.Duration) int64 {
	deadline := time.Now().Add(limit)
	for finished.Load() < want && time.Now().Before(deadline) {
		runtime.Gosched()
		time.Sleep(time.Millisecond) // polling a counter, bounded by limit
	}
	return max(0, want-finished.Load())
}

// BenchmarkFirstRequestPerHost: the first request to each of 500 distinct
// host names (h1.localhost ... h500.localhost, all served on 127.0.0.1),
// which mints a leaf each, against requests to one already-minted name; and
// the bare minting cost of the ca package.
func BenchmarkFirstRequestPerHost(b *testing.B) {
	const hosts = 500
	_, secureURL, _ := benchUpstreams(b)
	h, _ := benchProxy(b)
	target := strings.TrimPrefix(strings.TrimSuffix(secureURL, "/small"), "https://")

	request := func(sni string) error { return loadgen.TunnelGet(h.addr, target, sni, "/small", h.roots) }
	timeEach := func(name func(i int) string) (time.Duration, error) {
		start := time.Now()
		for i := range hosts {
			if err := request(name(i)); err != nil {
				return 0, err
			}
		}
		return time.Since(start) / hosts, nil
	}
	if err := request("warm.localhost"); err != nil {
		b.Fatal(err)
	}
	cached, err := timeEach(func(int) string { return "warm.localhost" })
	if err != nil {
		b.Fatal(err)
	}
	fresh, err := timeEach(func(i int) string { return fmt.Sprintf("h%d.localhost", i) })
	if err != nil {
		b.Fatal(err)
	}

	authority, _, err := ca.LoadOrCreate(b.TempDir(), ca.Options{})
	if err != nil {
		b.Fatal(err)
	}
	leaves, err := authority.NewLeaves(hosts * 2)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for i := range hosts {
		if _, err := leaves.Get(fmt.Sprintf("m%d.localhost", i)); err != nil {
			b.Fatal(err)
		}
	}
	mint := time.Since(start) / hosts

	b.ReportMetric(float64(fresh.Microseconds()), "new-host-µs/req")
	b.ReportMetric(float64(cached.Microseconds()), "known-host-µs/req")
	b.ReportMetric(float64((fresh - cached).Microseconds()), "mint-overhead-µs")
	b.ReportMetric(float64(mint.Microseconds()), "ca-mint-µs")
}

// BenchmarkLargeTransfer: a 100 MiB download and a 100 MiB upload over
// HTTPS, through the proxy and directly; MB/s and the heap peak while the
// proxy streams (client and upstream run in the same process and stream
// through small buffers, so the peak is the proxy's).
func BenchmarkLargeTransfer(b *testing.B) {
	const size = 100 << 20
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/download":
			w.Header().Set("Content-Length", fmt.Sprint(size))
			for sent := 0; sent < size; sent += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "/upload":
			n, _ := io.Copy(io.Discard, r.Body)
			fmt.Fprint(w, n)
		}
	})
	up := testupstream.StartTLS(b, handler)
	h, _ := benchProxy(b)
	direct := loadgen.Client("", &tls.Config{RootCAs: testupstream.Roots()}, true, 2*benchConcurrency)
	proxied := loadgen.Client(h.addr, &tls.Config{RootCAs: h.roots}, true, 2*benchConcurrency)

	download := func(c *http.Client) error { return loadgen.Fetch(c, up.URL+"/download", -1) }
	upload := func(c *http.Client) error {
		resp, err := c.Post(up.URL+"/upload", "application/octet-stream", io.LimitReader(repeatReader(chunk), size))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		if string(got) != fmt.Sprint(size) {
			return fmt.Errorf("upstream read %s bytes", got)
		}
		return nil
	}
	for _, tt := range []struct {
		name string
		do   func(*http.Client) error
	}{{"download", download}, {"upload", upload}} {
		b.Run(tt.name, func(b *testing.B) {
			measure := func(c *http.Client) (float64, uint64) {
				runtime.GC()
				stop := make(chan struct{})
				peak := make(chan uint64)
				go samplePeakHeap(stop, peak)
				start := time.Now()
				if err := tt.do(c); err != nil {
					b.Fatal(err)
				}
				elapsed := time.Since(start)
				close(stop)
				return float64(size) / (1 << 20) / elapsed.Seconds(), <-peak
			}
			var dRate, pRate float64
			var dPeak, pPeak uint64
			for range benchRounds {
				r, peak := measure(direct)
				dRate, dPeak = max(dRate, r), max(dPeak, peak)
				r, peak = measure(proxied)
				pRate, pPeak = max(pRate, r), max(pPeak, peak)
			}
			b.ReportMetric(pRate, "proxy-MB/s")
			b.ReportMetric(dRate, "direct-MB/s")
			b.ReportMetric(pRate/dRate, "throughput-ratio")
			b.ReportMetric(float64(pPeak)/(1<<20), "proxy-run-heap-peak-MiB")
			b.ReportMetric(float64(dPeak)/(1<<20), "direct-run-heap-peak-MiB")
		})
	}
}

type repeatReader []byte

func (r repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], r)
	}
	return n, nil
}

// samplePeakHeap samples the in-use heap every 10 ms until stop.
func samplePeakHeap(stop <-chan struct{}, peak chan<- uint64) {
	var m runtime.MemStats
	var top uint64
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		runtime.ReadMemStats(&m)
		top = max(top, m.HeapInuse+m.StackInuse)
		select {
		case <-stop:
			peak <- top
			return
		case <-tick.C:
		}
	}
}
