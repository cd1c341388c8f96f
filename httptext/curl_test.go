package httptext

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mccutchen/go-httpbin/v2/httpbin"

	"onpath/flow"
)

// The quoting must survive a real shell unchanged.
func TestShellQuoteThroughBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	values := []string{
		"plain", "", "it's", `"double"`, "$HOME", "${PATH}", "`id`", "$(id)", "a\nb\n", "tab\there",
		"back\\slash", "*?[a]", "~user", "!event", "semi;colon|pipe&amp", "ünïcødé ✓", "'", "''", "'\\''",
		"--data-binary", "#hash", "a b  c",
	}
	for _, v := range values {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := exec.CommandContext(ctx, bash, "-c", "printf '%s' "+shellQuote(v)).Output()
		cancel()
		if err != nil {
			t.Fatalf("bash on %q: %v", shellQuote(v), err)
		}
		if string(out) != v {
			t.Errorf("shellQuote(%q) = %s; bash gives back %q", v, shellQuote(v), out)
		}
	}
}

func TestCurlOptions(t *testing.T) {
	tests := []struct {
		name    string
		req     flow.Request
		want    []string // lines or fragments the command must contain
		notWant []string
	}{
		{
			name: "plain get",
			req: flow.Request{Method: "GET", URL: "https://example.com/a?b=c", Proto: "HTTP/1.1",
				Header: http.Header{"Accept": {"*/*"}, "User-Agent": {"x/1"}}},
			want:    []string{"curl 'https://example.com/a?b=c'", "-H 'Accept: */*'", "-H 'User-Agent: x/1'", "# -x http://127.0.0.1:8080"},
			notWant: []string{"-X", "--compressed", "--http2", "--data-binary"},
		},
		{
			name: "defaults curl would add are removed",
			req:  flow.Request{Method: "GET", URL: "http://h/"},
			want: []string{"-H Accept:", "-H User-Agent:"},
		},
		{
			name: "post with body needs no -X",
			req: flow.Request{Method: "POST", URL: "http://h/", Header: http.Header{"Content-Type": {"application/json"},
				"Content-Length": {"7"}}, Body: flow.Body{Size: 7, Data: []byte(`{"a":1}`)}},
			want:    []string{`--data-binary '{"a":1}'`, "-H 'Content-Type: application/json'", "-H Expect:"},
			notWant: []string{"-X", "Content-Length"},
		},
		{
			name:    "put with body",
			req:     flow.Request{Method: "PUT", URL: "http://h/", Body: flow.Body{Size: 1, Data: []byte("x")}},
			want:    []string{"-X PUT", "--data-binary x", "-H Content-Type:"},
			notWant: []string{},
		},
		{
			name: "empty post keeps its zero length",
			req:  flow.Request{Method: "POST", URL: "http://h/", Header: http.Header{"Content-Length": {"0"}}},
			want: []string{"--data-binary ''"},
		},
		{
			name:    "delete without body",
			req:     flow.Request{Method: "DELETE", URL: "http://h/x"},
			want:    []string{"-X DELETE"},
			notWant: []string{"--data-binary"},
		},
		{
			name:    "head",
			req:     flow.Request{Method: "HEAD", URL: "http://h/x"},
			want:    []string{"--head"},
			notWant: []string{"-X"},
		},
		{
			name: "accept-encoding becomes --compressed",
			req:  flow.Request{Method: "GET", URL: "https://h/", Header: http.Header{"Accept-Encoding": {"gzip, br"}}},
			want: []string{"--compressed"}, notWant: []string{"Accept-Encoding"},
		},
		{
			name: "host matching the url, hop-by-hop and proxy headers skipped",
			req: flow.Request{Method: "GET", URL: "https://h.example:443/", Header: http.Header{
				"Host": {"h.example"}, "Connection": {"keep-alive, X-Hop"}, "X-Hop": {"1"}, "Keep-Alive": {"300"},
				"Proxy-Authorization": {"Basic abc"}, "Te": {"trailers"}, "Upgrade": {"h2c"}, "Transfer-Encoding": {"chunked"}}},
			notWant: []string{"Host", "Connection", "X-Hop", "Keep-Alive", "Proxy-Authorization", "Te:", "Upgrade", "Transfer-Encoding"},
		},
		{
			name: "a different host is sent",
			req:  flow.Request{Method: "GET", URL: "http://127.0.0.1:8000/", Header: http.Header{"Host": {"virtual.example"}}},
			want: []string{"-H 'Host: virtual.example'"},
		},
		{
			name: "empty header value",
			req:  flow.Request{Method: "GET", URL: "http://h/", Header: http.Header{"X-Empty": {""}}},
			want: []string{"-H 'X-Empty;'"},
		},
		{
			name: "http2 over https",
			req:  flow.Request{Method: "GET", URL: "https://h/", Proto: "HTTP/2.0"},
			want: []string{"--http2"},
		},
		{
			name:    "http2 over http is left to curl",
			req:     flow.Request{Method: "GET", URL: "http://h/", Proto: "HTTP/2.0"},
			notWant: []string{"--http2"},
		},
		{
			name: "http1.0",
			req:  flow.Request{Method: "GET", URL: "http://h/", Proto: "HTTP/1.0"},
			want: []string{"--http1.0"},
		},
		{
			name: "brackets and dot segments",
			req:  flow.Request{Method: "GET", URL: "http://h/a/../b?x[]=1"},
			want: []string{"--globoff", "--path-as-is"},
		},
		{
			name: "text starting with @ is not read as a file name",
			req:  flow.Request{Method: "POST", URL: "http://h/", Body: flow.Body{Size: 10, Data: []byte("@/etc/pass")}},
			want: []string{"onpath-curl-body-"}, notWant: []string{"--data-binary '@/etc/pass'", "--data-binary @/etc/pass"},
		},
		{
			name: "truncated body announced",
			req:  flow.Request{Method: "POST", URL: "http://h/", Body: flow.Body{Size: 99, Truncated: true, Data: []byte("abc")}},
			want: []string{"# The recorded body was truncated: only its first 3 of 99 bytes are sent."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, _, err := Curl(&tt.req, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(cmd, w) {
					t.Errorf("command lacks %q:\n%s", w, cmd)
				}
			}
			for _, nw := range tt.notWant {
				if strings.Contains(cmd, nw) {
					t.Errorf("command contains %q:\n%s", nw, cmd)
				}
			}
		})
	}
}

func TestCurlBinaryBodyFile(t *testing.T) {
	dir := t.TempDir()
	data := []byte{0, 1, 2, 0x1b, 0xff}
	req := flow.Request{Method: "POST", URL: "http://h/", Body: flow.Body{Size: 5, Data: data}}
	cmd, files, err := CurlWith(&req, CurlOptions{BodyDir: dir, Proxy: "http://127.0.0.1:9999"})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || filepath.Dir(files[0]) != dir {
		t.Fatalf("files = %v, want one file in %s", files, dir)
	}
	if got, _ := os.ReadFile(files[0]); !bytes.Equal(got, data) {
		t.Errorf("body file holds %x, want %x", got, data)
	}
	if !strings.Contains(cmd, "--data-binary @"+files[0]) && !strings.Contains(cmd, "--data-binary '@"+files[0]+"'") {
		t.Errorf("command does not send the file %s:\n%s", files[0], cmd)
	}
	if !strings.Contains(cmd, "# -x http://127.0.0.1:9999") {
		t.Errorf("proxy line missing:\n%s", cmd)
	}
}

func TestCurlRejects(t *testing.T) {
	for _, req := range []flow.Request{
		{Method: "GET", URL: "/relative"},
		{Method: "GET", URL: "ftp://h/"},
		{Method: "GET", URL: "http://h/", Header: http.Header{"X-A": {"v\r\nInjected: 1"}}},
		{Method: "GET", URL: "http://h/", Header: http.Header{"X-A": {"\x1b]0;owned\x07"}}},
		{Method: "GET", URL: "http://h/#\x1b[2J"},
		{Method: "GET", URL: "http://h/", Header: http.Header{"X;Y": {"1"}}},
	} {
		if cmd, _, err := Curl(&req, t.TempDir()); err == nil {
			t.Errorf("Curl(%+v) gave no error:\n%s", req, cmd)
		}
	}
}

// anythingReply is what go-httpbin's /anything says it received.
type anythingReply struct {
	Method  string      `json:"method"`
	Headers http.Header `json:"headers"`
	Data    string      `json:"data"`
}

// The command, run by a real shell with a real curl against go-httpbin,
// must deliver the same method, headers and body as the recorded request.
func TestCurlAgainstHTTPBin(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	srv := httptest.NewServer(httpbin.New())
	t.Cleanup(srv.Close)
	tlsSrv := httptest.NewUnstartedServer(httpbin.New())
	tlsSrv.EnableHTTP2 = true
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	nasty := `it's "quoted" $HOME ` + "`id` $(id) \\ ünïcødé ✓ ; | & #"
	binary := []byte{0, 1, 2, 0xff, 0xfe, '\'', '\n', 0x1b}

	tests := []struct {
		name string
		req  flow.Request
	}{
		{"get with nasty headers", flow.Request{Method: "GET", URL: srv.URL + "/anything?q=a%20b&x=$HOME", Proto: "HTTP/1.1",
			Header: http.Header{"X-Nasty": {nasty}, "X-Multi": {"one", "two"}, "Accept": {"application/json"},
				"User-Agent": {"recorded-client/2.0"}, "Cookie": {"sid=abc; theme=dark"}}}},
		{"post text with newlines", flow.Request{Method: "POST", URL: srv.URL + "/anything", Proto: "HTTP/1.1",
			Header: http.Header{"Content-Type": {"text/plain"}, "Content-Length": {"0"}},
			Body:   body("line one\nline 'two' $x `y`\r\nünïcødé\n")}},
		{"put binary", flow.Request{Method: "PUT", URL: srv.URL + "/anything/upload", Proto: "HTTP/1.1",
			Header: http.Header{"Content-Type": {"application/octet-stream"}}, Body: body(string(binary))}},
		{"patch without content type", flow.Request{Method: "PATCH", URL: srv.URL + "/anything", Proto: "HTTP/1.1",
			Body: body(`{"k":"v"}`)}},
		{"http2 over tls", flow.Request{Method: "POST", URL: tlsSrv.URL + "/anything/h2", Proto: "HTTP/2.0",
			Header: http.Header{"Content-Type": {"application/json"}, "X-Proto": {"h2"}}, Body: body(`{"h2":true}`)}},
		{"delete with compression", flow.Request{Method: "DELETE", URL: srv.URL + "/anything/7", Proto: "HTTP/1.1",
			Header: http.Header{"Accept-Encoding": {"gzip"}, "X-Empty": {""}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.req.Header.Get("Content-Length") != "" {
				tt.req.Header.Set("Content-Length", strconv.Itoa(len(tt.req.Body.Data)))
			}
			cmd, _, err := Curl(&tt.req, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			// The command runs verbatim; a function adds the test's own options
			// (and keeps any proxy from the environment out of the way).
			// --insecure: the TLS server's certificate is httptest's own;
			// --write-out puts the HTTP version curl spoke on stderr.
			wrapper := "curl() { command curl --silent --show-error --fail --noproxy '*' --insecure" +
				" --write-out '%{stderr}%{http_version}' \"$@\"; }\n"
			run := exec.CommandContext(ctx, bash, "-c", wrapper+cmd)
			run.Env = append(os.Environ(), "PATH="+filepath.Dir(curl)+":"+os.Getenv("PATH"))
			var stdout, stderr bytes.Buffer
			run.Stdout, run.Stderr = &stdout, &stderr
			if err := run.Run(); err != nil {
				t.Fatalf("curl failed: %v\n%s\ncommand:\n%s", err, stderr.String(), cmd)
			}
			var got anythingReply
			if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
				t.Fatalf("reply is not JSON: %v\n%s", err, stdout.String())
			}
			host := strings.TrimPrefix(strings.TrimPrefix(tt.req.URL, "http://"), "https://")
			host, _, _ = strings.Cut(host, "/")
			checkAnything(t, &tt.req, &got, host)
			wantVersion := "1.1"
			if tt.req.Proto == "HTTP/2.0" {
				wantVersion = "2"
			}
			if v := strings.TrimSpace(stderr.String()); v != wantVersion {
				t.Errorf("curl spoke HTTP %q, want %q", v, wantVersion)
			}
			if t.Failed() {
				t.Logf("command:\n%s", cmd)
			}
		})
	}
}

func checkAnything(t *testing.T, req *flow.Request, got *anythingReply, host string) {
	t.Helper()
	if got.Method != req.Method {
		t.Errorf("method: got %q, want %q", got.Method, req.Method)
	}
	// Every header the client sent arrives with its values, except those
	// curl computes itself.
	for name, want := range req.Header {
		switch name {
		case "Accept-Encoding":
			if len(got.Headers[name]) == 0 {
				t.Errorf("Accept-Encoding: not sent, want curl's own (--compressed)")
			}
			continue
		case "Content-Length":
			continue
		}
		if !slices.Equal(got.Headers[name], want) {
			t.Errorf("header %s: got %q, want %q", name, got.Headers[name], want)
		}
	}
	// And nothing else: curl's default headers were suppressed.
	for name := range got.Headers {
		if _, sent := req.Header[name]; !sent && name != "Host" && name != "Content-Length" {
			t.Errorf("header %s: %q added by curl", name, got.Headers[name])
		}
	}
	if got.Headers.Get("Host") != host {
		t.Errorf("Host: got %q, want %q", got.Headers.Get("Host"), host)
	}
	if n := len(req.Body.Data); n > 0 && got.Headers.Get("Content-Length") != strconv.Itoa(n) {
		t.Errorf("Content-Length: got %q, want %d", got.Headers.Get("Content-Length"), n)
	}
	wantData := string(req.Body.Data)
	ct := req.Header.Get("Content-Type")
	if len(req.Body.Data) > 0 && ct != "text/plain" && ct != "application/json" {
		// go-httpbin answers other bodies as a base64 data URL.
		if ct == "" {
			ct = "application/octet-stream"
		}
		wantData = "data:" + ct + ";base64," + base64.URLEncoding.EncodeToString(req.Body.Data)
	}
	if got.Data != wantData {
		t.Errorf("body: got %q, want %q", got.Data, wantData)
	}
}

// The exact command a user sees.
func TestCurlText(t *testing.T) {
	req := flow.Request{Method: "PUT", URL: "https://api.example.com/items/7", Proto: "HTTP/2.0",
		Header: http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer it's"},
			"Accept-Encoding": {"gzip"}, "Accept": {"*/*"}, "User-Agent": {"app/1"}, "Content-Length": {"9"}},
		Body: flow.Body{Size: 9, Data: []byte(`{"a":"$"}`)}}
	got, files, err := Curl(&req, t.TempDir())
	if err != nil || len(files) != 0 {
		t.Fatalf("Curl: files %v, err %v", files, err)
	}
	want := `curl https://api.example.com/items/7 \
  --http2 \
  -X PUT \
  -H 'Accept: */*' \
  -H 'Authorization: Bearer it'\''s' \
  -H 'Content-Type: application/json' \
  -H 'User-Agent: app/1' \
  -H Expect: \
  --compressed \
  --data-binary '{"a":"$"}'
# To send it through onpath, add this option (and --cacert with onpath's CA for https):
# -x http://127.0.0.1:8080
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
