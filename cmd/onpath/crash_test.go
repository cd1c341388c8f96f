package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"onpath/internal/testupstream"
)

// buildOnpath compiles the command once per test binary run.
var built atomic.Bool

var buildOnce = sync.OnceValues(func() (string, error) {
	built.Store(true)
	dir, err := osMkdirTemp()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "onpath")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", &buildError{string(out), err}
	}
	return bin, nil
})

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

func onpathBinary(t *testing.T) string {
	t.Helper()
	bin, err := buildOnce()
	if err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

// TestKillDuringTrafficKeepsCommittedFlows kills an onpath process with
// SIGKILL while clients hammer it, then checks that the db opens and every
// flow listed as committed before the kill is intact.
func TestKillDuringTrafficKeepsCommittedFlows(t *testing.T) {
	up := testupstream.Start(t)
	bin := onpathBinary(t)
	dir := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(bin, "--no-ui", "--listen", "127.0.0.1:0", "--dir", dir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			cmd.Process.Kill()
		}
		cmd.Wait()
	})
	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`listening on http://(\S+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrCh <- m[1]
			}
		}
	}()
	var addr string
	select {
	case addr = <-addrCh:
	case <-time.After(20 * time.Second):
		t.Fatal("onpath did not start within 20 s")
	}

	ctx, stopTraffic := context.WithTimeout(context.Background(), 30*time.Second)
	defer stopTraffic()
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: addr})}, Timeout: 10 * time.Second}
	var sent atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := 0; i < 5000 && ctx.Err() == nil; i++ {
				resp, err := client.Get(up.HTTP.URL + "/anything/kill-test")
				if err != nil {
					continue // the kill cuts requests in flight
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				sent.Add(1)
			}
		})
	}
	// Committed flows are those the running proxy lists; wait for enough.
	var committed []flowRow
	deadline := time.Now().Add(20 * time.Second)
	for len(committed) < 200 && time.Now().Before(deadline) {
		committed = listFlows(t, dir, "kill-test")
	}
	if len(committed) < 200 {
		t.Fatalf("only %d flows committed after 20 s of traffic", len(committed))
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed = true
	cmd.Wait()
	stopTraffic()
	wg.Wait()

	after := listFlows(t, dir, "kill-test")
	byID := map[int64]flowRow{}
	for _, r := range after {
		byID[int64(r.ID)] = r
	}
	for _, want := range committed {
		got, ok := byID[int64(want.ID)]
		if !ok {
			t.Errorf("flow %d was committed before the kill and is gone after it", want.ID)
			continue
		}
		if got.URL != want.URL || got.Status != want.Status || got.ResponseSize != want.ResponseSize {
			t.Errorf("flow %d changed across the kill: %+v, was %+v", want.ID, got, want)
		}
	}
	if _, errOut, code := cli(t, "show", itoa(committed[0].ID), "--dir", dir); code != 0 {
		t.Errorf("show after the kill exited %d: %s", code, errOut)
	}
	t.Logf("%d requests answered, %d flows committed before the kill, %d in the db after", sent.Load(), len(committed), len(after))
}
