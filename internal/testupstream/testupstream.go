package testupstream

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mccutchen/go-httpbin/v2/httpbin"
)

// caCertPEM and caKeyPEM are the fixed test CA. A constant CA lets
// StartBadCert's servers and Start's servers share one trust root without
// package state; the key is public on purpose (see the package caveats).
const caCertPEM = `-----BEGIN CERTIFICATE-----
MIIBqzCCAVGgAwIBAgIEATUlBTAKBggqhkjOPQQDAjA5MRUwEwYDVQQKEwxvbnBh
dGggdGVzdHMxIDAeBgNVBAMTF29ucGF0aCB0ZXN0IHVwc3RyZWFtIENBMCAXDTI1
MDEwMTAwMDAwMFoYDzIwNTUwMTAxMDAwMDAwWjA5MRUwEwYDVQQKEwxvbnBhdGgg
dGVzdHMxIDAeBgNVBAMTF29ucGF0aCB0ZXN0IHVwc3RyZWFtIENBMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEgUMbueIB18ohyqetf1ZSX/ABue8np0VnSZElNQGh
PKBGAp0dND55xxXIdXDWHNTEQ1mxTASIZa4dsXvXEUQ2jqNFMEMwDgYDVR0PAQH/
BAQDAgGGMBIGA1UdEwEB/wQIMAYBAf8CAQAwHQYDVR0OBBYEFPAVIj/vYLfxsUDn
5DIEMOUV58DtMAoGCCqGSM49BAMCA0gAMEUCIEMJwTw95yqx7EMOkCAZQ24dt7+a
+f/7rc9zskfeJm0sAiEA9YsKnCunFx6XXeqtH0gOM1YJwfOcVX5o6nw1jNwyIEM=
-----END CERTIFICATE-----
`

const caKeyPEM = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgYCkUhtE8jl3TQ7bS
hP9xCeTwgQxg6RXsSPx3OftPE8mhRANCAASBQxu54gHXyiHKp61/VlJf8AG57yen
RWdJkSU1AaE8oEYCnR00PnnHFch1cNYc1MRDWbFMBIhlrh2xe9cRRDaO
-----END PRIVATE KEY-----
`

// localNames are the names every good fixture certificate covers.
var localNames = []string{"localhost", "127.0.0.1", "::1"}

// Upstreams are go-httpbin servers on loopback.
type Upstreams struct {
	// HTTP serves go-httpbin over plain HTTP.
	HTTP *httptest.Server
	// HTTPS serves go-httpbin over TLS (h2 and HTTP/1.1) with a certificate
	// for localhost, 127.0.0.1 and ::1 issued by the test CA.
	HTTPS *httptest.Server
	// Roots holds only the test CA.
	Roots *x509.CertPool
	// CAPEM is the test CA certificate in PEM, for --upstream-ca files.
	CAPEM []byte
}

// BadCert names a broken upstream certificate.
type BadCert int

const (
	// Expired: issued by the test CA for the local names, expired a day ago.
	Expired BadCert = iota
	// WrongHost: issued by the test CA for wrong.example only.
	WrongHost
	// SelfSigned: a self-signed certificate for the local names (unknown authority).
	SelfSigned
)

func (k BadCert) String() string {
	switch k {
	case Expired:
		return "expired"
	case WrongHost:
		return "wrong-host"
	case SelfSigned:
		return "self-signed"
	}
	return "unknown"
}

// CAPEM returns the test CA certificate in PEM.
func CAPEM() []byte { return []byte(caCertPEM) }

// Roots returns a pool holding only the test CA.
func Roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(caCertPEM))
	return pool
}

// Start serves go-httpbin on a plain and a TLS server; both close on cleanup.
func Start(tb testing.TB) *Upstreams {
	tb.Helper()
	handler := httpbin.New()

	plain := httptest.NewServer(handler)
	tb.Cleanup(plain.Close)

	secure := httptest.NewUnstartedServer(handler)
	secure.EnableHTTP2 = true
	secure.TLS = &tls.Config{Certificates: []tls.Certificate{Leaf(tb, localNames...)}}
	secure.StartTLS()
	tb.Cleanup(secure.Close)

	return &Upstreams{HTTP: plain, HTTPS: secure, Roots: Roots(), CAPEM: CAPEM()}
}

// StartTLS serves handler over TLS (h2 and HTTP/1.1) with a certificate from
// the test CA for the local names; closed on cleanup.
func StartTLS(tb testing.TB, handler http.Handler) *httptest.Server {
	tb.Helper()
	srv := httptest.NewUnstartedServer(handler)
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{Leaf(tb, localNames...)}}
	srv.StartTLS()
	tb.Cleanup(srv.Close)
	return srv
}

// StartBadCert serves go-httpbin over TLS with the broken certificate kind.
func StartBadCert(tb testing.TB, kind BadCert) *httptest.Server {
	tb.Helper()
	var cert tls.Certificate
	switch kind {
	case Expired:
		cert = issue(tb, localNames, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour), false)
	case WrongHost:
		cert = issue(tb, []string{"wrong.example"}, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour), false)
	case SelfSigned:
		cert = issue(tb, localNames, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour), true)
	default:
		tb.Fatalf("testupstream: unknown BadCert %d", kind)
	}
	srv := httptest.NewUnstartedServer(httpbin.New())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	tb.Cleanup(srv.Close)
	return srv
}

// Leaf issues a certificate from the test CA for names (DNS names or IPs).
func Leaf(tb testing.TB, names ...string) tls.Certificate {
	tb.Helper()
	return issue(tb, names, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour), false)
}

func issue(tb testing.TB, names []string, notBefore, notAfter time.Time, selfSigned bool) tls.Certificate {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("testupstream: generate key: %v", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		tb.Fatalf("testupstream: serial: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: names[0], Organization: []string{"onpath tests"}},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	parent, signer := tmpl, any(key)
	var chain [][]byte
	if !selfSigned {
		caCert, caKey := loadCA(tb)
		parent, signer = caCert, caKey
		chain = [][]byte{caCert.Raw}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		tb.Fatalf("testupstream: create certificate: %v", err)
	}
	return tls.Certificate{Certificate: append([][]byte{der}, chain...), PrivateKey: key}
}

func loadCA(tb testing.TB) (*x509.Certificate, any) {
	tb.Helper()
	certBlock, _ := pem.Decode([]byte(caCertPEM))
	keyBlock, _ := pem.Decode([]byte(caKeyPEM))
	if certBlock == nil || keyBlock == nil {
		tb.Fatalf("testupstream: the embedded test CA does not decode")
	}
	cert, err := x509.ParseCertificate(certBlock.Bytes)
	if err != nil {
		tb.Fatalf("testupstream: parse CA: %v", err)
	}
	key, err := x509.ParsePKCS8PrivateKey(keyBlock.Bytes)
	if err != nil {
		tb.Fatalf("testupstream: parse CA key: %v", err)
	}
	return cert, key
}
