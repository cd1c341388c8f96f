package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"onpath/flow"
	"onpath/internal/testupstream"
)

// showFlow runs `onpath show --json ID`.
func showFlow(t *testing.T, dir string, id flow.ID) *flow.Flow {
	t.Helper()
	out, errOut, code := cli(t, "show", "--json", itoa(id), "--dir", dir)
	if code != 0 {
		t.Fatalf("show %d exited %d: %s", id, code, errOut)
	}
	var f flow.Flow
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatal(err)
	}
	return &f
}

// httpbinEcho decodes go-httpbin's /anything answer.
type httpbinEcho struct {
	Method  string              `json:"method"`
	Headers map[string][]string `json:"headers"`
	Data    string              `json:"data"`
}

func echoOf(t *testing.T, f *flow.Flow) httpbinEcho {
	t.Helper()
	if f.Response == nil {
		t.Fatalf("flow %d has no response (error %+v)", f.ID, f.Error)
	}
	var e httpbinEcho
	if err := json.Unmarshal(f.Response.Body.Data, &e); err != nil {
		t.Fatalf("flow %d response is not go-httpbin's echo: %v", f.ID, err)
	}
	return e
}

var replayedLine = regexp.MustCompile(`flow (\d+) \(replay of (\d+)\)`)

func replayedID(t *testing.T, out string) flow.ID {
	t.Helper()
	m := replayedLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("replay printed no new flow id:\n%s", out)
	}
	var id flow.ID
	json.Unmarshal([]byte(m[1]), &id)
	return id
}

// recordOne sends one request through a fresh proxy and returns its flow id.
func recordOne(t *testing.T, p *runningProxy, req *http.Request) flow.ID {
	t.Helper()
	resp, err := p.client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	rows := waitForFlows(t, p.dir, 1, req.URL.Path)
	return rows[len(rows)-1].ID
}

func TestReplayLiveAndOffline(t *testing.T) {
	up := testupstream.Start(t)
	caFile := upstreamCAFile(t)
	p := startProxy(t, "", "--upstream-ca", caFile)
	req, _ := http.NewRequest("POST", up.HTTPS.URL+"/anything/replay-me", strings.NewReader(`{"hello":"world"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Trace", "one")
	id := recordOne(t, p, req)

	// Through the running proxy's control socket.
	out, errOut, code := cli(t, "replay", itoa(id), "--dir", p.dir)
	if code != 0 {
		t.Fatalf("replay while running exited %d: %s", code, errOut)
	}
	live := replayedID(t, out)
	p.stop(t)

	// With no proxy: the CLI sends it itself, with the same verification.
	_, errOut, code = cli(t, "replay", itoa(id), "--dir", p.dir)
	if code == 0 || !strings.Contains(errOut, "certificate") {
		t.Errorf("offline replay without --upstream-ca: exit %d, %q; want a certificate failure", code, errOut)
	}
	out, errOut, code = cli(t, "replay", itoa(id), "--dir", p.dir, "--upstream-ca", caFile)
	if code != 0 {
		t.Fatalf("offline replay exited %d: %s", code, errOut)
	}
	offline := replayedID(t, out)

	orig := showFlow(t, p.dir, id)
	for _, rid := range []flow.ID{live, offline} {
		f := showFlow(t, p.dir, rid)
		if f.ReplayOf != id {
			t.Errorf("flow %d replay_of = %d, want %d", rid, f.ReplayOf, id)
		}
		got, want := echoOf(t, f), echoOf(t, orig)
		if got.Method != "POST" || got.Data != want.Data || got.Headers["X-Trace"][0] != "one" {
			t.Errorf("replay %d reached the server as %+v, the original as %+v", rid, got, want)
		}
	}
	rows := listFlows(t, p.dir)
	replays, failed := 0, 0
	for _, r := range rows {
		if r.ReplayOf != nil && *r.ReplayOf == id {
			if r.Error != nil && *r.Error == "upstream-cert" {
				failed++
			} else {
				replays++
			}
		}
	}
	// The attempt without the upstream CA is recorded too, with its error.
	if replays != 2 || failed != 1 {
		t.Errorf("flows --json lists %d good and %d failed replays of %d, want 2 and 1", replays, failed, id)
	}
}

func TestReplayEdited(t *testing.T) {
	up := testupstream.Start(t)
	p := startProxy(t, "", "--upstream-ca", upstreamCAFile(t))
	req, _ := http.NewRequest("POST", up.HTTP.URL+"/anything/edit-me", strings.NewReader("name=before"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	id := recordOne(t, p, req)

	// A scripted editor: change the method, add a header, rewrite the body.
	editor := filepath.Join(t.TempDir(), "editor.sh")
	script := "#!/bin/sh\nsed -i -e 's/^POST /PUT /' -e 's/^Content-Type: .*/&\\nX-Edited: yes/' -e 's/name=before/name=after/' \"$1\"\n"
	if err := os.WriteFile(editor, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := cliEnv(t, map[string]string{"EDITOR": editor}, "replay", "--edit", itoa(id), "--dir", p.dir)
	if code != 0 {
		t.Fatalf("replay --edit exited %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "kept in "+filepath.Join(p.dir, "edits")) {
		t.Errorf("replay --edit does not say where the edited text is kept: %q", errOut)
	}
	echo := echoOf(t, showFlow(t, p.dir, replayedID(t, out)))
	if echo.Method != "PUT" || echo.Headers["X-Edited"] == nil || echo.Data != "name=after" {
		t.Errorf("edited replay reached the server as %+v", echo)
	}

	// A malformed edit: nothing is sent, the error points at the line, the text is kept.
	bad := filepath.Join(t.TempDir(), "bad.sh")
	os.WriteFile(bad, []byte("#!/bin/sh\nprintf 'PUT\\nno colon here\\n' > \"$1\"\n"), 0o755)
	before := len(listFlows(t, p.dir))
	_, errOut, code = cliEnv(t, map[string]string{"EDITOR": bad}, "replay", "--edit", itoa(id), "--dir", p.dir)
	if code == 0 || !regexp.MustCompile(`\.http:1: `).MatchString(errOut) || !strings.Contains(errOut, "kept in") {
		t.Errorf("malformed edit: exit %d, stderr %q; want a failure naming file:line and where the text is kept", code, errOut)
	}
	if after := len(listFlows(t, p.dir)); after != before {
		t.Errorf("a malformed edit sent something: %d flows, was %d", after, before)
	}
}

func TestReplayOfTruncatedBodyIsRefusedUnlessForced(t *testing.T) {
	up := testupstream.Start(t)
	p := startProxy(t, "", "--body-limit", "1KiB")
	body := bytes.Repeat([]byte("x"), 4096)
	req, _ := http.NewRequest("POST", up.HTTP.URL+"/anything/big", bytes.NewReader(body))
	id := recordOne(t, p, req)

	_, errOut, code := cli(t, "replay", itoa(id), "--dir", p.dir)
	if code != exitUsage || !strings.Contains(errOut, "recorded only in part") || !strings.Contains(errOut, "--force") {
		t.Errorf("replay of a truncated body: exit %d, %q; want a refusal naming --force", code, errOut)
	}
	out, errOut, code := cli(t, "replay", "--force", itoa(id), "--dir", p.dir)
	if code != 0 {
		t.Fatalf("replay --force exited %d: %s", code, errOut)
	}
	f := showFlow(t, p.dir, replayedID(t, out))
	if !f.Forced || f.Request.Body.Size != 1024 {
		t.Errorf("forced replay: forced=%v, body %d bytes; want forced with the 1024 recorded bytes", f.Forced, f.Request.Body.Size)
	}
}

func TestReplayRepeated(t *testing.T) {
	up := testupstream.Start(t)
	p := startProxy(t, "")
	req, _ := http.NewRequest("GET", up.HTTP.URL+"/anything/again", nil)
	id := recordOne(t, p, req)
	out, errOut, code := cli(t, "replay", itoa(id), "--count", "20", "--concurrency", "4", "--dir", p.dir)
	if code != 0 {
		t.Fatalf("replay --count exited %d: %s", code, errOut)
	}
	if !strings.Contains(out, "sent 20 replays") || !regexp.MustCompile(`200\s+20`).MatchString(out) || !strings.Contains(out, "p99") {
		t.Errorf("replay --count summary:\n%s", out)
	}
	rows := waitForFlows(t, p.dir, 21, "again")
	if len(rows) != 21 {
		t.Errorf("%d flows after 20 replays, want 21", len(rows))
	}
}
