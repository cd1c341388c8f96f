package proxy

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"onpath/flow"
)

func withAuth(p *Proxy) { p.ProxyAuth = &BasicAuth{User: "dev", Password: "s3cret"} }

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// authClient goes through the proxy with credentials in the proxy URL
// (net/http sends them as Proxy-Authorization, on CONNECT too).
func (h *harness) authClient(user, pass string) *http.Client {
	tr := h.transport(false)
	tr.Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: h.addr, User: url.UserPassword(user, pass)})
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func TestProxyAuthRefusesWithout407AndRecords(t *testing.T) {
	h := newHarness(t, withAuth)
	cases := []struct {
		name, user, pass string
		wantStatus       int
		wantMsg          string
	}{
		{"no credentials", "", "", http.StatusProxyAuthRequired, "sent no Proxy-Authorization"},
		{"wrong password", "dev", "guess", http.StatusProxyAuthRequired, "wrong user or password"},
		{"longer password", "dev", "s3cret-and-more", http.StatusProxyAuthRequired, "wrong user or password"},
		{"right credentials", "dev", "s3cret", http.StatusOK, ""},
	}
	for _, scheme := range []string{"http", "https"} {
		for _, c := range cases {
			t.Run(scheme+"/"+c.name, func(t *testing.T) {
				client := h.client(false)
				if c.user != "" {
					client = h.authClient(c.user, c.pass)
				}
				target := h.up.HTTP.URL + "/get"
				if scheme == "https" {
					target = h.up.HTTPS.URL + "/get"
				}
				resp, err := client.Get(target)
				if scheme == "https" && c.wantStatus != http.StatusOK {
					// net/http reports a refused CONNECT as an error.
					if err == nil || !strings.Contains(err.Error(), "Proxy Authentication Required") {
						t.Fatalf("CONNECT without valid credentials: err %v, want Proxy Authentication Required", err)
					}
				} else {
					if err != nil {
						t.Fatalf("GET: %v", err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != c.wantStatus {
						t.Fatalf("status: got %d, want %d", resp.StatusCode, c.wantStatus)
					}
					if c.wantStatus == http.StatusProxyAuthRequired && resp.Header.Get("Proxy-Authenticate") != `Basic realm="onpath"` {
						t.Errorf("Proxy-Authenticate: got %q, want Basic realm=\"onpath\"", resp.Header.Get("Proxy-Authenticate"))
					}
				}
				f := h.nextFlow()
				if c.wantMsg == "" {
					if f.Error != nil {
						t.Errorf("authenticated flow has error %v", f.Error)
					}
					return
				}
				if f.Error == nil || f.Error.Phase != flow.PhaseProxy || !strings.Contains(f.Error.Message, c.wantMsg) {
					t.Errorf("flow error: got %v, want phase proxy with %q", f.Error, c.wantMsg)
				}
				if scheme == "https" && f.Request.Method != http.MethodConnect {
					t.Errorf("refused CONNECT recorded as %s, want CONNECT", f.Request.Method)
				}
				for _, v := range f.Request.Header.Values("Proxy-Authorization") {
					if strings.Contains(v, base64.StdEncoding.EncodeToString([]byte(c.user+":"+c.pass))) {
						t.Errorf("recorded Proxy-Authorization %q holds the offered credentials", v)
					}
				}
			})
		}
	}
}

// TestProxyAuthorizationIsRedactedAndNotForwarded: the upstream (httpbin
// /anything echoes the headers it got) never sees the credentials, and
// the record keeps only the scheme.
func TestProxyAuthorizationIsRedactedAndNotForwarded(t *testing.T) {
	h := newHarness(t, withAuth)
	resp, err := h.authClient("dev", "s3cret").Get(h.up.HTTP.URL + "/anything")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var echo struct{ Headers map[string][]string }
	if err := json.NewDecoder(resp.Body).Decode(&echo); err != nil {
		t.Fatal(err)
	}
	for name := range echo.Headers {
		if strings.EqualFold(name, "Proxy-Authorization") {
			t.Errorf("the upstream received %s: %v", name, echo.Headers[name])
		}
	}
	f := h.nextFlow()
	if got, want := f.Request.Header.Get("Proxy-Authorization"), "Basic "+redactedCredentials; got != want {
		t.Errorf("recorded Proxy-Authorization: got %q, want %q", got, want)
	}
}

// TestProxyAuthOnRawConnect: a CONNECT with the right credentials opens the
// tunnel; requests inside it are not asked again.
func TestProxyAuthOnRawConnect(t *testing.T) {
	h := newHarness(t, withAuth)
	host := strings.TrimPrefix(h.up.HTTP.URL, "http://")
	for _, c := range []struct {
		auth string
		want string
	}{
		{"", "407 Proxy Authentication Required"},
		{basic("dev", "nope"), "407 Proxy Authentication Required"},
		{"Bearer abc", "407 Proxy Authentication Required"},
		{basic("dev", "s3cret"), "200 OK"},
	} {
		conn, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		header := ""
		if c.auth != "" {
			header = "Proxy-Authorization: " + c.auth + "\r\n"
		}
		fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", host, host, header)
		br := bufio.NewReader(conn)
		line, _ := br.ReadString('\n')
		if !strings.Contains(line, c.want) {
			t.Errorf("CONNECT with %q: got %q, want %q", c.auth, line, c.want)
		}
		if c.want == "200 OK" {
			for l, _ := br.ReadString('\n'); l != "\r\n" && l != ""; l, _ = br.ReadString('\n') {
			}
			// Plain HTTP inside the tunnel, no credentials.
			fmt.Fprintf(conn, "GET /get HTTP/1.1\r\nHost: %s\r\n\r\n", host)
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("request inside the authenticated tunnel: %v %v, want 200", resp, err)
			} else {
				resp.Body.Close()
			}
		}
		conn.Close()
		h.nextFlow()
	}
}

func TestAuthorizedComparesWholeCredentials(t *testing.T) {
	p := &Proxy{ProxyAuth: &BasicAuth{User: "dev", Password: "s3cret"}}
	if err := p.init(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		header []string
		want   bool
	}{
		{nil, false},
		{[]string{basic("dev", "s3cret")}, true},
		{[]string{"basic " + base64.StdEncoding.EncodeToString([]byte("dev:s3cret"))}, true},
		{[]string{basic("dev", "s3cre")}, false},
		{[]string{basic("dev", "s3cret ")}, false},
		{[]string{basic("Dev", "s3cret")}, false},
		{[]string{basic("", "dev:s3cret")}, false},
		{[]string{"Basic !!!notbase64"}, false},
		{[]string{"Basic " + base64.StdEncoding.EncodeToString([]byte("devs3cret"))}, false},
		{[]string{basic("x", "y"), basic("dev", "s3cret")}, true},
	}
	for _, c := range cases {
		h := http.Header{"Proxy-Authorization": c.header}
		if got := p.authorized(h); got != c.want {
			t.Errorf("authorized(%q) = %v, want %v", c.header, got, c.want)
		}
	}
	if !(&Proxy{}).authorized(http.Header{}) {
		t.Error("without ProxyAuth every request must be authorized")
	}
}

func TestRedactProxyAuthKeepsTheScheme(t *testing.T) {
	h := http.Header{"Proxy-Authorization": {basic("a", "b"), "Digest x=y"}, "Authorization": {"Bearer t"}}
	got := redactProxyAuth(h)
	want := []string{"Basic " + redactedCredentials, "Digest " + redactedCredentials}
	if fmt.Sprint(got.Values("Proxy-Authorization")) != fmt.Sprint(want) {
		t.Errorf("redacted: got %q, want %q", got.Values("Proxy-Authorization"), want)
	}
	if h.Get("Proxy-Authorization") != basic("a", "b") {
		t.Error("redactProxyAuth changed its argument")
	}
	if got.Get("Authorization") != "Bearer t" {
		t.Error("redactProxyAuth touched Authorization, which is the server's business")
	}
}

// BenchmarkProxyAuthCheck is the cost the credential check adds to each
// plain request and CONNECT.
func BenchmarkProxyAuthCheck(b *testing.B) {
	p := &Proxy{ProxyAuth: &BasicAuth{User: "dev", Password: "s3cret"}}
	if err := p.init(); err != nil {
		b.Fatal(err)
	}
	h := http.Header{"Proxy-Authorization": {basic("dev", "s3cret")}}
	start := time.Now()
	for b.Loop() {
		if !p.authorized(h) {
			b.Fatal("refused the right credentials")
		}
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N), "ns/check")
}
