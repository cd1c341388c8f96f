package store

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"onpath/flow"
)

// Update reads flow id (with bodies), lets fn change it and writes it back,
// in one transaction. Queued Puts are flushed first so fn sees the latest
// version. fn must not change the id, nor call back into the Store (it runs
// inside the write transaction). An error from fn aborts the update and is
// returned wrapped.
func (s *Store) Update(id flow.ID, fn func(*flow.Flow) error) error {
	if err := s.Flush(); err != nil {
		return fmt.Errorf("store: update flow %d: %w", id, err)
	}
	err := s.update(func(tx *bolt.Tx) error {
		f, err := readFlow(tx, id, true)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			return err
		}
		f.ID = id
		w := newTxWriter(tx)
		if err := w.put(encodeFlow(f)); err != nil {
			return err
		}
		return w.finish()
	})
	if err != nil {
		return fmt.Errorf("store: update flow %d: %w", id, err)
	}
	return nil
}

// Delete removes flows with their bodies and summaries, in one
// transaction. Queued Puts are flushed first so a queued copy cannot bring
// a deleted flow back. Ids that do not exist are ignored.
func (s *Store) Delete(ids ...flow.ID) error {
	if len(ids) == 0 {
		return nil
	}
	if err := s.Flush(); err != nil {
		return fmt.Errorf("store: delete %d flows: %w", len(ids), err)
	}
	err := s.update(func(tx *bolt.Tx) error {
		w := newTxWriter(tx)
		for _, id := range ids {
			if _, err := w.remove(id); err != nil {
				return err
			}
		}
		return w.finish()
	})
	if err != nil {
		return fmt.Errorf("store: delete %d flows: %w", len(ids), err)
	}
	return nil
}

// DeleteImport removes every flow of one HAR import and returns how many.
func (s *Store) DeleteImport(importID string) (int, error) {
	if importID == "" {
		return 0, fmt.Errorf("store: delete import: empty import id")
	}
	if err := s.Flush(); err != nil {
		return 0, fmt.Errorf("store: delete import %s: %w", importID, err)
	}
	var candidates []flow.ID
	err := s.Summaries(context.Background(), 0, func(sum flow.Summary) bool {
		if sum.Imported {
			candidates = append(candidates, sum.ID)
		}
		return true
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete import %s: %w", importID, err)
	}
	removed := 0
	err = s.update(func(tx *bolt.Tx) error {
		w := newTxWriter(tx)
		for _, id := range candidates {
			f, err := readFlow(tx, id, false)
			if err != nil || f.ImportID != importID {
				continue // deleted meanwhile, or another import
			}
			if ok, err := w.remove(id); err != nil {
				return err
			} else if ok {
				removed++
			}
		}
		return w.finish()
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete import %s: %w", importID, err)
	}
	return removed, nil
}
