package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"onpath/flow"
	"onpath/internal/testupstream"
)

func TestPanickingHooksDoNotCrashTheProxy(t *testing.T) {
	logs := &logRecorder{}
	h := newHarness(t, func(p *Proxy) {
		p.OnStart = func(*flow.Flow) { panic("OnStart exploded") }
		p.Logger = slog.New(logs)
	})
	for _, base := range []string{h.up.HTTP.URL, h.up.HTTPS.URL} {
		url := base + "/get?panic"
		if status, _, _ := getText(t, h.client(false), url); status != 200 {
			t.Errorf("%s: got %d, want 200 despite the panicking hook", base, status)
		}
		if f := h.flowFor(url); f.Status() != 200 {
			t.Errorf("%s: flow status %d", base, f.Status())
		}
	}
	if n := logs.count("proxy: panic in OnStart"); n != 2 {
		t.Errorf("logged %d OnStart panics, want 2", n)
	}
}

// logRecorder is a slog.Handler that keeps the messages.
type logRecorder struct {
	mu       sync.Mutex
	messages []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.messages = append(l.messages, r.Message)
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func (l *logRecorder) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.messages {
		if m == msg {
			n++
		}
	}
	return n
}

func TestPanickingCertificateSourceDoesNotCrash(t *testing.T) {
	h := newHarness(t, func(p *Proxy) {
		p.Certificate = func(string) (*tls.Certificate, error) { panic("mint exploded") }
	})
	_, err := h.client(false).Get(h.up.HTTPS.URL + "/get")
	if err == nil {
		t.Fatalf("request succeeded without a certificate")
	}
	if status, _, _ := getText(t, h.client(false), h.up.HTTP.URL+"/get"); status != 200 {
		t.Errorf("plain HTTP after the panic: got %d, want 200", status)
	}
}

// blockingUpstream answers /block only when release is closed (or the
// request is cancelled), and /get at once.
func blockingUpstream(t *testing.T) (base string, release chan struct{}) {
	release = make(chan struct{})
	srv := testupstream.StartTLS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		io.WriteString(w, "done")
	}))
	return srv.URL, release
}

func TestShutdownLetsInFlightFlowsFinish(t *testing.T) {
	base, release := blockingUpstream(t)
	h := newHarness(t)
	result := make(chan error, 1)
	go func() {
		status, body, _ := getTextErr(h.client(false), base+"/block")
		if status != 200 || body != "done" {
			result <- fmt.Errorf("got %d %q, want 200 done", status, body)
			return
		}
		result <- nil
	}()
	<-h.started // the request is in flight
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- h.p.Shutdown(ctx)
	}()
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v while a flow was in flight", err)
	default:
	}
	close(release)
	if err := <-result; err != nil {
		t.Errorf("in-flight request: %v", err)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	select {
	case f := <-h.finished:
		if f.Error != nil || f.Status() != 200 {
			t.Errorf("flow: got %d %v, want 200 without error", f.Status(), f.Error)
		}
	default:
		t.Errorf("Shutdown returned before OnFinish")
	}
	if _, err := net.DialTimeout("tcp", h.addr, time.Second); err == nil {
		t.Errorf("the proxy still accepts connections after Shutdown")
	}
}

func TestShutdownDeadlineClosesInFlightFlows(t *testing.T) {
	base, release := blockingUpstream(t)
	t.Cleanup(func() { close(release) })
	h := newHarness(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		getTextErr(h.client(false), base+"/block")
	}()
	<-h.started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := h.p.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: got %v, want the context deadline", err)
	}
	select {
	case f := <-h.finished:
		if f.Error == nil || (f.Error.Phase != flow.PhaseResponse && f.Error.Phase != flow.PhaseClientAbort) {
			t.Errorf("forced flow: got error %v, want response or client-abort", f.Error)
		}
	default:
		t.Fatalf("Shutdown returned before the forced flow was reported")
	}
	<-done
}

func getTextErr(c *http.Client, url string) (int, string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

var _ = url.Parse

func TestShutdownDeadlineEndsTunnels(t *testing.T) {
	h := newHarness(t, func(p *Proxy) { p.Passthrough = []string{"localhost"} })
	port := h.up.HTTPS.URL[strings.LastIndex(h.up.HTTPS.URL, ":")+1:]
	conn, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "CONNECT localhost:%s HTTP/1.1\r\nHost: localhost:%s\r\n\r\n", port, port)
	br := bufio.NewReader(conn)
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	<-h.started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := h.p.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with an open tunnel: got %v, want the deadline", err)
	}
	select {
	case f := <-h.finished:
		if f.Kind != flow.KindTunnel || f.Timings.End.IsZero() {
			t.Errorf("got flow kind %s end %v, want the finished tunnel", f.Kind, f.Timings.End)
		}
	default:
		t.Fatalf("Shutdown returned before the tunnel flow was reported")
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err == nil {
		t.Errorf("the tunnel is still open after Shutdown")
	}
}
