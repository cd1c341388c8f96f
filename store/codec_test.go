package store

import (
	"bytes"
	bolt "go.etcd.io/bbolt"

	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"onpath/flow"
)

var update = flag.Bool("update", false, "rewrite the frozen fixtures in testdata (only when adding a format version)")

func TestRecordRoundTrip(t *testing.T) {
	for _, id := range []flow.ID{1, 5, 7, 8, 35, 42} { // plain, error, tunnel, pending, error+tunnel
		f := testFlow(id)
		rec := encodeRecord(f)
		if rec[0] != recordVersion {
			t.Errorf("record starts with %d, want version %d", rec[0], recordVersion)
		}
		got, err := decodeRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		want := stored(f)
		want.Request.Body.Data = nil
		if want.Response != nil {
			r := *want.Response
			r.Body.Data = nil
			want.Response = &r
		}
		checkFlow(t, got, want)
		if f.Request.Body.Data == nil || (f.Response != nil && f.Response.Body.Data == nil) {
			t.Fatal("encodeRecord modified the caller's bodies")
		}
	}
}

func TestDecodeRecordRejectsUnknownVersions(t *testing.T) {
	tests := []struct {
		rec  []byte
		want error
	}{
		{nil, ErrCorrupt},
		{[]byte{0, '{', '}'}, ErrCorrupt},
		{[]byte{recordVersion + 1, '{', '}'}, ErrNewerFormat},
		{[]byte{1, 'x'}, ErrCorrupt},
	}
	for _, tt := range tests {
		if _, err := decodeRecord(tt.rec); !errors.Is(err, tt.want) {
			t.Errorf("decodeRecord(%q) = %v, want %v", tt.rec, err, tt.want)
		}
	}
}

func TestGetOfNewerRecordIsErrNewerFormat(t *testing.T) {
	s, _ := mustOpen(t)
	fill(t, s, 1)
	err := s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFlows).Put(idKey(1), []byte{recordVersion + 1, '{', '}'})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(1); !errors.Is(err, ErrNewerFormat) {
		t.Errorf("Get of a newer record = %v, want ErrNewerFormat", err)
	}
}

func TestSummaryRoundTrip(t *testing.T) {
	tests := []flow.Summary{
		{},
		{ID: 1, Method: "MKCOL", URL: "http://x/", Kind: "websocket", ErrorPhase: "custom", Worst: flow.SeverityHigh},
		{ID: 1 << 60, ReplayOf: 1 << 62, RequestSize: -1, ResponseSize: 1 << 40, Status: 999, Imported: true, Pending: true},
	}
	for i := flow.ID(1); i <= 40; i++ {
		tests = append(tests, testFlow(i).Summarize())
	}
	for _, want := range tests {
		var got flow.Summary
		if err := decodeSummary(want.ID, appendSummary(nil, &want), &got); err != nil {
			t.Fatalf("decode %+v: %v", want, err)
		}
		if !got.Start.Equal(want.Start) || got.Start.IsZero() != want.Start.IsZero() {
			t.Errorf("Start = %v, want %v", got.Start, want.Start)
		}
		got.Start = want.Start
		if got != want {
			t.Errorf("summary round trip:\n got %+v\nwant %+v", got, want)
		}
	}
}

// encodeRecordV1 is the format-1 encoder, kept for tests only: the store
// reads format 1 but no longer writes it.
func encodeRecordV1(f *flow.Flow) []byte {
	c := *f
	c.Version = 1
	c.Request.Body.Data = nil
	if f.Response != nil {
		r := *f.Response
		r.Body.Data = nil
		c.Response = &r
	}
	js, err := json.Marshal(&c)
	if err != nil {
		panic(err)
	}
	return append([]byte{1}, js...)
}

// TestFixtures reads the frozen database of each record format:
// testdata/vN.db holds flows written by the format-N code, testdata/vN.json
// what they must read back as. -update regenerates only the current
// format's fixture; older ones must never change.
func TestFixtures(t *testing.T) {
	for version := 1; version <= recordVersion; version++ {
		t.Run(fmt.Sprintf("v%d", version), func(t *testing.T) {
			dbPath := filepath.Join("testdata", fmt.Sprintf("v%d.db", version))
			jsonPath := filepath.Join("testdata", fmt.Sprintf("v%d.json", version))
			if *update && version == recordVersion {
				writeFixture(t, dbPath, jsonPath)
			}
			checkFixture(t, version, dbPath, jsonPath)
		})
	}
}

func writeFixture(t *testing.T, dbPath, jsonPath string) {
	os.Remove(dbPath)
	s, err := Open(dbPath, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var fs []*flow.Flow
	for i := flow.ID(1); i <= 16; i++ {
		fs = append(fs, stored(testFlow(i)))
	}
	fs[2].Response.Trailer = nil // one response without trailers
	fs[3].Client.TLS = nil       // one plain-text client leg
	if err := s.PutBatch(fs); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	js, _ := json.MarshalIndent(fs, "", "  ")
	if err := os.WriteFile(jsonPath, append(js, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// openFixtureCopy opens a copy of a frozen database: opening may write to
// the file (marking its format current), and the fixture must not change.
func openFixtureCopy(t *testing.T, dbPath string) *Store {
	t.Helper()
	frozen, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "flows.db")
	if err := os.WriteFile(path, frozen, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func checkFixture(t *testing.T, version int, dbPath, jsonPath string) {
	js, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var want []*flow.Flow
	if err := json.Unmarshal(js, &want); err != nil {
		t.Fatal(err)
	}
	s := openFixtureCopy(t, dbPath)
	if n, _ := s.Len(); n != len(want) {
		t.Fatalf("fixture has %d flows, want %d", n, len(want))
	}
	for _, w := range want {
		got, err := s.Get(w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != version {
			t.Errorf("flow %d: Version = %d, want %d", w.ID, got.Version, version)
		}
		checkFlow(t, got, w)
	}
	sums, err := s.LastSummaries(len(want))
	if err != nil {
		t.Fatal(err)
	}
	for i, got := range sums {
		w := want[i].Summarize()
		if !got.Start.Equal(w.Start) {
			t.Errorf("summary %d: Start %v, want %v", w.ID, got.Start, w.Start)
		}
		got.Start = w.Start
		if got != w {
			t.Errorf("summary %d:\n got %+v\nwant %+v", w.ID, got, w)
		}
	}
}

// writeFuzzSeeds writes a seed corpus file per input, in the format of
// `go test fuzz v1`.
func writeFuzzSeeds(t *testing.T, target string, seeds [][]byte) {
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, b := range seeds {
		content := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func recordSeeds() [][]byte {
	var seeds [][]byte
	for _, id := range []flow.ID{1, 5, 7, 8} {
		seeds = append(seeds, encodeRecordV1(testFlow(id)))
	}
	seeds = append(seeds, []byte{}, []byte{1}, []byte{1, '{', '}'}, []byte{3, '{', '}'}, []byte{1, 'n', 'u', 'l', 'l'})
	for _, id := range []flow.ID{1, 5, 7, 8} {
		rec := encodeRecord(testFlow(id))
		seeds = append(seeds, rec, rec[:len(rec)/2])
	}
	return append(seeds, []byte{2}, []byte{2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
}

func summarySeeds() [][]byte {
	var seeds [][]byte
	for _, id := range []flow.ID{1, 5, 7, 8} {
		sum := testFlow(id).Summarize()
		seeds = append(seeds, appendSummary(nil, &sum))
	}
	return append(seeds, []byte{}, []byte{1}, []byte{1, 0xff}, []byte{1, 4, 0x80, 0x80})
}

func TestWriteFuzzSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite testdata/fuzz seeds")
	}
	writeFuzzSeeds(t, "FuzzDecodeRecord", recordSeeds())
	writeFuzzSeeds(t, "FuzzDecodeSummary", summarySeeds())
}

func FuzzDecodeRecord(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		fl, err := decodeRecord(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNewerFormat) {
				t.Fatalf("decodeRecord error %v wraps neither ErrCorrupt nor ErrNewerFormat", err)
			}
			return
		}
		// Whatever decodes must encode and decode to the same flow (same
		// encoding: the version and time zones aside, every field equal).
		rec := encodeRecord(fl)
		again, err := decodeRecord(rec)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if rec2 := encodeRecord(again); !bytes.Equal(rec, rec2) {
			a, _ := json.Marshal(fl)
			c, _ := json.Marshal(again)
			t.Fatalf("round trip changed the flow:\n%s\n%s", a, c)
		}
	})
}

func FuzzDecodeSummary(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var s flow.Summary
		if err := decodeSummary(7, b, &s); err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decodeSummary error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		var again flow.Summary
		if err := decodeSummary(7, appendSummary(nil, &s), &again); err != nil {
			t.Fatalf("re-encoded summary does not decode: %v", err)
		}
		if !again.Start.Equal(s.Start) {
			t.Fatalf("round trip changed Start: %v → %v", s.Start, again.Start)
		}
		again.Start = s.Start
		if !reflect.DeepEqual(again, s) {
			t.Fatalf("round trip changed the summary:\n%+v\n%+v", s, again)
		}
	})
}
