package audit

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"onpath/flow"
)

func fixedClock() func() time.Time { return func() time.Time { return testNow } }

func TestCheckerXF01(t *testing.T) {
	const client = "192.0.2.7:40000"
	setOverHTTPS := newFlow("https://shop.example/login", clientAddr(client), setCookies("sid=abc; HttpOnly; Path=/"))
	setDomainOverHTTPS := newFlow("https://shop.example/", clientAddr(client), setCookies("cart=1; Domain=shop.example; Secure"))
	setOverHTTP := newFlow("http://shop.example/", clientAddr(client), setCookies("theme=dark"))
	tests := []struct {
		name  string
		setup []*flow.Flow
		then  *flow.Flow
		want  []flow.Severity
	}{
		{name: "sent over http after https set it", setup: []*flow.Flow{setOverHTTPS},
			then: newFlow("http://shop.example/", clientAddr(client), reqHeader("Cookie", "sid=abc")), want: sev(high)},
		{name: "domain cookie sent to a subdomain over http", setup: []*flow.Flow{setDomainOverHTTPS},
			then: newFlow("http://www.shop.example/", clientAddr(client), reqHeader("Cookie", "cart=1")), want: sev(high)},
		{name: "host-only cookie is not matched on a subdomain", setup: []*flow.Flow{setOverHTTPS},
			then: newFlow("http://www.shop.example/", clientAddr(client), reqHeader("Cookie", "sid=abc")), want: nil},
		{name: "another client", setup: []*flow.Flow{setOverHTTPS},
			then: newFlow("http://shop.example/", clientAddr("192.0.2.8:40000"), reqHeader("Cookie", "sid=abc")), want: nil},
		{name: "sent over https", setup: []*flow.Flow{setOverHTTPS},
			then: newFlow("https://shop.example/", clientAddr(client), reqHeader("Cookie", "sid=abc")), want: nil},
		{name: "first set over http", setup: []*flow.Flow{setOverHTTP},
			then: newFlow("http://shop.example/", clientAddr(client), reqHeader("Cookie", "theme=dark")), want: nil},
		{name: "deleted before it was sent", setup: []*flow.Flow{setOverHTTPS, newFlow("https://shop.example/logout", clientAddr(client), setCookies("sid=; Max-Age=0"))},
			then: newFlow("http://shop.example/", clientAddr(client), reqHeader("Cookie", "sid=abc")), want: nil},
		{name: "never set", then: newFlow("http://shop.example/", clientAddr(client), reqHeader("Cookie", "sid=abc")), want: nil},
		{name: "localhost drops to info", setup: []*flow.Flow{newFlow("https://localhost/", clientAddr(client), setCookies("sid=1"))},
			then: newFlow("http://localhost/", clientAddr(client), reqHeader("Cookie", "sid=1")), want: sev(info)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewChecker(fixedClock())
			for _, f := range tc.setup {
				if got := ruleFindings(c.Check(f), RuleCookieLeakedCrossFlow); len(got) != 0 {
					t.Fatalf("XF01 during setup: %+v", got)
				}
			}
			got := ruleFindings(c.Check(tc.then), RuleCookieLeakedCrossFlow)
			var gotSev []flow.Severity
			for _, f := range got {
				gotSev = append(gotSev, f.Severity)
			}
			if !slices.Equal(gotSev, tc.want) {
				t.Fatalf("XF01 severities = %v, want %v (%+v)", gotSev, tc.want, got)
			}
			if len(got) > 0 && got[0].Evidence != "Cookie: "+ParseCookieHeader(tc.then.Request.Header.Get("Cookie"))[0].Name {
				t.Errorf("evidence = %q", got[0].Evidence)
			}
			// Findings, the single-flow function, never reports XF01.
			if fs := ruleFindings(Findings(tc.then, testNow), RuleCookieLeakedCrossFlow); len(fs) != 0 {
				t.Errorf("Findings reported XF01: %+v", fs)
			}
		})
	}
}

func TestCheckerTX04OncePerHost(t *testing.T) {
	c := NewChecker(fixedClock())
	counts := map[string]int{}
	for i := range 3 {
		for _, host := range []string{"a.example", "b.example"} {
			f := newFlow(fmt.Sprintf("https://%s/page%d", host, i), noHSTS)
			counts[host] += len(ruleFindings(c.Check(f), RuleNoHSTS))
			// The single-flow function reports it every time.
			if got := len(ruleFindings(Findings(f, testNow), RuleNoHSTS)); got != 1 {
				t.Errorf("Findings TX04 count = %d, want 1", got)
			}
		}
	}
	for host, n := range counts {
		if n != 1 {
			t.Errorf("TX04 reported %d times for %s, want once", n, host)
		}
	}
}

func TestFindingsOrder(t *testing.T) {
	f := newFlow("http://example.com/login?token=abcdefghijkl",
		reqHeader("Cookie", "sid=1"), reqHeader("Authorization", "Basic dTpw"),
		setCookies("zeta=1", "alpha=2; Secure", "sid=3"))
	got := Findings(f, testNow)
	if len(got) < 5 {
		t.Fatalf("want several findings, got %+v", got)
	}
	sorted := slices.IsSortedFunc(got, func(a, b flow.Finding) int {
		if a.Severity != b.Severity {
			return int(b.Severity) - int(a.Severity)
		}
		if a.Rule != b.Rule {
			if a.Rule < b.Rule {
				return -1
			}
			return 1
		}
		if a.Evidence < b.Evidence {
			return -1
		} else if a.Evidence > b.Evidence {
			return 1
		}
		return 0
	})
	if !sorted {
		t.Errorf("findings not ordered by severity, rule, evidence:\n%+v", got)
	}
	if got[0].Severity != high {
		t.Errorf("first finding %+v, want a high one first", got[0])
	}
	again := Findings(f, testNow)
	if !slices.Equal(got, again) {
		t.Errorf("findings differ between runs")
	}
}

// TestExactFindings pins the whole set of findings for a few typical
// flows, so no rule fires where it should not.
func TestExactFindings(t *testing.T) {
	tests := []struct {
		name string
		flow *flow.Flow
		want []string // "RULE severity evidence"
	}{
		{name: "well-configured https", flow: newFlow("https://example.com/",
			setCookies("__Host-sid=0123456789abcdef0123; Secure; HttpOnly; Path=/; SameSite=Lax")), want: nil},
		{name: "httpbin cookies/set over http", flow: newFlow("http://example.com/cookies/set?k=v", redirect(302, "/cookies"), setCookies("k=v; Path=/")),
			want: []string{"TX03 low Location: http://example.com", "CK04 info Set-Cookie: k", "CK05 info Set-Cookie: k"}},
		{name: "httpbin cookies/set over https", flow: newFlow("https://example.com/cookies/set?k=v", noHSTS, redirect(302, "/cookies"), setCookies("k=v; Secure; Path=/")),
			want: []string{"CK04 info Set-Cookie: k", "CK05 info Set-Cookie: k"}},
		{name: "basic auth over http", flow: newFlow("http://example.com/basic-auth/u/p", reqHeader("Authorization", "Basic dTpw")),
			want: []string{"TX01 high Authorization: Basic"}},
		{name: "basic auth over https", flow: newFlow("https://example.com/basic-auth/u/p", reqHeader("Authorization", "Basic dTpw")), want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, f := range Findings(tc.flow, testNow) {
				got = append(got, fmt.Sprintf("%s %s %s", f.Rule, f.Severity, f.Evidence))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestTunnelFlowsHaveNoFindings(t *testing.T) {
	f := &flow.Flow{Kind: flow.KindTunnel, Request: flow.Request{Method: "CONNECT", URL: "https://pinned.example:443"},
		Tunnel: &flow.Tunnel{BytesUp: 10, BytesDown: 20}}
	if got := NewChecker(fixedClock()).Check(f); len(got) != 0 {
		t.Errorf("tunnel findings: %+v", got)
	}
}

func TestCheckerConcurrentUse(t *testing.T) {
	c := NewChecker(fixedClock())
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				host := fmt.Sprintf("h%d.example", (g+i)%5)
				c.Check(newFlow("https://"+host+"/", noHSTS, setCookies("sid=1")))
				c.Check(newFlow("http://"+host+"/", reqHeader("Cookie", "sid=1")))
			}
		}()
	}
	wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.hstsReported.len(); n != 5 {
		t.Errorf("hosts remembered = %d, want 5", n)
	}
}

func TestFIFOMapForgetsOldestFirst(t *testing.T) {
	m := newFIFOMap[int, int](3)
	for i := range 5 {
		m.put(i, i*10)
	}
	for i, want := range []bool{false, false, true, true, true} {
		if _, ok := m.get(i); ok != want {
			t.Errorf("key %d present = %v, want %v", i, ok, want)
		}
	}
	if m.len() != 3 {
		t.Errorf("len = %d, want 3", m.len())
	}
}

// FuzzFindings runs every rule, the cookie table and the exposure view on
// a flow built from fuzzed parts: none may panic.
func FuzzFindings(f *testing.F) {
	f.Add("https://shop.example/a?token=abcdefghijk", "sid=1; theme=x", "sid=2; Path=/; Domain=shop.example", "text/html", `<script src="http://x/"></script><input type=password>`, 302, "http://other/")
	f.Add("http://localhost/", "", "__Host-a=1; Secure", "application/json", `{"password":"x"}`, 200, "")
	f.Add("%", ";", "=", "", "<", 0, "::")
	f.Fuzz(func(t *testing.T, rawURL, cookie, setCookie, contentType, body string, code int, location string) {
		fl := newFlow(rawURL, reqHeader("Cookie", cookie), setCookies(setCookie), responseBody(contentType, body),
			requestBody("POST", contentType, body), redirect(code, location), reqHeader("Referer", location))
		c := NewChecker(fixedClock())
		fs := c.Check(fl)
		Cookies(fl, fs, testNow)
		Exposure(fl)
		for _, fd := range fs {
			if fd.Rule == "" || fd.Severity == flow.SeverityNone {
				t.Fatalf("malformed finding %+v", fd)
			}
		}
	})
}
