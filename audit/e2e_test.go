package audit_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"onpath/audit"
	"onpath/ca"
	"onpath/flow"
	"onpath/internal/testupstream"
	"onpath/proxy"
)

// e2e is a real onpath proxy on 127.0.0.1:0, with a fresh CA, in front of
// go-httpbin over plain HTTP and over HTTPS.
type e2e struct {
	t          *testing.T
	client     *http.Client
	plain, tls string // upstream base URLs, with the host spelled "localhost"
	finished   chan *flow.Flow
}

// startE2E starts the proxy and upstreams; withJar gives the client a
// cookie jar (shared by every request of the test).
func startE2E(t *testing.T, withJar bool) *e2e {
	t.Helper()
	authority, _, err := ca.LoadOrCreate(t.TempDir(), ca.Options{})
	if err != nil {
		t.Fatalf("ca.LoadOrCreate: %v", err)
	}
	leaves, err := authority.NewLeaves(64)
	if err != nil {
		t.Fatalf("NewLeaves: %v", err)
	}
	up := testupstream.Start(t)
	e := &e2e{t: t, finished: make(chan *flow.Flow, 64),
		plain: strings.Replace(up.HTTP.URL, "127.0.0.1", "localhost", 1),
		tls:   strings.Replace(up.HTTPS.URL, "127.0.0.1", "localhost", 1)}
	p := &proxy.Proxy{Certificate: leaves.Get, UpstreamRoots: up.Roots,
		OnFinish: func(f *flow.Flow) { e.finished <- f }}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- p.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		<-served
	})
	roots := x509.NewCertPool()
	roots.AddCert(authority.Cert())
	tr := &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: l.Addr().String()}),
		TLSClientConfig: &tls.Config{RootCAs: roots}, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	e.client = &http.Client{Transport: tr, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if withJar {
		e.client.Jar, _ = cookiejar.New(nil)
	}
	return e
}

// do sends req through the proxy and returns the recorded flow.
func (e *e2e) do(req *http.Request) *flow.Flow {
	e.t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	select {
	case f := <-e.finished:
		if f.Request.URL != req.URL.String() {
			e.t.Fatalf("recorded %s, want %s", f.Request.URL, req.URL)
		}
		return f
	case <-time.After(15 * time.Second):
		e.t.Fatalf("no flow recorded for %s", req.URL)
		return nil
	}
}

func summarize(fs []flow.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s %s %s", f.Rule, f.Severity, f.Evidence))
	}
	return out
}

// TestEndToEndThroughProxy sends go-httpbin requests through the real proxy
// and checks the findings on the recorded flows: exactly these, no others.
// The upstreams run on localhost, so the network rules are capped at info
// (RULES.md predicate L) while the cookie-flag rules keep their severity.
func TestEndToEndThroughProxy(t *testing.T) {
	e := startE2E(t, false)
	get := func(base, path string) *http.Request {
		req, err := http.NewRequest("GET", base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	withBasic := func(r *http.Request) *http.Request { r.SetBasicAuth("u", "p"); return r }
	form := func(base string) *http.Request {
		req, err := http.NewRequest("POST", base+"/post", strings.NewReader("user=bob&password=hunter2"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}
	const setCookieQuery = "/response-headers?Set-Cookie=" + "sid%3Dabc%3B%20SameSite%3DNone"
	tests := []struct {
		name string
		req  *http.Request
		want []string
	}{
		{"cookies/set over http", get(e.plain, "/cookies/set?sessionid=abc"),
			[]string{"CK05 low Set-Cookie: sessionid", "CK02 info Set-Cookie: sessionid", "TX01 info query: sessionid", "TX03 info Location: http://" + hostOf(e.plain)}},
		{"cookies/set over https", get(e.tls, "/cookies/set?sessionid=abc"),
			[]string{"CK05 low Set-Cookie: sessionid"}},
		{"response-headers Set-Cookie over http", get(e.plain, setCookieQuery),
			[]string{"CK04 medium Set-Cookie: sid", "CK06 low Set-Cookie: sid", "CK07 low Set-Cookie: sid", "CK02 info Set-Cookie: sid"}},
		{"response-headers Set-Cookie over https", get(e.tls, setCookieQuery),
			[]string{"CK04 medium Set-Cookie: sid", "CK06 low Set-Cookie: sid", "CK07 low Set-Cookie: sid",
				"CK03 info Set-Cookie: sid", "TX04 info Strict-Transport-Security (missing)"}},
		{"basic-auth over http", withBasic(get(e.plain, "/basic-auth/u/p")),
			[]string{"TX01 info Authorization: Basic"}},
		{"basic-auth over https", withBasic(get(e.tls, "/basic-auth/u/p")),
			[]string{"TX04 info Strict-Transport-Security (missing)"}},
		{"basic-auth challenge over http", get(e.plain, "/basic-auth/u/p"),
			[]string{"TX02 info WWW-Authenticate: Basic"}},
		{"form with a password over http", form(e.plain),
			[]string{"TX01 info form: password"}},
		{"form with a password over https", form(e.tls),
			[]string{"TX04 info Strict-Transport-Security (missing)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := e.do(tc.req)
			got := summarize(audit.NewChecker(time.Now).Check(f))
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings on %s:\n got %q\nwant %q", f.Request.URL, got, tc.want)
			}
		})
	}
}

// TestEndToEndXF01 sets a cookie without Secure over https, then lets the
// client's cookie jar send it over http: the checker sees the leak.
func TestEndToEndXF01(t *testing.T) {
	e := startE2E(t, true)
	c := audit.NewChecker(time.Now)
	req, _ := http.NewRequest("GET", e.tls+"/response-headers?Set-Cookie=sid%3Dabc%3B%20Path%3D%2F%3B%20HttpOnly%3B%20SameSite%3DLax", nil)
	if got := summarize(c.Check(e.do(req))); !slices.Equal(got, []string{"CK03 info Set-Cookie: sid", "TX04 info Strict-Transport-Security (missing)"}) {
		t.Errorf("https flow findings = %q", got)
	}
	req, _ = http.NewRequest("GET", e.plain+"/cookies", nil)
	f := e.do(req)
	if f.Request.Header.Get("Cookie") != "sid=abc" {
		t.Fatalf("the client did not send the cookie over http: %q", f.Request.Header.Get("Cookie"))
	}
	want := []string{"CK12 info Cookie: sid", "XF01 info Cookie: sid"}
	if got := summarize(c.Check(f)); !slices.Equal(got, want) {
		t.Errorf("http flow findings:\n got %q\nwant %q", got, want)
	}
}

func hostOf(base string) string {
	u, _ := url.Parse(base)
	return u.Host
}
