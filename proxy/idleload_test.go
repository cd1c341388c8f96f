package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// raiseFileLimit lifts the soft RLIMIT_NOFILE to at least want, or skips.
func raiseFileLimit(t *testing.T, want uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("cannot read RLIMIT_NOFILE: %v", err)
	}
	if lim.Cur >= want {
		return
	}
	if lim.Max < want {
		t.Skipf("RLIMIT_NOFILE hard limit %d is below the %d descriptors this test needs", lim.Max, want)
	}
	old := lim
	lim.Cur = want
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("cannot raise RLIMIT_NOFILE to %d: %v", want, err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}

func liveBytes() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// idleClientsEnv makes the test binary act as the idle clients: the
// client ends live in a child process, so each process needs only one
// descriptor per connection (the hard RLIMIT_NOFILE may be 20 000).
const idleClientsEnv = "ONPATH_TEST_IDLE_CLIENTS"

// TestTenThousandIdleConnections: 10 000 clients connect and send
// nothing. The proxy keeps serving, holds a bounded amount of memory per
// connection, closes them all at IdleTimeout, and its goroutines return to
// the baseline.
func TestTenThousandIdleConnections(t *testing.T) {
	const n = 10000
	if addr := os.Getenv(idleClientsEnv); addr != "" {
		holdIdleClients(t, addr, n)
		return
	}
	if raceEnabled {
		t.Skip("the race detector caps live goroutines at 8128, below one per connection")
	}
	raiseFileLimit(t, n+1024)
	const idle = 5 * time.Second
	h := newHarness(t, func(p *Proxy) { p.IdleTimeout = idle })
	s := newSteadiness(t, h)
	before := liveBytes()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	child := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestTenThousandIdleConnections$", "-test.v")
	child.Env = append(os.Environ(), idleClientsEnv+"="+h.addr)
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "IDLE-") {
				lines <- sc.Text()
			}
		}
		close(lines)
	}()
	expect := func(prefix string) string {
		t.Helper()
		select {
		case line, ok := <-lines:
			if !ok || !strings.HasPrefix(line, prefix) {
				t.Fatalf("idle clients: got %q, want %s", line, prefix)
			}
			return line
		case <-ctx.Done():
			t.Fatalf("idle clients: no %s within the time bound", prefix)
		}
		return ""
	}
	opened := expect("IDLE-OPENED")
	// Wait until the proxy has accepted them all.
	deadline := time.Now().Add(idle / 2)
	for h.p.trackedConns() < n {
		if time.Now().After(deadline) {
			t.Fatalf("the proxy holds %d of %d connections (%s)", h.p.trackedConns(), n, opened)
		}
		<-time.After(10 * time.Millisecond)
	}
	after := liveBytes()
	perConn := float64(after-min(before, after)) / n
	perConnGoroutines := float64(runtime.NumGoroutine()-s.baseline) / n
	t.Logf("%d idle connections (%s): %.0f bytes and %.2f goroutines per connection in the proxy", n, opened, perConn, perConnGoroutines)
	if perConn > 64<<10 {
		t.Errorf("%.0f bytes per idle connection, want under 64 KiB", perConn)
	}

	// Still serving with them open.
	client := h.client(false)
	status, _, _ := getText(t, client, h.up.HTTP.URL+"/get?busy")
	client.CloseIdleConnections()
	if status != http.StatusOK {
		t.Fatalf("with %d idle connections: status %d, want 200", n, status)
	}
	h.flowFor(h.up.HTTP.URL + "/get?busy")

	// All closed by the idle timeout: the proxy forgets them and each
	// client end reads EOF.
	deadline = time.Now().Add(3 * idle)
	for h.p.trackedConns() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still open %v after they went idle", h.p.trackedConns(), 3*idle)
		}
		<-time.After(50 * time.Millisecond)
	}
	if closed := expect("IDLE-CLOSED"); closed != fmt.Sprintf("IDLE-CLOSED %d", n) {
		t.Errorf("idle clients: %q, want all %d closed by the proxy", closed, n)
	}
	if err := child.Wait(); err != nil {
		t.Errorf("idle clients process: %v", err)
	}
	s.check(t, "10 000 idle connections")
}

// holdIdleClients is the child's side: open n connections, report, then
// wait for the proxy to close each one.
func holdIdleClients(t *testing.T, addr string, n int) {
	raiseFileLimit(t, uint64(n)+256)
	start := time.Now()
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			fmt.Printf("IDLE-FAILED after %d: %v\n", len(conns), err)
			return
		}
		conns = append(conns, c)
	}
	fmt.Printf("IDLE-OPENED in %v\n", time.Since(start).Round(time.Millisecond))
	closed := 0
	one := make([]byte, 1)
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.Read(one); errors.Is(err, io.EOF) {
			closed++
		}
		c.Close()
	}
	fmt.Printf("IDLE-CLOSED %d\n", closed)
}

// trackedConns counts the client connections the proxy holds.
func (p *Proxy) trackedConns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}
