// Package loadgen is the HTTP load generator of onpath's benchmarks and load
// tools (proxy's benchmarks, bench/loadtest, bench/stress): a closed loop
// of clients bounded in time and count, the figures it gathers, and the
// client and request every tool uses. It talks to whatever URL it is given;
// the tools give it loopback addresses only.
package loadgen

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Result is what one measurement saw.
type Result struct {
	Latencies []time.Duration // of every answered request, sorted
	Errors    int
	Samples   []string // the first few distinct error messages
	Elapsed   time.Duration
}

// Answered is the number of requests that succeeded.
func (r Result) Answered() int { return len(r.Latencies) }

// RPS is the answered requests per second.
func (r Result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(len(r.Latencies)) / r.Elapsed.Seconds()
}

// Percentile is the latency below which the fraction p of answered
// requests fall; 0 with none.
func (r Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	return r.Latencies[min(len(r.Latencies)-1, int(float64(len(r.Latencies))*p))]
}

// Collector merges the figures of workers, for loops of any shape.
type Collector struct {
	mu  sync.Mutex
	res Result
}

// Add merges one worker's latencies and failures.
func (c *Collector) Add(lat []time.Duration, errs []error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.res.Latencies = append(c.res.Latencies, lat...)
	c.res.Errors += len(errs)
	for _, err := range errs {
		if len(c.res.Samples) < 5 && !slices.Contains(c.res.Samples, err.Error()) {
			c.res.Samples = append(c.res.Samples, err.Error())
		}
	}
}

// Done returns the merged result of a loop that began at start.
func (c *Collector) Done(start time.Time) Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.res.Elapsed = time.Since(start)
	slices.Sort(c.res.Latencies)
	return c.res
}

// ClosedLoop runs do from workers goroutines, each starting its next
// request when the previous one ends, until duration passes, maxRequests
// have started or ctx ends.
func ClosedLoop(ctx context.Context, workers int, duration time.Duration, maxRequests int, do func(worker int) error) Result {
	var started atomic.Int64
	var col Collector
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
			col.Add(lat, errs)
		})
	}
	wg.Wait()
	return col.Done(start)
}

// Client returns a client through the proxy at proxyAddr ("" for a direct
// connection) with tlsConfig. With keepAlive it keeps up to conns idle
// connections; without, every request opens a new connection (and, through
// a proxy, a new CONNECT tunnel). It never asks for compression, so bodies
// arrive as sent.
func Client(proxyAddr string, tlsConfig *tls.Config, keepAlive bool, conns int) *http.Client {
	tr := &http.Transport{
		TLSClientConfig:     tlsConfig,
		DisableKeepAlives:   !keepAlive,
		MaxIdleConns:        max(conns, 1),
		MaxIdleConnsPerHost: max(conns, 1),
		DisableCompression:  true,
		TLSHandshakeTimeout: 30 * time.Second,
	}
	if proxyAddr != "" {
		tr.Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: proxyAddr})
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// Fetch GETs u, reads the whole body and checks the status and, when
// wantLen is not negative, the length.
func Fetch(c *http.Client, u string, wantLen int64) error {
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

// TunnelGet opens a CONNECT tunnel to target through the proxy at
// proxyAddr, completes TLS inside it with sni as the server name, trusting
// roots, and GETs path over it: the proxy needs a certificate for sni.
func TunnelGet(proxyAddr, target, sni, path string, roots *x509.CertPool) error {
	conn, err := net.Dial("tcp", proxyAddr)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("CONNECT %s: %s", target, resp.Status)
	}
	tc := tls.Client(&bufferedConn{conn, br}, &tls.Config{ServerName: sni, RootCAs: roots})
	fmt.Fprintf(tc, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, target)
	resp, err = http.ReadResponse(bufio.NewReader(tc), nil)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	return nil
}

// bufferedConn reads through the reader that already holds what followed
// the CONNECT reply.
type bufferedConn struct {
	net.Conn
	r io.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
