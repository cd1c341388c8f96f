// Command loadtest measures the onpath proxy against direct connections to
// the same loopback upstream, in one run, and prints the figures as
// ratios. The proxy runs in a child process (this binary with -child), so
// its peak RSS (VmHWM) is its own.
//
// Every loop is bounded by -duration and -max-requests per phase.
//
//	go run ./bench/loadtest [-duration 2s] [-rounds 3] [-concurrency 32] [-hosts 500] [-size 100]
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"onpath/audit"
	"onpath/ca"
	"onpath/flow"
	"onpath/internal/loadgen"
	"onpath/proxy"
	"onpath/store"
)

// childEnv marks the proxy child process; an environment variable rather
// than a flag, so that the test binary can serve as the child too.
const childEnv = "ONPATH_LOADTEST_CHILD"

func main() {
	if os.Getenv(childEnv) != "" {
		if err := runChild(os.Getenv(childEnv), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest child:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type options struct {
	duration    time.Duration
	concurrency int
	hosts       int
	sizeMiB     int
	maxRequests int
	rounds      int
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.DurationVar(&o.duration, "duration", 2*time.Second, "duration of each throughput phase")
	fs.IntVar(&o.concurrency, "concurrency", 32, "concurrent clients")
	fs.IntVar(&o.hosts, "hosts", 500, "distinct host names for the leaf-minting phase")
	fs.IntVar(&o.sizeMiB, "size", 100, "MiB for the download and upload phases")
	fs.IntVar(&o.maxRequests, "max-requests", 500_000, "cap on requests per phase")
	fs.IntVar(&o.rounds, "rounds", 3, "alternate direct and proxied phases this many times and keep the best of each")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return runParent(o, stdout)
}

// runChild serves a proxy until stdin closes, then shuts down and reports
// the flows found in its store, reopened, and its peak RSS.
func runChild(rootsFile string, stdin io.Reader, stdout io.Writer) error {
	dir, err := os.MkdirTemp("", "onpath-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	authority, _, err := ca.LoadOrCreate(dir, ca.Options{})
	if err != nil {
		return err
	}
	leaves, err := authority.NewLeaves(4096)
	if err != nil {
		return err
	}
	pem, err := os.ReadFile(rootsFile)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	// ONPATH_LOADTEST_CPUPROFILE=FILE profiles the proxy process alone,
	// one FILE.PID per child (each phase starts its own).
	if path := os.Getenv("ONPATH_LOADTEST_CPUPROFILE"); path != "" {
		f, err := os.Create(fmt.Sprintf("%s.%d", path, os.Getpid()))
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// Flows are recorded as onpath records them: audited, then stored.
	st, err := store.Open(filepath.Join(dir, "flows.db"), store.Options{})
	if err != nil {
		return err
	}
	checker := audit.NewChecker(time.Now)
	p := &proxy.Proxy{
		Certificate:   leaves.Get,
		UpstreamRoots: roots,
		NewID:         st.NextID,
		OnFinish: func(f *flow.Flow) {
			f.Findings = checker.Check(f)
			st.Put(f) // blocks rather than drop a flow; fails only after Close
		},
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ADDR %s\nCA %s\n", l.Addr(), authority.CertPath())
	served := make(chan error, 1)
	go func() { served <- p.Serve(l) }()
	io.Copy(io.Discard, stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		return err
	}
	if err := <-served; err != nil {
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	stored, err := storedFlows(filepath.Join(dir, "flows.db"))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "STORED %d\nHWM %d\n", stored, peakRSS(os.Getpid()))
	return nil
}

// storedFlows counts the flows in the store at path, reopened.
func storedFlows(path string) (int, error) {
	st, err := store.Open(path, store.Options{})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	return st.Len()
}

// peakRSS reads VmHWM (kB) of pid.
func peakRSS(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb
		}
	}
	return -1
}

type childProxy struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	addr  string
	roots *x509.CertPool
}

func startChild(rootsFile string) (*childProxy, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), childEnv+"="+rootsFile)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &childProxy{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	for range 2 {
		line, err := c.out.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("child: %w", err)
		}
		key, value, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch key {
		case "ADDR":
			c.addr = value
		case "CA":
			pem, err := os.ReadFile(value)
			if err != nil {
				return nil, err
			}
			c.roots = x509.NewCertPool()
			c.roots.AppendCertsFromPEM(pem)
		}
	}
	return c, nil
}

// cpu is the CPU time (user and system) the child has used so far, from
// /proc at clock-tick resolution (10 ms); 0 if it cannot be read.
func (c *childProxy) cpu() time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; the fields after it do not.
	_, rest, ok := strings.Cut(string(data), ") ")
	fields := strings.Fields(rest)
	if !ok || len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * (time.Second / clockTicks)
}

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat: 100
// on every Linux architecture Go supports.
const clockTicks = 100

// stop ends the child and returns the flows in its store, peak RSS in MiB and
// the CPU time it used (user and system).
func (c *childProxy) stop() (flows int64, rssMiB float64, cpu time.Duration, err error) {
	c.stdin.Close()
	for {
		line, rerr := c.out.ReadString('\n')
		key, value, _ := strings.Cut(strings.TrimSpace(line), " ")
		n, _ := strconv.ParseInt(value, 10, 64)
		switch key {
		case "STORED":
			flows = n
		case "HWM":
			rssMiB = float64(n) / 1024
		}
		if rerr != nil {
			break
		}
	}
	err = c.cmd.Wait()
	if c.cmd.ProcessState != nil {
		cpu = c.cmd.ProcessState.UserTime() + c.cmd.ProcessState.SystemTime()
	}
	return flows, rssMiB, cpu, err
}

func runParent(o options, stdout io.Writer) error {
	upstreamCA, leaf, err := upstreamCerts()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "onpath-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	rootsFile := filepath.Join(tmp, "upstream-ca.pem")
	if err := os.WriteFile(rootsFile, upstreamCA.pem, 0o644); err != nil {
		return err
	}

	size := int64(o.sizeMiB) << 20
	small := bytes.Repeat([]byte("o"), 1024)
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/download":
			w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
			for sent := int64(0); sent < size; sent += int64(len(chunk)) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "/upload":
			n, _ := io.Copy(io.Discard, r.Body)
			fmt.Fprint(w, n)
		default:
			w.Write(small)
		}
	})
	plain := httptest.NewServer(handler)
	defer plain.Close()
	secure := httptest.NewUnstartedServer(handler)
	secure.EnableHTTP2 = true
	secure.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}}
	secure.StartTLS()
	defer secure.Close()

	child, err := startChild(rootsFile)
	if err != nil {
		return err
	}
	upstreamTLS := &tls.Config{RootCAs: upstreamCA.pool}
	proxyTLS := &tls.Config{RootCAs: child.roots}
	fmt.Fprintf(stdout, "onpath load test: concurrency %d, %s per phase, best of %d alternating rounds, loopback upstream\n\n", o.concurrency, o.duration, o.rounds)
	fmt.Fprintf(stdout, "%-16s %10s %10s %7s %9s %9s %9s %9s %9s %8s\n", "phase", "proxy/s", "direct/s", "ratio", "p50 prx", "p50 dir", "p99 prx", "p99 dir", "p99 +", "prx µs/r")
	var sent int64
	for _, ph := range []struct {
		name      string
		url       string
		keepAlive bool
	}{
		{"http keep-alive", plain.URL + "/small", true},
		{"https keep-alive", secure.URL + "/small", true},
		{"https new conn", secure.URL + "/small", false},
	} {
		direct := loadgen.Client("", upstreamTLS, ph.keepAlive, 2*o.concurrency)
		proxied := loadgen.Client(child.addr, proxyTLS, ph.keepAlive, 2*o.concurrency)
		var d, p loadgen.Result
		var proxyCPU time.Duration // over all proxied rounds of this phase
		var proxyRequests int
		for range max(1, o.rounds) {
			if r := load(o, func() error { return loadgen.Fetch(direct, ph.url, -1) }); r.RPS() > d.RPS() {
				d = r
			}
			cpuBefore := child.cpu()
			r := load(o, func() error { return loadgen.Fetch(proxied, ph.url, -1) })
			proxyCPU += child.cpu() - cpuBefore
			proxyRequests += r.Answered()
			sent += int64(r.Answered() + r.Errors)
			if r.RPS() > p.RPS() {
				p = r
			}
		}
		direct.CloseIdleConnections()
		proxied.CloseIdleConnections()
		fmt.Fprintf(stdout, "%-16s %10.0f %10.0f %7.2f %9s %9s %9s %9s %9s %8.0f   errors %d/%d\n", ph.name,
			p.RPS(), d.RPS(), p.RPS()/d.RPS(), ms(p.Percentile(0.5)), ms(d.Percentile(0.5)), ms(p.Percentile(0.99)), ms(d.Percentile(0.99)),
			ms(p.Percentile(0.99)-d.Percentile(0.99)), float64(proxyCPU.Microseconds())/float64(max(1, proxyRequests)), p.Errors, d.Errors)
	}

	// Leaf minting: the first request to each of o.hosts names.
	target := strings.TrimPrefix(secure.URL, "https://")
	if err := firstRequest(child, target, "warm.localhost"); err != nil {
		return err
	}
	// Known and new hosts alternate, so that load from elsewhere on the
	// machine falls on both alike; medians damp the outliers.
	var known, fresh []time.Duration
	for i := range o.hosts {
		k, err := timeRequests(1, func(int) error { return firstRequest(child, target, "warm.localhost") })
		if err != nil {
			return err
		}
		f, err := timeRequests(1, func(int) error { return firstRequest(child, target, fmt.Sprintf("h%d.localhost", i)) })
		if err != nil {
			return err
		}
		known, fresh = append(known, k), append(fresh, f)
	}
	sent += int64(2*o.hosts + 1)
	fmt.Fprintf(stdout, "\nfirst request to %d new hosts: median %s; to a known host: median %s; minting adds %s\n",
		o.hosts, ms(median(fresh)), ms(median(known)), ms(median(fresh)-median(known)))

	flows, rss, cpu, err := child.stop()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "flows: sent %d, recorded %d, lost %d; proxy peak RSS over the load phases %.1f MiB; proxy CPU %.0f µs per flow\n",
		sent, flows, sent-flows, rss, float64(cpu.Microseconds())/float64(max(1, flows)))

	// Large transfers in a fresh child, so its peak RSS is theirs.
	child, err = startChild(rootsFile)
	if err != nil {
		return err
	}
	proxyTLS = &tls.Config{RootCAs: child.roots}
	direct := loadgen.Client("", upstreamTLS, true, 2)
	proxied := loadgen.Client(child.addr, proxyTLS, true, 2)
	fmt.Fprintf(stdout, "\n%-16s %10s %10s %7s\n", "transfer", "proxy MB/s", "direct MB/s", "ratio")
	for _, tr := range []struct {
		name string
		do   func(*http.Client) error
	}{
		{fmt.Sprintf("download %d MiB", o.sizeMiB), func(c *http.Client) error { return loadgen.Fetch(c, secure.URL+"/download", size) }},
		{fmt.Sprintf("upload %d MiB", o.sizeMiB), func(c *http.Client) error {
			resp, err := c.Post(secure.URL+"/upload", "application/octet-stream", io.LimitReader(repeat(chunk), size))
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if string(got) != strconv.FormatInt(size, 10) {
				return fmt.Errorf("upstream read %s bytes, want %d", got, size)
			}
			return nil
		}},
	} {
		rate := func(c *http.Client) (float64, error) {
			start := time.Now()
			if err := tr.do(c); err != nil {
				return 0, err
			}
			return float64(size) / (1 << 20) / time.Since(start).Seconds(), nil
		}
		var d, p float64
		for range max(1, o.rounds) {
			dr, err := rate(direct)
			if err != nil {
				return err
			}
			pr, err := rate(proxied)
			if err != nil {
				return err
			}
			d, p = max(d, dr), max(p, pr)
		}
		fmt.Fprintf(stdout, "%-16s %10.0f %10.0f %7.2f\n", tr.name, p, d, p/d)
	}
	proxied.CloseIdleConnections()
	flows, rss, _, err = child.stop()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "flows: sent %d, recorded %d; proxy peak RSS while streaming %.1f MiB\n", 2*max(1, o.rounds), flows, rss)
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

// load runs do from o.concurrency goroutines for o.duration, at most o.maxRequests times.
func load(o options, do func() error) loadgen.Result {
	return loadgen.ClosedLoop(context.Background(), o.concurrency, o.duration, o.maxRequests, func(int) error { return do() })
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func timeRequests(n int, do func(int) error) (time.Duration, error) {
	start := time.Now()
	for i := range n {
		if err := do(i); err != nil {
			return 0, err
		}
	}
	return time.Since(start) / time.Duration(n), nil
}

// firstRequest sends one request through a new tunnel to target with sni
// as the TLS server name, so the proxy needs a leaf for sni.
func firstRequest(c *childProxy, target, sni string) error {
	return loadgen.TunnelGet(c.addr, target, sni, "/small", c.roots)
}

type repeat []byte

func (r repeat) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], r)
	}
	return n, nil
}

type upstreamCA struct {
	pem  []byte
	pool *x509.CertPool
}

// upstreamCerts makes a throwaway CA and a leaf for the loopback upstream.
func upstreamCerts() (upstreamCA, tls.Certificate, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return upstreamCA{}, tls.Certificate{}, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "onpath loadtest upstream CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return upstreamCA{}, tls.Certificate{}, err
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return upstreamCA{}, tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return upstreamCA{}, tls.Certificate{}, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return upstreamCA{pem: pemEncode(caDER), pool: pool}, tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}, nil
}

func pemEncode(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
