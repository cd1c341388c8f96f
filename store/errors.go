package store

import "errors"

// Sentinel errors; check them with errors.Is. Returned errors wrap them
// with the operation and the file or flow id.
var (
	// ErrLocked: another process holds the database file.
	ErrLocked = errors.New("database is in use by another process")
	// ErrCorrupt: the file is not an onpath database, or it is damaged.
	ErrCorrupt = errors.New("database file is not a valid onpath store")
	// ErrNotFound: no flow has the requested id.
	ErrNotFound = errors.New("flow not found")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store is closed")
	// ErrNewerFormat: the file or a record was written by a newer onpath.
	ErrNewerFormat = errors.New("written by a newer version of onpath")
)
