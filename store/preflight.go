package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
)

// bbolt's on-disk meta page, as read by preflight. See go.etcd.io/bbolt
// internal/common/meta.go and page.go: a 16-byte page header, then
// magic, version, pageSize, flags (uint32 each), root bucket (pgid,
// sequence), freelist pgid, high-water pgid, txid and an FNV-64a checksum
// of the preceding 56 bytes, all in native byte order.
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	boltPageHeader   = 16
	boltMetaSize     = 64
	boltNoFreelist   = ^uint64(0)
	boltMinPageSize  = 1024
	boltMaxPageShift = 14 // bbolt probes page sizes up to 1024<<14
)

type boltMeta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64
	txid     uint64
}

// preflight checks that an existing, non-empty file looks like a complete
// bbolt database before bbolt maps it. bbolt maps beyond the end of a
// truncated file and would fault (SIGBUS) on first access; and on some
// garbage it would try to repair the file in place. A missing or empty
// file passes: bbolt initialises it.
func preflight(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: open %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store: open %s: %w", path, err)
	}
	size := info.Size()
	if size == 0 {
		return nil
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("store: open %s: not a regular file: %w", path, ErrCorrupt)
	}

	var metas []boltMeta
	if m, ok := readMeta(f, 0); ok {
		metas = append(metas, m)
		if m2, ok := readMeta(f, int64(m.pageSize)); ok {
			metas = append(metas, m2)
		}
	} else {
		// Page 0 is damaged: find page 1 the way bbolt does, by probing sizes.
		for i := 0; i <= boltMaxPageShift; i++ {
			off := int64(boltMinPageSize) << i
			if off >= size {
				break
			}
			if m, ok := readMeta(f, off); ok && int64(m.pageSize) == off {
				metas = append(metas, m)
				break
			}
		}
	}
	if len(metas) == 0 {
		return fmt.Errorf("store: open %s: not a bbolt database (no valid meta page; left untouched): %w", path, ErrCorrupt)
	}
	best := metas[0]
	for _, m := range metas[1:] {
		if m.txid > best.txid {
			best = m
		}
	}
	need := int64(best.pgid) * int64(best.pageSize)
	if best.pgid == 0 || need/int64(best.pageSize) != int64(best.pgid) || size < need {
		return fmt.Errorf("store: open %s: truncated: %d bytes, the database needs %d (left untouched): %w", path, size, need, ErrCorrupt)
	}
	if best.root >= best.pgid || (best.freelist >= best.pgid && best.freelist != boltNoFreelist) {
		return fmt.Errorf("store: open %s: meta page points past the end of the database (left untouched): %w", path, ErrCorrupt)
	}
	// bbolt reads these two pages inside Open; if it panicked there it
	// would leave the file mapped and locked until the process exits.
	if best.freelist != boltNoFreelist && !pageIs(f, best, best.freelist, boltFreelistPage) {
		return fmt.Errorf("store: open %s: freelist page %d is damaged (left untouched): %w", path, best.freelist, ErrCorrupt)
	}
	if !pageIs(f, best, best.root, boltBranchPage|boltLeafPage) {
		return fmt.Errorf("store: open %s: root page %d is damaged (left untouched): %w", path, best.root, ErrCorrupt)
	}
	return nil
}

// Page type flags in a page header (id uint64, flags uint16, ...).
const (
	boltBranchPage   = 0x01
	boltLeafPage     = 0x02
	boltFreelistPage = 0x10
)

// pageIs reports whether page id's header names itself id and has one of
// the wanted type flags.
func pageIs(r io.ReaderAt, m boltMeta, id uint64, want uint16) bool {
	var hdr [boltPageHeader]byte
	if _, err := r.ReadAt(hdr[:], int64(id)*int64(m.pageSize)); err != nil {
		return false
	}
	e := binary.NativeEndian
	return e.Uint64(hdr[0:]) == id && e.Uint16(hdr[8:])&want != 0
}

// readMeta reads and validates the meta page at off.
func readMeta(r io.ReaderAt, off int64) (boltMeta, bool) {
	var buf [boltPageHeader + boltMetaSize]byte
	if _, err := r.ReadAt(buf[:], off); err != nil {
		return boltMeta{}, false
	}
	b := buf[boltPageHeader:]
	e := binary.NativeEndian
	if e.Uint32(b[0:]) != boltMagic || e.Uint32(b[4:]) != boltVersion {
		return boltMeta{}, false
	}
	h := fnv.New64a()
	h.Write(b[:56])
	if h.Sum64() != e.Uint64(b[56:]) {
		return boltMeta{}, false
	}
	m := boltMeta{
		pageSize: e.Uint32(b[8:]),
		root:     e.Uint64(b[16:]),
		freelist: e.Uint64(b[32:]),
		pgid:     e.Uint64(b[40:]),
		txid:     e.Uint64(b[48:]),
	}
	if m.pageSize < boltMinPageSize || m.pageSize&(m.pageSize-1) != 0 {
		return boltMeta{}, false
	}
	return m, true
}
