package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"onpath/flow"
)

// item is one unit of the writer's queue: a flow to write, or a marker
// (done set) that is answered once everything queued before it is
// committed. stop marks Close's final marker.
type item struct {
	f    *encodedFlow
	done chan error
	stop bool
}

// Put queues f for writing and returns once it is queued. It blocks while
// the queue is full: recording slows down, it never drops a flow. A flow
// with ID 0 gets NextID(); a flow whose ID exists replaces it (last write
// wins). The store owns f afterwards: the caller must not modify it.
// Put returns ErrClosed after Close.
func (s *Store) Put(f *flow.Flow) error {
	if f == nil {
		return errors.New("store: put: nil flow")
	}
	if s.closed.Load() {
		return ErrClosed
	}
	if f.ID == 0 {
		f.ID = s.NextID()
	} else {
		s.noteID(f.ID)
	}
	// Encoding here, in the caller's goroutine, spreads the work over the
	// proxy's goroutines; the writer only commits.
	enc := encodeFlow(f)
	s.sendMu.RLock()
	defer s.sendMu.RUnlock()
	if s.closed.Load() {
		return ErrClosed
	}
	select {
	case s.queue <- item{f: enc}:
		return nil
	case <-s.closing:
		return ErrClosed
	}
}

// Flush returns once every flow Put before it is committed. While the disk
// is failing it keeps waiting (the writer retries); it returns an error only
// if Close gave up on the queued flows.
func (s *Store) Flush() error {
	done := make(chan error, 1)
	s.sendMu.RLock()
	if s.closed.Load() {
		s.sendMu.RUnlock()
		return ErrClosed
	}
	select {
	case s.queue <- item{done: done}:
	case <-s.closing:
		s.sendMu.RUnlock()
		return ErrClosed
	}
	s.sendMu.RUnlock()
	return <-done
}

// PutBatch writes fs in one transaction, synchronously: all of them or none
// (a HAR import). Flows with ID 0 get new ids; existing ids are replaced.
func (s *Store) PutBatch(fs []*flow.Flow) error {
	encs := make([]*encodedFlow, len(fs))
	for i, f := range fs {
		if f == nil {
			return errors.New("store: put batch: nil flow")
		}
		if f.ID == 0 {
			f.ID = s.NextID()
		} else {
			s.noteID(f.ID)
		}
		encs[i] = encodeFlow(f)
	}
	err := s.update(func(tx *bolt.Tx) error {
		w := newTxWriter(tx)
		for _, enc := range encs {
			if err := w.put(enc); err != nil {
				return err
			}
		}
		if s.opts.beforeCommit != nil {
			if err := s.opts.beforeCommit(len(fs)); err != nil {
				return err
			}
		}
		return w.finish()
	})
	if err != nil {
		return fmt.Errorf("store: put batch of %d flows: %w", len(fs), err)
	}
	return nil
}

// errNotWritten answers Flush markers whose flows Close gave up on.
var errNotWritten = errors.New("store: flows not written before close")

// backlog is what the writer took off the queue and has not committed
// yet, in queue order: flows and the markers that wait for them.
type backlog struct {
	items []item
	flows int
	bytes int64
}

func (b *backlog) push(it item) {
	b.items = append(b.items, it)
	if it.f != nil {
		b.flows++
		b.bytes += int64(it.f.size())
	}
}

// batch is how many leading items form the next transaction: up to the
// flow and byte limits, plus the markers right after the last flow.
func (b *backlog) batch(maxFlows int, maxBytes int64) (n int, flows []*encodedFlow) {
	var size int64
	for n < len(b.items) {
		it := b.items[n]
		if it.f != nil {
			if len(flows) >= maxFlows || (len(flows) > 0 && size+int64(it.f.size()) > maxBytes) {
				break
			}
			flows = append(flows, it.f)
			size += int64(it.f.size())
		}
		n++
	}
	return n, flows
}

// drop removes the first n items once they are committed.
func (b *backlog) drop(n int) {
	for _, it := range b.items[:n] {
		if it.f != nil {
			b.flows--
			b.bytes -= int64(it.f.size())
		}
	}
	rest := copy(b.items, b.items[n:])
	clear(b.items[rest:])
	b.items = b.items[:rest]
}

// runWriter is the one goroutine that commits queued flows, many per
// transaction, and applies retention (Options.Keep, MaxSize) between
// commits. While commits fail it keeps taking flows off the queue into
// its backlog, up to Options.MaxBacklog bytes, so Put keeps returning.
func (s *Store) runWriter() {
	defer close(s.writerDone)
	var (
		pending backlog
		delay   = s.opts.retryMin
		failing bool
		over    = s.retentionOn() // check the limits once at start
		// batchFlows halves after each failed commit, so that when the
		// disk has a little room again, what fits is committed first.
		batchFlows = maxBatchFlows
		lastCommit time.Time
	)
	maxBytes := s.batchBytes()
	for {
		if len(pending.items) == 0 {
			it, ok := s.next(over)
			if !ok {
				if over {
					over = s.trimStep()
					continue
				}
				s.unwritten += s.failQueued()
				return
			}
			pending.push(it)
		}
		if failing {
			// Retrying: waitRetry has waited, and holds the backlog to its limit.
			lastCommit = time.Time{}
		}
		s.gather(&pending, maxBytes, lastCommit)
		s.inBatch.Store(int64(pending.flows))
		n, flows := pending.batch(batchFlows, maxBytes)
		lastCommit = time.Now()
		if err := s.commit(flows); err != nil {
			batchFlows = max(1, len(flows)/2)
			if !s.waitRetry(err, &pending, delay) {
				s.unwritten += pending.flows
				s.inBatch.Store(0)
				s.answer(pending.items, errNotWritten)
				s.unwritten += s.failQueued()
				return
			}
			failing = true
			delay = min(delay*2, s.opts.retryMax)
			continue
		}
		if failing {
			s.log.Info("store writes work again", "path", s.path, "backlog", pending.flows-len(flows))
			s.setLastError(nil)
			failing, delay = false, s.opts.retryMin
		}
		// Grow back gradually: a batch that just fitted may be all the
		// room there is.
		batchFlows = min(maxBatchFlows, batchFlows*2)
		// Counted out before the markers are answered, so that a Flush sees
		// its flows gone from QueueDepth.
		s.inBatch.Store(int64(pending.flows - len(flows)))
		stop := s.answer(pending.items[:n], nil)
		pending.drop(n)
		if stop {
			return
		}
		s.releaseMemory(flows)
		if len(flows) > 0 && s.retentionOn() {
			over = s.trimStep()
		}
	}
}

// next waits for the next queued item. When retention has work left
// (trim), it does not wait: ok is false with an empty queue, and the
// caller trims. ok is false after an abort too; then trim is irrelevant
// because the caller sees the abort through failQueued's return.
func (s *Store) next(trim bool) (item, bool) {
	if trim {
		select {
		case it := <-s.queue:
			return it, true
		default:
			return item{}, false
		}
	}
	select {
	case it := <-s.queue:
		return it, true
	case <-s.abort:
		return item{}, false
	}
}

// batchBytes is the byte limit of one transaction. With MaxSize it is a
// fraction of it, so one commit cannot overshoot the limit by much.
func (s *Store) batchBytes() int64 {
	if s.opts.MaxSize > 0 {
		return min(maxBatchBytes, max(s.opts.MaxSize/8, 256<<10))
	}
	return maxBatchBytes
}

// commitGap is the least time between the starts of two commits, unless a
// batch is full or Flush or Close waits. Each commit costs about the same
// whatever it holds (an fsync, the meta page, the last leaf of each
// bucket rewritten): gathering a few milliseconds of flows into one
// commit takes most of the recording's cost off a busy proxy. Flows are
// recorded at most this much later; the viewer hears of them directly.
const commitGap = 10 * time.Millisecond

// gather moves whatever else is queued into pending, until it holds a
// full batch or Close's marker, waiting for more until commitGap after
// the previous commit began unless a Flush marker is pending.
func (s *Store) gather(pending *backlog, maxBytes int64, lastCommit time.Time) {
	var wait <-chan time.Time
	if gap := commitGap - time.Since(lastCommit); gap > 0 {
		timer := time.NewTimer(gap)
		defer timer.Stop()
		wait = timer.C
	}
	for pending.flows < maxBatchFlows && pending.bytes < maxBytes {
		last := pending.items[len(pending.items)-1]
		if last.stop {
			return // Close's marker is the last item
		}
		if last.done != nil {
			wait = nil // a Flush waits for this commit
		}
		select {
		case it := <-s.queue:
			pending.push(it)
			s.inBatch.Store(int64(pending.flows)) // still counted by QueueDepth
			continue
		default:
		}
		if wait == nil {
			return
		}
		select {
		case it := <-s.queue:
			pending.push(it)
			s.inBatch.Store(int64(pending.flows))
		case <-wait:
			return
		case <-s.abort:
			return
		}
	}
}

// waitRetry reports a failed commit, then waits delay before the retry.
// Meanwhile it keeps taking queued flows into pending while pending is
// under Options.MaxBacklog, so that the proxy is not slowed down by a
// full disk until the backlog is. It returns false when Close aborts.
func (s *Store) waitRetry(err error, pending *backlog, delay time.Duration) bool {
	err = fmt.Errorf("store: write %d flows to %s (%d held in memory, retrying in %s): %w", min(pending.flows, maxBatchFlows), s.path, pending.flows, delay, err)
	s.setLastError(err)
	s.log.Error("store write failed", "path", s.path, "backlog", pending.flows, "backlog_bytes", pending.bytes, "retry_in", delay, "err", err)
	if s.opts.OnError != nil {
		s.opts.OnError(err)
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		var queue chan item
		if pending.bytes < s.opts.MaxBacklog && !pending.items[len(pending.items)-1].stop {
			queue = s.queue
		}
		select {
		case <-timer.C:
			return true
		case <-s.abort:
			return false
		case it := <-queue:
			pending.push(it)
			s.inBatch.Store(int64(pending.flows))
		}
	}
}

// answer replies to the markers in items and reports whether one was stop.
func (s *Store) answer(items []item, err error) (stop bool) {
	for _, it := range items {
		if it.done != nil {
			it.done <- err
		}
		stop = stop || it.stop
	}
	return stop
}

// failQueued empties the queue after an abort, answering markers with an
// error, and returns how many flows it dropped.
func (s *Store) failQueued() int {
	n := 0
	for {
		select {
		case it := <-s.queue:
			if it.f != nil {
				n++
			}
			if it.done != nil {
				it.done <- errNotWritten
			}
		default:
			return n
		}
	}
}

// commit writes flows in one transaction; no flows, no transaction.
func (s *Store) commit(flows []*encodedFlow) error {
	if len(flows) == 0 {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if s.opts.beforeCommit != nil {
			if err := s.opts.beforeCommit(len(flows)); err != nil {
				return err
			}
		}
		w := newTxWriter(tx)
		for _, enc := range flows {
			if err := w.put(enc); err != nil {
				return err
			}
		}
		return w.finish()
	})
	if err == nil {
		s.commits.Add(1)
		s.lastCommit.Store(s.opts.Now().UnixNano())
	}
	return err
}

// txWriter writes flows into one transaction and keeps the flow count.
type txWriter struct {
	flows, bodies, summaries, meta *bolt.Bucket
	count                          uint64
}

func newTxWriter(tx *bolt.Tx) *txWriter {
	w := &txWriter{
		flows:     tx.Bucket(bucketFlows),
		bodies:    tx.Bucket(bucketBodies),
		summaries: tx.Bucket(bucketSummaries),
		meta:      tx.Bucket(bucketMeta),
	}
	w.count = readCount(tx)
	// Ids mostly grow, so pages can be filled nearly full.
	w.flows.FillPercent = 0.9
	w.summaries.FillPercent = 0.9
	w.bodies.FillPercent = 0.9
	return w
}

func (w *txWriter) put(enc *encodedFlow) error {
	key := idKey(enc.id)
	replacing := w.flows.Get(key) != nil
	if !replacing {
		w.count++
	}
	if err := w.flows.Put(key, enc.record); err != nil {
		return fmt.Errorf("flow %d: %w", enc.id, err)
	}
	for _, b := range []struct {
		side byte
		data []byte
	}{{sideRequest, enc.requestBody}, {sideResponse, enc.responseBody}} {
		if replacing {
			// A replaced flow must not keep any part of the old body.
			if err := deleteBody(w.bodies, enc.id, b.side); err != nil {
				return fmt.Errorf("flow %d body: %w", enc.id, err)
			}
		}
		if err := putBody(w.bodies, enc.id, b.side, b.data); err != nil {
			return fmt.Errorf("flow %d body: %w", enc.id, err)
		}
	}
	if err := w.summaries.Put(key, enc.summary); err != nil {
		return fmt.Errorf("flow %d summary: %w", enc.id, err)
	}
	return nil
}

// remove deletes a flow and reports whether it existed.
func (w *txWriter) remove(id flow.ID) (bool, error) {
	key := idKey(id)
	if w.flows.Get(key) == nil {
		return false, nil
	}
	w.count--
	for _, err := range []error{
		w.flows.Delete(key),
		w.summaries.Delete(key),
		deleteBody(w.bodies, id, sideRequest),
		deleteBody(w.bodies, id, sideResponse),
	} {
		if err != nil {
			return false, fmt.Errorf("flow %d: %w", id, err)
		}
	}
	return true, nil
}

func (w *txWriter) finish() error {
	return w.meta.Put(metaCount, binary.BigEndian.AppendUint64(nil, w.count))
}
