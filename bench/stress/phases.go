package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"onpath/internal/loadgen"
)

const smallLen = 1024 // bytes of /small

// bench holds what every phase shares.
type bench struct {
	o        options
	out      io.Writer
	work     string
	onpath   string
	up       *upstream
	sections []*section

	onpathStderr io.Writer // a copy of every onpath child's stderr, or nil
}

func runPhases(ctx context.Context, o options, stdout io.Writer) (err error) {
	work := o.workDir
	if work == "" {
		if work, err = os.MkdirTemp("", "onpath-stress-"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	} else if err := os.MkdirAll(work, 0o700); err != nil {
		return err
	}
	b := &bench{o: o, out: stdout, work: work, onpath: o.onpath}
	if o.onpathStderr != "" {
		f, err := os.Create(o.onpathStderr)
		if err != nil {
			return err
		}
		defer f.Close()
		b.onpathStderr = f
	}
	if b.onpath == "" {
		if b.onpath, err = buildOnpath(ctx, work); err != nil {
			return err
		}
	}
	if b.up, err = startUpstream(work, o.hosts, int64(o.sizeMiB)<<20); err != nil {
		return err
	}
	defer b.up.close()

	preamble := []string{fmt.Sprintf("Measured %s on %d CPUs (%s), %s; load average before: %s.",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.NumCPU(), cpuModel(), runtime.Version(), loadAverage())}
	fmt.Fprintln(stdout, preamble[0])
	phases := map[string]func(context.Context) (*section, error){
		"concurrency": b.concurrency,
		"soak":        b.soak,
		"compare":     b.compare,
	}
	for _, name := range o.phases {
		s, err := phases[name](ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		s.note("Load average after this phase: %s.", loadAverage())
		s.writeText(stdout)
		b.sections = append(b.sections, s)
	}
	if o.markdown != "" {
		return writeMarkdown(o.markdown, preamble, b.sections)
	}
	return nil
}

// newClient is newClient with the run's key-exchange choice.
func (b *bench) newClient(proxyAddr string, roots *x509.CertPool, keepAlive bool, conns int) *http.Client {
	c := newClient(proxyAddr, roots, keepAlive, conns)
	if b.o.x25519Only {
		c.Transport.(*http.Transport).TLSClientConfig.CurvePreferences = []tls.CurveID{tls.X25519}
	}
	return c
}

// concurrency: o.clients keep-alive HTTPS clients, each with its own
// connection, for o.concurrencyFor; then onpath stops and its store is
// counted.
func (b *bench) concurrency(ctx context.Context) (*section, error) {
	o := b.o
	fmt.Fprintf(b.out, "\nconcurrency: %d keep-alive HTTPS clients for %s…\n", o.clients, o.concurrencyFor)
	p, err := startOnpath(b.onpath, filepath.Join(b.work, "concurrency"), b.up.caFile, b.onpathStderr)
	if err != nil {
		return nil, err
	}
	defer p.kill()
	clients := make([]*http.Client, o.clients)
	for i := range clients {
		clients[i] = b.newClient(p.addr, p.roots, true, 1)
	}
	url := b.up.tlsURL + "/small"
	r := closedLoop(ctx, o.clients, o.concurrencyFor, o.maxRequests, func(w int) error {
		return loadgen.Fetch(clients[w], url, smallLen)
	})
	mem, _ := p.memory()
	for _, c := range clients {
		c.CloseIdleConnections()
	}
	recorded, err := b.stopAndCount(p)
	if err != nil {
		return nil, err
	}
	s := &section{title: fmt.Sprintf("%d concurrent keep-alive clients through HTTPS MITM for %s (onpath)", o.clients, o.concurrencyFor),
		header: []string{"figure", "value"}}
	s.row("requests answered", fmt.Sprint(r.Answered()))
	s.row("requests/s", perSec(r.RPS()))
	s.row("p50 / p99 latency (ms)", msec(r.Percentile(0.5))+" / "+msec(r.Percentile(0.99)))
	s.row("errors", fmt.Sprint(r.Errors))
	s.row("flows recorded", fmt.Sprint(recorded))
	s.row("flows lost (answered − recorded)", lost(r.Answered(), r.Errors, recorded))
	s.row("onpath RSS at the end / peak (MiB)", mib(mem.RSS)+" / "+mib(mem.HWM))
	s.row("of which anonymous / file-backed: mapped flows.db (MiB)", mib(mem.Anon)+" / "+mib(mem.File))
	noteErrors(s, "onpath", r)
	return s, nil
}

// lost formats answered−recorded; with errors, a failed request may have
// been recorded too, so the count is a lower bound.
func lost(answered, errs, recorded int) string {
	n := answered - recorded
	switch {
	case errs == 0:
		return fmt.Sprint(n)
	case n <= 0:
		return fmt.Sprintf("≤ 0 (%d recorded beyond the answered; %d requests failed)", -n, errs)
	default:
		return fmt.Sprintf("≥ %d", n)
	}
}

func noteErrors(s *section, who string, r result) {
	if r.Errors > 0 {
		s.note("%s errors (%d), first kinds: %s", who, r.Errors, strings.Join(r.Samples, "; "))
	}
}

func (b *bench) stopAndCount(p *proxyProcess) (int, error) {
	if err := p.stop(2 * time.Minute); err != nil {
		return 0, err
	}
	n, err := countStoredFlows(p.dir)
	if err != nil {
		return 0, fmt.Errorf("count flows in %s: %w", p.dir, err)
	}
	return n, nil
}

// soak: a paced mix (HTTPS keep-alive mostly, plain HTTP, and new TLS
// connections to cycling hosts) for o.soakWarmup + o.soakFor, with onpath's
// memory sampled throughout.
func (b *bench) soak(ctx context.Context) (*section, error) {
	o := b.o
	fmt.Fprintf(b.out, "\nsoak: %d requests/s for %s after %s of warm-up…\n", o.soakRate, o.soakFor, o.soakWarmup)
	p, err := startOnpath(b.onpath, filepath.Join(b.work, "soak"), b.up.caFile, b.onpathStderr)
	if err != nil {
		return nil, err
	}
	defer p.kill()
	workers := 64
	keepAlive := b.newClient(p.addr, p.roots, true, workers)
	fresh := b.newClient(p.addr, p.roots, false, 0)
	var seq atomic.Int64
	do := func(int) error {
		n := seq.Add(1)
		switch {
		case n%50 == 0: // a new TLS connection, to one of the distinct hosts in turn
			return loadgen.Fetch(fresh, b.up.hostURLs[int(n/50)%len(b.up.hostURLs)]+"/small", smallLen)
		case n%10 == 0:
			return loadgen.Fetch(keepAlive, b.up.plainURL+"/small", smallLen)
		default:
			return loadgen.Fetch(keepAlive, b.up.tlsURL+"/small", smallLen)
		}
	}
	type sample struct {
		at  time.Duration
		mem memory
	}
	var mu sync.Mutex
	var samples []sample
	r := pacedLoop(ctx, workers, o.soakRate, o.soakWarmup+o.soakFor, o.soakSample, do, func(at time.Duration) {
		if m, err := p.memory(); err == nil {
			mu.Lock()
			samples = append(samples, sample{at, m})
			mu.Unlock()
		}
	})
	final, err := p.memory()
	if err != nil {
		return nil, err
	}
	keepAlive.CloseIdleConnections()
	recorded, err := b.stopAndCount(p)
	if err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	startAt := slices.IndexFunc(samples, func(s sample) bool { return s.at >= o.soakWarmup })
	if startAt < 0 {
		return nil, errors.New("no memory sample after the warm-up; lengthen -soak or shorten -soak-sample")
	}
	first := samples[startAt].mem
	var peakAnon float64
	for _, s := range samples[startAt:] {
		peakAnon = max(peakAnon, s.mem.Anon)
	}
	s := &section{title: fmt.Sprintf("RSS across a %s soak at %d requests/s (onpath)", o.soakFor, o.soakRate),
		header: []string{"figure", "after warm-up", "at the end", "change"}}
	s.row("RSS (MiB)", mib(first.RSS), mib(final.RSS), change(first.RSS, final.RSS))
	s.row("anonymous RSS: heap, stacks (MiB)", mib(first.Anon), mib(final.Anon), change(first.Anon, final.Anon))
	s.row("file RSS: mapped flows.db, binary (MiB)", mib(first.File), mib(final.File), change(first.File, final.File))
	s.note("Peak RSS (VmHWM) %s MiB; peak anonymous RSS sampled after warm-up %s MiB. %d requests answered (p99 %s ms from their scheduled start), %d errors; %d flows recorded, flows lost: %s.",
		mib(final.HWM), mib(peakAnon), r.Answered(), msec(r.Percentile(0.99)), r.Errors, recorded, lost(r.Answered(), r.Errors, recorded))
	var trace []string
	step := max(1, (len(samples)-startAt)/10)
	for i := startAt; i < len(samples); i += step {
		trace = append(trace, fmt.Sprintf("%s: %s", samples[i].at.Round(time.Second), mib(samples[i].mem.Anon)))
	}
	s.note("Anonymous RSS over time (MiB): %s.", strings.Join(trace, ", "))
	noteErrors(s, "onpath", r)
	return s, nil
}

func change(from, to float64) string {
	if from == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%+.1f%%", (to-from)/from*100)
}

// compare measures onpath and mitmdump, both running, against the same
// upstream, alternating between them and keeping each one's best. With
// o.mitmdump empty it measures onpath alone.
func (b *bench) compare(ctx context.Context) (*section, error) {
	o := b.o
	fmt.Fprintf(b.out, "\ncompare: onpath and mitmproxy, %s per measurement, best of %d…\n", o.compareFor, o.rounds)
	onp, err := startOnpath(b.onpath, filepath.Join(b.work, "compare-onpath"), b.up.caFile, b.onpathStderr)
	if err != nil {
		return nil, err
	}
	defer onp.kill()
	proxies := []*proxyProcess{onp}
	mitmExe := ""
	if o.mitmdump != "" {
		if mitmExe, err = exec.LookPath(o.mitmdump); err != nil {
			return nil, fmt.Errorf("mitmdump: %w (apt-get install mitmproxy, or -mitmdump '' to measure onpath alone)", err)
		}
		mitm, err := startMitmdump(mitmExe, filepath.Join(b.work, "compare-mitmproxy"), b.up.caFile, nil)
		if err != nil {
			return nil, err
		}
		defer mitm.kill()
		proxies = append(proxies, mitm)
	}
	var onpathRequests int // answered or failed through onpath, for the lost-flow count
	count := func(i int, r result) {
		if i == 0 {
			onpathRequests += r.Answered() + r.Errors
		}
	}
	progress := func(what string) { fmt.Fprintf(b.out, "  %s: %s\n", time.Now().Format("15:04:05"), what) }

	s := &section{title: "onpath against mitmproxy (mitmdump), same upstream, same client, one run",
		header: []string{"measure", "onpath", "mitmproxy", "onpath/mitmproxy", "target", "met"}}
	// row adds a line; v[1] is mitmproxy's figure, absent when it is not measured.
	row := func(name string, v [2]float64, format func(float64) string, target string, ok func(ratio float64) bool) {
		if len(proxies) < 2 {
			s.row(name, format(v[0]), "—", "—", target, "")
			return
		}
		met := ""
		if ok != nil {
			met = "yes"
			if v[1] == 0 || !ok(v[0]/v[1]) {
				met = "no"
			}
		}
		s.row(name, format(v[0]), format(v[1]), ratio(v[0], v[1]), target, met)
	}
	tenfold := func(r float64) bool { return r >= 10 }
	ms := func(v float64) string { return msec(time.Duration(v)) }
	throughput := func(name string, r [2]result) {
		row(name+" (req/s)", [2]float64{r[0].RPS(), r[1].RPS()}, perSec, "≥ 10×", tenfold)
		row(name+": p99 (ms)", [2]float64{float64(r[0].Percentile(0.99)), float64(r[1].Percentile(0.99))}, ms, "", nil)
		row(name+": proxy CPU per request (ms)", [2]float64{float64(r[0].cpuPerRequest()), float64(r[1].cpuPerRequest())}, ms, "", nil)
	}
	// measured runs load against p and notes the CPU time p used meanwhile.
	measured := func(p *proxyProcess, load func() result) result {
		before, err1 := p.cpu()
		r := load()
		after, err2 := p.cpu()
		if err1 == nil && err2 == nil {
			r.cpu = after - before
		}
		return r
	}

	// RSS after o.rssFlows flows, on the freshly started proxies.
	var rss [2]memory
	for i, p := range proxies {
		progress(fmt.Sprintf("%s: %d flows before reading RSS", p.name, o.rssFlows))
		c := b.newClient(p.addr, p.roots, true, o.concurrency)
		r := countLoop(ctx, o.concurrency, o.rssFlows, func(int, int) error { return loadgen.Fetch(c, b.up.tlsURL+"/small", smallLen) })
		c.CloseIdleConnections()
		count(i, r)
		noteErrors(s, p.name+" (RSS flows)", r)
		if rss[i], err = p.memory(); err != nil {
			return nil, err
		}
	}

	// Throughput rows: each proxy in turn, o.rounds times.
	rows := []struct {
		name      string
		url       string
		keepAlive bool
		resume    bool // clients keep TLS sessions and resume them, as browsers do
	}{
		{fmt.Sprintf("HTTP keep-alive, %d clients", o.concurrency), b.up.plainURL + "/small", true, false},
		{fmt.Sprintf("HTTPS keep-alive, %d clients", o.concurrency), b.up.tlsURL + "/small", true, false},
		{fmt.Sprintf("HTTPS, new TLS connection per request, %d clients", o.concurrency), b.up.tlsURL + "/small", false, false},
		{fmt.Sprintf("HTTPS, new TLS connection per request, session resumed, %d clients", o.concurrency), b.up.tlsURL + "/small", false, true},
	}
	for _, rw := range rows {
		var best [2]result
		for range max(1, o.rounds) {
			for i, p := range proxies {
				progress(p.name + ": " + rw.name)
				c := b.newClient(p.addr, p.roots, rw.keepAlive, o.concurrency)
				if rw.resume {
					c.Transport.(*http.Transport).TLSClientConfig.ClientSessionCache = tls.NewLRUClientSessionCache(64)
				}
				r := measured(p, func() result {
					return closedLoop(ctx, o.concurrency, o.compareFor, o.maxRequests, func(int) error { return loadgen.Fetch(c, rw.url, smallLen) })
				})
				c.CloseIdleConnections()
				count(i, r)
				noteErrors(s, p.name+" ("+rw.name+")", r)
				if r.better(best[i]) {
					best[i] = r
				}
			}
		}
		throughput(rw.name, best)
	}

	// Distinct hosts: the first request to each, once per proxy (a second
	// round would find the leaves cached).
	var hosts [2]result
	name := fmt.Sprintf("%d distinct hosts, first request to each, %d clients", len(b.up.hostURLs), o.hostsConcurrency)
	for i, p := range proxies {
		progress(p.name + ": " + name)
		c := b.newClient(p.addr, p.roots, false, 0)
		hosts[i] = measured(p, func() result {
			return countLoop(ctx, o.hostsConcurrency, len(b.up.hostURLs), func(_, h int) error {
				return loadgen.Fetch(c, b.up.hostURLs[h]+"/small", smallLen)
			})
		})
		count(i, hosts[i])
		noteErrors(s, p.name+" (distinct hosts)", hosts[i])
	}
	throughput(name, hosts)

	// The download, one client, best of o.rounds.
	size := int64(o.sizeMiB) << 20
	download := func(p *proxyProcess) float64 {
		progress(fmt.Sprintf("%s: %d MiB download", p.name, o.sizeMiB))
		c := b.newClient(p.addr, p.roots, true, 1)
		defer c.CloseIdleConnections()
		start := time.Now()
		if err := loadgen.Fetch(c, b.up.tlsURL+"/download", size); err != nil {
			s.note("%s download failed: %v", p.name, err)
			return 0
		}
		return float64(size) / (1 << 20) / time.Since(start).Seconds()
	}
	var rate [2]float64
	for range max(1, o.rounds) {
		for i, p := range proxies {
			rate[i] = max(rate[i], download(p))
			if i == 0 {
				onpathRequests++
			}
		}
	}
	mibps := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	row(fmt.Sprintf("%d MiB HTTPS download (MiB/s)", o.sizeMiB), rate, mibps, "≥ 10×", tenfold)

	var peak [2]memory
	for i, p := range proxies {
		if peak[i], err = p.memory(); err != nil {
			return nil, err
		}
	}
	below := func(r float64) bool { return r < 1 }
	row(fmt.Sprintf("RSS after %d HTTPS flows (MiB)", o.rssFlows), [2]float64{rss[0].RSS, rss[1].RSS}, mib, "< 1×", below)
	row("peak RSS over the comparison (MiB)", [2]float64{peak[0].HWM, peak[1].HWM}, mib, "", nil)
	row("anonymous RSS at the end of the comparison (MiB)", [2]float64{peak[0].Anon, peak[1].Anon}, mib, "", nil)
	s.note("onpath's RSS includes the pages of flows.db that it has mapped (file-backed, reclaimable by the kernel), which grow with the store; the anonymous row leaves them out. onpath keeps up to --body-limit (16 MiB) of each body for the store; mitmproxy keeps none, having no save file.")

	// mitmproxy buffers whole bodies by default; measure it streaming too,
	// in a process of its own, so the download row is not only about that.
	if mitmExe != "" {
		streamed, err := startMitmdump(mitmExe, filepath.Join(b.work, "compare-mitmproxy-stream"), b.up.caFile,
			[]string{"--set", "stream_large_bodies=1m"})
		if err != nil {
			return nil, err
		}
		defer streamed.kill()
		streamed.name = "mitmproxy (stream_large_bodies=1m)"
		var r float64
		for range max(1, o.rounds) {
			r = max(r, download(streamed))
		}
		m, _ := streamed.memory()
		streamed.stop(30 * time.Second)
		row(fmt.Sprintf("%d MiB HTTPS download, mitmproxy streaming (MiB/s)", o.sizeMiB), [2]float64{rate[0], r}, mibps, "≥ 10×", tenfold)
		s.note("mitmproxy with stream_large_bodies=1m: peak RSS %s MiB over its start and downloads alone.", mib(m.HWM))
		s.note("mitmdump ran with -q --set flow_detail=0 and no save file; by default it holds each whole body in memory, hence the rows with --set stream_large_bodies=1m.")
		s.note("Proxy CPU per request is the proxy process's user+system CPU time over the measurement divided by the requests answered: it does not depend on how the machine's cores are shared with the load generator and the upstream, which run on the same machine. mitmproxy runs its proxying on one thread; onpath on all cores.")
	}

	for _, p := range proxies[1:] {
		p.stop(30 * time.Second)
	}
	recorded, err := b.stopAndCount(onp)
	if err != nil {
		return nil, err
	}
	s.note("onpath flows: %d requests sent through it, %d recorded, lost %d.", onpathRequests, recorded, onpathRequests-recorded)
	return s, nil
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
