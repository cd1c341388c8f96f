package flow

import (
	"net/http"
	"net/url"
	"time"
)

// ID identifies a flow within one store. IDs grow in capture order.
type ID uint64

// Kind says what a flow records.
type Kind string

const (
	// KindHTTP is a request/response exchange the proxy could read.
	KindHTTP Kind = "http"
	// KindTunnel is a CONNECT tunnel passed through without decryption.
	KindTunnel Kind = "tunnel"
)

// Flow is one exchange through the proxy.
type Flow struct {
	// Version is the record format version the flow was decoded from.
	Version int  `json:"version"`
	ID      ID   `json:"id"`
	Kind    Kind `json:"kind"`

	// Client is the leg between the client and onpath; Server is the leg
	// between onpath and the real server, the one a real on-path attacker sees.
	Client Conn `json:"client"`
	Server Conn `json:"server"`

	Request  Request   `json:"request"`
	Response *Response `json:"response,omitempty"`
	Timings  Timings   `json:"timings"`
	Error    *Error    `json:"error,omitempty"`

	// Tunnel is set for KindTunnel flows: bytes each way.
	Tunnel *Tunnel `json:"tunnel,omitempty"`

	// ReplayOf is the flow this one replays, 0 if none.
	ReplayOf ID `json:"replay_of,omitempty"`
	// Forced marks a replay sent although its recorded request body was truncated.
	Forced bool `json:"forced,omitempty"`
	// ImportID is set on flows loaded from a HAR file; one import shares one id.
	ImportID string `json:"import_id,omitempty"`

	// Findings are the audit results, computed when the flow is recorded.
	Findings []Finding `json:"findings,omitempty"`
}

// Conn describes one leg of a flow.
type Conn struct {
	// Addr is the peer's address: the client's for Flow.Client, the
	// server's (resolved IP and port) for Flow.Server.
	Addr string `json:"addr,omitempty"`
	// TLS is nil when the leg was plain text.
	TLS *TLSInfo `json:"tls,omitempty"`
}

// Request is what the client sent.
type Request struct {
	Method string `json:"method"`
	// URL is absolute: scheme, host (with a port when not the default), path and query.
	URL string `json:"url"`
	// Proto is the protocol version the client spoke, e.g. "HTTP/1.1" or "HTTP/2.0".
	Proto  string      `json:"proto"`
	Header http.Header `json:"header,omitempty"`
	Body   Body        `json:"body"`
}

// Response is what the server answered.
type Response struct {
	// Proto is the protocol version the server spoke.
	Proto   string      `json:"proto"`
	Status  int         `json:"status"`
	Header  http.Header `json:"header,omitempty"`
	Trailer http.Header `json:"trailer,omitempty"`
	Body    Body        `json:"body"`
}

// Body is a message body as it crossed the wire (still content-encoded).
type Body struct {
	// Size is the full size in bytes, also when Data was truncated.
	Size int64 `json:"size"`
	// Truncated is true when Data holds only the first bytes (the capture cap).
	Truncated bool `json:"truncated,omitempty"`
	// Data is the captured raw bytes; JSON carries them in base64.
	Data []byte `json:"data,omitempty"`
}

// Tunnel counts the bytes of a passthrough tunnel.
type Tunnel struct {
	BytesUp   int64 `json:"bytes_up"`   // client to server
	BytesDown int64 `json:"bytes_down"` // server to client
}

// Timings are wall-clock instants; a zero time means the phase did not
// happen (for example DNS and connect on a reused connection).
type Timings struct {
	Start        time.Time `json:"start"`
	DNSStart     time.Time `json:"dns_start,omitzero"`
	DNSDone      time.Time `json:"dns_done,omitzero"`
	ConnectStart time.Time `json:"connect_start,omitzero"`
	ConnectDone  time.Time `json:"connect_done,omitzero"`
	TLSStart     time.Time `json:"tls_start,omitzero"`
	TLSDone      time.Time `json:"tls_done,omitzero"`
	RequestSent  time.Time `json:"request_sent,omitzero"`
	FirstByte    time.Time `json:"first_byte,omitzero"`
	End          time.Time `json:"end,omitzero"`
}

// Duration is End minus Start, or 0 while the flow is in progress.
func (t Timings) Duration() time.Duration {
	if t.End.IsZero() || t.Start.IsZero() {
		return 0
	}
	return t.End.Sub(t.Start)
}

// Pending reports whether the flow has not finished yet.
func (f *Flow) Pending() bool { return f.Timings.End.IsZero() }

// Scheme is the request URL's scheme ("http", "https"), or "" if unparsable.
func (r *Request) Scheme() string {
	u, err := url.Parse(r.URL)
	if err != nil {
		return ""
	}
	return u.Scheme
}

// Host is the request URL's host without the port.
func (r *Request) Host() string {
	u, err := url.Parse(r.URL)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// Status is the response status, 0 when there is no response.
func (f *Flow) Status() int {
	if f.Response == nil {
		return 0
	}
	return f.Response.Status
}

// Worst is the highest severity among the findings, SeverityNone if none.
func (f *Flow) Worst() Severity {
	worst := SeverityNone
	for _, fd := range f.Findings {
		worst = max(worst, fd.Severity)
	}
	return worst
}
