package proxy

import (
	"bytes"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// MagicHost is the host name that, requested through the proxy, serves the
// CA download page instead of going upstream (.invalid never resolves,
// RFC 6761 §6.4, so no real site is shadowed).
const MagicHost = "onpath.invalid"

func isMagicHost(host string) bool {
	return strings.EqualFold(strings.TrimSuffix(host, "."), MagicHost)
}

var magicPage = template.Must(template.New("ca").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>onpath CA certificate</title>
<style>body{font-family:sans-serif;max-width:50em;margin:2em auto;line-height:1.4}pre{background:#f4f4f4;padding:.5em;overflow:auto}</style>
</head><body>
<h1>onpath: trust the developer CA</h1>
{{if .HasCA}}
<p>Download the certificate: <a href="/ca.pem">ca.pem</a> (PEM) · <a href="/ca.der">ca.der</a> (DER).</p>
<p>Anyone holding this CA's private key can impersonate any HTTPS site to a client that trusts it.
Trust it only on machines you debug, and remove it when you are done.</p>
{{else}}
<p>This onpath instance has no CA certificate to offer.</p>
{{end}}
<h2>Firefox</h2><p>Settings → Privacy &amp; Security → Certificates → View Certificates → Authorities → Import <code>ca.pem</code>, tick "Trust this CA to identify websites".</p>
<h2>Chrome / Chromium on Linux</h2><pre>certutil -d sql:$HOME/.pki/nssdb -A -t "C,," -n onpath -i ca.pem</pre>
<h2>macOS</h2><pre>sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ca.pem</pre>
<h2>Windows</h2><pre>certutil -addstore -f ROOT ca.der</pre>
<h2>Debian / Ubuntu system store</h2><pre>sudo cp ca.pem /usr/local/share/ca-certificates/onpath.crt &amp;&amp; sudo update-ca-certificates</pre>
<h2>curl</h2><pre>curl --proxy http://127.0.0.1:8080 --cacert ca.pem https://example.com/</pre>
<h2>Node.js</h2><pre>NODE_EXTRA_CA_CERTS=ca.pem node app.js</pre>
<h2>Python (requests)</h2><pre>REQUESTS_CA_BUNDLE=ca.pem python app.py</pre>
<h2>Go</h2><pre>SSL_CERT_FILE=ca.pem go run .</pre>
<h2>Java</h2><pre>keytool -importcert -alias onpath -file ca.der -cacerts -storepass changeit -noprompt</pre>
</body></html>
`))

// magicResponse answers a request for the magic host.
func (p *Proxy) magicResponse(req *http.Request) *http.Response {
	status, contentType, body := p.magicContent(req.URL.Path)
	return &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {contentType}, "Content-Length": {strconv.Itoa(len(body))}, "Cache-Control": {"no-store"}},
		ContentLength: int64(len(body)),
		Body:          io.NopCloser(bytes.NewReader(body)),
		Request:       req,
	}
}

// serveMagicPage serves the same page to clients that talk to the proxy
// directly (http://127.0.0.1:8080/), like mitm.it.
func (p *Proxy) serveMagicPage(w http.ResponseWriter, r *http.Request) {
	if conn, ok := r.Context().Value(clientConnKey{}).(*idleConn); ok {
		conn.headDone() // answered without an exchange
	}
	status, contentType, body := p.magicContent(r.URL.Path)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func (p *Proxy) magicContent(urlPath string) (status int, contentType string, body []byte) {
	switch urlPath {
	case "", "/":
		var buf bytes.Buffer
		if err := magicPage.Execute(&buf, struct{ HasCA bool }{len(p.CACertPEM) > 0 || len(p.CACertDER) > 0}); err != nil {
			return http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("onpath: " + err.Error() + "\n")
		}
		return http.StatusOK, "text/html; charset=utf-8", buf.Bytes()
	case "/ca.pem":
		if len(p.CACertPEM) > 0 {
			return http.StatusOK, "application/x-pem-file", p.CACertPEM
		}
	case "/ca.der", "/ca.crt", "/ca.cer":
		if len(p.CACertDER) > 0 {
			return http.StatusOK, "application/pkix-cert", p.CACertDER
		}
	}
	return http.StatusNotFound, "text/plain; charset=utf-8", []byte("onpath: not found; see http://" + MagicHost + "/\n")
}
