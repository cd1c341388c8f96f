package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onpath/internal/testupstream"
)

func TestExportAndImport(t *testing.T) {
	up := testupstream.Start(t)
	p := startProxy(t, "")
	req, _ := http.NewRequest("POST", up.HTTP.URL+"/anything/export-me?q=1", strings.NewReader(`{"hello":"world"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Custom", "kept")
	id := recordOne(t, p, req)
	p.stop(t)

	// HAR to a file: mode 0600, parses, carries the POST body.
	harPath := filepath.Join(t.TempDir(), "out.har")
	if _, errOut, code := cli(t, "export", "--har", harPath, "--dir", p.dir); code != 0 {
		t.Fatalf("export --har exited %d: %s", code, errOut)
	}
	if st, err := os.Stat(harPath); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("HAR file: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	var doc struct {
		Log struct {
			Version string `json:"version"`
			Entries []struct {
				Request struct {
					Method   string `json:"method"`
					PostData struct {
						Text string `json:"text"`
					} `json:"postData"`
				} `json:"request"`
			} `json:"entries"`
		} `json:"log"`
	}
	data, _ := os.ReadFile(harPath)
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("exported HAR is not JSON: %v", err)
	}
	if doc.Log.Version != "1.2" || len(doc.Log.Entries) != 1 || doc.Log.Entries[0].Request.PostData.Text != `{"hello":"world"}` {
		t.Errorf("exported HAR = %+v", doc.Log)
	}

	// Import into a new dir: the flow comes back marked imported, and replays.
	other := filepath.Join(t.TempDir(), "other")
	out, errOut, code := cli(t, "import", "--har", harPath, "--dir", other)
	if code != 0 || !strings.Contains(out, "Imported 1 flows") {
		t.Fatalf("import exited %d: %s%s", code, out, errOut)
	}
	rows := listFlows(t, other)
	if len(rows) != 1 || !rows[0].Imported || rows[0].Method != "POST" || rows[0].Status != 200 {
		t.Fatalf("imported flows = %+v", rows)
	}
	out, errOut, code = cli(t, "replay", itoa(rows[0].ID), "--dir", other)
	if code != 0 {
		t.Fatalf("replay of an imported flow exited %d: %s", code, errOut)
	}
	echo := echoOf(t, showFlow(t, other, replayedID(t, out)))
	if echo.Data != `{"hello":"world"}` || echo.Headers["X-Custom"][0] != "kept" {
		t.Errorf("replayed imported flow reached the server as %+v", echo)
	}

	// A broken HAR: a clear error with its position, nothing stored.
	broken := filepath.Join(t.TempDir(), "broken.har")
	os.WriteFile(broken, data[:len(data)/2], 0o600)
	_, errOut, code = cli(t, "import", "--har", broken, "--dir", other)
	if code == 0 || !strings.Contains(errOut, "Nothing was imported") {
		t.Errorf("import of a truncated HAR: exit %d, %q", code, errOut)
	}
	if n := len(listFlows(t, other)); n != 2 {
		t.Errorf("after a failed import: %d flows, want the 2 from before", n)
	}

	// Raw export: request and response as HTTP/1.1 text.
	out, _, code = cli(t, "export", "--raw", itoa(id), "--dir", p.dir)
	if code != 0 || !strings.Contains(out, "POST "+up.HTTP.URL+"/anything/export-me?q=1 HTTP/1.1") || !strings.Contains(out, "HTTP/1.1 200 OK") {
		t.Errorf("export --raw:\n%s", out)
	}
}

func TestExportCurlReproducesTheRequest(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	up := testupstream.Start(t)
	p := startProxy(t, "")
	req, _ := http.NewRequest("PATCH", up.HTTP.URL+"/anything/curl-me", strings.NewReader("it's a \"body\" with $dollars"))
	req.Header.Set("X-Quote", `it's "quoted"`)
	req.Header.Set("Content-Type", "text/plain")
	id := recordOne(t, p, req)
	orig := echoOf(t, showFlow(t, p.dir, id))

	cmdText, errOut, code := cli(t, "export", "--curl", itoa(id), "--dir", p.dir)
	if code != 0 {
		t.Fatalf("export --curl exited %d: %s", code, errOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run := exec.CommandContext(ctx, "bash", "-c", cmdText)
	run.Env = append(os.Environ(), "PATH="+filepath.Dir(curl)+":/usr/bin:/bin", "NO_PROXY=*")
	got, err := run.Output()
	if err != nil {
		t.Fatalf("the exported command failed: %v\n%s", err, cmdText)
	}
	var echo httpbinEcho
	if err := json.Unmarshal(got, &echo); err != nil {
		t.Fatalf("curl output is not go-httpbin's echo: %v\n%s", err, got)
	}
	if echo.Method != orig.Method || echo.Data != orig.Data || echo.Headers["X-Quote"][0] != orig.Headers["X-Quote"][0] {
		t.Errorf("curl sent %+v, the original was %+v", echo, orig)
	}
}
