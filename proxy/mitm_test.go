package proxy

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/elazarl/goproxy"

	"onpath/flow"
)

// connectTLS opens a CONNECT tunnel to target through the proxy and runs a
// TLS handshake with serverName as SNI ("" sends none), without verifying.
func connectTLS(t *testing.T, proxyAddr, target, serverName string, alpn []string) *tls.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", proxyAddr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial proxy: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT %s: %v %v", target, resp, err)
	}
	tc := tls.Client(conn, &tls.Config{ServerName: serverName, InsecureSkipVerify: true, NextProtos: alpn})
	if err := tc.Handshake(); err != nil {
		t.Fatalf("TLS through CONNECT %s: %v", target, err)
	}
	return tc
}

// TestLeafComesFromOurCANeverGoproxys: the certificate the client sees is
// issued by onpath's CA and verifies against it alone; goproxy's public
// built-in CA did not sign it.
func TestLeafComesFromOurCANeverGoproxys(t *testing.T) {
	h := newHarness(t)
	target := strings.TrimPrefix(h.up.HTTPS.URL, "https://")
	tc := connectTLS(t, h.addr, target, "localhost", nil)
	leaf := tc.ConnectionState().PeerCertificates[0]
	if leaf.Issuer.String() != h.ca.Cert().Subject.String() {
		t.Errorf("leaf issuer: got %q, want our CA %q", leaf.Issuer, h.ca.Cert().Subject)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: h.roots, DNSName: "localhost"}); err != nil {
		t.Errorf("leaf does not verify against our CA: %v", err)
	}
	// Only goproxy's public certificate, to check our leaves are not signed by it.
	block, _ := pem.Decode(goproxy.CA_CERT)
	if block == nil {
		t.Fatal("goproxy.CA_CERT holds no PEM block")
	}
	goproxyCA, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if leaf.CheckSignatureFrom(goproxyCA) == nil || leaf.Issuer.String() == goproxyCA.Subject.String() {
		t.Errorf("leaf was signed by goproxy's built-in CA")
	}
}

func TestLeafChosenBySNIElseConnectHost(t *testing.T) {
	h := newHarness(t)
	port := h.up.HTTPS.URL[strings.LastIndex(h.up.HTTPS.URL, ":")+1:]
	tests := []struct {
		name, target, sni string
		wantDNS           []string
		wantIP            string
	}{
		{"sni wins over connect ip", "127.0.0.1:" + port, "localhost", []string{"localhost"}, ""},
		{"ip without sni", "127.0.0.1:" + port, "", nil, "127.0.0.1"},
		{"dns name", "localhost:" + port, "localhost", []string{"localhost"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := connectTLS(t, h.addr, tt.target, tt.sni, nil)
			leaf := tc.ConnectionState().PeerCertificates[0]
			if fmt.Sprint(leaf.DNSNames) != fmt.Sprint(tt.wantDNS) && !(len(tt.wantDNS) == 0 && len(leaf.DNSNames) == 0) {
				t.Errorf("leaf DNS SANs: got %v, want %v", leaf.DNSNames, tt.wantDNS)
			}
			var ips []string
			for _, ip := range leaf.IPAddresses {
				ips = append(ips, ip.String())
			}
			if tt.wantIP != "" && (len(ips) != 1 || ips[0] != tt.wantIP) {
				t.Errorf("leaf IP SANs: got %v, want [%s]", ips, tt.wantIP)
			}
			name := tt.sni
			if name == "" {
				name = tt.wantIP
			}
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: h.roots, DNSName: name}); err != nil {
				t.Errorf("leaf does not verify for %s: %v", name, err)
			}
		})
	}
}

func TestHTTP2TowardsClientAndUpstream(t *testing.T) {
	h := newHarness(t)
	url := h.up.HTTPS.URL + "/get?alpn"
	resp, err := h.client(true).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Proto != "HTTP/2.0" || resp.TLS == nil || resp.TLS.NegotiatedProtocol != "h2" {
		t.Fatalf("client leg: got %s ALPN %v, want HTTP/2.0 over h2", resp.Proto, resp.TLS)
	}
	f := h.flowFor(url)
	if f.Request.Proto != "HTTP/2.0" || f.Client.TLS.ALPN != "h2" {
		t.Errorf("flow client leg: got proto %s ALPN %q, want HTTP/2.0 and h2", f.Request.Proto, f.Client.TLS.ALPN)
	}
	if want := []string{"h2", "http/1.1"}; fmt.Sprint(f.Client.TLS.OfferedALPN) != fmt.Sprint(want) {
		t.Errorf("offered ALPN: got %v, want %v", f.Client.TLS.OfferedALPN, want)
	}
	if f.Response.Proto != "HTTP/2.0" || f.Server.TLS.ALPN != "h2" {
		t.Errorf("flow upstream leg: got %s ALPN %q, want HTTP/2.0 and h2", f.Response.Proto, f.Server.TLS.ALPN)
	}
	if f.Client.TLS.Version != tls.VersionTLS13 || f.Client.TLS.CipherSuite == 0 {
		t.Errorf("client TLS: got version %x cipher %x", f.Client.TLS.Version, f.Client.TLS.CipherSuite)
	}
}

func TestCurlThroughProxy(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	h := newHarness(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.ca.CertDER()}), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		flag      string
		wantProto string
	}{
		{"--http1.1", "HTTP/1.1"},
		{"--http2", "HTTP/2.0"},
	}
	for _, tt := range tests {
		t.Run(tt.flag, func(t *testing.T) {
			url := h.up.HTTPS.URL + "/get?curl" + tt.flag
			cmd := exec.Command(curl, "--silent", "--show-error", "--fail", tt.flag,
				"--proxy", "http://"+h.addr, "--noproxy", "", "--cacert", caFile, "--max-time", "20", url)
			cmd.Env = append(os.Environ(), "NO_PROXY=", "no_proxy=", "CURL_CA_BUNDLE=")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("curl %s: %v\n%s", tt.flag, err, out)
			}
			if !strings.Contains(string(out), `"url"`) {
				t.Errorf("curl output: got %q, want httpbin JSON", out)
			}
			f := h.flowFor(url)
			if f.Request.Proto != tt.wantProto || f.Status() != 200 {
				t.Errorf("flow: got proto %s status %d, want %s 200", f.Request.Proto, f.Status(), tt.wantProto)
			}
			if ua := f.Request.Header.Get("User-Agent"); !strings.HasPrefix(ua, "curl/") {
				t.Errorf("flow User-Agent: got %q, want curl/...", ua)
			}
		})
	}
}

func TestCertificateErrorIsNotFatal(t *testing.T) {
	h := newHarness(t, func(p *Proxy) {
		p.Certificate = func(string) (*tls.Certificate, error) { return nil, fmt.Errorf("no leaf today") }
	})
	conn, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	tc := tls.Client(conn, &tls.Config{ServerName: "localhost", RootCAs: h.roots})
	if err := tc.Handshake(); err == nil {
		t.Fatalf("handshake succeeded without a certificate")
	}
	conn.Close()
	if f := h.nextFlow(); f.Error == nil || f.Error.Phase != flow.PhaseClientTLS || !strings.Contains(f.Error.Message, "no leaf today") {
		t.Errorf("failed handshake flow: got error %v, want client-tls naming the certificate error", f.Error)
	}
	// The proxy is still serving.
	url := h.up.HTTP.URL + "/get"
	if status, _, _ := getText(t, h.client(false), url); status != 200 {
		t.Errorf("after a failed handshake: got %d, want 200", status)
	}
	if f := h.flowFor(url); f.Kind != flow.KindHTTP {
		t.Errorf("got flow kind %s", f.Kind)
	}
}

func TestRejectedCertificateIsRecorded(t *testing.T) {
	h := newHarness(t)
	untrusting := &http.Client{Transport: &http.Transport{
		Proxy:           http.ProxyURL(&url.URL{Scheme: "http", Host: h.addr}),
		TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}, // trusts nothing
	}}
	if _, err := untrusting.Get(h.up.HTTPS.URL + "/get"); err == nil {
		t.Fatalf("a client that does not trust onpath's CA got through")
	}
	untrusting.CloseIdleConnections()
	f := h.nextFlow()
	if f.Error == nil || f.Error.Phase != flow.PhaseClientTLS || !strings.Contains(f.Error.Message, "rejected onpath's certificate") {
		t.Fatalf("flow error: got %v, want phase client-tls", f.Error)
	}
	if f.Request.Method != http.MethodConnect || f.Request.URL != h.up.HTTPS.URL || f.Client.TLS == nil {
		t.Errorf("flow: got %s %s client TLS %v, want the CONNECT with the hello", f.Request.Method, f.Request.URL, f.Client.TLS)
	}
}

// TestClientSessionsResume: a client that keeps TLS sessions resumes them
// on its next connection through the proxy (browsers do, to skip most of
// the handshake), and the resumed connection's flow still has its SNI and
// ALPN.
func TestClientSessionsResume(t *testing.T) {
	h := newHarness(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(h.up.HTTPS.URL, "https://"))
	tr := h.transport(true)
	tr.TLSClientConfig.ClientSessionCache = tls.NewLRUClientSessionCache(8)
	tr.DisableKeepAlives = true // a new connection for each request
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	for i, want := range []bool{false, true} {
		url := fmt.Sprintf("https://localhost:%s/get?n=%d", port, i)
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.TLS.DidResume != want {
			t.Errorf("request %d: resumed %v, want %v", i+1, resp.TLS.DidResume, want)
		}
		f := h.flowFor(url)
		if tls := f.Client.TLS; tls == nil || tls.SNI != "localhost" || tls.ALPN != "h2" || len(tls.OfferedALPN) == 0 {
			t.Errorf("request %d: client TLS recorded as %+v, want SNI localhost and ALPN h2 of the offered", i+1, tls)
		}
	}
}
