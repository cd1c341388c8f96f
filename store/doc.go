// Package store keeps recorded flows in a bbolt file (flows.db in the data
// directory) and reads them back for the viewer and the CLI.
//
// Layout (one bbolt file, four buckets):
//
//	flows      8-byte big-endian id → version byte + record without bodies
//	           (format 2: binary, record_v2.go; format 1, JSON, still read)
//	bodies     id + 'q' (request) or 's' (response) + 4-byte chunk index →
//	           up to 64 KiB of the raw wire bytes, as captured (store
//	           format 2; format 1 kept each body whole, without the index,
//	           and is still read)
//	summaries  id → compact binary flow.Summary, so a list of a million
//	           flows never decodes a full record or a body
//	meta       "format" → store format version, "count" → number of flows
//
// The record version (per flow) and the store format (per file) are
// separate: format 2 changed how bodies are kept, not the records.
//
// Writes go through one writer goroutine that drains a bounded queue and
// commits many flows per transaction. Put blocks when the queue is full:
// recording slows the caller down and never drops a flow. A failing commit
// (disk full) is retried with backoff, reported through Options.OnError,
// the logger and LastError, and resumes when the disk has room again.
//
// Retention (Options.Keep, Options.MaxSize) runs in the writer goroutine:
// after each commit it deletes a small batch of the oldest flows (lowest
// ids) in a transaction of its own, so new flows keep being committed in
// between and Put never waits for retention. MaxSize is measured as the
// file's in-use pages (high-water mark minus free and pending pages),
// because the file itself never shrinks; bbolt reuses the freed pages, so
// the file stops growing. Compact rewrites a stopped store into a smaller
// file.
//
// Every record carries a format version; older versions stay readable
// through a migration chain (see codec.go), and testdata holds a frozen
// database of each older version. A database written by a newer onpath is
// refused with ErrNewerFormat rather than misread.
//
// Caveats:
//   - The file holds every secret that crossed the proxy: cookies,
//     Authorization headers, bodies. It is created with mode 0600 and a more
//     permissive existing file is tightened to 0600 on open.
//   - bbolt admits one process per file (an flock). A second opener fails
//     within Options.Timeout with ErrLocked; the CLI must then talk to the
//     running proxy instead.
//   - Open checks the file's meta pages before bbolt maps it, so a file that
//     is not a bbolt database, or was truncated, gives ErrCorrupt and is left
//     untouched. Damage inside the data pages shows when a read reaches it:
//     bbolt panics (or the map faults) and the read returns ErrCorrupt.
//     Writes are not guarded that way: a panic while writing still crashes.
//   - Get, Summaries and Query see committed flows only; call Flush first
//     to read flows just Put. Update and Delete flush by themselves.
//   - Record format 2 keeps the instant of every time, not its zone: times
//     come back in UTC.
//   - A full disk: the issue asks both that traffic keeps flowing and that
//     recording is lossless. The writer keeps failed flows in memory and,
//     while commits fail, keeps taking queued flows into that backlog up to
//     Options.MaxBacklog bytes (64 MiB by default), so Put returns at once
//     and the proxy is not slowed down. Past the bound the queue fills and
//     Put blocks: lossless wins, and traffic slows until the disk has room.
//     After each failed commit the writer halves its batch, so that when
//     a little room returns, whatever fits is committed first.
//     Nothing is dropped silently; Close gives up after a bounded wait and
//     its error names how many flows were not written. Flows committed
//     before the disk filled are never touched.
//   - Deleting flows frees pages inside the file for reuse; the file itself
//     never shrinks (bbolt has no in-place compaction). Compact rewrites
//     it; it needs the file to itself (the proxy stopped), and replaces the
//     original by an atomic rename only after the copy is synced and
//     checked, so a crash or a full disk mid-way leaves the original.
//   - With MaxSize the file settles above the limit: bbolt grows the file
//     in steps (doubling while small, up to 16 MiB at a time), and one
//     commit may add up to MaxSize/8 before the trim after it. Retention
//     deletes whole flows, oldest first, whatever they hold; flows written
//     by an import count by their (new) ids.
package store
