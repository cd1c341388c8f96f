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

// runWriter is the one goroutine that commits queued flows, many per
// transaction.
func (s *Store) runWriter() {
	defer close(s.writerDone)
	var batch []item
	for {
		batch = batch[:0]
		select {
		case it := <-s.queue:
			batch = append(batch, it)
		case <-s.abort:
			s.unwritten += s.failQueued()
			return
		}
		batch = s.gather(batch)
		var flows []*encodedFlow
		for _, it := range batch {
			if it.f != nil {
				flows = append(flows, it.f)
			}
		}
		s.inBatch.Store(int64(len(flows)))
		if !s.commitWithRetry(flows) {
			s.unwritten += len(flows)
			s.inBatch.Store(0)
			s.answer(batch, errors.New("store: flows not written before close"))
			s.unwritten += s.failQueued()
			return
		}
		s.inBatch.Store(0)
		if s.answer(batch, nil) {
			return
		}
	}
}

// gather adds whatever else is queued to batch, up to the batch limits.
func (s *Store) gather(batch []item) []item {
	flows, size := 0, 0
	for _, it := range batch {
		if it.f != nil {
			flows++
			size += it.f.size()
		}
	}
	for flows < maxBatchFlows && size < maxBatchBytes && !batch[len(batch)-1].stop {
		select {
		case it := <-s.queue:
			batch = append(batch, it)
			if it.f != nil {
				flows++
				size += it.f.size()
			}
		default:
			return batch
		}
	}
	return batch
}

// answer replies to the markers in batch and reports whether one was stop.
func (s *Store) answer(batch []item, err error) (stop bool) {
	for _, it := range batch {
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
				it.done <- errors.New("store: flows not written before close")
			}
		default:
			return n
		}
	}
}

// commitWithRetry commits flows, retrying with backoff while commits fail
// (the batch is kept, and Put blocks once the queue is full). It returns
// false only when Close aborts the wait.
func (s *Store) commitWithRetry(flows []*encodedFlow) bool {
	if len(flows) == 0 {
		return true
	}
	delay := s.opts.retryMin
	for {
		err := s.commit(flows)
		if err == nil {
			if s.LastError() != nil {
				s.log.Info("store writes work again", "path", s.path)
				s.setLastError(nil)
			}
			return true
		}
		err = fmt.Errorf("store: write %d flows to %s (kept, retrying in %s): %w", len(flows), s.path, delay, err)
		s.setLastError(err)
		s.log.Error("store write failed", "path", s.path, "flows", len(flows), "retry_in", delay, "err", err)
		if s.opts.OnError != nil {
			s.opts.OnError(err)
		}
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case <-s.abort:
			timer.Stop()
			return false
		}
		delay = min(delay*2, s.opts.retryMax)
	}
}

func (s *Store) commit(flows []*encodedFlow) error {
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
	if w.flows.Get(key) == nil {
		w.count++
	}
	if err := w.flows.Put(key, enc.record); err != nil {
		return fmt.Errorf("flow %d: %w", enc.id, err)
	}
	for _, b := range []struct {
		side byte
		data []byte
	}{{sideRequest, enc.requestBody}, {sideResponse, enc.responseBody}} {
		var err error
		k := bodyKey(enc.id, b.side)
		if len(b.data) == 0 {
			// A replaced flow must not keep the old body.
			err = w.bodies.Delete(k)
		} else {
			err = w.bodies.Put(k, b.data)
		}
		if err != nil {
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
		w.bodies.Delete(bodyKey(id, sideRequest)),
		w.bodies.Delete(bodyKey(id, sideResponse)),
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
