package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"onpath/flow"
)

func TestRequestsToTheProxyItselfAreRefused(t *testing.T) {
	h := newHarness(t)
	_, port, _ := net.SplitHostPort(h.addr)
	for _, target := range []string{
		"http://127.0.0.1:" + port + "/get",
		"http://localhost:" + port + "/get",
		"http://[::1]:" + port + "/get",
		"http://LOCALHOST.:" + port + "/",
	} {
		t.Run(target, func(t *testing.T) {
			resp, err := h.client(false).Get(target)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusLoopDetected || strings.Count(string(body), "\n") != 1 || !strings.Contains(string(body), "loop") {
				t.Errorf("got %d %q, want 508 with a one-line body naming the loop", resp.StatusCode, body)
			}
			f := h.nextFlow()
			if f.Error == nil || f.Error.Phase != flow.PhaseProxy || !strings.Contains(f.Error.Message, "loop") {
				t.Errorf("flow error: got %v, want phase proxy naming the loop", f.Error)
			}
		})
	}
	// A CONNECT to the proxy's own address is refused before any TLS.
	conn, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "CONNECT localhost:%s HTTP/1.1\r\nHost: localhost:%s\r\n\r\n", port, port)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != http.StatusLoopDetected {
		t.Fatalf("CONNECT to itself: %v %v, want 508", resp, err)
	}
	if f := h.nextFlow(); f.Error == nil || f.Error.Phase != flow.PhaseProxy || f.Request.Method != http.MethodConnect {
		t.Errorf("CONNECT loop flow: %s %v, want a CONNECT with phase proxy", f.Request.Method, f.Error)
	}
	// The proxy still serves.
	if status, _, _ := getText(t, h.client(false), h.up.HTTP.URL+"/get"); status != http.StatusOK {
		t.Errorf("after the loops: status %d, want 200", status)
	}
}

// TestDialledLoopIsRefused: a name that resolves to the proxy is caught on
// the dialled address (here the dialler is called directly, since the
// tests cannot add DNS names).
func TestDialledLoopIsRefused(t *testing.T) {
	h := newHarness(t)
	// A first request makes sure Serve has started (it records the listen address).
	if status, _, _ := getText(t, h.client(false), h.up.HTTP.URL+"/get"); status != http.StatusOK {
		t.Fatalf("status %d, want 200", status)
	}
	_, err := h.p.dialUpstream(context.Background(), h.p.rt, "tcp", h.addr)
	if !errors.Is(err, errLoop) {
		t.Errorf("dialling the proxy's own address: err %v, want errLoop", err)
	}
	c, err := h.p.dialUpstream(context.Background(), h.p.rt, "tcp", strings.TrimPrefix(h.up.HTTP.URL, "http://"))
	if err != nil {
		t.Fatalf("dialling the upstream: %v", err)
	}
	c.Close()
}

func TestSelfAddrs(t *testing.T) {
	ifaceIP := netip.Addr{}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && !p.Addr().IsLoopback() {
				ifaceIP = p.Addr()
				break
			}
		}
	}
	loop := listenSelf(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080})
	all := listenSelf(&net.TCPAddr{IP: net.IPv4zero, Port: 8080})
	cases := []struct {
		s    *selfAddrs
		host string
		port int
		want bool
	}{
		{loop, "127.0.0.1", 8080, true},
		{loop, "localhost", 8080, true},
		{loop, "::1", 8080, true},
		{loop, "[::1]", 8080, true},
		{loop, "127.0.0.1", 8081, false},
		{loop, "127.0.1.1", 8080, false}, // another loopback address, not ours
		{loop, "example.com", 8080, false},
		{all, "127.0.0.1", 8080, true},
		{all, "127.0.1.1", 8080, true},
		{all, "::ffff:127.0.0.1", 8080, true},
		{all, "10.255.255.254", 9, false},
		{nil, "127.0.0.1", 8080, false},
	}
	if ifaceIP.IsValid() {
		cases = append(cases, struct {
			s    *selfAddrs
			host string
			port int
			want bool
		}{all, ifaceIP.String(), 8080, true}, struct {
			s    *selfAddrs
			host string
			port int
			want bool
		}{loop, ifaceIP.String(), 8080, false})
	}
	for _, c := range cases {
		if got := c.s.containsHostPort(c.host, c.port); got != c.want {
			t.Errorf("%v contains %s:%d = %v, want %v", c.s, c.host, c.port, got, c.want)
		}
	}
}
