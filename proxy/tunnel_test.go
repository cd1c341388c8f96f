package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

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

// TestBytesSentWithTheConnect: a client may send its first bytes in the
// same write as the CONNECT, without waiting for the answer; they reach
// the upstream through a passthrough tunnel, and the TLS handshake of a
// MITM'd one.
func TestBytesSentWithTheConnect(t *testing.T) {
	h := newHarness(t, func(p *Proxy) { p.Passthrough = []string{"127.0.0.*"} })
	up := strings.TrimPrefix(h.up.HTTP.URL, "http://")
	t.Run("passthrough", func(t *testing.T) {
		conn, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\nGET /get?early HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", up, up, up)
		br := bufio.NewReader(conn)
		connect, err := http.ReadResponse(br, nil)
		if err != nil || connect.StatusCode != http.StatusOK {
			t.Fatalf("CONNECT: %v %v, want 200", connect, err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("the request sent with the CONNECT got no answer: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "early") {
			t.Errorf("got %d %q, want the upstream's answer to /get?early", resp.StatusCode, body)
		}
	})
	t.Run("mitm", func(t *testing.T) {
		conn, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		eager := &eagerConnect{Conn: conn, t: t, connect: "CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n"}
		tc := tls.Client(eager, &tls.Config{RootCAs: h.roots, ServerName: "localhost"})
		if err := tc.Handshake(); err != nil {
			t.Fatalf("the ClientHello sent with the CONNECT did not lead to a handshake: %v", err)
		}
		if eager.reply != http.StatusOK {
			t.Errorf("CONNECT answered %d, want 200", eager.reply)
		}
	})
}

// eagerConnect sends the CONNECT with the first write on the connection
// and reads its answer before the first read.
type eagerConnect struct {
	net.Conn
	t       *testing.T
	connect string
	sent    bool
	reply   int
}

func (e *eagerConnect) Write(b []byte) (int, error) {
	if !e.sent {
		e.sent = true
		if _, err := e.Conn.Write(append([]byte(e.connect), b...)); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return e.Conn.Write(b)
}

func (e *eagerConnect) Read(b []byte) (int, error) {
	if e.reply == 0 {
		if e.reply = readConnectReply(e.t, e.Conn); e.reply == 0 {
			return 0, io.ErrUnexpectedEOF
		}
	}
	return e.Conn.Read(b)
}

// TestH2CInsideTheTunnel: HTTP/2 with prior knowledge (no TLS) inside a
// CONNECT is served as HTTP/2, its preface read even when it arrives with
// the frames after it.
func TestH2CInsideTheTunnel(t *testing.T) {
	h := newHarness(t)
	up := strings.TrimPrefix(h.up.HTTP.URL, "http://")
	tr := &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			conn, err := net.Dial("tcp", h.addr)
			if err != nil {
				return nil, err
			}
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			// The CONNECT goes out with the preface and SETTINGS.
			return &eagerConnect{Conn: conn, t: t, connect: fmt.Sprintf("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", up, up)}, nil
		},
	}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(h.up.HTTP.URL + "/get?h2c")
	if err != nil {
		t.Fatalf("h2c GET through the tunnel: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 || !strings.Contains(string(body), "h2c") {
		t.Errorf("got %s %d %q, want HTTP/2 200 from the upstream", resp.Proto, resp.StatusCode, body)
	}
	f := h.flowFor(h.up.HTTP.URL + "/get?h2c")
	if f.Request.Proto != "HTTP/2.0" || f.Status() != http.StatusOK {
		t.Errorf("flow: %s %d, want HTTP/2.0 200", f.Request.Proto, f.Status())
	}
}
