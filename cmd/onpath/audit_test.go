package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"onpath/internal/testupstream"
)

// TestAuditThroughProxy sends go-httpbin requests that set and send
// cookies, authenticate and post a password form, over plain HTTP and over
// HTTPS, and checks the findings recorded on each flow: exactly the
// expected rules, no others.
func TestAuditThroughProxy(t *testing.T) {
	up := testupstream.Start(t)
	p := startProxy(t, "", "--upstream-ca", upstreamCAFile(t))
	c := p.client(t)
	plain := up.HTTP.URL
	// The upstream's certificate names localhost; a name rather than an IP
	// also lets the host-based rules (HSTS) apply.
	secure := strings.Replace(up.HTTPS.URL, "127.0.0.1", "localhost", 1)
	setCookie := url.QueryEscape("sid=q8Zr2kLm9Xv4; Path=/; SameSite=None")
	goodCookie := url.QueryEscape("__Host-ok=1; Secure; HttpOnly; Path=/; SameSite=Lax")

	tests := []struct {
		name   string
		method string
		url    string
		body   string
		header map[string]string
		want   []string
	}{
		{"http cookies/set", "GET", plain + "/cookies/set?session_id=abc123def456", "", nil,
			// go-httpbin sets HttpOnly; the session id in the query is a
			// credential in clear (TX01) and in a URL (LK01).
			[]string{"CK02", "CK05", "LK01", "TX01", "TX03"}},
		// A redirect to same-host https is not an HSTS finding (TX04).
		{"https cookies/set", "GET", secure + "/cookies/set?session_id=abc123def456", "", nil,
			[]string{"CK05", "LK01"}},
		{"http response-headers", "GET", plain + "/response-headers?Set-Cookie=" + setCookie, "", nil,
			[]string{"CK02", "CK04", "CK06", "CK07"}},
		{"https response-headers", "GET", secure + "/response-headers?Set-Cookie=" + setCookie, "", nil,
			[]string{"CK03", "CK04", "CK06", "CK07", "TX04"}},
		// TX04 is reported once per host, above.
		{"https good __Host- cookie", "GET", secure + "/response-headers?Set-Cookie=" + goodCookie, "", nil,
			nil},
		{"http basic-auth", "GET", plain + "/basic-auth/user/passwd", "", map[string]string{"Authorization": "Basic dXNlcjpwYXNzd2Q="},
			[]string{"TX01"}},
		{"https basic-auth", "GET", secure + "/basic-auth/user/passwd", "", map[string]string{"Authorization": "Basic dXNlcjpwYXNzd2Q="},
			nil},
		{"http password form", "POST", plain + "/post", "user=jordan&password=hunter2", map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			[]string{"TX01"}},
		{"https password form", "POST", secure + "/post", "user=jordan&password=hunter2", map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			nil},
		{"http cookie sent", "GET", plain + "/get", "", map[string]string{"Cookie": "session_id=abc123def456"},
			[]string{"CK12"}},
	}
	for i, tt := range tests {
		req, err := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range tt.header {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		rows := waitForFlows(t, p.dir, i+1)
		f := showFlow(t, p.dir, rows[i].ID)
		var got []string
		for _, fd := range f.Findings {
			if !slices.Contains(got, fd.Rule) {
				got = append(got, fd.Rule)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			b, _ := json.MarshalIndent(f.Findings, "", " ")
			t.Errorf("%s: rules %v, want %v\n%s", tt.name, got, tt.want, b)
		}
	}

	// The report: grouped by host, with a cookie table, findings carrying
	// their flow id, and a grade.
	out, errOut, code := cli(t, "audit", "--json", "--dir", p.dir)
	if code != 0 {
		t.Fatalf("audit --json exited %d: %s", code, errOut)
	}
	var rep auditReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("audit --json: %v\n%s", err, out)
	}
	if rep.Flows != len(tests) || len(rep.Hosts) != 2 {
		t.Fatalf("audit report covers %d flows and %d hosts, want %d and 2", rep.Flows, len(rep.Hosts), len(tests))
	}
	for _, h := range rep.Hosts {
		// Loopback traffic caps the network rules at info, so the worst
		// findings left are the medium cookie-flag ones.
		if h.Grade != "C" {
			t.Errorf("host %s graded %s, want C", h.Host, h.Grade)
		}
		var sid *auditCookie
		for _, c := range h.Cookies {
			if c.Name == "session_id" {
				sid = c
			}
		}
		if sid == nil || len(sid.SetBy) == 0 || sid.Session != "high" || !sid.HttpOnly {
			t.Errorf("host %s: session_id cookie row = %+v", h.Host, sid)
		}
		for _, fd := range h.Findings {
			if fd.ID == 0 || fd.Rule == "" || fd.Message == "" || fd.Fix == "" {
				t.Errorf("host %s: incomplete finding %+v", h.Host, fd)
			}
		}
	}
	text, _, _ := cli(t, "audit", "--dir", p.dir, "scheme:http")
	for _, want := range []string{"grade C", "Cookies", "session_id", "CK02  flow 1", "fix: "} {
		if !strings.Contains(text, want) {
			t.Errorf("audit text report lacks %q:\n%s", want, text)
		}
	}
	// --recompute runs the rules again and keeps the same findings.
	before := showFlow(t, p.dir, 1).Findings
	if _, errOut, code := cli(t, "audit", "--recompute", "--dir", p.dir); code != 0 {
		t.Fatalf("audit --recompute exited %d: %s", code, errOut)
	}
	if after := showFlow(t, p.dir, 1).Findings; len(after) != len(before) {
		t.Errorf("recompute changed flow 1's findings: %d, were %d", len(after), len(before))
	}
}
