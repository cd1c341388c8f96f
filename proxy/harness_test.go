package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"onpath/ca"
	"onpath/flow"
	"onpath/internal/testupstream"
)

// harness is a real proxy on 127.0.0.1:0 with a fresh CA, in front of the
// go-httpbin upstreams, collecting finished flows.
type harness struct {
	t        testing.TB
	p        *Proxy
	addr     string
	ca       *ca.CA
	roots    *x509.CertPool // only onpath's CA
	up       *testupstream.Upstreams
	finished chan *flow.Flow
	started  chan *flow.Flow

	mu       sync.Mutex
	finishes map[flow.ID]int
}

func newHarness(t testing.TB, configure ...func(*Proxy)) *harness {
	t.Helper()
	authority, _, err := ca.LoadOrCreate(t.TempDir(), ca.Options{})
	if err != nil {
		t.Fatalf("ca.LoadOrCreate: %v", err)
	}
	leaves, err := authority.NewLeaves(1024)
	if err != nil {
		t.Fatalf("NewLeaves: %v", err)
	}
	h := &harness{
		t:        t,
		ca:       authority,
		roots:    x509.NewCertPool(),
		up:       testupstream.Start(t),
		finished: make(chan *flow.Flow, 4096),
		started:  make(chan *flow.Flow, 4096),
		finishes: map[flow.ID]int{},
	}
	h.roots.AddCert(authority.Cert())
	h.p = &Proxy{
		Certificate:   leaves.Get,
		CACertPEM:     authority.CertPEM(),
		CACertDER:     authority.CertDER(),
		UpstreamRoots: h.up.Roots,
		OnStart:       func(f *flow.Flow) { h.started <- f },
		OnFinish: func(f *flow.Flow) {
			h.mu.Lock()
			h.finishes[f.ID]++
			h.mu.Unlock()
			h.finished <- f
		},
	}
	for _, c := range configure {
		c(h.p)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	h.addr = l.Addr().String()
	served := make(chan error, 1)
	go func() { served <- h.p.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.p.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve returned %v, want nil after Shutdown", err)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		for id, n := range h.finishes {
			if n != 1 {
				t.Errorf("flow %d: OnFinish called %d times, want 1", id, n)
			}
		}
	})
	return h
}

// transport goes through the proxy and trusts only onpath's CA.
func (h *harness) transport(h2 bool) *http.Transport {
	proxyURL := &url.URL{Scheme: "http", Host: h.addr}
	tr := &http.Transport{
		Proxy:              http.ProxyURL(proxyURL),
		TLSClientConfig:    &tls.Config{RootCAs: h.roots},
		ForceAttemptHTTP2:  h2,
		DisableCompression: true,
	}
	h.t.Cleanup(tr.CloseIdleConnections)
	return tr
}

func (h *harness) client(h2 bool) *http.Client {
	return &http.Client{
		Transport:     h.transport(h2),
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// nextFlow waits for the next finished flow.
func (h *harness) nextFlow() *flow.Flow {
	h.t.Helper()
	select {
	case f := <-h.finished:
		return f
	case <-time.After(15 * time.Second):
		h.t.Fatalf("no flow finished within 15s")
		return nil
	}
}

// flowFor waits for the finished flow whose URL is url, skipping others.
func (h *harness) flowFor(url string) *flow.Flow {
	h.t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case f := <-h.finished:
			if f.Request.URL == url {
				return f
			}
		case <-deadline:
			h.t.Fatalf("no flow for %s within 15s", url)
			return nil
		}
	}
}
