// Command stress runs issue 6's load figures against the onpath binary,
// started as a child process with its own data dir, and against Debian's
// mitmdump, in one run, on loopback only:
//
//   - concurrency: many concurrent keep-alive clients through HTTPS MITM for
//     a fixed time; errors and flows lost (requests answered minus flows in
//     the store, counted after onpath exits on SIGINT);
//   - soak: a paced load for a long time; the proxy's RSS after warm-up, at
//     the end, and its peak (VmHWM);
//   - compare: onpath and mitmdump against the same upstream: HTTP and HTTPS
//     keep-alive throughput and p99, a new TLS connection per request, 500
//     distinct hosts, a 100 MiB download, RSS after 20 000 flows; a table
//     with ratios, also written as markdown with -markdown FILE.
//
// Every loop is bounded in count and time. -quick runs everything with small
// counts in well under a minute.
//
//	go run ./bench/stress [-phases concurrency,soak,compare] [-quick] [-markdown FILE]
//
// What it owns: the load figures of issue 6 and how they are produced. It
// imports onpath/store only to count the flows a stopped onpath recorded.
//
// # Caveats
//
//   - Everything listens on 127.0.0.0/8. The distinct hosts are loopback
//     addresses (127.0.1.1, …), not names: see upstream.go for why.
//   - The upstream CA, onpath's data dirs and mitmdump's confdir (with its
//     CA key) are written under -work, a new temporary directory by default,
//     removed at the end; with -work DIR they are left there, and the data
//     dirs hold every recorded flow.
//   - Throughput is bounded by the machine: the load generator, the upstream
//     and the proxy share its CPUs. The proxy CPU time per request is the
//     figure that does not depend on that.
//   - mitmdump buffers whole bodies unless stream_large_bodies is set; the
//     comparison measures the download both ways.
package main
