package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"onpath/flow"
)

// Retention limits of one trim transaction. Small transactions keep the
// writer's commits of new flows coming; a commit adds at most
// maxBatchFlows, so a trim of twice that catches up.
const (
	trimBatchFlows = 2 * maxBatchFlows
	// flowOverhead approximates what a flow costs beyond its bytes: keys,
	// page headers and element headers in three buckets.
	flowOverhead = 128
	// reportEvery spaces out the logger's reports of deletions.
	reportEvery = time.Minute
)

func (s *Store) retentionOn() bool { return s.opts.Keep > 0 || s.opts.MaxSize > 0 }

// inUse is the bytes of the file's pages that hold data: the pages up to
// the high-water mark minus free and pending pages, which bbolt reuses
// before it grows the file. bbolt updates its free-page figures when a
// write transaction ends, so this is as of the latest commit.
//
// It reads through db.View, not s.view: the writer measures while Close
// waits for it, after the store is marked closed.
func (s *Store) inUse() (int64, error) {
	var size int64
	err := s.db.View(func(tx *bolt.Tx) error {
		size = tx.Size()
		return nil
	})
	if err != nil {
		return 0, err
	}
	// Not Stats().FreeAlloc: bbolt sets it only when a write transaction
	// ends, while the page counts are loaded at open too.
	st := s.db.Stats()
	return size - int64(st.FreePageN+st.PendingPageN)*int64(s.db.Info().PageSize), nil
}

// trimStep deletes one small batch of the oldest flows if the store is
// over Options.Keep or Options.MaxSize, and reports whether it is still
// over afterwards. It runs in the writer goroutine only. A failure is
// logged and ends this round (false), to be tried again after the next
// commit, so a failing disk cannot make the writer spin.
func (s *Store) trimStep() (over bool) {
	var ids []flow.ID
	if s.opts.afterTrim != nil {
		defer func() { s.opts.afterTrim(len(ids)) }()
	}
	var used int64
	if s.opts.MaxSize > 0 {
		var err error
		if used, err = s.inUse(); err != nil {
			s.log.Error("retention: measure the store", "path", s.path, "err", err)
			return false
		}
	}
	// Free down to 90% of MaxSize, so that not every commit needs a trim.
	var excess int64
	if s.opts.MaxSize > 0 && used > s.opts.MaxSize {
		excess = used - s.opts.MaxSize*9/10
	}
	var left uint64
	err := s.db.Update(func(tx *bolt.Tx) error {
		ids = ids[:0]
		count := readCount(tx)
		var surplus uint64
		if s.opts.Keep > 0 && count > uint64(s.opts.Keep) {
			surplus = count - uint64(s.opts.Keep)
		}
		bodies := tx.Bucket(bucketBodies)
		var freed int64
		c := tx.Bucket(bucketFlows).Cursor()
		for k, v := c.First(); k != nil && len(ids) < trimBatchFlows; k, v = c.Next() {
			if uint64(len(ids)) >= surplus && freed >= excess {
				break
			}
			id := keyID(k)
			freed += int64(len(v)+bodySize(bodies, id, sideRequest)+bodySize(bodies, id, sideResponse)) + flowOverhead
			ids = append(ids, id)
		}
		if len(ids) == 0 {
			return nil
		}
		w := newTxWriter(tx)
		for _, id := range ids {
			if _, err := w.remove(id); err != nil {
				return err
			}
		}
		left = w.count
		return w.finish()
	})
	if err != nil {
		s.log.Error("retention: delete oldest flows", "path", s.path, "err", fmt.Errorf("store: trim %s: %w", s.path, err))
		return false
	}
	if len(ids) == 0 {
		return false
	}
	s.commits.Add(1)
	s.noteTrim(ids, used)
	if s.opts.Keep > 0 && left > uint64(s.opts.Keep) {
		return true
	}
	if s.opts.MaxSize > 0 {
		after, err := s.inUse()
		return err == nil && after > s.opts.MaxSize
	}
	return false
}

// noteTrim counts deleted flows and reports them to the logger: the first
// deletion at Info, then a summary at most every reportEvery (each step at
// Debug), so a proxy at its limit does not log a line per commit.
func (s *Store) noteTrim(ids []flow.ID, usedBefore int64) {
	total := s.trimmed.Add(uint64(len(ids)))
	s.log.Debug("retention: deleted oldest flows", "path", s.path, "flows", len(ids),
		"first_id", uint64(ids[0]), "last_id", uint64(ids[len(ids)-1]), "in_use_before", usedBefore)
	now := s.opts.Now()
	if !s.lastTrimReport.IsZero() && now.Sub(s.lastTrimReport) < reportEvery {
		return
	}
	s.lastTrimReport = now
	s.log.Info("retention: deleting the oldest flows to stay within the limits",
		"path", s.path, "keep", s.opts.Keep, "max_size", s.opts.MaxSize,
		"deleted_since_open", total, "last_deleted_id", uint64(ids[len(ids)-1]))
}
