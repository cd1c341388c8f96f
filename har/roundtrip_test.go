package har

import (
	"bytes"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"onpath/flow"
)

// Export, import and export again must give the same HAR, byte for byte.
func TestRoundTrip(t *testing.T) {
	for _, opts := range []Options{{Version: "1.0", Findings: true}, {Creator: "other", Version: "2"}} {
		original := sampleFlows(t)
		var first bytes.Buffer
		if err := Write(&first, original, opts); err != nil {
			t.Fatal(err)
		}
		imported, err := Read(bytes.NewReader(first.Bytes()), "imp-1", 0)
		if err != nil {
			t.Fatalf("Read of our own export: %v", err)
		}
		if len(imported) != len(original) {
			t.Fatalf("imported %d flows, want %d", len(imported), len(original))
		}
		for i, f := range imported {
			if f.ID != 0 || f.ImportID != "imp-1" {
				t.Errorf("flow %d: id %d import id %q, want 0 and imp-1", i, f.ID, f.ImportID)
			}
			f.ID = original[i].ID // as a store numbering from 1 would
		}
		var second bytes.Buffer
		if err := Write(&second, imported, opts); err != nil {
			t.Fatal(err)
		}
		if first.String() != second.String() {
			t.Errorf("second export differs from the first:\n%s", firstDifference(first.String(), second.String()))
		}
	}
}

// The imported flows equal the originals in every field (times compared
// as instants), apart from the id and the import id.
func TestRoundTripFlows(t *testing.T) {
	original := sampleFlows(t)
	var buf bytes.Buffer
	if err := Write(&buf, original, Options{Findings: true}); err != nil {
		t.Fatal(err)
	}
	imported, err := Read(&buf, "x", 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, got := range imported {
		want := *original[i]
		want.ID, want.ImportID = 0, "x"
		got.Timings = sameLocation(got.Timings)
		want.Timings = sameLocation(want.Timings)
		if got.Response != nil && want.Response != nil && len(want.Response.Body.Data) == 0 {
			want.Response.Body.Data = nil
		}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("flow %d:\ngot  %+v\nwant %+v", i, *got, want)
		}
	}
}

func sameLocation(t flow.Timings) flow.Timings {
	for _, p := range []*time.Time{&t.Start, &t.DNSStart, &t.DNSDone, &t.ConnectStart, &t.ConnectDone,
		&t.TLSStart, &t.TLSDone, &t.RequestSent, &t.FirstByte, &t.End} {
		if !p.IsZero() {
			*p = p.UTC()
		}
	}
	return t
}

func firstDifference(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(la) && i < len(lb); i++ {
		if la[i] != lb[i] {
			return "line " + strconv.Itoa(i+1) + ":\n first:  " + la[i] + "\n second: " + lb[i]
		}
	}
	return "lengths differ: " + strconv.Itoa(len(la)) + " and " + strconv.Itoa(len(lb)) + " lines"
}
