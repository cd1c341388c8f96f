package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "stress:", err)
		os.Exit(1)
	}
}

// options are the knobs of one run; quickOptions and fullOptions give the
// two presets.
type options struct {
	phases       []string
	onpath       string // onpath binary; empty: build ./cmd/onpath
	mitmdump     string // mitmdump executable; empty: skip the comparison's mitmproxy column
	markdown     string // write the report as markdown here too
	onpathStderr string // copy onpath's stderr here
	x25519Only   bool   // clients offer X25519 alone, not Go's default hybrid X25519MLKEM768
	workDir      string // data dirs and binaries go below it

	clients          int           // concurrency phase: concurrent keep-alive clients
	concurrencyFor   time.Duration // concurrency phase: how long
	soakFor          time.Duration // soak phase: how long
	soakWarmup       time.Duration // soak phase: load before the start RSS is read
	soakRate         int           // soak phase: requests per second
	soakSample       time.Duration // soak phase: RSS sampling period
	compareFor       time.Duration // compare: length of each throughput phase
	rounds           int           // compare: alternate the proxies this many times, keep the best
	concurrency      int           // compare: concurrent clients of the throughput rows
	hosts            int           // compare: distinct hosts
	hostsConcurrency int           // compare: concurrent first requests to new hosts
	sizeMiB          int           // compare: download size
	rssFlows         int           // compare: flows before reading RSS
	maxRequests      int           // every phase: cap on requests
}

func fullOptions() options {
	return options{
		phases:  []string{"concurrency", "soak", "compare"},
		clients: 1000, concurrencyFor: 60 * time.Second,
		soakFor: 5 * time.Minute, soakWarmup: time.Minute, soakRate: 500, soakSample: 5 * time.Second,
		compareFor: 5 * time.Second, rounds: 2, concurrency: 32,
		hosts: 500, hostsConcurrency: 8, sizeMiB: 100, rssFlows: 20_000,
		maxRequests: 2_000_000,
	}
}

func quickOptions() options {
	return options{
		phases:  []string{"concurrency", "soak", "compare"},
		clients: 100, concurrencyFor: 3 * time.Second,
		soakFor: 6 * time.Second, soakWarmup: 2 * time.Second, soakRate: 200, soakSample: time.Second,
		compareFor: 700 * time.Millisecond, rounds: 1, concurrency: 8,
		hosts: 20, hostsConcurrency: 4, sizeMiB: 4, rssFlows: 500,
		maxRequests: 100_000,
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	quick := false
	for _, a := range args {
		if a == "-quick" || a == "--quick" {
			quick = true
		}
	}
	o := fullOptions()
	if quick {
		o = quickOptions()
	}
	fs := flag.NewFlagSet("stress", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Bool("quick", false, "small counts and short phases (under a minute in all)")
	phases := fs.String("phases", strings.Join(o.phases, ","), "phases to run, comma-separated: concurrency, soak, compare")
	fs.StringVar(&o.onpath, "onpath", "", "onpath binary (default: go build ./cmd/onpath into the work dir)")
	fs.StringVar(&o.mitmdump, "mitmdump", "mitmdump", "mitmdump executable for the comparison; empty to measure onpath alone")
	fs.StringVar(&o.markdown, "markdown", "", "also write the report as markdown to this file")
	fs.StringVar(&o.onpathStderr, "onpath-stderr", "", "copy the stderr of every onpath child to this file (with GODEBUG=gctrace=1: the live heap)")
	fs.BoolVar(&o.x25519Only, "x25519-only", false, "clients offer the X25519 key exchange alone (OpenSSL 3.0 in mitmproxy picks it anyway), not Go's default post-quantum X25519MLKEM768")
	fs.StringVar(&o.workDir, "work", "", "directory for data dirs (default: a new temporary directory, removed at the end)")
	fs.IntVar(&o.clients, "clients", o.clients, "concurrency phase: concurrent keep-alive HTTPS clients")
	fs.DurationVar(&o.concurrencyFor, "duration", o.concurrencyFor, "concurrency phase: duration")
	fs.DurationVar(&o.soakFor, "soak", o.soakFor, "soak phase: duration")
	fs.DurationVar(&o.soakWarmup, "soak-warmup", o.soakWarmup, "soak phase: load before the start RSS is read")
	fs.IntVar(&o.soakRate, "soak-rate", o.soakRate, "soak phase: requests per second")
	fs.DurationVar(&o.soakSample, "soak-sample", o.soakSample, "soak phase: RSS sampling period")
	fs.DurationVar(&o.compareFor, "compare-duration", o.compareFor, "compare: duration of each throughput measurement")
	fs.IntVar(&o.rounds, "rounds", o.rounds, "compare: alternate the two proxies this many times and keep the best of each")
	fs.IntVar(&o.concurrency, "concurrency", o.concurrency, "compare: concurrent clients of the keep-alive and new-connection rows")
	fs.IntVar(&o.hosts, "hosts", o.hosts, "compare: distinct hosts (at most 60000)")
	fs.IntVar(&o.hostsConcurrency, "hosts-concurrency", o.hostsConcurrency, "compare: concurrent first requests to new hosts")
	fs.IntVar(&o.sizeMiB, "size", o.sizeMiB, "compare: MiB of the download")
	fs.IntVar(&o.rssFlows, "rss-flows", o.rssFlows, "compare: flows through each fresh proxy before its RSS is read")
	fs.IntVar(&o.maxRequests, "max-requests", o.maxRequests, "cap on requests in any one measurement")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	o.phases = strings.Split(*phases, ",")
	for _, p := range o.phases {
		if p != "concurrency" && p != "soak" && p != "compare" {
			return fmt.Errorf("unknown phase %q (want concurrency, soak, compare)", p)
		}
	}
	if o.hosts < 1 || o.hosts > 60_000 {
		return fmt.Errorf("-hosts %d: want 1 to 60000", o.hosts)
	}
	return runPhases(ctx, o, stdout)
}
