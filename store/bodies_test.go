package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	bolt "go.etcd.io/bbolt"

	"onpath/flow"
	"onpath/store/query"
)

// patterned is n bytes that differ from chunk to chunk, so that a chunk
// read out of order or twice shows.
func patterned(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i/997)
	}
	return b
}

// bodyKeys counts the keys stored for a body.
func bodyKeys(t *testing.T, s *Store, id flow.ID, side byte) int {
	t.Helper()
	n := 0
	err := s.view(func(tx *bolt.Tx) error {
		eachBodyPart(tx.Bucket(bucketBodies), id, side, func(_, _ []byte) { n++ })
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLargeBodiesRoundTripInChunks(t *testing.T) {
	s, _ := mustOpen(t)
	f := testFlow(1)
	f.Request.Body.Data = patterned(3*bodyChunkSize+1, 'a')
	f.Response.Body.Data = patterned(bodyChunkSize, 'A')
	// A marker across the boundary of the second and third chunks.
	marker := []byte("needle-across-chunks")
	copy(f.Request.Body.Data[2*bodyChunkSize-7:], marker)
	if err := s.Put(f); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := bodyKeys(t, s, 1, sideRequest); got != 4 {
		t.Errorf("request body of %d bytes stored in %d parts, want 4", len(f.Request.Body.Data), got)
	}
	if got := bodyKeys(t, s, 1, sideResponse); got != 1 {
		t.Errorf("response body of one chunk stored in %d parts, want 1", got)
	}
	got, err := s.Get(1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Request.Body.Data, f.Request.Body.Data) || !bytes.Equal(got.Response.Body.Data, f.Response.Body.Data) {
		t.Fatalf("bodies read back differ: request %d bytes (want %d), response %d bytes (want %d)",
			len(got.Request.Body.Data), len(f.Request.Body.Data), len(got.Response.Body.Data), len(f.Response.Body.Data))
	}
	q, err := query.Parse(fmt.Sprintf("body:%q", marker))
	if err != nil {
		t.Fatal(err)
	}
	var matched []flow.ID
	if err := s.Query(context.Background(), q, nil, func(sum flow.Summary) bool { matched = append(matched, sum.ID); return true }); err != nil {
		t.Fatal(err)
	}
	if len(matched) != 1 {
		t.Errorf("body query for text across two chunks matched %v, want [1]", matched)
	}

	// Replacing the flow with a shorter body leaves no chunk of the old one.
	err = s.Update(1, func(f *flow.Flow) error {
		f.Request.Body.Data = []byte("short")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := bodyKeys(t, s, 1, sideRequest); got != 1 {
		t.Errorf("after replacing with a short body, %d parts stored, want 1", got)
	}
	if got, _ := s.Get(1); string(got.Request.Body.Data) != "short" {
		t.Errorf("replaced request body = %d bytes, want %q", len(got.Request.Body.Data), "short")
	}

	if err := s.Delete(1); err != nil {
		t.Fatal(err)
	}
	for _, side := range []byte{sideRequest, sideResponse} {
		if got := bodyKeys(t, s, 1, side); got != 0 {
			t.Errorf("after Delete, %d parts of body %c remain", got, side)
		}
	}
}

// bbolt rewrites every value of a leaf it adds a key to; bodies stored
// whole made each commit copy the previous large bodies again.
func TestLargeBodyIsCopiedOnceWhenCommitted(t *testing.T) {
	s, _ := mustOpen(t)
	const size = 4 << 20
	body := patterned(size, 'x')
	var ms runtime.MemStats
	for i := 1; i <= 8; i++ {
		f := testFlow(1) // one with a response
		f.ID = flow.ID(i)
		f.Response.Body.Data = body
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		if err := s.Put(f); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&ms)
		if got := ms.TotalAlloc - before; got > 2*size {
			t.Errorf("flow %d with a %d MiB body allocated %.1f MiB to commit, want under %d MiB", i, size>>20, float64(got)/(1<<20), 2*size>>20)
		}
	}
}

// A store of format 1 (bodies whole) opens, is marked current, and reads
// old and new bodies alike.
func TestFormat1StoreIsReadAndMarkedCurrent(t *testing.T) {
	s := openFixtureCopy(t, filepath.Join("testdata", "v2.db"))
	var format uint64
	s.view(func(tx *bolt.Tx) error {
		format = binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(metaFormat))
		return nil
	})
	if format != formatVersion {
		t.Errorf("format after opening a format-1 store = %d, want %d", format, formatVersion)
	}
	old, err := s.Get(1)
	if err != nil {
		t.Fatal(err)
	}
	if want := testFlow(1).Response.Body.Data; !bytes.Equal(old.Response.Body.Data, want) {
		t.Errorf("old whole body reads back as %q, want %q", old.Response.Body.Data, want)
	}
	f := testFlow(s.NextID())
	f.Response.Body.Data = patterned(2*bodyChunkSize+5, 'n')
	if err := s.Put(f); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Response.Body.Data, f.Response.Body.Data) {
		t.Errorf("new chunked body in an upgraded store reads back as %d bytes, want %d", len(got.Response.Body.Data), len(f.Response.Body.Data))
	}
	// Deleting an old flow removes its whole body too.
	if err := s.Delete(1); err != nil {
		t.Fatal(err)
	}
	if n := bodyKeys(t, s, 1, sideResponse); n != 0 {
		t.Errorf("after Delete, %d parts of the old body remain", n)
	}
}
