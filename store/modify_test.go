package store

import (
	bolt "go.etcd.io/bbolt"

	"errors"
	"testing"

	"onpath/flow"
)

func TestDeleteRemovesRecordBodiesAndSummary(t *testing.T) {
	s, _ := mustOpen(t)
	fill(t, s, 20)
	if err := s.Delete(3, 4, 999); err != nil {
		t.Fatal(err)
	}
	for _, id := range []flow.ID{3, 4} {
		if _, err := s.Get(id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%d) after Delete = %v, want ErrNotFound", id, err)
		}
	}
	if n, _ := s.Len(); n != 18 {
		t.Errorf("Len() = %d after deleting 2 of 20, want 18", n)
	}
	sums, _ := s.LastSummaries(100)
	for _, sum := range sums {
		if sum.ID == 3 || sum.ID == 4 {
			t.Errorf("summary of deleted flow %d still listed", sum.ID)
		}
	}
	err := s.view(func(tx *bolt.Tx) error {
		for _, side := range []byte{sideRequest, sideResponse} {
			if v, _ := readBody(tx.Bucket(bucketBodies), 3, side); v != nil {
				t.Errorf("body %c of deleted flow 3 still stored", side)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDeleteWinsOverQueuedPut(t *testing.T) {
	s, _ := mustOpen(t)
	if err := s.Put(testFlow(7)); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(7); err != nil { // no Flush in between
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(7); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(7) = %v, want ErrNotFound: a queued Put must not resurrect a deleted flow", err)
	}
}

func TestDeleteImport(t *testing.T) {
	s, _ := mustOpen(t)
	fill(t, s, 60) // every sixth flow has ImportID "har-1"
	other := testFlow(61)
	other.ImportID = "har-2"
	if err := s.PutBatch([]*flow.Flow{other}); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteImport("har-1")
	if err != nil || n != 10 {
		t.Fatalf("DeleteImport(har-1) = %d, %v; want 10, nil", n, err)
	}
	if got, _ := s.Len(); got != 51 {
		t.Errorf("Len() = %d, want 51", got)
	}
	if _, err := s.Get(61); err != nil {
		t.Errorf("flow of another import: %v", err)
	}
	if _, err := s.Get(6); !errors.Is(err, ErrNotFound) {
		t.Errorf("flow 6 of har-1: %v, want ErrNotFound", err)
	}
}

func TestUpdateReadsModifiesAndWrites(t *testing.T) {
	s, _ := mustOpen(t)
	fill(t, s, 3)
	err := s.Update(2, func(f *flow.Flow) error {
		if len(f.Request.Body.Data) == 0 {
			t.Error("Update's fn got the flow without its body")
		}
		f.Findings = append(f.Findings, flow.Finding{Rule: "TX01", Severity: flow.SeverityHigh})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(2)
	want := stored(testFlow(2))
	want.Findings = append(want.Findings, flow.Finding{Rule: "TX01", Severity: flow.SeverityHigh})
	checkFlow(t, got, want)
	sums, _ := s.LastSummaries(3)
	if sums[1].Worst != flow.SeverityHigh {
		t.Errorf("summary after Update: Worst = %v, want high", sums[1].Worst)
	}

	errStop := errors.New("stop")
	if err := s.Update(2, func(f *flow.Flow) error { f.Request.URL = "x"; return errStop }); !errors.Is(err, errStop) {
		t.Errorf("Update with failing fn = %v, want errStop", err)
	}
	if got, _ := s.Get(2); got.Request.URL == "x" {
		t.Error("a failed Update was written")
	}
	if err := s.Update(99, func(*flow.Flow) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Errorf("Update(missing) = %v, want ErrNotFound", err)
	}
}
