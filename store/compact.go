package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// compactTxBytes bounds one transaction of the copy, so compacting a large
// file does not hold all of it in memory.
const compactTxBytes = 64 << 20

// compactSuffix names the new file while it is written, next to the old
// one (same file system, so the final rename is atomic).
const compactSuffix = ".compacting"

// Compact rewrites the store at path into a new file holding only live
// pages, then renames it over the original, reclaiming the space that
// deleted flows left behind (a bbolt file never shrinks by itself). It
// returns the file size before and after.
//
// Compact needs the file to itself: when a running onpath holds it, the
// error wraps ErrLocked after opts.Timeout. The original is replaced only
// once the new file is complete, synced, passes bbolt's consistency check
// and holds the same number of records, bodies and summaries; any failure
// (a full disk included) leaves the original untouched and removes the
// partial copy. Only opts.Timeout and opts.Logger are used.
func Compact(path string, opts Options) (before, after int64, err error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	src, err := openBolt(path, opts.Timeout)
	if err != nil {
		if errors.Is(err, ErrLocked) {
			return 0, 0, fmt.Errorf("store: compact %s: stop the onpath that uses it first, compaction needs the file to itself: %w", path, err)
		}
		return 0, 0, fmt.Errorf("store: compact: %w", err)
	}
	// The lock on the original is held until the new file replaced it.
	defer src.Close()
	info, err := os.Stat(path)
	if err != nil {
		return 0, 0, fmt.Errorf("store: compact %s: %w", path, err)
	}
	before = info.Size()
	want, err := countEntries(path, src)
	if err != nil {
		return before, 0, fmt.Errorf("store: compact %s: %w", path, err)
	}

	tmp := path + compactSuffix
	// A leftover of an interrupted compaction: ours, since we hold the lock.
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return before, 0, fmt.Errorf("store: compact %s: remove stale %s: %w", path, tmp, err)
	}
	if err := writeCompacted(tmp, path, src, want); err != nil {
		os.Remove(tmp)
		return before, 0, fmt.Errorf("store: compact %s: %w (the original is unchanged)", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return before, 0, fmt.Errorf("store: compact %s: replace the original: %w (the original is unchanged)", path, err)
	}
	// Make the rename durable; the new file's data is already synced.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	if info, err := os.Stat(path); err == nil {
		after = info.Size()
	}
	if opts.Logger != nil {
		opts.Logger.Info("store compacted", "path", path, "before", before, "after", after, "flows", want.flows)
	}
	return before, after, nil
}

// entries counts what a compaction must carry over.
type entries struct {
	flows, bodies, summaries int
	count                    uint64 // the meta bucket's flow count
}

// countEntries checks that db is an onpath store this build can read, and
// counts its entries. A damaged page surfaces as ErrCorrupt.
func countEntries(path string, db *bolt.DB) (entries, error) {
	var e entries
	err := guardCorrupt(path, func() error {
		return db.View(func(tx *bolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			if meta == nil {
				return fmt.Errorf("no meta bucket: %w", ErrCorrupt)
			}
			v := meta.Get(metaFormat)
			if len(v) != 8 {
				return fmt.Errorf("meta bucket has no format version: %w", ErrCorrupt)
			}
			if got := binary.BigEndian.Uint64(v); got > formatVersion {
				return fmt.Errorf("store format %d (this build reads up to %d; upgrade onpath): %w", got, formatVersion, ErrNewerFormat)
			}
			for _, b := range []struct {
				name []byte
				n    *int
			}{{bucketFlows, &e.flows}, {bucketBodies, &e.bodies}, {bucketSummaries, &e.summaries}} {
				bk := tx.Bucket(b.name)
				if bk == nil {
					return fmt.Errorf("bucket %q is missing: %w", b.name, ErrCorrupt)
				}
				*b.n = bk.Stats().KeyN
			}
			e.count = readCount(tx)
			return nil
		})
	})
	return e, err
}

// writeCompacted copies src into a new file at tmp (mode 0600), syncs it
// and checks it against want.
func writeCompacted(tmp, path string, src *bolt.DB, want entries) error {
	// NoSync: one sync at the end instead of one per copy transaction.
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second, NoSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	closed := false
	defer func() {
		if !closed {
			dst.Close()
		}
	}()
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("make %s private: %w", tmp, err)
	}
	if err := guardCorrupt(path, func() error { return bolt.Compact(dst, src, compactTxBytes) }); err != nil {
		return fmt.Errorf("copy into %s: %w", tmp, err)
	}
	if err := dst.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	err = dst.View(func(tx *bolt.Tx) error {
		var first error
		for err := range tx.Check() { // drained: Check's goroutine holds the transaction
			if first == nil {
				first = fmt.Errorf("consistency check of %s: %w", tmp, err)
			}
		}
		return first
	})
	if err != nil {
		return err
	}
	got, err := countEntries(tmp, dst)
	if err != nil {
		return fmt.Errorf("check %s: %w", tmp, err)
	}
	if got != want {
		return fmt.Errorf("the copy %s holds %+v, the original %+v", tmp, got, want)
	}
	closed = true
	if err := dst.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	return nil
}
