package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"onpath/flow"
	"onpath/internal/testupstream"
)

// listFlows runs `onpath flows --json` and decodes its lines.
func listFlows(t *testing.T, dir string, query ...string) []flowRow {
	t.Helper()
	out, errOut, code := cli(t, append([]string{"flows", "--json", "--dir", dir}, query...)...)
	if code != 0 {
		t.Fatalf("flows --json exited %d: %s", code, errOut)
	}
	var rows []flowRow
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var r flowRow
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("flows --json line is not JSON: %v\n%s", err, out)
		}
		rows = append(rows, r)
	}
	return rows
}

// waitForFlows polls `onpath flows --json` until want flows match query.
func waitForFlows(t *testing.T, dir string, want int, query ...string) []flowRow {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows := listFlows(t, dir, query...)
		if len(rows) >= want || time.Now().After(deadline) {
			if len(rows) < want {
				t.Fatalf("flows %v: %d rows, want %d", query, len(rows), want)
			}
			return rows
		}
		time.Sleep(20 * time.Millisecond) // polling the store: recording is asynchronous by design
	}
}

func TestCaptureEndToEnd(t *testing.T) {
	up := testupstream.Start(t)
	p := startProxy(t, "", "--upstream-ca", upstreamCAFile(t))
	c := p.client(t)

	resp, err := c.Get(up.HTTPS.URL + "/cookies/set?name=jordan")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Set-Cookie"), "name=jordan") {
		t.Fatalf("cookies/set through the proxy: %d %q", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}

	upload := make([]byte, 1<<20)
	rand.Read(upload)
	resp, err = c.Post(up.HTTP.URL+"/anything/upload", "application/octet-stream", bytes.NewReader(upload))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	// While the proxy runs, the CLI reads through the control socket.
	rows := waitForFlows(t, p.dir, 2)
	byPath := map[string]flowRow{}
	for _, r := range rows {
		u, err := url.Parse(r.URL)
		if err != nil {
			t.Fatal(err)
		}
		byPath[u.RequestURI()] = r
	}
	set := byPath["/cookies/set?name=jordan"]
	if set.Status != 302 || set.Scheme != "https" || set.Host != "127.0.0.1" || set.Method != "GET" {
		t.Errorf("cookies/set row = %+v", set)
	}
	post := byPath["/anything/upload"]
	if post.RequestSize != 1<<20 || post.Scheme != "http" {
		t.Errorf("upload row = %+v, want request_size %d", post, 1<<20)
	}

	// The line printed per finished flow names status, method and URL.
	p.stdout.waitFor(t, regexp.MustCompile(`302 GET https://\S+/cookies/set\?name=jordan`), 5*time.Second)

	if code := p.stop(t); code != 0 {
		t.Fatalf("onpath exited %d after the interrupt:\n%s", code, p.stderr.String())
	}
	for name, want := range map[string]os.FileMode{"": 0o700, "flows.db": 0o600, "ca-key.pem": 0o600, "ca.pem": 0o644} {
		st, err := os.Stat(filepath.Join(p.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s mode = %v, want %v", filepath.Join(p.dir, name), st.Mode().Perm(), want)
		}
	}

	// With no proxy running, the CLI opens the store itself.
	after := listFlows(t, p.dir)
	if len(after) != len(rows) {
		t.Errorf("after stop: %d flows, want %d", len(after), len(rows))
	}
	out, errOut, code := cli(t, "show", itoa(set.ID), "--dir", p.dir)
	if code != 0 {
		t.Fatalf("show exited %d: %s", code, errOut)
	}
	for _, want := range []string{"Set-Cookie: name=jordan", "GET https://", "TLS onpath ↔ server", "Timings"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	out, errOut, code = cli(t, "show", "--json", itoa(post.ID), "--dir", p.dir)
	if code != 0 {
		t.Fatalf("show --json exited %d: %s", code, errOut)
	}
	var f flow.Flow
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatalf("show --json: %v", err)
	}
	if !bytes.Equal(f.Request.Body.Data, upload) {
		t.Errorf("show --json request body: %d bytes, not the %d uploaded", len(f.Request.Body.Data), len(upload))
	}
}

func itoa(id flow.ID) string { return strings.TrimSpace(string(must(json.Marshal(id)))) }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestSecondProxyOnOneDirIsRefused(t *testing.T) {
	p := startProxy(t, "")
	start := time.Now()
	_, errOut, code := cli(t, "--no-ui", "--listen", "127.0.0.1:0", "--dir", p.dir)
	if code != exitFailure {
		t.Fatalf("second proxy exited %d, want %d", code, exitFailure)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("second proxy took %v to fail", elapsed)
	}
	if !strings.Contains(errOut, filepath.Join(p.dir, "flows.db")) || !strings.Contains(errOut, "another onpath") {
		t.Errorf("refusal does not name the file and the cause:\n%s", errOut)
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"frobnicate"}, exitUsage, "unknown command"},
		{[]string{"show", "--dir", dir}, exitUsage, "one flow id"},
		{[]string{"show", "abc", "--dir", dir}, exitUsage, "not a flow id"},
		{[]string{"--no-such-flag"}, exitUsage, "flag provided but not defined"},
		{[]string{"--body-limit", "lots"}, exitUsage, "not a size"},
		{[]string{"ca", "--pem", "--der", "--dir", dir}, exitUsage, "one of --pem and --der"},
		{[]string{"flows", "--dir", filepath.Join(dir, "empty")}, exitFailure, "no flows recorded"},
	}
	for _, tt := range tests {
		_, errOut, code := cli(t, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("onpath %v: exit %d, stderr %q; want exit %d mentioning %q", tt.args, code, errOut, tt.code, tt.want)
		}
	}
}
