package main

import (
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"onpath/internal/testupstream"
)

func TestRemoteListenNeedsAllowRemoteAndProxyAuth(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want []string // in the refusal
	}{
		{"neither", nil, []string{"refusing to listen", "--allow-remote", "--proxy-auth"}},
		{"allow-remote alone", []string{"--allow-remote"}, []string{"refusing to listen", "--allow-remote needs --proxy-auth"}},
		{"proxy-auth alone", []string{"--proxy-auth", "dev:pw"}, []string{"refusing to listen", "pass --allow-remote too"}},
		{"proxy-auth without a colon", []string{"--allow-remote", "--proxy-auth", "devpw"}, []string{"--proxy-auth wants USER:PASS"}},
		{"proxy-auth with an empty password", []string{"--allow-remote", "--proxy-auth", "dev:"}, []string{"--proxy-auth wants USER:PASS"}},
	}
	for _, addr := range []string{"0.0.0.0:0", "[::]:0"} {
		for _, c := range cases {
			t.Run(addr+"/"+c.name, func(t *testing.T) {
				args := append([]string{"--no-ui", "--listen", addr, "--dir", t.TempDir()}, c.args...)
				_, errOut, code := cli(t, args...)
				if code != exitUsage {
					t.Errorf("exit %d, want %d (usage)", code, exitUsage)
				}
				for _, w := range c.want {
					if !strings.Contains(errOut, w) {
						t.Errorf("stderr %q does not say %q", errOut, w)
					}
				}
			})
		}
	}
	// $ONPATH_PROXY_AUTH stands for --proxy-auth (a bad value proves it is read).
	_, errOut, code := cliEnv(t, map[string]string{"ONPATH_PROXY_AUTH": "nocolon"}, "--no-ui", "--listen", "0.0.0.0:0", "--allow-remote", "--dir", t.TempDir())
	if code != exitUsage || !strings.Contains(errOut, "--proxy-auth wants USER:PASS") {
		t.Errorf("ONPATH_PROXY_AUTH=nocolon: exit %d, %q; want the USER:PASS usage error", code, errOut)
	}
	// Both together are accepted (checked without binding a non-loopback
	// address: tests listen on loopback only).
	auth, err := checkRemoteListen("0.0.0.0:8080", true, "dev:pw:with:colons")
	if err != nil || auth == nil || auth.User != "dev" || auth.Password != "pw:with:colons" {
		t.Errorf("checkRemoteListen with both: %+v, %v; want user dev, password pw:with:colons", auth, err)
	}
	if auth, err := checkRemoteListen("127.0.0.1:8080", false, ""); err != nil || auth != nil {
		t.Errorf("loopback without auth: %+v, %v; want no auth, no error", auth, err)
	}
}

// TestProxyAuthOnLoopback: --proxy-auth works on loopback too; refused
// clients get 407 and a recorded flow whose credentials are redacted.
func TestProxyAuthOnLoopback(t *testing.T) {
	up := testupstream.Start(t)
	p := startProxy(t, "", "--proxy-auth", "dev:s3cret", "--upstream-ca", upstreamCAFile(t))
	if !strings.Contains(p.stderr.String(), `Proxy authentication is required (user "dev")`) || strings.Contains(p.stderr.String(), "s3cret") {
		t.Errorf("banner should name the user and never the password:\n%s", p.stderr.String())
	}
	get := func(user *url.Userinfo, target string) int {
		t.Helper()
		tr := &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: p.addr, User: user})}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr, Timeout: 15 * time.Second}).Get(target)
		if err != nil {
			t.Fatalf("GET %s: %v", target, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get(nil, up.HTTP.URL+"/get?anonymous"); got != http.StatusProxyAuthRequired {
		t.Errorf("without credentials: %d, want 407", got)
	}
	if got := get(url.UserPassword("dev", "wrong"), up.HTTP.URL+"/get?wrong"); got != http.StatusProxyAuthRequired {
		t.Errorf("wrong password: %d, want 407", got)
	}
	if got := get(url.UserPassword("dev", "s3cret"), up.HTTP.URL+"/get?right"); got != http.StatusOK {
		t.Errorf("right credentials: %d, want 200", got)
	}
	p.stdout.waitFor(t, regexp.MustCompile(`/get\?anonymous .* error:proxy`), 15*time.Second)
	p.stdout.waitFor(t, regexp.MustCompile(`/get\?wrong .* error:proxy`), 15*time.Second)
	p.stdout.waitFor(t, regexp.MustCompile(`200 GET \S+/get\?right`), 15*time.Second)

	out, errOut, code := cli(t, "flows", "--json", "--dir", p.dir)
	if code != 0 {
		t.Fatalf("flows --json: exit %d: %s", code, errOut)
	}
	offered := base64.StdEncoding.EncodeToString([]byte("dev:wrong"))
	if strings.Contains(out, offered) || strings.Contains(out, "s3cret") {
		t.Errorf("the recorded flows hold the offered credentials:\n%s", out)
	}
}

// TestBadInputDoesNotStopTheCLIProxy: the acceptance shapes against the
// real command: garbage after CONNECT, a malformed request line, a client
// that never finishes its headers; the proxy still serves.
func TestBadInputDoesNotStopTheCLIProxy(t *testing.T) {
	up := testupstream.Start(t)
	p := startProxy(t, "", "--upstream-ca", upstreamCAFile(t), "--header-timeout", "300ms")
	upTLS := strings.TrimPrefix(up.HTTPS.URL, "https://")
	for _, payload := range []string{
		"CONNECT " + upTLS + " HTTP/1.1\r\nHost: x\r\n\r\n\x00\x01garbage\r\n",
		"GARBAGE / / /\r\n\r\n",
		"GET " + up.HTTP.URL + "/get HTTP/1.1\r\n", // and then nothing: the header timeout closes it
	} {
		conn, err := dialTimeout(p.addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(conn, payload)
		if _, err := io.Copy(io.Discard, conn); err != nil {
			t.Errorf("%q: the proxy did not close the connection within 10 s: %v", payload, err)
		}
		conn.Close()
	}
	resp, err := p.client(t).Get(up.HTTPS.URL + "/get")
	if err != nil {
		t.Fatalf("after bad input: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after bad input: %d, want 200", resp.StatusCode)
	}
}

func dialTimeout(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, 5*time.Second) }
