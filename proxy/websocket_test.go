package proxy

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/websocket"

	"onpath/internal/testupstream"
)

func echoServer() http.Handler {
	return websocket.Handler(func(ws *websocket.Conn) { io.Copy(ws, ws) })
}

// TestWebSocketOverMITM: wss:// through CONNECT, the upgrade passes
// through and frames echo; the flow records the 101.
func TestWebSocketOverMITM(t *testing.T) {
	upstream := testupstream.StartTLS(t, echoServer())
	h := newHarness(t)
	target := strings.TrimPrefix(upstream.URL, "https://")

	conn, err := net.DialTimeout("tcp", h.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	br := bufio.NewReader(conn)
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	tc := tls.Client(conn, &tls.Config{ServerName: "127.0.0.1", RootCAs: h.roots, NextProtos: []string{"http/1.1"}})
	cfg, err := websocket.NewConfig("wss://"+target+"/echo", "https://"+target)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := websocket.NewClient(cfg, tc)
	if err != nil {
		t.Fatalf("websocket handshake through the proxy: %v", err)
	}
	for _, msg := range []string{"hello", "onpath"} {
		if err := websocket.Message.Send(ws, msg); err != nil {
			t.Fatalf("send: %v", err)
		}
		var got string
		if err := websocket.Message.Receive(ws, &got); err != nil || got != msg {
			t.Fatalf("echo: got %q, %v; want %q", got, err, msg)
		}
	}
	ws.Close()
	f := h.flowFor("https://" + target + "/echo")
	if f.Status() != http.StatusSwitchingProtocols {
		t.Errorf("flow status: got %d, want 101", f.Status())
	}
	if f.Request.Header.Get("Upgrade") != "websocket" {
		t.Errorf("flow request headers: %v", f.Request.Header)
	}
}

// TestWebSocketOverPlainHTTP uses a raw handshake in absolute form and a
// hand-built masked frame.
func TestWebSocketOverPlainHTTP(t *testing.T) {
	upstream := httptest.NewServer(echoServer())
	t.Cleanup(upstream.Close)
	h := newHarness(t)
	conn, err := net.DialTimeout("tcp", h.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	host := strings.TrimPrefix(upstream.URL, "http://")
	fmt.Fprintf(conn, "GET %s/echo HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: %s\r\n\r\n", upstream.URL, host, upstream.URL)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: got %v %v, want 101", resp, err)
	}
	mask := [4]byte{1, 2, 3, 4}
	payload := []byte("hi")
	frame := []byte{0x81, 0x80 | byte(len(payload)), mask[0], mask[1], mask[2], mask[3]}
	for i, b := range payload {
		frame = append(frame, b^mask[i%4])
	}
	conn.Write(frame)
	echo := make([]byte, 4)
	if _, err := io.ReadFull(br, echo); err != nil || string(echo[2:]) != "hi" || echo[0] != 0x81 {
		t.Fatalf("echo frame: got %x, %v; want 81 02 'hi'", echo, err)
	}
	conn.Close()
	if f := h.flowFor(upstream.URL + "/echo"); f.Status() != http.StatusSwitchingProtocols {
		t.Errorf("flow status: got %d, want 101", f.Status())
	}
}
