package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"onpath/flow"
)

// testFlow builds a deterministic flow for id with every field set, so a
// round trip through the store shows any field that gets lost. Every
// seventh flow is a tunnel, every fifth has an error and no response.
func testFlow(id flow.ID) *flow.Flow {
	n := int(id)
	start := time.Date(2026, 11, 27, 13, 0, 0, 0, time.UTC).Add(time.Duration(n) * 1234567 * time.Nanosecond)
	f := &flow.Flow{
		ID:   id,
		Kind: flow.KindHTTP,
		Client: flow.Conn{
			Addr: fmt.Sprintf("127.0.0.1:%d", 40000+n%20000),
			TLS: &flow.TLSInfo{
				Version: 0x0304, CipherSuite: 0x1301, SNI: fmt.Sprintf("host%d.example", n%13),
				ALPN: "h2", OfferedALPN: []string{"h2", "http/1.1"}, Verified: true,
			},
		},
		Server: flow.Conn{
			Addr: fmt.Sprintf("93.184.216.%d:443", n%250),
			TLS: &flow.TLSInfo{
				Version: 0x0303, CipherSuite: 0xc02f, SNI: fmt.Sprintf("host%d.example", n%13),
				ALPN: "http/1.1", ECHAccepted: n%2 == 0,
				Chain: []flow.Certificate{{
					Subject: "CN=host.example", Issuer: "CN=Test CA", SerialNumber: fmt.Sprint(n),
					DNSNames: []string{"host.example"}, IPAddresses: []string{"192.0.2.1"},
					NotBefore: start.Add(-time.Hour), NotAfter: start.Add(397 * 24 * time.Hour),
					IsCA: false, SHA256: fmt.Sprintf("%064x", n),
				}},
				Verified: n%3 != 0, VerifyError: map[bool]string{true: "x509: certificate signed by unknown authority"}[n%3 == 0],
			},
		},
		Request: flow.Request{
			Method: []string{"GET", "POST", "PUT", "PROPFIND"}[n%4],
			URL:    fmt.Sprintf("https://host%d.example:8443/path/%d?q=%d&token=abc", n%13, n, n),
			Proto:  "HTTP/1.1",
			Header: http.Header{"Cookie": {fmt.Sprintf("sid=%d; theme=dark", n)}, "X-Trace": {fmt.Sprint(n)}},
			Body:   flow.Body{Size: int64(20 + n%50), Truncated: n%11 == 0, Data: bytes.Repeat([]byte{byte('a' + n%26)}, 20+n%50)},
		},
		Response: &flow.Response{
			Proto: "HTTP/2.0", Status: []int{200, 302, 404, 500}[n%4],
			Header:  http.Header{"Set-Cookie": {fmt.Sprintf("sid=%d; Path=/; HttpOnly", n)}, "Content-Type": {"text/plain"}},
			Trailer: http.Header{"Grpc-Status": {"0"}},
			Body:    flow.Body{Size: int64(2048 + n), Data: bytes.Repeat([]byte(fmt.Sprintf("body %d ", n)), 8)},
		},
		Timings: flow.Timings{
			Start: start, DNSStart: start.Add(1), DNSDone: start.Add(2), ConnectStart: start.Add(3),
			ConnectDone: start.Add(4), TLSStart: start.Add(5), TLSDone: start.Add(6),
			RequestSent: start.Add(7), FirstByte: start.Add(8), End: start.Add(time.Duration(n) * time.Microsecond),
		},
		ReplayOf: flow.ID(n / 2 * (n % 2)),
		Forced:   n%9 == 0,
		ImportID: map[bool]string{true: "har-1"}[n%6 == 0],
		Findings: []flow.Finding{{Rule: "CK02", Severity: flow.Severity(n % 5), Message: "session id in clear", Evidence: "sid", Fix: "serve over https"}},
	}
	if n%5 == 0 {
		f.Response = nil
		f.Error = &flow.Error{Phase: flow.PhaseConnect, Message: "connection refused"}
	}
	if n%7 == 0 {
		f.Kind = flow.KindTunnel
		f.Tunnel = &flow.Tunnel{BytesUp: int64(n), BytesDown: int64(n * 3)}
	}
	if n%8 == 0 {
		f.Timings.End = time.Time{} // pending
	}
	return f
}

// stored is what Get returns for a flow written by this build.
func stored(f *flow.Flow) *flow.Flow {
	c := *f
	c.Version = recordVersion
	return &c
}

func checkFlow(t testing.TB, got, want *flow.Flow) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Fatalf("flow %d differs\n got %s\nwant %s", want.ID, g, w)
	}
}

// mustOpen opens a store in a temporary directory. On cleanup it closes
// the store and checks the file: bbolt's own consistency check, and that
// the flow count, the summaries and the records agree.
func mustOpen(tb testing.TB, opts ...Options) (*Store, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "flows.db")
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	s, err := Open(path, o)
	if err != nil {
		tb.Fatalf("Open(%s): %v", path, err)
	}
	tb.Cleanup(func() {
		closedByTest := s.closed.Load() // the test checked Close's error itself
		if err := s.Close(); err != nil && !closedByTest && !tb.Failed() {
			tb.Errorf("Close: %v", err)
		}
		checkConsistency(tb, path)
	})
	return s, path
}

func checkConsistency(tb testing.TB, path string) {
	tb.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		tb.Errorf("consistency: open %s: %v", path, err)
		return
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			tb.Errorf("consistency: bbolt check: %v", err)
		}
		flows := tx.Bucket(bucketFlows).Stats().KeyN
		sums := tx.Bucket(bucketSummaries).Stats().KeyN
		count := binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(metaCount))
		if flows != sums || uint64(flows) != count {
			tb.Errorf("consistency: %d records, %d summaries, count %d; want all equal", flows, sums, count)
		}
		return nil
	})
	if err != nil {
		tb.Errorf("consistency: %v", err)
	}
}

// openAgain opens the store at path (closed by the caller before), to see
// what was written, and closes it when the test ends.
func openAgain(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		tb.Fatalf("reopen %s: %v", path, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}
