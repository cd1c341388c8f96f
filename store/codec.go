package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"onpath/flow"
)

// recordVersion is the format version written by this build. A record is
// a version byte and the encoded flow.Flow with both bodies' Data cut out
// (Size and Truncated stay; the bytes live in the bodies bucket).
//
//	1: JSON of flow.Flow (read only; testdata/v1.db is its frozen fixture)
//	2: binary, see record_v2.go (testdata/v2.db)
//
// To change the format: add recordVersion N+1, keep decodeRecordV<N>, add a
// migration from N's result to the current flow.Flow in decodeRecord if the
// shape changed, and keep testdata/vN.db frozen (see TestFixtures).
const recordVersion = 2

// Body sides, the last byte of a bodies key.
const (
	sideRequest  byte = 'q'
	sideResponse byte = 's'
)

// idKey is the 8-byte big-endian key of a flow: keys sort in id order.
func idKey(id flow.ID) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, uint64(id))
	return k
}

func keyID(k []byte) flow.ID { return flow.ID(binary.BigEndian.Uint64(k)) }

// encodeRecord encodes f without its bodies, in the current format.
func encodeRecord(f *flow.Flow) []byte {
	return appendRecordV2(append(make([]byte, 0, 512), recordVersion), f)
}

// decodeRecord decodes a record of any version this build knows into the
// current flow.Flow, without bodies. f.Version is the version it was
// stored as.
func decodeRecord(b []byte) (*flow.Flow, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("empty record: %w", ErrCorrupt)
	}
	switch v := b[0]; {
	case v == 1:
		// Format 1 decodes straight into today's flow.Flow: no migration.
		return decodeRecordV1(b[1:])
	case v == 2:
		return decodeRecordV2(b[1:])
	case v > recordVersion:
		return nil, fmt.Errorf("record format %d (this build reads up to %d): %w", v, recordVersion, ErrNewerFormat)
	default:
		return nil, fmt.Errorf("unknown record format %d: %w", v, ErrCorrupt)
	}
}

func decodeRecordV1(b []byte) (*flow.Flow, error) {
	f := new(flow.Flow)
	if err := json.Unmarshal(b, f); err != nil {
		return nil, fmt.Errorf("record format 1: %w: %w", ErrCorrupt, err)
	}
	f.Version = 1
	return f, nil
}

// encodedFlow is a flow ready to be written: what goes in each bucket.
type encodedFlow struct {
	id           flow.ID
	record       []byte
	summary      []byte
	requestBody  []byte
	responseBody []byte
}

// encodeFlow encodes f for the flows, summaries and bodies buckets. The
// bodies are not copied: the store owns f once it is Put.
func encodeFlow(f *flow.Flow) *encodedFlow {
	sum := f.Summarize()
	enc := &encodedFlow{
		id:          f.ID,
		record:      encodeRecord(f),
		summary:     appendSummary(make([]byte, 0, 64+len(sum.URL)), &sum),
		requestBody: f.Request.Body.Data,
	}
	if f.Response != nil {
		enc.responseBody = f.Response.Body.Data
	}
	return enc
}

// size is roughly what the flow adds to a transaction.
func (e *encodedFlow) size() int {
	return len(e.record) + len(e.summary) + len(e.requestBody) + len(e.responseBody)
}
