package proxy

// Benchmarks print figures as ratios against a direct connection to the
// same upstream, measured in the same run. Each benchmark runs one bounded
// measurement whatever b.N is; run them with
//
//	go test -run '^$' -bench . -benchtime 1x ./proxy

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"onpath/ca"
	"onpath/flow"
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
func bestOf(direct, proxied func() loadResult) (d, p loadResult) {
	for range benchRounds {
		if r := direct(); r.rps() > d.rps() || d.elapsed == 0 {
			d = r
		}
		if r := proxied(); r.rps() > p.rps() || p.elapsed == 0 {
			p = r
		}
	}
	return d, p
}

type loadResult struct {
	requests, errors int
	elapsed          time.Duration
	latencies        []time.Duration
}

func (r loadResult) rps() float64 {
	if r.elapsed == 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

func (r loadResult) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[min(len(r.latencies)-1, int(float64(len(r.latencies))*p))]
}

// runLoad calls do from concurrency goroutines until benchPhase elapsed or
// benchMaxRequests were sent.
func runLoad(concurrency int, do func() error) loadResult {
	var sent atomic.Int64
	var mu sync.Mutex
	res := loadResult{}
	start := time.Now()
	deadline := start.Add(benchPhase)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			errs := 0
			for time.Now().Before(deadline) && sent.Add(1) <= benchMaxRequests {
				t0 := time.Now()
				if err := do(); err != nil {
					errs++
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.errors += errs
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.requests = len(res.latencies)
	slices.Sort(res.latencies)
	return res
}

func fetch(c *http.Client, u string) error {
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return err
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

func clientFor(proxyAddr string, roots *tls.Config, keepAlive bool) *http.Client {
	tr := &http.Transport{
		TLSClientConfig:     roots,
		MaxIdleConnsPerHost: benchConcurrency * 2,
		DisableKeepAlives:   !keepAlive,
		DisableCompression:  true,
	}
	if proxyAddr != "" {
		tr.Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: proxyAddr})
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
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
			direct := clientFor("", upstreamTLS, c.keepAlive)
			proxied := clientFor(h.addr, proxyTLS, c.keepAlive)
			defer direct.CloseIdleConnections()
			defer proxied.CloseIdleConnections()
			before := finished.Load()
			var sent int64
			d, p := bestOf(
				func() loadResult { return runLoad(benchConcurrency, func() error { return fetch(direct, c.url) }) },
				func() loadResult {
					r := runLoad(benchConcurrency, func() error { return fetch(proxied, c.url) })
					sent += int64(r.requests + r.errors)
					return r
				})
			proxied.CloseIdleConnections()
			lost := waitFlows(finished, before+sent, 10*time.Second)
			b.ReportMetric(p.rps(), "proxy-req/s")
			b.ReportMetric(d.rps(), "direct-req/s")
			b.ReportMetric(p.rps()/d.rps(), "throughput-ratio")
			b.ReportMetric(float64(p.percentile(0.50).Microseconds()), "proxy-p50-µs")
			b.ReportMetric(float64(p.percentile(0.99).Microseconds()), "proxy-p99-µs")
			b.ReportMetric(float64(d.percentile(0.50).Microseconds()), "direct-p50-µs")
			b.ReportMetric(float64(d.percentile(0.99).Microseconds()), "direct-p99-µs")
			b.ReportMetric(float64((p.percentile(0.99) - d.percentile(0.99)).Microseconds()), "added-p99-µs")
			b.ReportMetric(float64(p.errors+d.errors), "errors")
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

	request := func(sni string) error {
		conn, err := net.Dial("tcp", h.addr)
		if err != nil {
			return err
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != 200 {
			return fmt.Errorf("CONNECT: %v %v", resp, err)
		}
		tc := tls.Client(&bufferedConn{conn, br}, &tls.Config{ServerName: sni, RootCAs: h.roots})
		fmt.Fprintf(tc, "GET /small HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target)
		resp, err = http.ReadResponse(bufio.NewReader(tc), nil)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil
	}
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
	direct := clientFor("", &tls.Config{RootCAs: testupstream.Roots()}, true)
	proxied := clientFor(h.addr, &tls.Config{RootCAs: h.roots}, true)

	download := func(c *http.Client) error { return fetch(c, up.URL+"/download") }
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
