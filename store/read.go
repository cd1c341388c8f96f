package store

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"

	"onpath/flow"
	"onpath/store/query"
)

// scanChunk is how many entries a scan reads per read transaction. Scans
// release the transaction between chunks so that callbacks never hold it
// (a long read transaction stops bbolt from growing the file for the writer).
const scanChunk = 4096

// progressEvery is how often (in flows examined) Query reports progress.
const progressEvery = 16384

// Get returns the full flow with its bodies. Errors wrap ErrNotFound.
func (s *Store) Get(id flow.ID) (*flow.Flow, error) {
	var f *flow.Flow
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		f, err = readFlow(tx, id, true)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: get flow %d: %w", id, err)
	}
	return f, nil
}

// readFlow decodes the record of id, with its bodies when withBodies.
func readFlow(tx *bolt.Tx, id flow.ID, withBodies bool) (*flow.Flow, error) {
	rec := tx.Bucket(bucketFlows).Get(idKey(id))
	if rec == nil {
		return nil, ErrNotFound
	}
	f, err := decodeRecord(rec)
	if err != nil {
		return nil, err
	}
	f.ID = id
	if withBodies {
		loadBodies(tx, f)
	}
	return f, nil
}

// loadBodies copies the bodies out of the transaction's memory map.
func loadBodies(tx *bolt.Tx, f *flow.Flow) {
	b := tx.Bucket(bucketBodies)
	f.Request.Body.Data = ownedBody(readBody(b, f.ID, sideRequest))
	if f.Response != nil {
		f.Response.Body.Data = ownedBody(readBody(b, f.ID, sideResponse))
	}
}

// ownedBody is a body the caller may keep after the transaction.
func ownedBody(data []byte, mapped bool) []byte {
	if mapped {
		return bytes.Clone(data)
	}
	return data
}

// Summaries calls fn with every summary in ascending id order, starting
// after the id after (0: from the start), until fn returns false or ctx is
// done.
func (s *Store) Summaries(ctx context.Context, after flow.ID, fn func(flow.Summary) bool) error {
	buf := make([]flow.Summary, 0, scanChunk)
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("store: summaries: %w", err)
		}
		buf = buf[:0]
		var more bool
		err := s.view(func(tx *bolt.Tx) error {
			var err error
			buf, more, err = readSummaries(tx, after, scanChunk, buf)
			return err
		})
		if err != nil {
			return fmt.Errorf("store: summaries: %w", err)
		}
		for i := range buf {
			if !fn(buf[i]) {
				return nil
			}
		}
		if !more {
			return nil
		}
		after = buf[len(buf)-1].ID
	}
}

// readSummaries appends up to limit summaries after the id after to dst
// and reports whether more may follow.
func readSummaries(tx *bolt.Tx, after flow.ID, limit int, dst []flow.Summary) ([]flow.Summary, bool, error) {
	c := tx.Bucket(bucketSummaries).Cursor()
	var sum flow.Summary
	n := 0
	for k, v := seekAfter(c, after); k != nil; k, v = c.Next() {
		if n == limit {
			return dst, true, nil
		}
		n++
		if err := decodeSummary(keyID(k), v, &sum); err != nil {
			return dst, false, err
		}
		dst = append(dst, sum)
	}
	return dst, false, nil
}

func seekAfter(c *bolt.Cursor, after flow.ID) ([]byte, []byte) {
	if after == 0 {
		return c.First()
	}
	if after == ^flow.ID(0) {
		return nil, nil
	}
	return c.Seek(idKey(after + 1))
}

// LastSummaries returns the newest n summaries in ascending id order.
func (s *Store) LastSummaries(n int) ([]flow.Summary, error) {
	if n <= 0 {
		return nil, nil
	}
	out := make([]flow.Summary, 0, min(n, scanChunk))
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSummaries).Cursor()
		for k, v := c.Last(); k != nil && len(out) < n; k, v = c.Prev() {
			var sum flow.Summary
			if err := decodeSummary(keyID(k), v, &sum); err != nil {
				return err
			}
			out = append(out, sum)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: last %d summaries: %w", n, err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// Query calls fn with the summary of every flow q matches, in ascending id
// order, until fn returns false or ctx is done. When q can be decided from
// summaries alone (q.NeedsFlow() is false) no record is decoded; otherwise
// records are decoded, and bodies loaded only when q.NeedsBodies().
// progress, when set, is called now and then with the flows examined and
// the total, and once at the end. A nil q matches everything.
func (s *Store) Query(ctx context.Context, q *query.Query, progress func(done, total int), fn func(flow.Summary) bool) error {
	total, err := s.Len()
	if err != nil {
		return fmt.Errorf("store: query %q: %w", q.String(), err)
	}
	var (
		after     flow.ID
		done      int
		lastShown int
		buf       = make([]flow.Summary, 0, scanChunk)
		scratch   []candidate
	)
	report := func(final bool) {
		if progress == nil {
			return
		}
		if final || done-lastShown >= progressEvery {
			lastShown = done
			progress(done, max(total, done))
		}
	}
	report(true)
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("store: query %q: %w", q.String(), err)
		}
		buf = buf[:0]
		var (
			more     bool
			examined int
		)
		err := s.view(func(tx *bolt.Tx) error {
			var err error
			buf, scratch, examined, after, more, err = queryChunk(tx, q, after, buf, scratch[:0])
			return err
		})
		if err != nil {
			return fmt.Errorf("store: query %q: %w", q.String(), err)
		}
		done += examined
		for i := range buf {
			if !fn(buf[i]) {
				report(true)
				return nil
			}
		}
		if !more {
			report(true)
			return nil
		}
		report(false)
	}
}

// queryChunk examines up to scanChunk flows after the id after and returns
// the matching summaries, how many it examined, the last id examined and
// whether more may follow. It walks the summaries; when q needs records, only
// flows whose summary passes q's summary terms have their record decoded
// (and bodies read), in parallel. cands is scratch space, returned for reuse.
func queryChunk(tx *bolt.Tx, q *query.Query, after flow.ID, dst []flow.Summary, cands []candidate) ([]flow.Summary, []candidate, int, flow.ID, bool, error) {
	needsFlow := q.NeedsFlow()
	records := recordCursor{c: tx.Bucket(bucketFlows).Cursor()}
	c := tx.Bucket(bucketSummaries).Cursor()
	var (
		sum  flow.Summary
		n    int
		more bool
	)
	for k, v := seekAfter(c, after); k != nil; k, v = c.Next() {
		if n == scanChunk {
			more = true
			break
		}
		n++
		after = keyID(k)
		if err := decodeSummary(after, v, &sum); err != nil {
			return dst, cands, n, after, false, err
		}
		if !needsFlow {
			if q.MatchSummary(&sum) {
				dst = append(dst, sum)
			}
			continue
		}
		if !q.MayMatch(&sum) {
			continue
		}
		rec := records.get(k)
		if rec == nil {
			return dst, cands, n, after, false, fmt.Errorf("flow %d has a summary but no record: %w", after, ErrCorrupt)
		}
		cands = append(cands, candidate{sum: sum, record: rec})
	}
	if len(cands) > 0 {
		if q.NeedsBodies() {
			bodies := tx.Bucket(bucketBodies)
			for i := range cands {
				cands[i].requestBody, _ = readBody(bodies, cands[i].sum.ID, sideRequest)
				cands[i].responseBody, _ = readBody(bodies, cands[i].sum.ID, sideResponse)
			}
		}
		if err := matchRecords(q, cands); err != nil {
			return dst, cands, n, after, false, err
		}
		for i := range cands {
			if cands[i].matched {
				dst = append(dst, cands[i].sum)
			}
		}
	}
	return dst, cands, n, after, more, nil
}

// recordCursor looks up records for keys that only grow: stepping a cursor
// forward is cheaper than a search from the root when the keys are close.
type recordCursor struct {
	c   *bolt.Cursor
	key []byte
	val []byte
}

func (r *recordCursor) get(k []byte) []byte {
	const maxSteps = 8
	for i := 0; r.key != nil && i < maxSteps && bytes.Compare(r.key, k) < 0; i++ {
		r.key, r.val = r.c.Next()
	}
	if r.key == nil || bytes.Compare(r.key, k) < 0 {
		r.key, r.val = r.c.Seek(k)
	}
	if r.key == nil || !bytes.Equal(r.key, k) {
		return nil
	}
	return r.val
}

// candidate is a flow whose record must be decoded to decide a query. The
// byte slices point into the read transaction's memory map.
type candidate struct {
	sum                       flow.Summary
	record                    []byte
	requestBody, responseBody []byte
	matched                   bool
}

// matchRecords decodes and matches the candidates on all CPUs: decoding
// records dominates queries on headers, cookies and bodies. It touches only
// the candidates' bytes, never the transaction, which is not safe for
// concurrent use.
func matchRecords(q *query.Query, cands []candidate) error {
	workers := min(runtime.GOMAXPROCS(0), (len(cands)+63)/64)
	var (
		next     atomic.Int64
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(cands) {
					return
				}
				c := &cands[i]
				f, err := decodeRecord(c.record)
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("flow %d: %w", c.sum.ID, err) })
					return
				}
				f.ID = c.sum.ID
				f.Request.Body.Data = c.requestBody
				if f.Response != nil {
					f.Response.Body.Data = c.responseBody
				}
				c.matched = q.Match(f)
			}
		})
	}
	wg.Wait()
	return firstErr
}
