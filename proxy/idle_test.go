package proxy

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"onpath/flow"
)

func TestIdleConnectionsAreClosed(t *testing.T) {
	h := newHarness(t, func(p *Proxy) {
		p.IdleTimeout = 200 * time.Millisecond
		p.Passthrough = []string{"localhost"}
	})
	port := h.up.HTTPS.URL[strings.LastIndex(h.up.HTTPS.URL, ":")+1:]

	waitClosed := func(t *testing.T, conn net.Conn, r io.Reader) {
		t.Helper()
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := io.Copy(io.Discard, r)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the proxy kept an idle connection open for 10s")
		}
	}
	t.Run("silent client", func(t *testing.T) {
		conn, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		waitClosed(t, conn, conn)
	})
	t.Run("idle MITM connection", func(t *testing.T) {
		conn, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		target := "127.0.0.1:" + port
		fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
		br := bufio.NewReader(conn)
		if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
			t.Fatalf("CONNECT: %v %v", resp, err)
		}
		tc := tls.Client(&bufferedConn{conn, br}, &tls.Config{ServerName: "127.0.0.1", RootCAs: h.roots})
		if err := tc.Handshake(); err != nil {
			t.Fatal(err)
		}
		waitClosed(t, conn, tc)
	})
	t.Run("idle passthrough tunnel", func(t *testing.T) {
		conn, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		target := "localhost:" + port
		fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
		br := bufio.NewReader(conn)
		if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
			t.Fatalf("CONNECT: %v %v", resp, err)
		}
		waitClosed(t, conn, br)
		if f := h.nextFlow(); f.Kind != flow.KindTunnel {
			t.Errorf("got flow kind %s, want the tunnel recorded", f.Kind)
		}
	})
}

type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
