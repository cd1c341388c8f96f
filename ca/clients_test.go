package ca

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests check the CA and its leaves with real TLS clients and tools,
// the ones users run. They skip when the tool is not installed.

func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed", name)
	}
	return path
}

func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	// Keep proxy settings of the environment away from loopback tests.
	cmd.Env = append(os.Environ(), "http_proxy=", "https_proxy=", "HTTPS_PROXY=", "ALL_PROXY=", "all_proxy=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestOpenSSLAgrees(t *testing.T) {
	openssl := requireTool(t, "openssl")
	for _, keyType := range []KeyType{KeyECDSA, KeyRSA} {
		t.Run(string(keyType), func(t *testing.T) {
			dir := t.TempDir()
			c, err := Create(dir, Options{KeyType: keyType, Subject: "openssl@test"})
			if err != nil {
				t.Fatal(err)
			}
			out := runTool(t, openssl, "x509", "-in", c.CertPath(), "-noout", "-fingerprint", "-sha256")
			if got, want := strings.TrimSpace(out[strings.Index(out, "=")+1:]), c.Fingerprint(); got != want {
				t.Errorf("openssl fingerprint %s, want %s", got, want)
			}
			// The key file is readable by openssl and holds the certificate's key.
			certPub := runTool(t, openssl, "x509", "-in", c.CertPath(), "-noout", "-pubkey")
			keyPub := runTool(t, openssl, "pkey", "-in", c.KeyPath(), "-pubout")
			if certPub != keyPub {
				t.Errorf("openssl: public key of ca-key.pem differs from ca.pem's")
			}

			leaves := newTestLeaves(t, c, 4)
			for _, host := range []string{"site.example", "127.0.0.1", "::1"} {
				got, err := leaves.Get(host)
				if err != nil {
					t.Fatal(err)
				}
				leafPath := filepath.Join(t.TempDir(), "leaf.pem")
				if err := os.WriteFile(leafPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: got.Leaf.Raw}), 0o600); err != nil {
					t.Fatal(err)
				}
				check := "-verify_hostname"
				if strings.ContainsAny(host, ":") || host[0] >= '0' && host[0] <= '9' {
					check = "-verify_ip"
				}
				// -x509_strict adds RFC 5280 checks (key identifiers, basic
				// constraints); -purpose sslserver checks the EKU.
				out := runTool(t, openssl, "verify", "-x509_strict", "-purpose", "sslserver", check, host, "-CAfile", c.CertPath(), leafPath)
				if !strings.Contains(out, ": OK") {
					t.Errorf("openssl verify %s: %s", host, out)
				}
			}
		})
	}
}

func TestCurlTrustsLeaves(t *testing.T) {
	curl := requireTool(t, "curl")
	for _, keyType := range []KeyType{KeyECDSA, KeyRSA} {
		t.Run(string(keyType), func(t *testing.T) {
			dir := t.TempDir()
			c, err := Create(dir, Options{KeyType: keyType, Subject: "curl@test"})
			if err != nil {
				t.Fatal(err)
			}
			port := serveWithLeaves(t, c, func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, "hello %s", r.Host)
			})

			for _, url := range []string{
				fmt.Sprintf("https://site.example:%d/", port),
				fmt.Sprintf("https://127.0.0.1:%d/", port),
			} {
				out := runTool(t, curl, "--silent", "--show-error", "--noproxy", "*", "--max-time", "10",
					"--resolve", fmt.Sprintf("site.example:%d:127.0.0.1", port),
					"--cacert", c.CertPath(), url)
				if !strings.HasPrefix(out, "hello ") {
					t.Errorf("curl %s: %q", url, out)
				}
			}
		})
	}
}

// TestChromiumTrustsLeaves loads a page served with a minted leaf in
// headless Chromium that trusts only the onpath CA (through an NSS database
// in a private HOME).
func TestChromiumTrustsLeaves(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	chromium := requireTool(t, "chromium")
	certutil := requireTool(t, "certutil")
	home := t.TempDir()
	c, err := Create(filepath.Join(home, "onpath"), Options{Subject: "chromium@test"})
	if err != nil {
		t.Fatal(err)
	}
	nssdb := filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(nssdb, 0o700); err != nil {
		t.Fatal(err)
	}
	runTool(t, certutil, "-d", "sql:"+nssdb, "-N", "--empty-password")
	runTool(t, certutil, "-d", "sql:"+nssdb, "-A", "-t", "C,,", "-n", "onpath", "-i", c.CertPath())

	port := serveWithLeaves(t, c, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body><p id=marker>served-by-onpath-leaf</p></body></html>")
	})

	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(home, "ud"),
		// The name resolves to loopback only inside this browser.
		"--host-resolver-rules=MAP site.example 127.0.0.1",
		"--dump-dom", fmt.Sprintf("https://site.example:%d/", port))
	cmd.Env = append(os.Environ(), "HOME="+home)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "served-by-onpath-leaf") {
		t.Errorf("chromium did not load the page over the minted leaf; DOM:\n%s", out)
	}
}

// serveWithLeaves serves handler over HTTPS on a loopback port, with a leaf
// from c for each server name (127.0.0.1 without one), and returns the port.
func serveWithLeaves(t *testing.T, c *CA, handler http.HandlerFunc) int {
	t.Helper()
	leaves := newTestLeaves(t, c, 4)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tlsLn := tls.NewListener(ln, &tls.Config{
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if hello.ServerName != "" {
				return leaves.Get(hello.ServerName)
			}
			return leaves.Get("127.0.0.1")
		},
	})
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(tlsLn)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}
