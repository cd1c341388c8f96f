package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"onpath/store"
)

// proxyProcess is a proxy running as a child process: onpath --no-ui or
// mitmdump, each with its own data dir.
type proxyProcess struct {
	name  string
	addr  string         // host:port to use as the HTTP proxy
	roots *x509.CertPool // the proxy's CA, for clients
	dir   string

	cmd    *exec.Cmd
	stderr *tailBuffer
	exited chan struct{}
}

// buildOnpath compiles ./cmd/onpath of the module containing the working
// directory into dir.
func buildOnpath(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "onpath")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "onpath/cmd/onpath")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build onpath/cmd/onpath (run from inside the module, or pass -onpath BIN): %w", err)
	}
	return bin, nil
}

// startOnpath runs bin --no-ui in its own data dir, trusting upstreamCA,
// and waits for its banner. Its stderr is also copied to stderrCopy unless
// that is nil (with GODEBUG=gctrace=1 in the environment, that gives the
// live heap after every collection).
func startOnpath(bin, dir, upstreamCA string, stderrCopy io.Writer) (*proxyProcess, error) {
	p := &proxyProcess{name: "onpath", dir: dir, stderr: &tailBuffer{max: 64 << 10}}
	p.cmd = exec.Command(bin, "--listen", "127.0.0.1:0", "--dir", dir, "--no-ui", "--upstream-ca", upstreamCA)
	p.cmd.Stdout = io.Discard // one line per flow; draining it is part of onpath's work
	pipe, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := p.start(); err != nil {
		return nil, err
	}
	// The banner's first line names the bound address.
	addr := make(chan string, 1)
	var sink io.Writer = p.stderr
	if stderrCopy != nil {
		sink = io.MultiWriter(p.stderr, stderrCopy)
	}
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			sink.Write([]byte(line + "\n"))
			if rest, ok := strings.CutPrefix(line, "onpath listening on http://"); ok {
				addr <- rest
			}
		}
		io.Copy(sink, pipe)
	}()
	select {
	case p.addr = <-addr:
	case <-p.exited:
		return nil, fmt.Errorf("onpath exited at start: %s", p.stderr)
	case <-time.After(30 * time.Second):
		p.kill()
		return nil, fmt.Errorf("onpath printed no address within 30s: %s", p.stderr)
	}
	pem, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		p.kill()
		return nil, err
	}
	p.roots = x509.NewCertPool()
	p.roots.AppendCertsFromPEM(pem)
	return p, nil
}

// startMitmdump runs mitmdump quietly (no flow output, no save file) with
// its CA in dir, trusting upstreamCA, with extra arguments, and waits until
// it accepts connections.
func startMitmdump(exe, dir, upstreamCA string, extra []string) (*proxyProcess, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &proxyProcess{name: "mitmproxy", dir: dir, stderr: &tailBuffer{max: 64 << 10},
		addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	p.cmd = exec.Command(exe, "--listen-host", "127.0.0.1", "--listen-port", strconv.Itoa(port),
		"--set", "confdir="+dir, "--set", "ssl_verify_upstream_trusted_ca="+upstreamCA,
		"-q", "--set", "flow_detail=0")
	p.cmd.Args = append(p.cmd.Args, extra...)
	p.cmd.Stdout = p.stderr
	p.cmd.Stderr = p.stderr
	if err := p.start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("mitmdump exited at start: %s", p.stderr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.kill()
			return nil, fmt.Errorf("mitmdump did not listen on %s within 30s: %s", p.addr, p.stderr)
		}
	}
	pem, err := os.ReadFile(filepath.Join(dir, "mitmproxy-ca-cert.pem"))
	if err != nil {
		p.kill()
		return nil, err
	}
	p.roots = x509.NewCertPool()
	p.roots.AppendCertsFromPEM(pem)
	return p, nil
}

func (p *proxyProcess) start() error {
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.exited = make(chan struct{})
	go func() {
		p.cmd.Wait()
		close(p.exited)
	}()
	return nil
}

// stop sends SIGINT and waits for a clean exit (flushing onpath's store),
// killing the process after timeout.
func (p *proxyProcess) stop(timeout time.Duration) error {
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(timeout):
		p.kill()
		return fmt.Errorf("%s did not exit within %s of SIGINT", p.name, timeout)
	}
	if st := p.cmd.ProcessState; st != nil && !st.Success() {
		// mitmdump exits 0 on SIGINT; onpath too. Anything else is a failure.
		if ws, ok := st.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			return fmt.Errorf("%s exited with %v: %s", p.name, st, p.stderr)
		}
	}
	return nil
}

func (p *proxyProcess) kill() {
	p.cmd.Process.Kill()
	<-p.exited
}

// memory is a reading of /proc/PID/status, in MiB.
type memory struct {
	RSS, Anon, File, HWM float64
}

func (p *proxyProcess) memory() (memory, error) { return readMemory(p.cmd.Process.Pid) }

func readMemory(pid int) (memory, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	var m memory
	fields := map[string]*float64{"VmRSS:": &m.RSS, "RssAnon:": &m.Anon, "RssFile:": &m.File, "VmHWM:": &m.HWM}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		if dst := fields[f[0]]; dst != nil {
			kb, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return memory{}, fmt.Errorf("parse %s: %w", line, err)
			}
			*dst = kb / 1024
		}
	}
	if m.RSS == 0 {
		return memory{}, errors.New("no VmRSS in /proc status")
	}
	return m, nil
}

// cpu is the CPU time (user and system, all threads) the process has used
// so far, from /proc/PID/stat.
func (p *proxyProcess) cpu() (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// utime and stime are fields 14 and 15, counted after it.
	rest := string(data)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc stat: %q", data)
	}
	var ticks int64
	for _, field := range f[11:13] {
		n, err := strconv.ParseInt(field, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse /proc stat: %w", err)
		}
		ticks += n
	}
	// USER_HZ is 100 on every Linux architecture Go supports.
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// countStoredFlows opens the flow store of a stopped onpath.
func countStoredFlows(dir string) (int, error) {
	st, err := store.Open(filepath.Join(dir, "flows.db"), store.Options{})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	return st.Len()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written to it, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(b)
	if extra := t.buf.Len() - t.max; extra > 0 {
		t.buf.Next(extra)
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(t.buf.String())
}
