package store

import (
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// openBolt checks the file (preflight), opens it with bbolt holding its
// exclusive lock, and maps bbolt's errors to ErrLocked and ErrCorrupt.
//
// Compact replaces the file by renaming a new one over it. A process that
// was waiting for the old file's lock meanwhile would get the lock of a
// file nobody will ever read again, so after locking, openBolt checks that
// the path still names the locked file and opens again if not.
func openBolt(path string, timeout time.Duration) (*bolt.DB, error) {
	const attempts = 3
	for range attempts - 1 {
		db, current, err := openBoltOnce(path, timeout)
		if err != nil || current {
			return db, err
		}
		db.Close()
	}
	db, current, err := openBoltOnce(path, timeout)
	if err == nil && !current {
		db.Close()
		return nil, fmt.Errorf("store: open %s: the file was replaced %d times while opening it: %w", path, attempts, ErrLocked)
	}
	return db, err
}

// openBoltOnce opens path and reports whether the path still names the
// file that was locked.
func openBoltOnce(path string, timeout time.Duration) (db *bolt.DB, current bool, err error) {
	if err := preflight(path); err != nil {
		return nil, false, err
	}
	var file *os.File // kept to release the file and its lock if bbolt panics
	err = guardCorrupt(path, func() (err error) {
		db, err = bolt.Open(path, 0o600, &bolt.Options{
			Timeout:      timeout,
			FreelistType: bolt.FreelistMapType,
			// Growing the map makes bbolt copy every value the open
			// transaction has written (a large body, again and again as the
			// file doubles); address space is cheap, so map 1 GiB at once
			// (256 MiB on 32-bit systems).
			InitialMmapSize: min(1<<30, math.MaxInt/8),
			OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
				f, err := os.OpenFile(name, flag, perm)
				file = f
				return f, err
			},
		})
		return err
	})
	if err != nil {
		if errors.Is(err, ErrCorrupt) {
			if db == nil && file != nil {
				// bbolt panicked inside Open and could not clean up. Closing
				// the descriptor is all we can do: if bbolt had mapped the
				// file, the mapping keeps the lock until the process exits.
				// preflight checks the pages Open reads so that this is rare.
				file.Close()
			}
			return nil, false, err
		}
		switch {
		case errors.Is(err, berrors.ErrTimeout):
			return nil, false, fmt.Errorf("store: open %s: %w (waited %s for its lock): %w", path, ErrLocked, timeout, err)
		case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
			return nil, false, fmt.Errorf("store: open %s: %w: %w", path, ErrCorrupt, err)
		}
		return nil, false, fmt.Errorf("store: open %s: %w", path, err)
	}
	// With the map this large, bbolt grows the file AllocSize past what a
	// commit needs; keep the file close to its contents.
	db.AllocSize = 1 << 20
	locked, err1 := file.Stat()
	named, err2 := os.Stat(path)
	return db, err1 == nil && err2 == nil && os.SameFile(locked, named), nil
}
