package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"onpath/flow"
)

// summaryVersion is the first byte of an encoded summary. The layout after
// it (version 1): byte flags, varint start (unix ns; only when the start
// flag is set), varint duration, string method, string URL, uvarint status,
// varint request size, varint response size, string kind, string error
// phase, varint worst severity, uvarint replay-of. A string is a uvarint
// length and the bytes. The id is the key, not part of the value.
//
// Summaries are derived data: when the layout changes, bump the version and
// rebuild them from the records on open.
const summaryVersion = 1

const (
	summaryImported byte = 1 << iota
	summaryPending
	summaryHasStart
)

var errShortSummary = errors.New("summary is truncated")

// appendSummary appends the encoding of s to dst.
func appendSummary(dst []byte, s *flow.Summary) []byte {
	var flags byte
	if s.Imported {
		flags |= summaryImported
	}
	if s.Pending {
		flags |= summaryPending
	}
	if !s.Start.IsZero() {
		flags |= summaryHasStart
	}
	dst = append(dst, summaryVersion, flags)
	if flags&summaryHasStart != 0 {
		dst = binary.AppendVarint(dst, s.Start.UnixNano())
	}
	dst = binary.AppendVarint(dst, int64(s.Duration))
	dst = appendString(dst, s.Method)
	dst = appendString(dst, s.URL)
	dst = binary.AppendUvarint(dst, uint64(s.Status))
	dst = binary.AppendVarint(dst, s.RequestSize)
	dst = binary.AppendVarint(dst, s.ResponseSize)
	dst = appendString(dst, string(s.Kind))
	dst = appendString(dst, string(s.ErrorPhase))
	dst = binary.AppendVarint(dst, int64(s.Worst))
	dst = binary.AppendUvarint(dst, uint64(s.ReplayOf))
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// summaryReader walks an encoded summary; the first error sticks.
type summaryReader struct {
	b   []byte
	err error
}

func (r *summaryReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShortSummary
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *summaryReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errShortSummary
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bytes returns the next string's bytes, aliasing the input.
func (r *summaryReader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errShortSummary
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

// decodeSummary decodes a summary value stored under id. Strings that
// repeat across flows (method, kind, phase) are interned so that a scan of
// a million summaries allocates only the URLs.
func decodeSummary(id flow.ID, b []byte, s *flow.Summary) error {
	if len(b) < 2 {
		return fmt.Errorf("summary %d: %w: %w", id, ErrCorrupt, errShortSummary)
	}
	if b[0] != summaryVersion {
		return fmt.Errorf("summary %d: unknown format %d: %w", id, b[0], ErrCorrupt)
	}
	flags := b[1]
	r := summaryReader{b: b[2:]}
	*s = flow.Summary{ID: id}
	if flags&summaryHasStart != 0 {
		s.Start = time.Unix(0, r.varint()).UTC()
	}
	s.Duration = time.Duration(r.varint())
	s.Method = internMethod(r.bytes())
	s.URL = string(r.bytes())
	s.Status = int(r.uvarint())
	s.RequestSize = r.varint()
	s.ResponseSize = r.varint()
	s.Kind = internKind(r.bytes())
	s.ErrorPhase = internPhase(r.bytes())
	s.Worst = flow.Severity(r.varint())
	s.ReplayOf = flow.ID(r.uvarint())
	s.Imported = flags&summaryImported != 0
	s.Pending = flags&summaryPending != 0
	if r.err != nil {
		return fmt.Errorf("summary %d: %w: %w", id, ErrCorrupt, r.err)
	}
	return nil
}

func internMethod(b []byte) string {
	switch string(b) {
	case "GET":
		return "GET"
	case "POST":
		return "POST"
	case "PUT":
		return "PUT"
	case "DELETE":
		return "DELETE"
	case "HEAD":
		return "HEAD"
	case "OPTIONS":
		return "OPTIONS"
	case "PATCH":
		return "PATCH"
	case "CONNECT":
		return "CONNECT"
	case "":
		return ""
	}
	return string(b)
}

func internKind(b []byte) flow.Kind {
	switch string(b) {
	case string(flow.KindHTTP):
		return flow.KindHTTP
	case string(flow.KindTunnel):
		return flow.KindTunnel
	case "":
		return ""
	}
	return flow.Kind(b)
}

func internPhase(b []byte) flow.Phase {
	for _, p := range [...]flow.Phase{
		flow.PhaseDNS, flow.PhaseConnect, flow.PhaseTLS, flow.PhaseUpstreamCert,
		flow.PhaseRequest, flow.PhaseResponse, flow.PhaseClientAbort,
		flow.PhaseClientTLS, flow.PhaseProxy,
	} {
		if string(b) == string(p) {
			return p
		}
	}
	return flow.Phase(b)
}
