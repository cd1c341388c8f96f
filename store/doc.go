// Package store keeps recorded flows in a bbolt file (flows.db in the data
// directory) and reads them back for the viewer and the CLI.
//
// Layout (one bbolt file, four buckets):
//
//	flows      8-byte big-endian id → version byte + record without bodies
//	           (format 2: binary, record_v2.go; format 1, JSON, still read)
//	bodies     id + 'q' (request) or 's' (response) → raw wire bytes, as captured
//	summaries  id → compact binary flow.Summary, so a list of a million
//	           flows never decodes a full record or a body
//	meta       "format" → store format version, "count" → number of flows
//
// Writes go through one writer goroutine that drains a bounded queue and
// commits many flows per transaction. Put blocks when the queue is full:
// recording slows the caller down and never drops a flow. A failing commit
// (disk full) is retried with backoff, reported through Options.OnError and
// LastError, and resumes when the disk has room again.
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
//   - Deleting flows frees pages inside the file for reuse; the file itself
//     never shrinks (bbolt has no in-place compaction).
package store
