package proxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"onpath/flow"
	"onpath/internal/testupstream"
)

func getText(t *testing.T, c *http.Client, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

func TestBadUpstreamCertificatesGet502NamingTheCause(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		kind       testupstream.BadCert
		wantReason string
	}{
		{testupstream.Expired, "expired"},
		{testupstream.WrongHost, "wrong host"},
		{testupstream.SelfSigned, "unknown authority"},
	}
	for _, tt := range tests {
		for _, h2 := range []bool{false, true} {
			t.Run(tt.kind.String()+map[bool]string{false: "/h1", true: "/h2"}[h2], func(t *testing.T) {
				srv := testupstream.StartBadCert(t, tt.kind)
				url := srv.URL + "/get"
				status, body, header := getText(t, h.client(h2), url)
				if status != http.StatusBadGateway {
					t.Fatalf("got status %d, want 502", status)
				}
				if !strings.HasPrefix(body, "onpath: the certificate of 127.0.0.1 is not valid") || !strings.Contains(body, tt.wantReason) || strings.Count(body, "\n") != 1 {
					t.Errorf("got body %q, want one line naming the certificate failure %q", body, tt.wantReason)
				}
				if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					t.Errorf("Content-Type: got %q, want text/plain", ct)
				}
				f := h.flowFor(url)
				if f.Error == nil || f.Error.Phase != flow.PhaseUpstreamCert {
					t.Fatalf("flow error: got %v, want phase upstream-cert", f.Error)
				}
				if f.Server.TLS == nil || f.Server.TLS.Verified || f.Server.TLS.VerifyError == "" || len(f.Server.TLS.Chain) == 0 {
					t.Errorf("flow upstream TLS: got %+v, want an unverified chain with its error", f.Server.TLS)
				}
			})
		}
	}
}

func TestInsecureSendsButRecordsVerifyError(t *testing.T) {
	h := newHarness(t, func(p *Proxy) { p.Insecure = true })
	for _, kind := range []testupstream.BadCert{testupstream.Expired, testupstream.WrongHost, testupstream.SelfSigned} {
		t.Run(kind.String(), func(t *testing.T) {
			srv := testupstream.StartBadCert(t, kind)
			url := srv.URL + "/get"
			for i := range 2 { // the second request reuses the connection
				status, _, _ := getText(t, h.client(false), url)
				if status != 200 {
					t.Fatalf("request %d: got status %d, want 200 with Insecure", i, status)
				}
				f := h.flowFor(url)
				if f.Error != nil {
					t.Errorf("request %d: flow error %v, want none", i, f.Error)
				}
				if f.Server.TLS == nil || f.Server.TLS.Verified || f.Server.TLS.VerifyError == "" {
					t.Errorf("request %d: upstream TLS: got %+v, want Verified=false with VerifyError", i, f.Server.TLS)
				}
			}
		})
	}
	// A good upstream still verifies in insecure mode.
	url := h.up.HTTPS.URL + "/get"
	getText(t, h.client(false), url)
	if f := h.flowFor(url); f.Server.TLS == nil || !f.Server.TLS.Verified || f.Server.TLS.VerifyError != "" {
		t.Errorf("good upstream under Insecure: got %+v, want verified", f.Server.TLS)
	}
}

func TestUnreachableUpstreamsGet502WithPhase(t *testing.T) {
	h := newHarness(t)
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedAddr := refused.Addr().String()
	refused.Close()

	tests := []struct {
		name      string
		url       string
		wantPhase flow.Phase
		wantBody  string
	}{
		{"dns http", "http://no-such-host.invalid/get", flow.PhaseDNS, "onpath: cannot resolve no-such-host.invalid"},
		{"dns https", "https://no-such-host.invalid/get", flow.PhaseDNS, "onpath: cannot resolve no-such-host.invalid"},
		{"refused http", "http://" + refusedAddr + "/get", flow.PhaseConnect, "onpath: cannot connect to " + refusedAddr},
		{"refused https", "https://" + refusedAddr + "/get", flow.PhaseConnect, "onpath: cannot connect to " + refusedAddr},
		{"not tls", "https://" + strings.TrimPrefix(h.up.HTTP.URL, "http://") + "/get", flow.PhaseTLS, "onpath: TLS handshake with " + strings.TrimPrefix(h.up.HTTP.URL, "http://") + " failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := getText(t, h.client(false), tt.url)
			if status != http.StatusBadGateway || !strings.HasPrefix(body, tt.wantBody) {
				t.Errorf("got %d %q, want 502 starting %q", status, body, tt.wantBody)
			}
			f := h.flowFor(tt.url)
			if f.Error == nil || f.Error.Phase != tt.wantPhase {
				t.Errorf("flow error: got %v, want phase %s", f.Error, tt.wantPhase)
			}
			if f.Response != nil {
				t.Errorf("flow has a response %+v, want none", f.Response)
			}
		})
	}
}

func TestSilentUpstreamGets504(t *testing.T) {
	release := make(chan struct{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	plain := httptest.NewServer(handler)
	secure := testupstream.StartTLS(t, handler)
	t.Cleanup(func() { close(release); plain.Close() })
	h := newHarness(t, func(p *Proxy) { p.ResponseTimeout = 200 * time.Millisecond })
	for _, url := range []string{plain.URL + "/slow", secure.URL + "/slow"} {
		status, body, _ := getText(t, h.client(false), url)
		if status != http.StatusGatewayTimeout || !strings.Contains(body, "did not answer within 200ms") {
			t.Errorf("%s: got %d %q, want 504 naming the timeout", url, status, body)
		}
		f := h.flowFor(url)
		if f.Error == nil || f.Error.Phase != flow.PhaseResponse {
			t.Errorf("%s: flow error %v, want phase response", url, f.Error)
		}
	}
}

// TestClientAbortIsRecorded: the client reads the first chunk of an
// endless response and hangs up.
func TestClientAbortIsRecorded(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 2000 { // bounded: 2000 × 5 ms
			if _, err := io.WriteString(w, strings.Repeat("z", 512)+"\n"); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	})
	plain := httptest.NewServer(handler)
	t.Cleanup(plain.Close)
	secure := testupstream.StartTLS(t, handler)
	h := newHarness(t)
	for _, tt := range []struct {
		url string
		h2  bool
	}{{plain.URL + "/endless", false}, {secure.URL + "/endless", false}, {secure.URL + "/endless2", true}} {
		tr := h.transport(tt.h2)
		c := &http.Client{Transport: tr}
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", tt.url, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
			t.Fatalf("first line: %v", err)
		}
		cancel()
		resp.Body.Close()
		tr.CloseIdleConnections()
		f := h.flowFor(tt.url)
		if f.Error == nil || f.Error.Phase != flow.PhaseClientAbort {
			t.Errorf("%s h2=%v: flow error %v, want phase client-abort", tt.url, tt.h2, f.Error)
		}
		if f.Response == nil || f.Response.Body.Size == 0 {
			t.Errorf("%s: flow response %+v, want the bytes sent before the abort", tt.url, f.Response)
		}
	}
}

func TestHopByHopHeadersAreNotForwarded(t *testing.T) {
	got := make(chan http.Header, 1)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
	}))
	t.Cleanup(upstream.Close)
	h := newHarness(t)
	req, _ := http.NewRequest("GET", upstream.URL+"/h", nil)
	req.Header.Set("Connection", "X-Secret")
	req.Header.Set("X-Secret", "hop")
	req.Header.Set("Keep-Alive", "timeout=5")
	req.Header.Set("X-Kept", "end-to-end")
	req.Header.Set("Accept-Encoding", "br")
	resp, err := h.client(false).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	hdr := <-got
	for _, name := range []string{"X-Secret", "Keep-Alive", "Proxy-Connection"} {
		if v := hdr.Get(name); v != "" {
			t.Errorf("upstream got hop-by-hop %s: %q", name, v)
		}
	}
	if hdr.Get("X-Kept") != "end-to-end" || hdr.Get("Accept-Encoding") != "br" {
		t.Errorf("upstream headers: got %v, want X-Kept and Accept-Encoding: br as sent", hdr)
	}
	f := h.flowFor(upstream.URL + "/h")
	if f.Request.Header.Get("X-Secret") != "hop" {
		t.Errorf("flow should record what the client sent, got %v", f.Request.Header)
	}
}

var _ = errors.New
