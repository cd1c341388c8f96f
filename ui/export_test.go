package ui

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"

	"onpath/flow"
	"onpath/har"
	"onpath/internal/testupstream"
)

// readHAR parses an exported file back.
func readHAR(t *testing.T, path string) []*flow.Flow {
	t.Helper()
	checkPrivate(t, path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	flows, err := har.Read(f, "test", har.DefaultReadLimit)
	if err != nil {
		t.Fatalf("exported HAR does not read back: %v", err)
	}
	return flows
}

func checkPrivate(t *testing.T, path string) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("%s has mode %o, want 600", path, perm)
	}
}

func exportOptions(t *testing.T, src Source) (Options, string) {
	dir := t.TempDir()
	opts := defaultOptions(src)
	opts.ExportDir = dir
	opts.Version = "test-1"
	return opts, dir
}

func TestExportMenu(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	opts, _ := exportOptions(t, st)
	hs := start(t, opts, 100, 16)
	hs.key(tcell.KeyHome)
	hs.runes("x")
	txt := hs.golden("export_menu")
	for _, want := range []string{"h    HAR of #1", "a    HAR of every flow (10)", "c    curl command for #1", "t    #1 as HTTP text"} {
		if !strings.Contains(txt, want) {
			t.Errorf("export menu lacks %q", want)
		}
	}
	// Keys other than the menu's do nothing; Esc closes it.
	hs.runes("jq")
	hs.waitText("Esc  cancel")
	hs.key(tcell.KeyEsc)
	if txt := hs.text(); strings.Contains(txt, "Esc  cancel") {
		t.Errorf("Esc did not close the menu:\n%s", txt)
	}
}

func TestExportHARSingleAndFiltered(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	opts, dir := exportOptions(t, st)
	hs := start(t, opts, 200, 16)
	hs.key(tcell.KeyHome)
	hs.runes("x")
	hs.runes("h")
	hs.waitText("export HAR to: " + filepath.Join(dir, "onpath-1.har"))
	hs.key(tcell.KeyEnter)
	hs.waitText("exported #1 as HAR to " + filepath.Join(dir, "onpath-1.har"))
	flows := readHAR(t, filepath.Join(dir, "onpath-1.har"))
	if len(flows) != 1 || flows[0].Request.URL != "https://api.example.com/v1/users/42?expand=roles" || flows[0].Status() != 200 {
		t.Fatalf("single HAR export: %d flows, first %+v", len(flows), flows[0].Request)
	}

	// Every flow the filter shows, from the detail view.
	hs.runes("/example.org status:2xx")
	hs.key(tcell.KeyEnter)
	hs.waitText("filter: example.org status:2xx → ")
	hs.key(tcell.KeyEnter)
	hs.runes("x")
	txt := hs.waitText("HAR of the ")
	hs.runes("a")
	hs.key(tcell.KeyEnter)
	txt = hs.waitText("as HAR to " + filepath.Join(dir, "onpath-filtered.har"))
	if !strings.Contains(txt, "exported 2 flows") {
		t.Errorf("filtered export message:\n%s", txt)
	}
	flows = readHAR(t, filepath.Join(dir, "onpath-filtered.har"))
	var urls []string
	for _, f := range flows {
		urls = append(urls, f.Request.URL)
	}
	want := []string{"https://example.org/a/very/long/path/that/will/not/fit/in/the/column/at/all/index.html", "https://cdn.example.org/img/logo.png"}
	if strings.Join(urls, " ") != strings.Join(want, " ") {
		t.Fatalf("filtered HAR URLs = %v, want %v", urls, want)
	}
	if len(flows[0].Findings) == 0 {
		t.Error("the HAR export left out the findings")
	}
}

func TestExportNeverOverwritesSilently(t *testing.T) {
	st := openStore(t, mixedFlows(t))
	opts, dir := exportOptions(t, st)
	path := filepath.Join(dir, "onpath-1.http")
	if err := os.WriteFile(path, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	hs := start(t, opts, 200, 16)
	hs.key(tcell.KeyHome)
	hs.runes("xt")
	hs.key(tcell.KeyEnter)
	hs.waitText(path + " exists. Replace it? (y/n)")
	hs.runes("n")
	hs.waitText("export cancelled: the existing file was kept")
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Fatalf("n replaced the file: %q", b)
	}
	hs.runes("xt")
	hs.key(tcell.KeyEnter)
	hs.waitText("Replace it? (y/n)")
	hs.runes("y")
	hs.waitText("wrote #1 as HTTP text to " + path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkPrivate(t, path)
	for _, want := range []string{"GET https://api.example.com/v1/users/42?expand=roles HTTP/2.0\r\n", "Authorization: Bearer", "\r\n\r\nHTTP/2.0 200 OK\r\n", "Content-Encoding: gzip"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("HTTP text lacks %q:\n%s", want, b)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".onpath-export-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	// Esc at the path prompt cancels.
	hs.runes("xh")
	hs.key(tcell.KeyEsc)
	if _, err := os.Stat(filepath.Join(dir, "onpath-1.har")); err == nil {
		t.Error("Esc at the path prompt still exported")
	}
}

// The curl export, run with sh, sends the same request to go-httpbin.
func TestExportCurlRuns(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	up := testupstream.Start(t)
	fs := upstreamFlows(up.HTTP.URL)
	fs[1].Request.Body = flow.Body{Size: 6, Data: []byte{0, 1, 2, 0xff, 'o', 'k'}}
	fs[1].Request.Header.Set("Content-Type", "application/octet-stream")
	st := openStore(t, fs)
	opts, dir := exportOptions(t, st)
	hs := start(t, opts, 240, 16)
	hs.runes("xc") // the POST with a binary body
	hs.key(tcell.KeyEnter)
	script := filepath.Join(dir, "onpath-2.sh")
	txt := hs.waitText("wrote a curl command for #2 to " + script)
	if !strings.Contains(txt, "(body in "+dir) {
		t.Errorf("the body file is not reported:\n%s", txt)
	}
	checkPrivate(t, script)
	run := exec.Command("sh", script)
	run.Env = append(os.Environ(), "NO_PROXY=*", "no_proxy=*")
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("sh %s: %v\n%s", script, err, out)
	}
	for _, want := range []string{`"method": "POST"`, `"url": "` + up.HTTP.URL + `/anything/upload"`, `"data": "data:application/octet-stream;base64,AAEC_29r"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("httpbin's answer lacks %s:\n%s", want, out)
		}
	}
}

// A HAR of many flows is written in the background and reads back whole.
func TestExportHARManyFlows(t *testing.T) {
	const n = 2*exportProgressEvery + 17
	fs := make([]*flow.Flow, n)
	for i := range fs {
		fs[i] = simpleFlow("GET", fmt.Sprintf("https://example.org/item/%d", i), 200, 3, 0)
	}
	st := openStore(t, fs)
	opts, dir := exportOptions(t, st)
	hs := start(t, opts, 200, 16)
	hs.runes("xa")
	hs.key(tcell.KeyEnter)
	path := filepath.Join(dir, "onpath-flows.har")
	hs.waitText(fmt.Sprintf("exported %s flows as HAR to %s", groupDigits(n), path))
	flows := readHAR(t, path)
	if len(flows) != n || flows[n-1].Request.URL != fmt.Sprintf("https://example.org/item/%d", n-1) {
		t.Errorf("read back %d flows, want %d in order", len(flows), n)
	}
}
