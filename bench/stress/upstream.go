package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// upstream is the server both proxies forward to: plain HTTP on
// 127.0.0.1, and HTTPS on 127.0.0.1 plus one loopback address per distinct
// host (127.0.1.1, 127.0.1.2, …), all on the same port. Each address has its
// own certificate with that IP as its SAN, signed by a throwaway CA that the
// proxies are told to trust (caFile).
//
// Distinct hosts are IP literals because neither proxy resolves
// h1.localhost: Go's resolver and glibc (which mitmproxy uses) both send
// such names to DNS here, and there is no hosts override common to both.
// Every address in 127.0.0.0/8 reaches the loopback interface on Linux, so
// each proxy sees a distinct CONNECT host, mints a distinct leaf and opens a
// distinct upstream connection, as it would for distinct names.
type upstream struct {
	caFile   string
	caPool   *x509.CertPool
	plainURL string   // http://127.0.0.1:port
	tlsURL   string   // https://127.0.0.1:port
	hostURLs []string // https://127.0.1.x:port, one per distinct host

	servers []*http.Server
}

// hostAddr is the loopback address of distinct host i (0-based).
func hostAddr(i int) string {
	return fmt.Sprintf("127.0.%d.%d", 1+i/250, 1+i%250)
}

func startUpstream(dir string, hosts int, downloadSize int64) (*upstream, error) {
	caCert, caKey, caDER, err := newUpstreamCA()
	if err != nil {
		return nil, err
	}
	u := &upstream{caFile: filepath.Join(dir, "upstream-ca.pem"), caPool: x509.NewCertPool()}
	u.caPool.AddCert(caCert)
	if err := os.WriteFile(u.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		return nil, fmt.Errorf("write upstream CA: %w", err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	addrs := []string{"127.0.0.1"}
	for i := range hosts {
		addrs = append(addrs, hostAddr(i))
	}
	certs := make(map[string]*tls.Certificate, len(addrs))
	for i, a := range addrs {
		c, err := upstreamLeaf(caCert, caKey, leafKey, caDER, a, int64(i+2))
		if err != nil {
			return nil, err
		}
		certs[a] = c
	}

	handler := upstreamHandler(downloadSize)
	plain := &http.Server{Handler: handler, ReadHeaderTimeout: time.Minute}
	secure := &http.Server{Handler: handler, ReadHeaderTimeout: time.Minute, TLSConfig: &tls.Config{
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			host, _, _ := net.SplitHostPort(hello.Conn.LocalAddr().String())
			if c := certs[host]; c != nil {
				return c, nil
			}
			return nil, fmt.Errorf("no certificate for %s", host)
		},
	}}
	u.servers = []*http.Server{plain, secure}

	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go plain.Serve(pl)
	u.plainURL = "http://" + pl.Addr().String()

	listeners, port, err := listenAll(addrs)
	if err != nil {
		u.close()
		return nil, err
	}
	for _, l := range listeners {
		go secure.ServeTLS(l, "", "")
	}
	u.tlsURL = "https://127.0.0.1:" + port
	for _, a := range addrs[1:] {
		u.hostURLs = append(u.hostURLs, "https://"+a+":"+port)
	}
	return u, nil
}

// listenAll listens on the same port on every address, trying a few ports
// chosen by the kernel for the first address.
func listenAll(addrs []string) ([]net.Listener, string, error) {
	var lastErr error
	for range 20 {
		first, err := net.Listen("tcp", addrs[0]+":0")
		if err != nil {
			return nil, "", err
		}
		_, port, _ := net.SplitHostPort(first.Addr().String())
		ls := []net.Listener{first}
		for _, a := range addrs[1:] {
			l, err := net.Listen("tcp", net.JoinHostPort(a, port))
			if err != nil {
				lastErr = err
				break
			}
			ls = append(ls, l)
		}
		if len(ls) == len(addrs) {
			return ls, port, nil
		}
		for _, l := range ls {
			l.Close()
		}
	}
	return nil, "", fmt.Errorf("listen on %d loopback addresses: %w", len(addrs), lastErr)
}

func (u *upstream) close() {
	for _, s := range u.servers {
		s.Close()
	}
}

// upstreamHandler answers /small with 1 KiB, /download with size bytes.
func upstreamHandler(size int64) http.Handler {
	small := bytes.Repeat([]byte("o"), 1024)
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/download":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
			for left := size; left > 0; {
				n := min(left, int64(len(chunk)))
				if _, err := w.Write(chunk[:n]); err != nil {
					return
				}
				left -= n
			}
		default:
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "text/plain")
			w.Write(small)
		}
	})
}

func newUpstreamCA() (*x509.Certificate, *ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "onpath stress upstream CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, err
	}
	return cert, key, der, nil
}

func upstreamLeaf(caCert *x509.Certificate, caKey, key *ecdsa.PrivateKey, caDER []byte, ip string, serial int64) (*tls.Certificate, error) {
	addr := net.ParseIP(ip)
	if addr == nil {
		return nil, errors.New("not an IP: " + ip)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: ip},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{addr},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}, nil
}
