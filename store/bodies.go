package store

import (
	"bytes"
	"encoding/binary"

	bolt "go.etcd.io/bbolt"

	"onpath/flow"
)

// bodyChunkSize bounds each value in the bodies bucket. bbolt rewrites a
// whole leaf, every value in it, when a key is added to it, and never
// splits a leaf of four values or fewer: with each body stored as one
// value, every commit copied the last few large bodies again (a 16 MiB
// body cost up to 128 MiB of memory and writes). In chunks, a commit
// rewrites at most a few chunks besides its own.
const bodyChunkSize = 64 << 10

// A body is stored under bodyPrefix(id, side) followed by a 4-byte
// big-endian chunk index. Stores of format 1 hold each body whole under
// the bare prefix; both forms are read.
func bodyPrefix(id flow.ID, side byte) []byte {
	k := make([]byte, 9, 13)
	binary.BigEndian.PutUint64(k, uint64(id))
	k[8] = side
	return k
}

func bodyChunkKey(id flow.ID, side byte, chunk int) []byte {
	return binary.BigEndian.AppendUint32(bodyPrefix(id, side), uint32(chunk))
}

// putBody stores data in chunks; the caller has removed any older body of
// the same flow and side.
func putBody(b *bolt.Bucket, id flow.ID, side byte, data []byte) error {
	for chunk := 0; len(data) > 0; chunk++ {
		n := min(len(data), bodyChunkSize)
		if err := b.Put(bodyChunkKey(id, side, chunk), data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// eachBodyPart calls fn with each stored part of a body, in order.
func eachBodyPart(b *bolt.Bucket, id flow.ID, side byte, fn func(k, v []byte)) {
	prefix := bodyPrefix(id, side)
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(k) == len(prefix) || len(k) == len(prefix)+4 {
			fn(k, v)
		}
	}
}

// readBody returns a body, or nil if none is stored. A body stored in one
// piece comes back as the mapped value itself (mapped is true: valid only
// during the transaction); one in several chunks as a joined copy.
func readBody(b *bolt.Bucket, id flow.ID, side byte) (data []byte, mapped bool) {
	parts := 0
	eachBodyPart(b, id, side, func(_, v []byte) {
		switch parts {
		case 0:
			data, mapped = v, true
		case 1:
			data = append(bytes.Clone(data), v...)
			mapped = false
		default:
			data = append(data, v...)
		}
		parts++
	})
	return data, mapped
}

// bodySize is the stored length of a body.
func bodySize(b *bolt.Bucket, id flow.ID, side byte) int {
	n := 0
	eachBodyPart(b, id, side, func(_, v []byte) { n += len(v) })
	return n
}

// deleteBody removes every stored part of a body.
func deleteBody(b *bolt.Bucket, id flow.ID, side byte) error {
	var keys [][]byte
	eachBodyPart(b, id, side, func(k, _ []byte) { keys = append(keys, bytes.Clone(k)) })
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
