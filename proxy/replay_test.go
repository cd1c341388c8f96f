package proxy

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"onpath/flow"
	"onpath/internal/testupstream"
)

func TestReplaySendsTheRecordedRequest(t *testing.T) {
	h := newHarness(t)
	req := flow.Request{
		Method: http.MethodPost,
		URL:    h.up.HTTPS.URL + "/anything?replayed=1",
		Header: http.Header{"X-Replay": {"yes"}, "Content-Type": {"text/plain"}, "Content-Length": {"99"}},
		Body:   flow.Body{Data: []byte("replayed body"), Size: 13},
	}
	f, err := h.p.Replay(context.Background(), req)
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	if f.Status() != 200 || f.Error != nil || f.ID == 0 || f.Timings.End.IsZero() {
		t.Fatalf("replayed flow: got status %d error %v id %d end %v", f.Status(), f.Error, f.ID, f.Timings.End)
	}
	body := string(f.Response.Body.Data)
	for _, want := range []string{"replayed body", `"X-Replay"`, "replayed=1"} {
		if !strings.Contains(body, want) {
			t.Errorf("upstream echo lacks %q: %s", want, body)
		}
	}
	if string(f.Request.Body.Data) != "replayed body" || f.Server.TLS == nil || !f.Server.TLS.Verified {
		t.Errorf("replayed flow: request body %q, upstream TLS %+v", f.Request.Body.Data, f.Server.TLS)
	}
	select {
	case got := <-h.finished:
		t.Errorf("Replay reported flow %d to OnFinish; the caller records it", got.ID)
	default:
	}
}

func TestReplayUsesTheSameVerification(t *testing.T) {
	expired := testupstream.StartBadCert(t, testupstream.Expired)
	tests := []struct {
		insecure  bool
		wantPhase flow.Phase
		wantCode  int
	}{
		{false, flow.PhaseUpstreamCert, 0},
		{true, "", 200},
	}
	for _, tt := range tests {
		h := newHarness(t, func(p *Proxy) { p.Insecure = tt.insecure })
		f, err := h.p.Replay(context.Background(), flow.Request{Method: "GET", URL: expired.URL + "/get"})
		if err != nil {
			t.Fatalf("Replay: %v", err)
		}
		var phase flow.Phase
		if f.Error != nil {
			phase = f.Error.Phase
		}
		if phase != tt.wantPhase || f.Status() != tt.wantCode {
			t.Errorf("insecure=%v: got phase %q status %d, want %q %d", tt.insecure, phase, f.Status(), tt.wantPhase, tt.wantCode)
		}
		if f.Server.TLS == nil || f.Server.TLS.Verified || f.Server.TLS.VerifyError == "" {
			t.Errorf("insecure=%v: upstream TLS %+v, want the verification error recorded", tt.insecure, f.Server.TLS)
		}
	}
}

func TestReplayRejectsUnsendableRequests(t *testing.T) {
	p := &Proxy{}
	for _, u := range []string{"", "/relative", "ftp://host/x", "http://"} {
		if _, err := p.Replay(context.Background(), flow.Request{Method: "GET", URL: u}); err == nil {
			t.Errorf("Replay(%q): got no error", u)
		}
	}
}
