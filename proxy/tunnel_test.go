package proxy

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"onpath/flow"
)

// TestPassthroughTunnelsWithoutDecrypting: the client trusts only the
// upstream's CA and still succeeds, so it saw the upstream's own
// certificate; the flow is a tunnel with byte counts and no content.
func TestPassthroughTunnelsWithoutDecrypting(t *testing.T) {
	h := newHarness(t, func(p *Proxy) { p.Passthrough = []string{"*.example", "127.0.0.*"} })
	client := &http.Client{Transport: &http.Transport{
		Proxy:           http.ProxyURL(&url.URL{Scheme: "http", Host: h.addr}),
		TLSClientConfig: &tls.Config{RootCAs: h.up.Roots},
	}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(h.up.HTTPS.URL + "/get")
	if err != nil {
		t.Fatalf("GET through the tunnel: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("got %d, want 200", resp.StatusCode)
	}
	if issuer := resp.TLS.PeerCertificates[0].Issuer.CommonName; issuer != "onpath test upstream CA" {
		t.Errorf("client saw a certificate issued by %q, want the upstream's own", issuer)
	}
	client.CloseIdleConnections() // ends the tunnel

	f := h.nextFlow()
	host := strings.TrimPrefix(h.up.HTTPS.URL, "https://")
	if f.Kind != flow.KindTunnel || f.Request.Method != http.MethodConnect || f.Request.URL != "https://"+host {
		t.Fatalf("flow: got kind %s %s %s, want tunnel CONNECT https://%s", f.Kind, f.Request.Method, f.Request.URL, host)
	}
	if f.Tunnel == nil || f.Tunnel.BytesUp == 0 || f.Tunnel.BytesDown < int64(len(body)) {
		t.Errorf("tunnel bytes: got %+v, want both directions counted (body alone is %d)", f.Tunnel, len(body))
	}
	if f.Response != nil || len(f.Request.Body.Data) != 0 {
		t.Errorf("tunnel flow holds content: response %v request body %d bytes", f.Response, len(f.Request.Body.Data))
	}
	if f.Timings.Duration() <= 0 || f.Server.Addr != host {
		t.Errorf("tunnel flow: duration %v server %q, want >0 and %s", f.Timings.Duration(), f.Server.Addr, host)
	}
	if f.Error != nil {
		t.Errorf("tunnel flow error: %v", f.Error)
	}
}

func TestPassthroughToUnreachableHostAnswers502(t *testing.T) {
	h := newHarness(t, func(p *Proxy) { p.Passthrough = []string{"*.invalid"} })
	client := &http.Client{Transport: &http.Transport{
		Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: h.addr}),
	}}
	_, err := client.Get("https://tunnel.invalid/")
	if err == nil || !strings.Contains(err.Error(), "Bad Gateway") {
		t.Errorf("got %v, want the CONNECT refused with 502", err)
	}
	f := h.nextFlow()
	if f.Kind != flow.KindTunnel || f.Error == nil || f.Error.Phase != flow.PhaseDNS {
		t.Errorf("flow: got kind %s error %v, want a tunnel flow with a dns error", f.Kind, f.Error)
	}
}

func TestPassthroughPatterns(t *testing.T) {
	p := &Proxy{Passthrough: []string{"*.apple.com", "pinned.example"}}
	tests := []struct {
		host string
		want bool
	}{
		{"api.apple.com", true},
		{"API.Apple.COM", true},
		{"apple.com", false},
		{"pinned.example", true},
		{"other.example", false},
	}
	for _, tt := range tests {
		if got := p.passthrough(tt.host); got != tt.want {
			t.Errorf("passthrough(%q): got %v, want %v", tt.host, got, tt.want)
		}
	}
	bad := &Proxy{Passthrough: []string{"[oops"}}
	if err := bad.init(); err == nil {
		t.Errorf("a malformed pattern was accepted")
	}
}
