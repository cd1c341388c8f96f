package httptext

import (
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"onpath/flow"
)

// DefaultProxy is the proxy written in the commented-out -x line of a curl
// command when CurlOptions.Proxy is empty: onpath's default listen address.
const DefaultProxy = "http://127.0.0.1:8080"

// CurlOptions tunes Curl.
type CurlOptions struct {
	// BodyDir receives body files for bodies that are not plain text;
	// os.TempDir when empty.
	BodyDir string
	// Proxy is the proxy URL of the commented-out -x line; DefaultProxy when empty.
	Proxy string
}

// hopByHop are headers that describe one connection, not the request, and
// that curl manages itself (RFC 9110 section 7.6.1).
var hopByHop = []string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// Curl returns a POSIX shell command line that sends r again with curl,
// and the body files it wrote (in bodyDir) for bodies that are not plain
// text. See CurlWith.
func Curl(r *flow.Request, bodyDir string) (cmd string, files []string, err error) {
	return CurlWith(r, CurlOptions{BodyDir: bodyDir})
}

// CurlWith returns a curl command that reproduces r's method, headers and
// body, quoted for any POSIX shell, followed by a commented-out
// "# -x PROXY" line to send it through onpath instead.
//
// Headers curl computes or that belong to one connection (Content-Length,
// Host when the URL says the same, hop-by-hop headers) are left out; an
// Accept-Encoding header becomes --compressed so that curl decodes the
// answer. The headers curl adds by itself (User-Agent, Accept, and
// Content-Type and Expect with a body) are suppressed with "-H 'Name:'"
// when r did not send them, so the server sees the same header set.
func CurlWith(r *flow.Request, opts CurlOptions) (cmd string, files []string, err error) {
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsFunc(r.URL, isControl) {
		return "", nil, fmt.Errorf("httptext: curl: URL %q is not an absolute http(s) URL", r.URL)
	}
	method := methodOrGet(r.Method)
	body := r.Body.Data
	hasBody := len(body) > 0 || (r.Header.Get("Content-Length") == "0" && method != http.MethodGet && method != http.MethodHead)

	// Each group is one option with its value, written on its own line.
	var groups [][]string
	add := func(a ...string) { groups = append(groups, a) }

	add(shellQuote(r.URL))
	if strings.ContainsAny(u.String(), "[]{}") {
		add("--globoff") // curl would read brackets and braces as URL ranges
	}
	if p := u.EscapedPath(); strings.Contains(p+"/", "/./") || strings.Contains(p+"/", "/../") {
		add("--path-as-is") // curl would squash the dot segments
	}
	switch proto := protoOrDefault(r.Proto); {
	case strings.HasPrefix(proto, "HTTP/2") && u.Scheme == "https":
		add("--http2")
	case strings.HasPrefix(proto, "HTTP/3"):
		add("--http3")
	case proto == "HTTP/1.0":
		add("--http1.0")
	}
	switch {
	case hasBody && method != http.MethodPost:
		add("-X", shellQuote(method))
	case !hasBody && method == http.MethodHead:
		add("--head")
	case !hasBody && method != http.MethodGet:
		add("-X", shellQuote(method))
	}

	skip := map[string]bool{"Content-Length": true}
	for _, h := range hopByHop {
		skip[h] = true
	}
	for _, v := range r.Header.Values("Connection") {
		for name := range strings.SplitSeq(v, ",") {
			skip[http.CanonicalHeaderKey(strings.TrimSpace(name))] = true
		}
	}
	compressed := false
	sent := map[string]bool{}
	for _, raw := range slices.Sorted(maps.Keys(r.Header)) {
		name := http.CanonicalHeaderKey(raw)
		switch {
		case skip[name]:
			continue
		case name == "Host" && sameHost(r.Header.Get(raw), u):
			continue
		case name == "Accept-Encoding":
			compressed = true
			continue
		}
		for _, v := range r.Header[raw] {
			if strings.Contains(raw, ";") {
				return "", nil, fmt.Errorf("httptext: curl: header %q: curl cannot send a name with ';'", raw)
			}
			if err := checkHeaderField(raw, v); err != nil {
				return "", nil, fmt.Errorf("httptext: curl: %w", err)
			}
			sent[name] = true
			if v == "" {
				add("-H", shellQuote(raw+";")) // "Name:" would remove the header
			} else {
				add("-H", shellQuote(raw+": "+v))
			}
		}
	}
	defaults := []string{"Accept", "User-Agent"}
	if hasBody {
		defaults = append(defaults, "Content-Type", "Expect")
	}
	for _, name := range defaults {
		if !sent[name] {
			add("-H", shellQuote(name+":"))
		}
	}
	if compressed {
		add("--compressed")
	}
	if hasBody {
		if isText(body) && !strings.HasPrefix(string(body), "@") {
			add("--data-binary", shellQuote(string(body)))
		} else {
			path, err := writeBodyFile(opts.BodyDir, "onpath-curl-body-*.bin", body)
			if err != nil {
				return "", nil, err
			}
			files = append(files, path)
			add("--data-binary", shellQuote("@"+path))
		}
	}

	var b strings.Builder
	if r.Body.Truncated {
		fmt.Fprintf(&b, "# The recorded body was truncated: only its first %d of %d bytes are sent.\n",
			len(r.Body.Data), r.Body.Size)
	}
	b.WriteString("curl")
	for i, group := range groups {
		if i > 0 {
			b.WriteString(" \\\n ")
		}
		b.WriteString(" ")
		b.WriteString(strings.Join(group, " "))
	}
	proxy := opts.Proxy
	if proxy == "" {
		proxy = DefaultProxy
	}
	b.WriteString("\n# To send it through onpath, add this option (and --cacert with onpath's CA for https):\n")
	b.WriteString("# -x " + shellQuote(proxy) + "\n")
	return b.String(), files, nil
}

// sameHost reports whether a Host header value names the URL's host,
// counting an omitted default port as equal.
func sameHost(host string, u *url.URL) bool {
	return strings.EqualFold(withPort(host, u.Scheme), withPort(u.Host, u.Scheme))
}

func withPort(host, scheme string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	port := "80"
	if scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), port)
}

// shellQuote quotes s for a POSIX shell: bare when it is made only of
// characters no shell interprets, otherwise in single quotes, where
// nothing is special except the quote itself, written '\”.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("_-./:=@%+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
