package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onpath/internal/testupstream"
)

// TestChromiumThroughProxy loads an HTTPS page that sets a cookie and pulls
// a script, in headless Chromium that trusts only onpath's CA and uses the
// proxy; every request must be recorded, decrypted.
func TestChromiumThroughProxy(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (.ci/run installs Debian's chromium)")
	}
	certutil, err := exec.LookPath("certutil")
	if err != nil {
		t.Skip("certutil is not installed (.ci/run installs Debian's libnss3-tools)")
	}
	site := testupstream.StartTLS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			http.SetCookie(w, &http.Cookie{Name: "session_id", Value: "c0ffee1234567890", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<html><body><p id=out>static</p><script src="/app.js"></script></body></html>`)
		case "/app.js":
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, `document.getElementById("out").textContent = "script-ran-" + (document.cookie === "" ? "httponly-hidden" : "cookie-visible");`)
		default:
			http.NotFound(w, r)
		}
	}))
	p := startProxy(t, "", "--upstream-ca", upstreamCAFile(t))

	home := t.TempDir()
	nssdb := filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(nssdb, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-d", "sql:" + nssdb, "-N", "--empty-password"},
		{"-d", "sql:" + nssdb, "-A", "-t", "C,,", "-n", "onpath", "-i", filepath.Join(p.dir, "ca.pem")},
	} {
		if out, err := exec.Command(certutil, args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pageURL := strings.Replace(site.URL, "127.0.0.1", "localhost", 1) + "/"
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(home, "ud"),
		"--proxy-server=http://"+p.addr, "--proxy-bypass-list=<-loopback>",
		"--virtual-time-budget=5000",
		"--dump-dom", pageURL)
	cmd.Env = append(os.Environ(), "HOME="+home)
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, dom)
	}
	if !strings.Contains(string(dom), "script-ran-httponly-hidden") {
		t.Fatalf("the page and its script did not load through the proxy; DOM:\n%s", dom)
	}

	rows := waitForFlows(t, p.dir, 2, "host:localhost")
	var page, script *flowRow
	for i := range rows {
		switch {
		case strings.HasSuffix(rows[i].URL, "/app.js"):
			script = &rows[i]
		case strings.HasSuffix(rows[i].URL, "/"):
			page = &rows[i]
		}
	}
	if page == nil || script == nil || page.Status != 200 || script.Status != 200 || page.Scheme != "https" {
		t.Fatalf("recorded flows = %+v; want the page and the script, https, 200", rows)
	}
	out, _, code := cli(t, "show", itoa(script.ID), "--dir", p.dir)
	if code != 0 || !strings.Contains(out, "Cookie: session_id=c0ffee1234567890") || !strings.Contains(out, "script-ran-") {
		t.Errorf("the script flow is not recorded decrypted with the cookie Chromium sent:\n%s", out)
	}
	out, _, _ = cli(t, "show", itoa(page.ID), "--dir", p.dir)
	if !strings.Contains(out, "Set-Cookie: session_id=c0ffee1234567890") {
		t.Errorf("the page flow lacks its Set-Cookie:\n%s", out)
	}
}
