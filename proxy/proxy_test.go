package proxy

import (
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"onpath/flow"
)

// TestUpstreamTimingsAreOrdered: a first request to a host name records
// DNS, connect and TLS, in order, before the request and the response.
func TestUpstreamTimingsAreOrdered(t *testing.T) {
	h := newHarness(t)
	url := strings.Replace(h.up.HTTPS.URL, "127.0.0.1", "localhost", 1) + "/get"
	if status, _, _ := getText(t, h.client(false), url); status != 200 {
		t.Fatalf("got %d", status)
	}
	f := h.flowFor(url)
	tm := f.Timings
	order := []struct {
		name string
		at   time.Time
	}{
		{"start", tm.Start}, {"dns start", tm.DNSStart}, {"dns done", tm.DNSDone},
		{"connect start", tm.ConnectStart}, {"connect done", tm.ConnectDone},
		{"tls start", tm.TLSStart}, {"tls done", tm.TLSDone},
		{"request sent", tm.RequestSent}, {"first byte", tm.FirstByte}, {"end", tm.End},
	}
	for i, o := range order {
		if o.at.IsZero() {
			t.Errorf("%s: not recorded", o.name)
		} else if i > 0 && o.at.Before(order[i-1].at) {
			t.Errorf("%s (%v) is before %s (%v)", o.name, o.at, order[i-1].name, order[i-1].at)
		}
	}
	if f.Server.TLS == nil || f.Server.TLS.SNI != "localhost" || f.Server.Addr == "" {
		t.Errorf("upstream leg: got TLS %+v addr %q, want SNI localhost and an address", f.Server.TLS, f.Server.Addr)
	}
}

func TestGetThroughProxy(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name      string
		base      string
		h2        bool
		wantProto string
		wantTLS   bool
	}{
		{"http", h.up.HTTP.URL, false, "HTTP/1.1", false},
		{"https h1", h.up.HTTPS.URL, false, "HTTP/1.1", true},
		{"https h2", h.up.HTTPS.URL, true, "HTTP/2.0", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := h.client(tt.h2)
			url := tt.base + "/get?q=" + strings.ReplaceAll(tt.name, " ", "-")
			resp, err := c.Get(url)
			if err != nil {
				t.Fatalf("GET %s: %v", url, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("got status %d, want 200", resp.StatusCode)
			}
			if resp.Proto != tt.wantProto {
				t.Errorf("client saw proto %s, want %s", resp.Proto, tt.wantProto)
			}
			f := h.flowFor(url)
			if f.Kind != flow.KindHTTP || f.Status() != 200 || f.Request.Method != "GET" {
				t.Errorf("flow: got kind %s status %d method %s, want http 200 GET", f.Kind, f.Status(), f.Request.Method)
			}
			if f.Request.Proto != tt.wantProto {
				t.Errorf("flow request proto: got %s, want %s", f.Request.Proto, tt.wantProto)
			}
			if string(f.Response.Body.Data) != string(body) || f.Response.Body.Size != int64(len(body)) {
				t.Errorf("flow response body: got %d bytes (size %d), want the %d the client got", len(f.Response.Body.Data), f.Response.Body.Size, len(body))
			}
			if f.Error != nil {
				t.Errorf("flow error: got %v, want none", f.Error)
			}
			if f.Client.Addr == "" || f.Server.Addr == "" {
				t.Errorf("flow addrs: got client %q server %q, want both", f.Client.Addr, f.Server.Addr)
			}
			if f.Timings.Start.IsZero() || f.Timings.End.IsZero() || f.Timings.FirstByte.IsZero() || f.Timings.RequestSent.IsZero() {
				t.Errorf("flow timings incomplete: %+v", f.Timings)
			}
			if tt.wantTLS {
				if f.Client.TLS == nil || f.Server.TLS == nil {
					t.Fatalf("flow TLS: got client %v server %v, want both legs", f.Client.TLS, f.Server.TLS)
				}
				if !f.Server.TLS.Verified || len(f.Server.TLS.Chain) == 0 {
					t.Errorf("upstream TLS: got verified=%v chain=%d, want verified with a chain", f.Server.TLS.Verified, len(f.Server.TLS.Chain))
				}
				wantALPN := "" // a Go client without ForceAttemptHTTP2 offers no ALPN
				if tt.h2 {
					wantALPN = "h2"
				}
				if f.Client.TLS.ALPN != wantALPN {
					t.Errorf("client ALPN: got %q, want %q", f.Client.TLS.ALPN, wantALPN)
				}
				if f.Client.TLS.SNI != "" && f.Client.TLS.SNI != "127.0.0.1" {
					t.Errorf("client SNI: got %q", f.Client.TLS.SNI)
				}
			} else if f.Client.TLS != nil || f.Server.TLS != nil {
				t.Errorf("plain flow has TLS: client %v server %v", f.Client.TLS, f.Server.TLS)
			}
		})
	}
}

func TestInjectedClockAndIDs(t *testing.T) {
	fixed := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	next := flow.ID(41)
	h := newHarness(t, func(p *Proxy) {
		p.Now = func() time.Time { return fixed }
		p.NewID = func() flow.ID { next++; return next }
	})
	for i := range 2 {
		url := h.up.HTTP.URL + "/get?clock=" + strconv.Itoa(i)
		getText(t, h.client(false), url)
		f := h.flowFor(url)
		if f.ID != flow.ID(42+i) {
			t.Errorf("flow %d: got id %d, want %d from NewID", i, f.ID, 42+i)
		}
		if !f.Timings.Start.Equal(fixed) || !f.Timings.End.Equal(fixed) || !f.Timings.FirstByte.Equal(fixed) {
			t.Errorf("flow %d: timings %+v, want every instant from the injected clock", i, f.Timings)
		}
	}
}

func TestDefaultIDsCountFromOne(t *testing.T) {
	h := newHarness(t)
	for want := flow.ID(1); want <= 3; want++ {
		url := h.up.HTTP.URL + "/get?n=" + strconv.Itoa(int(want))
		getText(t, h.client(false), url)
		if f := h.flowFor(url); f.ID != want {
			t.Errorf("got id %d, want %d", f.ID, want)
		}
	}
}
