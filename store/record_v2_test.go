package store

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"onpath/flow"
)

// recordV2Fields is the shape of flow.Flow that record format 2 encodes.
// When flow.Flow changes, this test fails: encode the new field in
// record_v2.go as format 3, bump recordVersion, then update this list.
const recordV2Fields = `Flow.Version int (not stored: set on decode)
Flow.ID flow.ID
Flow.Kind flow.Kind
Flow.Client flow.Conn
Conn.Addr string
Conn.TLS *flow.TLSInfo
TLSInfo.Version uint16
TLSInfo.CipherSuite uint16
TLSInfo.SNI string
TLSInfo.ALPN string
TLSInfo.OfferedALPN []string
TLSInfo.ECHAccepted bool
TLSInfo.Chain []flow.Certificate
Certificate.Subject string
Certificate.Issuer string
Certificate.SerialNumber string
Certificate.DNSNames []string
Certificate.IPAddresses []string
Certificate.NotBefore time.Time
Certificate.NotAfter time.Time
Certificate.IsCA bool
Certificate.SHA256 string
TLSInfo.Verified bool
TLSInfo.VerifyError string
Flow.Server flow.Conn
Flow.Request flow.Request
Request.Method string
Request.URL string
Request.Proto string
Request.Header http.Header
Request.Body flow.Body
Body.Size int64
Body.Truncated bool
Body.Data []uint8 (not stored: bodies bucket)
Flow.Response *flow.Response
Response.Proto string
Response.Status int
Response.Header http.Header
Response.Trailer http.Header
Response.Body flow.Body
Flow.Timings flow.Timings
Timings.Start time.Time
Timings.DNSStart time.Time
Timings.DNSDone time.Time
Timings.ConnectStart time.Time
Timings.ConnectDone time.Time
Timings.TLSStart time.Time
Timings.TLSDone time.Time
Timings.RequestSent time.Time
Timings.FirstByte time.Time
Timings.End time.Time
Flow.Error *flow.Error
Error.Phase flow.Phase
Error.Message string
Flow.Tunnel *flow.Tunnel
Tunnel.BytesUp int64
Tunnel.BytesDown int64
Flow.ReplayOf flow.ID
Flow.Forced bool
Flow.ImportID string
Flow.Findings []flow.Finding
Finding.Rule string
Finding.Severity flow.Severity
Finding.Message string
Finding.Evidence string
Finding.Fix string`

// describeFields lists the fields of t, descending into onpath's own
// struct types (each once), in declaration order.
func describeFields(t reflect.Type, seen map[reflect.Type]bool, out *[]string) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t.PkgPath() != "onpath/flow" || seen[t] {
		return
	}
	seen[t] = true
	for i := range t.NumField() {
		f := t.Field(i)
		line := t.Name() + "." + f.Name + " " + f.Type.String()
		switch line {
		case "Flow.Version int":
			line += " (not stored: set on decode)"
		case "Body.Data []uint8":
			line += " (not stored: bodies bucket)"
		}
		*out = append(*out, line)
		describeFields(f.Type, seen, out)
	}
}

func TestRecordV2CoversEveryField(t *testing.T) {
	var lines []string
	describeFields(reflect.TypeFor[flow.Flow](), map[reflect.Type]bool{}, &lines)
	if got := strings.Join(lines, "\n"); got != recordV2Fields {
		t.Errorf("flow.Flow changed; record format 2 does not store the new shape.\n"+
			"Add the fields to a new record format (record_v2.go is frozen), bump recordVersion, then update recordV2Fields.\ngot:\n%s", got)
	}
}

func TestRecordV2RoundTripsEdgeValues(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	f := testFlow(3)
	f.Server.TLS.Chain[0].NotAfter = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC) // beyond UnixNano's range
	f.Server.TLS.Chain[0].NotBefore = time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC)
	f.Timings.Start = time.Date(2026, 1, 1, 12, 0, 0, 999999999, paris)
	f.Request.Body.Size = -1
	f.Request.Header["lower-case"] = []string{"", "two"}
	f.Request.Header["Empty"] = nil
	f.Response.Status = -7
	f.Findings = append(f.Findings, flow.Finding{Severity: flow.Severity(-3)})

	rec := encodeRecord(f)
	got, err := decodeRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Timings.Start.Equal(f.Timings.Start) {
		t.Errorf("Start = %v, want the instant %v", got.Timings.Start, f.Timings.Start)
	}
	want := stored(f)
	want.Timings.Start = f.Timings.Start.UTC() // the instant is kept, the zone is not
	want.Request.Body.Data = nil
	want.Response = &flow.Response{}
	*want.Response = *f.Response
	want.Response.Body.Data = nil
	checkFlow(t, got, want)
}

func TestDecodeRecordV2RejectsTruncatedAndTrailingBytes(t *testing.T) {
	rec := encodeRecord(testFlow(1))
	for _, cut := range []int{1, 2, len(rec) / 3, len(rec) / 2, len(rec) - 1} {
		if _, err := decodeRecord(rec[:cut]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("record cut to %d of %d bytes: err %v, want ErrCorrupt", cut, len(rec), err)
		}
	}
	if _, err := decodeRecord(append(rec, 0)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("record with a trailing byte: err %v, want ErrCorrupt", err)
	}
}
