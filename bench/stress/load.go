package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"onpath/internal/loadgen"
)

// result is one measurement, and the CPU time the proxy used meanwhile
// when measured.
type result struct {
	loadgen.Result
	cpu time.Duration
}

// cpuPerRequest is the proxy's CPU time per answered request.
func (r result) cpuPerRequest() time.Duration {
	if r.Answered() == 0 {
		return 0
	}
	return r.cpu / time.Duration(r.Answered())
}

// better reports whether r has the higher throughput.
func (r result) better(than result) bool { return r.RPS() > than.RPS() }

// closedLoop runs do from workers goroutines, each starting its next
// request when the previous one ends, until the duration passes, maxRequests
// have started or ctx ends.
func closedLoop(ctx context.Context, workers int, duration time.Duration, maxRequests int, do func(worker int) error) result {
	return result{Result: loadgen.ClosedLoop(ctx, workers, duration, maxRequests, do)}
}

// countLoop runs do exactly n times (fewer only if ctx ends) from workers
// goroutines.
func countLoop(ctx context.Context, workers, n int, do func(worker, i int) error) result {
	var next atomic.Int64
	var col loadgen.Collector
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
			col.Add(lat, errs)
		})
	}
	wg.Wait()
	return result{Result: col.Done(start)}
}

// pacedLoop starts request k at start + k/rate (an open-loop schedule,
// so a slow proxy shows as latency rather than as a lower offered load),
// from at most workers goroutines, until duration passes or ctx ends.
// tick is called from its own goroutine every period.
func pacedLoop(ctx context.Context, workers, rate int, duration, period time.Duration, do func(worker int) error, tick func(elapsed time.Duration)) result {
	var next atomic.Int64
	var col loadgen.Collector
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
			col.Add(lat, errs)
		})
	}
	wg.Wait()
	<-ticked
	return result{Result: col.Done(start)}
}

// newClient returns a client through proxyAddr that trusts roots, with no
// TLS session cache: every new connection is a full handshake.
func newClient(proxyAddr string, roots *x509.CertPool, keepAlive bool, conns int) *http.Client {
	return loadgen.Client(proxyAddr, &tls.Config{RootCAs: roots}, keepAlive, conns)
}
