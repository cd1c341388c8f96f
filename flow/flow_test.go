package flow

import (
	"encoding/json"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	start := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	f := &Flow{
		ID: 7, Kind: KindHTTP, ReplayOf: 3, ImportID: "imp",
		Request:  Request{Method: "POST", URL: "https://example.test:8443/a?b=c", Body: Body{Size: 10}},
		Response: &Response{Status: 201, Body: Body{Size: 99, Truncated: true}},
		Timings:  Timings{Start: start, End: start.Add(1500 * time.Millisecond)},
		Error:    &Error{Phase: PhaseResponse, Message: "reset"},
		Findings: []Finding{{Rule: "CK05", Severity: SeverityLow}, {Rule: "CK02", Severity: SeverityHigh}, {Rule: "CK09", Severity: SeverityInfo}},
	}
	got := f.Summarize()
	want := Summary{ID: 7, Kind: KindHTTP, Start: start, Duration: 1500 * time.Millisecond, Method: "POST",
		URL: "https://example.test:8443/a?b=c", Status: 201, RequestSize: 10, ResponseSize: 99,
		ErrorPhase: PhaseResponse, Worst: SeverityHigh, ReplayOf: 3, Imported: true}
	if got != want {
		t.Errorf("Summarize() =\n %+v\nwant\n %+v", got, want)
	}
	if f.Request.Scheme() != "https" || f.Request.Host() != "example.test" {
		t.Errorf("Scheme, Host = %q, %q", f.Request.Scheme(), f.Request.Host())
	}
}

func TestSummarizePendingAndTunnel(t *testing.T) {
	f := &Flow{Kind: KindTunnel, Request: Request{Method: "CONNECT", URL: "https://pinned.test:443"},
		Timings: Timings{Start: time.Unix(1, 0)}, Tunnel: &Tunnel{BytesUp: 5, BytesDown: 6}}
	s := f.Summarize()
	if !s.Pending || s.Duration != 0 || s.Status != 0 || s.RequestSize != 5 || s.ResponseSize != 6 || s.Worst != SeverityNone {
		t.Errorf("pending tunnel summary = %+v", s)
	}
}

func TestSeverityText(t *testing.T) {
	for s := SeverityNone; s <= SeverityHigh; s++ {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Severity
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("severity %v: JSON %s reads back as %v, %v", s, b, back, err)
		}
	}
	if _, err := ParseSeverity("critical"); err == nil {
		t.Error("ParseSeverity(critical) succeeded, want an error")
	}
	if SeverityHigh <= SeverityMedium || SeverityLow <= SeverityInfo {
		t.Error("severities are not ordered")
	}
}
