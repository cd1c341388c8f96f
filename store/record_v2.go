package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"time"

	"onpath/flow"
)

// Record format 2 is a hand-written binary encoding of flow.Flow (bodies
// cut out, as in format 1), because decoding JSON dominated every query on
// headers, cookies or bodies. Fields follow the struct order; see
// appendRecordV2. TestRecordV2CoversEveryField fails when flow.Flow gains
// a field, so the format cannot silently drop one: add the field here and
// bump recordVersion.
//
// Encodings: uvarint/varint as in encoding/binary; a string or byte slice is
// a uvarint length and the bytes; a bool a byte 0 or 1; an optional part
// (pointer) a presence byte then the part; a list a uvarint count then the
// items (0 decodes as nil); a time a uvarint 0 for the zero time, else 1,
// varint Unix seconds and uvarint nanoseconds (decoded in UTC; the instant
// is kept, the zone is not); a header a uvarint count of names (sorted), then
// for each the name and its list of values.

var errShortRecord = errors.New("record is truncated")

func appendRecordV2(dst []byte, f *flow.Flow) []byte {
	dst = binary.AppendUvarint(dst, uint64(f.ID))
	dst = appendString(dst, string(f.Kind))
	dst = appendConn(dst, &f.Client)
	dst = appendConn(dst, &f.Server)

	r := &f.Request
	dst = appendString(dst, r.Method)
	dst = appendString(dst, r.URL)
	dst = appendString(dst, r.Proto)
	dst = appendHeader(dst, r.Header)
	dst = appendBody(dst, &r.Body)

	dst = appendBool(dst, f.Response != nil)
	if p := f.Response; p != nil {
		dst = appendString(dst, p.Proto)
		dst = binary.AppendVarint(dst, int64(p.Status))
		dst = appendHeader(dst, p.Header)
		dst = appendHeader(dst, p.Trailer)
		dst = appendBody(dst, &p.Body)
	}

	t := &f.Timings
	for _, tm := range [...]time.Time{t.Start, t.DNSStart, t.DNSDone, t.ConnectStart, t.ConnectDone,
		t.TLSStart, t.TLSDone, t.RequestSent, t.FirstByte, t.End} {
		dst = appendTime(dst, tm)
	}

	dst = appendBool(dst, f.Error != nil)
	if e := f.Error; e != nil {
		dst = appendString(dst, string(e.Phase))
		dst = appendString(dst, e.Message)
	}
	dst = appendBool(dst, f.Tunnel != nil)
	if tu := f.Tunnel; tu != nil {
		dst = binary.AppendVarint(dst, tu.BytesUp)
		dst = binary.AppendVarint(dst, tu.BytesDown)
	}
	dst = binary.AppendUvarint(dst, uint64(f.ReplayOf))
	dst = appendBool(dst, f.Forced)
	dst = appendString(dst, f.ImportID)
	dst = binary.AppendUvarint(dst, uint64(len(f.Findings)))
	for i := range f.Findings {
		fd := &f.Findings[i]
		dst = appendString(dst, fd.Rule)
		dst = binary.AppendVarint(dst, int64(fd.Severity))
		dst = appendString(dst, fd.Message)
		dst = appendString(dst, fd.Evidence)
		dst = appendString(dst, fd.Fix)
	}
	return dst
}

func appendConn(dst []byte, c *flow.Conn) []byte {
	dst = appendString(dst, c.Addr)
	dst = appendBool(dst, c.TLS != nil)
	t := c.TLS
	if t == nil {
		return dst
	}
	dst = binary.AppendUvarint(dst, uint64(t.Version))
	dst = binary.AppendUvarint(dst, uint64(t.CipherSuite))
	dst = appendString(dst, t.SNI)
	dst = appendString(dst, t.ALPN)
	dst = appendStrings(dst, t.OfferedALPN)
	dst = appendBool(dst, t.ECHAccepted)
	dst = binary.AppendUvarint(dst, uint64(len(t.Chain)))
	for i := range t.Chain {
		cert := &t.Chain[i]
		dst = appendString(dst, cert.Subject)
		dst = appendString(dst, cert.Issuer)
		dst = appendString(dst, cert.SerialNumber)
		dst = appendStrings(dst, cert.DNSNames)
		dst = appendStrings(dst, cert.IPAddresses)
		dst = appendTime(dst, cert.NotBefore)
		dst = appendTime(dst, cert.NotAfter)
		dst = appendBool(dst, cert.IsCA)
		dst = appendString(dst, cert.SHA256)
	}
	dst = appendBool(dst, t.Verified)
	return appendString(dst, t.VerifyError)
}

func appendBody(dst []byte, b *flow.Body) []byte {
	dst = binary.AppendVarint(dst, b.Size)
	return appendBool(dst, b.Truncated)
}

func appendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, 1)
	}
	return append(dst, 0)
}

func appendStrings(dst []byte, ss []string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ss)))
	for _, s := range ss {
		dst = appendString(dst, s)
	}
	return dst
}

func appendHeader(dst []byte, h http.Header) []byte {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names) // a stable encoding for equal flows
	dst = binary.AppendUvarint(dst, uint64(len(names)))
	for _, name := range names {
		dst = appendString(dst, name)
		dst = appendStrings(dst, h[name])
	}
	return dst
}

func appendTime(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	dst = binary.AppendVarint(dst, t.Unix())
	return binary.AppendUvarint(dst, uint64(t.Nanosecond()))
}

// recordReader walks a format-2 record; the first error sticks and every
// later read returns a zero value.
type recordReader struct {
	b   []byte
	err error
}

func (r *recordReader) fail() {
	if r.err == nil {
		r.err = errShortRecord
	}
	r.b = nil
}

func (r *recordReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *recordReader) bool() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	if r.err == nil {
		r.err = errors.New("bad boolean")
	}
	r.b = nil
	return false
}

func (r *recordReader) string() string { return string(r.raw()) }

// raw returns the next string's bytes, aliasing the record.
func (r *recordReader) raw() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

// count reads a list length, refusing one that the remaining bytes cannot
// hold (each item takes at least one byte), so garbage cannot make the
// decoder allocate a huge slice.
func (r *recordReader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *recordReader) uint16() uint16 {
	v := r.uvarint()
	if v > math.MaxUint16 {
		r.fail()
		return 0
	}
	return uint16(v)
}

func (r *recordReader) strings() []string {
	n := r.count()
	if n == 0 {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = r.string()
	}
	return ss
}

func (r *recordReader) header() http.Header {
	n := r.count()
	if n == 0 {
		return nil
	}
	h := make(http.Header, n)
	for range n {
		name := r.string()
		h[name] = r.strings()
	}
	return h
}

func (r *recordReader) time() time.Time {
	switch r.byte() {
	case 0:
		return time.Time{}
	case 1:
		sec := r.varint()
		nsec := r.uvarint()
		if nsec >= 1e9 {
			r.fail()
			return time.Time{}
		}
		return time.Unix(sec, int64(nsec)).UTC()
	}
	r.fail()
	return time.Time{}
}

func (r *recordReader) body() flow.Body {
	return flow.Body{Size: r.varint(), Truncated: r.bool()}
}

func (r *recordReader) conn() flow.Conn {
	c := flow.Conn{Addr: r.string()}
	if !r.bool() {
		return c
	}
	t := &flow.TLSInfo{
		Version:     r.uint16(),
		CipherSuite: r.uint16(),
		SNI:         r.string(),
		ALPN:        r.string(),
		OfferedALPN: r.strings(),
		ECHAccepted: r.bool(),
	}
	if n := r.count(); n > 0 {
		t.Chain = make([]flow.Certificate, n)
		for i := range t.Chain {
			t.Chain[i] = flow.Certificate{
				Subject:      r.string(),
				Issuer:       r.string(),
				SerialNumber: r.string(),
				DNSNames:     r.strings(),
				IPAddresses:  r.strings(),
				NotBefore:    r.time(),
				NotAfter:     r.time(),
				IsCA:         r.bool(),
				SHA256:       r.string(),
			}
		}
	}
	t.Verified = r.bool()
	t.VerifyError = r.string()
	c.TLS = t
	return c
}

func decodeRecordV2(b []byte) (*flow.Flow, error) {
	r := &recordReader{b: b}
	f := &flow.Flow{Version: 2}
	f.ID = flow.ID(r.uvarint())
	f.Kind = internKind(r.raw())
	f.Client = r.conn()
	f.Server = r.conn()
	f.Request = flow.Request{
		Method: internMethod(r.raw()),
		URL:    r.string(),
		Proto:  r.string(),
		Header: r.header(),
		Body:   r.body(),
	}
	if r.bool() {
		f.Response = &flow.Response{
			Proto:   r.string(),
			Status:  int(r.varint()),
			Header:  r.header(),
			Trailer: r.header(),
			Body:    r.body(),
		}
	}
	t := &f.Timings
	for _, tm := range [...]*time.Time{&t.Start, &t.DNSStart, &t.DNSDone, &t.ConnectStart, &t.ConnectDone,
		&t.TLSStart, &t.TLSDone, &t.RequestSent, &t.FirstByte, &t.End} {
		*tm = r.time()
	}
	if r.bool() {
		f.Error = &flow.Error{Phase: internPhase(r.raw()), Message: r.string()}
	}
	if r.bool() {
		f.Tunnel = &flow.Tunnel{BytesUp: r.varint(), BytesDown: r.varint()}
	}
	f.ReplayOf = flow.ID(r.uvarint())
	f.Forced = r.bool()
	f.ImportID = r.string()
	if n := r.count(); n > 0 {
		f.Findings = make([]flow.Finding, n)
		for i := range f.Findings {
			f.Findings[i] = flow.Finding{
				Rule:     r.string(),
				Severity: flow.Severity(r.varint()),
				Message:  r.string(),
				Evidence: r.string(),
				Fix:      r.string(),
			}
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%d bytes after the end", len(r.b))
	}
	if r.err != nil {
		return nil, fmt.Errorf("record format 2: %w: %w", ErrCorrupt, r.err)
	}
	return f, nil
}
