package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"onpath/internal/testupstream"
)

// watchedBuffer is a goroutine-safe buffer that wakes waiters on each write.
type watchedBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newWatchedBuffer() *watchedBuffer { return &watchedBuffer{changed: make(chan struct{})} }

func (b *watchedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	close(b.changed)
	b.changed = make(chan struct{})
	return n, err
}

func (b *watchedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits until the text matches re, or fails the test after timeout.
func (b *watchedBuffer) waitFor(t *testing.T, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		b.mu.Lock()
		m := re.FindStringSubmatch(b.buf.String())
		ch := b.changed
		b.mu.Unlock()
		if m != nil {
			return m
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no %q within %v in:\n%s", re, timeout, b.String())
		}
	}
}

// runningProxy is an onpath proxy run in-process through Run, as main does.
type runningProxy struct {
	dir      string
	addr     string
	stdout   *watchedBuffer
	stderr   *watchedBuffer
	cancel   context.CancelFunc
	exitCode chan int
	stopped  bool
}

var listeningLine = regexp.MustCompile(`listening on http://(\S+)`)

// startProxy runs `onpath --no-ui --listen 127.0.0.1:0 --dir DIR args...`
// and waits for its banner. dir "" means a new temp dir.
func startProxy(t *testing.T, dir string, args ...string) *runningProxy {
	t.Helper()
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "data")
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &runningProxy{dir: dir, stdout: newWatchedBuffer(), stderr: newWatchedBuffer(), cancel: cancel, exitCode: make(chan int, 1)}
	full := append([]string{"--no-ui", "--listen", "127.0.0.1:0", "--dir", dir}, args...)
	go func() {
		p.exitCode <- Run(ctx, full, Stdio{In: strings.NewReader(""), Out: p.stdout, Err: p.stderr}, noEnv)
	}()
	deadline := time.After(20 * time.Second)
	for p.addr == "" {
		if m := listeningLine.FindStringSubmatch(p.stderr.String()); m != nil {
			p.addr = m[1]
			break
		}
		select {
		case code := <-p.exitCode:
			t.Fatalf("onpath exited with %d before listening:\n%s", code, p.stderr.String())
		case <-deadline:
			t.Fatalf("onpath did not listen within 20 s:\n%s", p.stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Cleanup(func() { p.stop(t) })
	return p
}

// stop sends the equivalent of Ctrl-C and returns the exit code.
func (p *runningProxy) stop(t *testing.T) int {
	t.Helper()
	if p.stopped {
		return 0
	}
	p.stopped = true
	p.cancel()
	select {
	case code := <-p.exitCode:
		return code
	case <-time.After(15 * time.Second):
		t.Fatalf("onpath did not stop within 15 s of the interrupt:\n%s", p.stderr.String())
		return -1
	}
}

// client is an HTTP client through the proxy that trusts only onpath's CA.
func (p *runningProxy) client(t *testing.T) *http.Client {
	t.Helper()
	pemBytes, err := os.ReadFile(filepath.Join(p.dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("ca.pem holds no certificate")
	}
	proxyURL := &url.URL{Scheme: "http", Host: p.addr}
	tr := &http.Transport{Proxy: http.ProxyURL(proxyURL), TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func noEnv(string) string { return "" }

// cli runs one onpath command in-process and returns its output and exit code.
func cli(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return cliEnv(t, nil, args...)
}

// cliEnv is cli with environment variables.
func cliEnv(t *testing.T, environ map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	getenv := func(k string) string { return environ[k] }
	code = Run(ctx, args, Stdio{In: strings.NewReader(""), Out: &out, Err: &errOut}, getenv)
	return out.String(), errOut.String(), code
}

// upstreamCAFile writes the test upstreams' CA for --upstream-ca.
func upstreamCAFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "upstream-ca.pem")
	if err := os.WriteFile(path, testupstream.CAPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func osMkdirTemp() (string, error) { return os.MkdirTemp("", "onpath-bin-") }

func TestMain(m *testing.M) {
	code := m.Run()
	if !built.Load() {
		os.Exit(code)
	}
	if bin, err := buildOnce(); err == nil && bin != "" {
		os.RemoveAll(filepath.Dir(bin))
	}
	os.Exit(code)
}
