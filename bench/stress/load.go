package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// result is what one measurement saw: the latency of every answered
// request (sorted), the failures and the wall time.
type result struct {
	lat     []time.Duration
	errs    int
	samples []string // the first few distinct error messages
	elapsed time.Duration
	cpu     time.Duration // CPU time the proxy used meanwhile, when measured
}

// cpuPerRequest is the proxy's CPU time per answered request.
func (r result) cpuPerRequest() time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.cpu / time.Duration(len(r.lat))
}

func (r result) answered() int { return len(r.lat) }

func (r result) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(len(r.lat)) / r.elapsed.Seconds()
}

func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*p))]
}

// better reports whether r has the higher throughput.
func (r result) better(than result) bool { return r.rps() > than.rps() }

// collector merges per-worker figures.
type collector struct {
	mu  sync.Mutex
	res result
}

func (c *collector) add(lat []time.Duration, errs []error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.res.lat = append(c.res.lat, lat...)
	c.res.errs += len(errs)
	for _, err := range errs {
		if len(c.res.samples) < 5 && !slices.Contains(c.res.samples, err.Error()) {
			c.res.samples = append(c.res.samples, err.Error())
		}
	}
}

func (c *collector) done(start time.Time) result {
	c.res.elapsed = time.Since(start)
	slices.Sort(c.res.lat)
	return c.res
}

// closedLoop runs do from workers goroutines, each starting its next
// request when the previous one ends, until the duration passes, maxRequests
// have started or ctx ends.
func closedLoop(ctx context.Context, workers int, duration time.Duration, maxRequests int, do func(worker int) error) result {
	var started atomic.Int64
	var col collector
	start := time.Now()
	deadline := start.Add(duration)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var lat []time.Duration
			var errs []error
			for ctx.Err() == nil && time.Now().Before(deadline) && started.Add(1) <= int64(maxRequests) {
				t0 := time.Now()
				if err := do(w); err != nil {
					errs = append(errs, err)
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			col.add(lat, errs)
		})
	}
	wg.Wait()
	return col.done(start)
}

// countLoop runs do exactly n times (fewer only if ctx ends) from workers
// goroutines.
func countLoop(ctx context.Context, workers, n int, do func(worker, i int) error) result {
	var next atomic.Int64
	var col collector
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var lat []time.Duration
			var errs []error
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					break
				}
				t0 := time.Now()
				if err := do(w, i); err != nil {
					errs = append(errs, err)
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			col.add(lat, errs)
		})
	}
	wg.Wait()
	return col.done(start)
}

// pacedLoop starts request k at start + k/rate (an open-loop schedule,
// so a slow proxy shows as latency rather than as a lower offered load),
// from at most workers goroutines, until duration passes or ctx ends.
// tick is called from its own goroutine every period.
func pacedLoop(ctx context.Context, workers, rate int, duration, period time.Duration, do func(worker int) error, tick func(elapsed time.Duration)) result {
	var next atomic.Int64
	var col collector
	start := time.Now()
	end := start.Add(duration)
	interval := time.Second / time.Duration(max(1, rate))
	ticked := make(chan struct{})
	go func() {
		defer close(ticked)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				if now.After(end) {
					return
				}
				tick(now.Sub(start))
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var lat []time.Duration
			var errs []error
			timer := time.NewTimer(0)
			defer timer.Stop()
			for {
				due := start.Add(time.Duration(next.Add(1)-1) * interval)
				if !due.Before(end) {
					break
				}
				timer.Reset(time.Until(due))
				select {
				case <-ctx.Done():
				case <-timer.C:
				}
				if ctx.Err() != nil {
					break
				}
				if err := do(w); err != nil {
					errs = append(errs, err)
					continue
				}
				lat = append(lat, time.Since(due))
			}
			col.add(lat, errs)
		})
	}
	wg.Wait()
	<-ticked
	return col.done(start)
}

// newClient returns a client through proxyAddr that trusts roots. With
// keepAlive, it keeps up to conns idle connections; without, every request
// opens a new connection (and a new CONNECT tunnel and TLS session).
func newClient(proxyAddr string, roots *x509.CertPool, keepAlive bool, conns int) *http.Client {
	tr := &http.Transport{
		Proxy:               http.ProxyURL(&url.URL{Scheme: "http", Host: proxyAddr}),
		TLSClientConfig:     &tls.Config{RootCAs: roots}, // no session cache: every new connection is a full handshake
		DisableKeepAlives:   !keepAlive,
		MaxIdleConns:        max(conns, 1),
		MaxIdleConnsPerHost: max(conns, 1),
		DisableCompression:  true,
		TLSHandshakeTimeout: 30 * time.Second,
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// fetch GETs u, reads the whole body and checks the status and length.
func fetch(c *http.Client, u string, wantLen int64) error {
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("GET %s: body after %d bytes: %w", u, n, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	if wantLen >= 0 && n != wantLen {
		return fmt.Errorf("GET %s: %d bytes, want %d", u, n, wantLen)
	}
	return nil
}
