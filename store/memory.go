package store

import (
	"runtime"

	bolt "go.etcd.io/bbolt"
)

const (
	// largeBodies is the size of the bodies in one commit past which their
	// memory is handed back at once.
	largeBodies = 4 << 20
	// unmapEvery is how much the writer commits between two drops of the
	// file's pages from the memory map.
	unmapEvery = 16 << 20
)

// releaseMemory runs in the writer after each commit and keeps the
// process's memory to what it uses:
//
//   - After a commit with large bodies it starts a garbage collection.
//     Until then the collector counts the capture buffers and bbolt's
//     copies of them (twice the body limit per flow) as live heap, and lets
//     the heap grow to double that before it looks again; collected now,
//     the next large body reuses their memory instead of adding to it.
//   - Every unmapEvery bytes committed it drops the file's pages from the
//     memory map. bbolt reads the file through the map and writes it with
//     pwrite; each page it reads (and the kernel maps the pages around it)
//     stays counted in the process's RSS, which so grew with the file. The
//     pages stay in the kernel's page cache; the next read maps them again.
func (s *Store) releaseMemory(flows []*encodedFlow) {
	bodies, written := 0, 0
	for _, f := range flows {
		bodies += len(f.requestBody) + len(f.responseBody)
		written += f.size()
	}
	if bodies >= largeBodies && s.collecting.CompareAndSwap(false, true) {
		go func() {
			defer s.collecting.Store(false)
			runtime.GC()
		}()
	}
	s.writtenSinceUnmap += int64(written)
	if s.writtenSinceUnmap >= unmapEvery {
		s.writtenSinceUnmap = 0
		// Inside a read transaction bbolt cannot remap the file, so the
		// address stays the mapping's.
		_ = s.db.View(func(tx *bolt.Tx) error {
			return dropMappedPages(s.db.Info().Data, tx.Size())
		})
	}
}
