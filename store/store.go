package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"onpath/flow"
)

// formatVersion is the store layout version kept in the meta bucket. A file
// with a higher number was written by a newer onpath and is refused; one
// with a lower number is read as it is and marked current when opened,
// since what is written to it from then on is in the current layout.
//
//	1: each body stored whole under its id and side
//	2: bodies stored in chunks (bodies.go)
const formatVersion = 2

var (
	bucketFlows     = []byte("flows")
	bucketBodies    = []byte("bodies")
	bucketSummaries = []byte("summaries")
	bucketMeta      = []byte("meta")

	metaFormat = []byte("format")
	metaCount  = []byte("count")
)

// Defaults for zero Options fields.
const (
	DefaultTimeout   = time.Second
	DefaultQueueSize = 1024
	// DefaultMaxBacklog is the memory the writer may hold while the disk
	// refuses writes: at ~10 KiB a flow, several thousand flows.
	DefaultMaxBacklog = 64 << 20
)

// Batch limits of one writer transaction.
const (
	maxBatchFlows = 512
	maxBatchBytes = 64 << 20
)

// Options configure Open. The zero value is usable.
type Options struct {
	// Timeout bounds the wait for the file lock held by another process;
	// 0 means DefaultTimeout.
	Timeout time.Duration
	// QueueSize is the number of flows Put may queue before it blocks;
	// 0 means DefaultQueueSize.
	QueueSize int
	// Logger receives write failures and recoveries; nil is silent.
	Logger *slog.Logger
	// OnError, when set, is called from the writer goroutine with each
	// failed commit (the flows are kept and retried). It must not call
	// back into the Store's write methods.
	OnError func(error)
	// Now is the clock for Stats.LastCommit and retention reports; nil
	// means time.Now.
	Now func() time.Time

	// Keep, when positive, keeps at most this many flows: the writer
	// deletes the oldest (lowest ids) in small batches between commits.
	Keep int
	// MaxSize, when positive, keeps the database's in-use pages under
	// about this many bytes by deleting the oldest flows, likewise. The
	// file itself stops growing near that size, because bbolt reuses
	// freed pages, but never shrinks (see Compact).
	MaxSize int64
	// MaxBacklog bounds the bytes of flows the writer holds in memory
	// while commits fail (disk full); 0 means DefaultMaxBacklog. Below
	// it Put returns at once; beyond it the queue fills and Put blocks.
	MaxBacklog int64

	// Test hooks, zero in production.
	beforeCommit func(flows int) error // an error fails the commit, as a full disk would
	retryMin     time.Duration         // first retry delay after a failed commit (default 50ms)
	retryMax     time.Duration         // longest retry delay (default 5s)
	closeWait    time.Duration         // how long Close waits for a failing writer (default 10s)
	afterTrim    func(deleted int)     // called by the writer after each retention step
}

// Store is an open flows.db. Its methods are safe for concurrent use.
type Store struct {
	path string
	db   *bolt.DB
	opts Options
	log  *slog.Logger

	lastID atomic.Uint64

	// sendMu: Put and PutBatch hold it shared while they hand work over;
	// Close takes it exclusively once closing is closed, so that no Put
	// can slip in after the final flush.
	sendMu  sync.RWMutex
	closed  atomic.Bool
	closing chan struct{}

	queue      chan item
	abort      chan struct{} // closed by Close when the writer must give up
	writerDone chan struct{}
	inBatch    atomic.Int64  // flows taken off the queue but not yet committed
	trimmed    atomic.Uint64 // flows deleted by retention since Open
	// lastTrimReport is when retention last logged at Info; writer only.
	lastTrimReport time.Time
	lastCommit     atomic.Int64 // unix ns of the writer's latest commit, by Options.Now
	unwritten      int          // set by the writer when aborted; read after writerDone
	commits        atomic.Uint64

	errMu   sync.Mutex
	lastErr error

	closeOnce sync.Once
	closeErr  error
	// collecting is set while a collection started after large bodies runs.
	collecting atomic.Bool
	// writtenSinceUnmap counts the bytes committed since the writer last
	// dropped the file's pages from the process's memory map.
	writtenSinceUnmap int64
}

// Stats describe the store for status lines.
type Stats struct {
	Flows      int    // flows committed
	FileSize   int64  // bytes on disk
	Commits    uint64 // write transactions committed by this Store since Open
	QueueDepth int    // flows waiting to be written
	// LastCommit is when the writer last committed (by Options.Now), zero
	// before its first commit.
	LastCommit time.Time
	// InUse is the bytes of the file's pages that hold data; the rest of
	// FileSize is free pages that bbolt reuses before growing the file.
	InUse int64
	// Trimmed is the number of flows retention deleted since Open.
	Trimmed uint64
}

// Open opens or creates the store at path (the full path of flows.db).
// Errors wrap ErrLocked (another process has it open), ErrCorrupt (not an
// onpath store, or damaged; the file is left untouched) or ErrNewerFormat.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBacklog <= 0 {
		opts.MaxBacklog = DefaultMaxBacklog
	}
	if opts.retryMin <= 0 {
		opts.retryMin = 50 * time.Millisecond
	}
	if opts.retryMax <= 0 {
		opts.retryMax = 5 * time.Second
	}
	if opts.closeWait <= 0 {
		opts.closeWait = 10 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	db, err := openBolt(path, opts.Timeout)
	if err != nil {
		return nil, err
	}
	s := &Store{
		path:       path,
		db:         db,
		opts:       opts,
		log:        log,
		closing:    make(chan struct{}),
		queue:      make(chan item, opts.QueueSize),
		abort:      make(chan struct{}),
		writerDone: make(chan struct{}),
	}
	if err := s.tightenMode(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.initBuckets(); err != nil {
		db.Close()
		return nil, err
	}
	go s.runWriter()
	return s, nil
}

// tightenMode makes an existing file private: it holds captured secrets.
func (s *Store) tightenMode() error {
	info, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("store: open %s: %w", s.path, err)
	}
	if info.Mode().Perm()&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(s.path, 0o600); err != nil {
		return fmt.Errorf("store: open %s: make it private (mode 0600): %w", s.path, err)
	}
	s.log.Warn("store file was readable by others; changed its mode to 0600", "path", s.path, "was", info.Mode().Perm().String())
	return nil
}

// initBuckets checks the format version and creates the buckets of a new
// store. A bbolt file with buckets but no onpath meta is not ours and is
// refused without writing to it.
func (s *Store) initBuckets() error {
	var fresh, older bool
	err := s.view(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			empty := true
			_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
			if !empty {
				return fmt.Errorf("a bbolt database but not an onpath store (no meta bucket): %w", ErrCorrupt)
			}
			fresh = true
			return nil
		}
		v := meta.Get(metaFormat)
		if len(v) != 8 {
			return fmt.Errorf("meta bucket has no format version: %w", ErrCorrupt)
		}
		if got := binary.BigEndian.Uint64(v); got > formatVersion {
			return fmt.Errorf("store format %d (this build reads up to %d; upgrade onpath): %w", got, formatVersion, ErrNewerFormat)
		} else if got < formatVersion {
			older = true
		}
		for _, name := range [][]byte{bucketFlows, bucketBodies, bucketSummaries} {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("bucket %q is missing: %w", name, ErrCorrupt)
			}
		}
		if c := tx.Bucket(bucketFlows).Cursor(); c != nil {
			if k, _ := c.Last(); len(k) == 8 {
				s.lastID.Store(uint64(keyID(k)))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: open %s: %w", s.path, err)
	}
	if older {
		// An older onpath must not open the file once it holds chunked bodies.
		err = s.db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(metaFormat, binary.BigEndian.AppendUint64(nil, formatVersion))
		})
		if err != nil {
			return fmt.Errorf("store: open %s: mark the format current: %w", s.path, err)
		}
	}
	if !fresh {
		return nil
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketFlows, bucketBodies, bucketSummaries, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if err := meta.Put(metaFormat, binary.BigEndian.AppendUint64(nil, formatVersion)); err != nil {
			return err
		}
		return meta.Put(metaCount, binary.BigEndian.AppendUint64(nil, 0))
	})
	if err != nil {
		return fmt.Errorf("store: create %s: %w", s.path, err)
	}
	return nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// NextID reserves the next flow id. Ids are never reused within a file,
// except that deleting the newest flows and reopening starts again after
// the highest remaining id.
func (s *Store) NextID() flow.ID { return flow.ID(s.lastID.Add(1)) }

// noteID makes sure NextID never hands out id or anything below it.
func (s *Store) noteID(id flow.ID) {
	for {
		cur := s.lastID.Load()
		if uint64(id) <= cur || s.lastID.CompareAndSwap(cur, uint64(id)) {
			return
		}
	}
}

// Len is the number of stored flows (committed ones; see Flush).
func (s *Store) Len() (int, error) {
	var n int
	err := s.view(func(tx *bolt.Tx) error {
		n = int(readCount(tx))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: count: %w", err)
	}
	return n, nil
}

func readCount(tx *bolt.Tx) uint64 {
	v := tx.Bucket(bucketMeta).Get(metaCount)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// Stats reports the flow count, file size, commits and queue depth.
func (s *Store) Stats() (Stats, error) {
	n, err := s.Len()
	if err != nil {
		return Stats{}, err
	}
	st := Stats{Flows: n, Commits: s.commits.Load(), QueueDepth: s.QueueDepth(), Trimmed: s.trimmed.Load()}
	if used, err := s.inUse(); err == nil {
		st.InUse = used
	}
	if ns := s.lastCommit.Load(); ns != 0 {
		st.LastCommit = time.Unix(0, ns)
	}
	if info, err := os.Stat(s.path); err == nil {
		st.FileSize = info.Size()
	}
	return st, nil
}

// QueueDepth is the number of flows Put but not yet committed.
func (s *Store) QueueDepth() int { return len(s.queue) + int(s.inBatch.Load()) }

// LastError is the error of the latest failed commit, or nil once a
// later commit succeeded.
func (s *Store) LastError() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.lastErr
}

func (s *Store) setLastError(err error) {
	s.errMu.Lock()
	s.lastErr = err
	s.errMu.Unlock()
}

// view runs a read transaction, mapping a closed database to ErrClosed.
// Damaged pages make bbolt panic, or fault on the memory map; both become
// errors wrapping ErrCorrupt (see guardCorrupt).
func (s *Store) view(fn func(*bolt.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	err := guardCorrupt(s.path, func() error { return s.db.View(fn) })
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	if errors.Is(err, ErrCorrupt) {
		s.log.Error("store file is damaged", "path", s.path, "err", err)
	}
	return err
}

// guardCorrupt runs a read of the file and turns a panic (bbolt asserts
// that pages are what it expects) or a memory fault on the map into an
// error wrapping ErrCorrupt, so a damaged file cannot crash the proxy or
// the viewer. Writes are not guarded: after a failed write bbolt's state
// could not be trusted.
func guardCorrupt(path string, read func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: read %s: damaged file (%v): %w", path, r, ErrCorrupt)
		}
	}()
	return read()
}

// update runs a write transaction outside the writer goroutine (PutBatch,
// Update, Delete); bbolt serialises it with the writer's.
func (s *Store) update(fn func(*bolt.Tx) error) error {
	s.sendMu.RLock()
	defer s.sendMu.RUnlock()
	if s.closed.Load() {
		return ErrClosed
	}
	err := s.db.Update(fn)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// Close flushes queued flows and closes the file. If the writer cannot
// commit within a bounded wait (disk still full), Close gives up and
// returns an error naming how many flows were not written.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Store) close() error {
	s.closed.Store(true)
	close(s.closing)
	// Wait for Puts in progress: each either queued its flow or returned ErrClosed.
	s.sendMu.Lock()
	defer s.sendMu.Unlock()

	stop := item{stop: true, done: make(chan error, 1)}
	deadline := time.NewTimer(s.opts.closeWait)
	defer deadline.Stop()
	var flushErr error
	select {
	case s.queue <- stop:
		select {
		case flushErr = <-stop.done:
		case <-deadline.C:
			flushErr = errors.New("timed out")
		}
	case <-deadline.C:
		flushErr = errors.New("timed out")
	}
	if flushErr != nil {
		close(s.abort)
	}
	<-s.writerDone
	dbErr := s.db.Close()
	if flushErr != nil || s.unwritten > 0 {
		cause := s.LastError()
		if cause == nil {
			cause = flushErr
		}
		return fmt.Errorf("store: close %s: %d flows could not be written: %w", s.path, s.unwritten, cause)
	}
	if dbErr != nil {
		return fmt.Errorf("store: close %s: %w", s.path, dbErr)
	}
	return nil
}
