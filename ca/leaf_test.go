package ca

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func newTestLeaves(tb testing.TB, c *CA, capacity int) *Leaves {
	tb.Helper()
	l, err := c.NewLeaves(capacity)
	if err != nil {
		tb.Fatalf("NewLeaves(%d): %v", capacity, err)
	}
	return l
}

func caPool(c *CA) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(c.Cert())
	return pool
}

func TestLeafVerifiesAgainstCA(t *testing.T) {
	tests := []struct {
		host    string
		wantDNS []string
		wantIP  string
	}{
		{host: "example.com", wantDNS: []string{"example.com"}},
		{host: "WWW.Example.com.", wantDNS: []string{"www.example.com"}},
		{host: "localhost", wantDNS: []string{"localhost"}},
		{host: "api.example.com:8443", wantDNS: []string{"api.example.com"}},
		{host: "127.0.0.1", wantIP: "127.0.0.1"},
		{host: "192.0.2.7:443", wantIP: "192.0.2.7"},
		{host: "::1", wantIP: "::1"},
		{host: "[2001:db8::5]", wantIP: "2001:db8::5"},
	}
	for _, keyType := range []KeyType{KeyECDSA, KeyRSA} {
		c, _ := createTestCA(t, Options{KeyType: keyType})
		leaves := newTestLeaves(t, c, 16)
		for _, tt := range tests {
			t.Run(string(keyType)+"/"+tt.host, func(t *testing.T) {
				got, err := leaves.Get(tt.host)
				if err != nil {
					t.Fatalf("Get(%q): %v", tt.host, err)
				}
				leaf := got.Leaf
				if leaf == nil {
					t.Fatalf("Leaf not set")
				}
				if len(got.Certificate) != 2 || !bytes.Equal(got.Certificate[0], leaf.Raw) || !bytes.Equal(got.Certificate[1], c.CertDER()) {
					t.Errorf("chain has %d certificates, want leaf + CA", len(got.Certificate))
				}
				verifyName := tt.wantIP
				if verifyName == "" {
					verifyName = tt.wantDNS[0]
				}
				_, err = leaf.Verify(x509.VerifyOptions{
					DNSName:     verifyName,
					Roots:       caPool(c),
					CurrentTime: t0,
					KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
				})
				if err != nil {
					t.Errorf("Verify(%s): %v", verifyName, err)
				}
				if !slices.Equal(leaf.DNSNames, tt.wantDNS) {
					t.Errorf("DNSNames = %q, want %q", leaf.DNSNames, tt.wantDNS)
				}
				var gotIPs []string
				for _, ip := range leaf.IPAddresses {
					gotIPs = append(gotIPs, ip.String())
				}
				var wantIPs []string
				if tt.wantIP != "" {
					wantIPs = []string{tt.wantIP}
				}
				if !slices.Equal(gotIPs, wantIPs) {
					t.Errorf("IPAddresses = %q, want %q", gotIPs, wantIPs)
				}
				if got, want := leaf.Subject.CommonName, verifyName; got != want {
					t.Errorf("CN = %q, want %q", got, want)
				}
				if !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) || len(leaf.UnknownExtKeyUsage) != 0 {
					t.Errorf("ExtKeyUsage = %v, want ServerAuth only", leaf.ExtKeyUsage)
				}
				wantUsage := x509.KeyUsageDigitalSignature
				if keyType == KeyRSA {
					wantUsage |= x509.KeyUsageKeyEncipherment
				}
				if leaf.KeyUsage != wantUsage {
					t.Errorf("KeyUsage = %v, want %v", leaf.KeyUsage, wantUsage)
				}
				if leaf.IsCA {
					t.Errorf("leaf is a CA")
				}
				if got, want := leaf.NotBefore, t0.Add(-time.Hour); !got.Equal(want) {
					t.Errorf("NotBefore = %v, want %v", got, want)
				}
				if d := leaf.NotAfter.Sub(leaf.NotBefore); d > 397*24*time.Hour || d < 390*24*time.Hour {
					t.Errorf("validity = %v, want at most (and about) 397 days", d)
				}
				if !bytes.Equal(leaf.AuthorityKeyId, c.Cert().SubjectKeyId) || len(leaf.AuthorityKeyId) == 0 {
					t.Errorf("AuthorityKeyId = %x, want CA SubjectKeyId %x", leaf.AuthorityKeyId, c.Cert().SubjectKeyId)
				}
				if bits := leaf.SerialNumber.BitLen(); bits < 64 || bits > 128 {
					t.Errorf("serial has %d bits, want 64..128", bits)
				}
				pub, ok := got.PrivateKey.(crypto.Signer)
				if !ok || !leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(pub.Public()) {
					t.Errorf("PrivateKey does not match the leaf's public key")
				}
				if _, isRSA := got.PrivateKey.(*rsa.PrivateKey); isRSA != (keyType == KeyRSA) {
					t.Errorf("leaf key %T for a %s CA", got.PrivateKey, keyType)
				}
			})
		}
	}
}

func TestLeafIPHostDoesNotVerifyAsOtherName(t *testing.T) {
	c, _ := createTestCA(t, Options{})
	leaves := newTestLeaves(t, c, 4)
	got, err := leaves.Get("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"localhost", "127.0.0.2", "::1"} {
		_, err := got.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: caPool(c), CurrentTime: t0})
		if err == nil {
			t.Errorf("leaf for 127.0.0.1 verified as %q", name)
		}
	}
}

func TestLeafSerialsDiffer(t *testing.T) {
	c, _ := createTestCA(t, Options{})
	leaves := newTestLeaves(t, c, 4)
	a, err := leaves.Get("a.example")
	if err != nil {
		t.Fatal(err)
	}
	b, err := leaves.Get("b.example")
	if err != nil {
		t.Fatal(err)
	}
	if a.Leaf.SerialNumber.Cmp(b.Leaf.SerialNumber) == 0 {
		t.Errorf("two leaves share serial %x", a.Leaf.SerialNumber)
	}
}

func TestLeafNeverOutlivesCA(t *testing.T) {
	clock := newTestClock(t0)
	c, _ := createTestCA(t, Options{Now: clock.Now})
	clock.Set(c.Cert().NotAfter.Add(-10 * 24 * time.Hour))
	leaves := newTestLeaves(t, c, 4)
	got, err := leaves.Get("late.example")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Leaf.NotAfter.Equal(c.Cert().NotAfter) {
		t.Errorf("leaf NotAfter = %v, want the CA's %v", got.Leaf.NotAfter, c.Cert().NotAfter)
	}

	clock.Set(c.Cert().NotAfter.Add(time.Second))
	_, err = leaves.Get("after.example")
	if !errors.Is(err, ErrExpired) {
		t.Errorf("Get after the CA expired: err = %v, want ErrExpired", err)
	}
	// The leaf minted earlier has expired with its CA: it is not served.
	if _, err := leaves.Get("late.example"); !errors.Is(err, ErrExpired) {
		t.Errorf("cached leaf past its NotAfter: err = %v, want ErrExpired", err)
	}
}

func TestExpiredCachedLeafIsReminted(t *testing.T) {
	clock := newTestClock(t0)
	c, _ := createTestCA(t, Options{Now: clock.Now})
	leaves := newTestLeaves(t, c, 4)
	first, err := leaves.Get("example.com")
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(first.Leaf.NotAfter.Add(time.Minute))
	second, err := leaves.Get("example.com")
	if err != nil {
		t.Fatal(err)
	}
	if second == first || leaves.Minted() != 2 {
		t.Errorf("after expiry: same=%v minted=%d, want a new leaf and 2 mints", second == first, leaves.Minted())
	}
	if _, err := second.Leaf.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: caPool(c), CurrentTime: clock.Now()}); err != nil {
		t.Errorf("new leaf does not verify now: %v", err)
	}
}

func TestGetRejectsInvalidHost(t *testing.T) {
	c, _ := createTestCA(t, Options{})
	leaves := newTestLeaves(t, c, 4)
	for _, host := range []string{"", "exa mple.com", "a..b"} {
		if _, err := leaves.Get(host); !errors.Is(err, ErrInvalidHost) {
			t.Errorf("Get(%q): err = %v, want ErrInvalidHost", host, err)
		}
	}
	if leaves.Minted() != 0 {
		t.Errorf("Minted = %d after invalid hosts, want 0", leaves.Minted())
	}
}

func TestNewLeavesRejectsBadCapacity(t *testing.T) {
	c, _ := createTestCA(t, Options{})
	for _, capacity := range []int{0, -1} {
		if _, err := c.NewLeaves(capacity); err == nil {
			t.Errorf("NewLeaves(%d) succeeded", capacity)
		}
	}
}

func TestConcurrentFirstGetsMintOnce(t *testing.T) {
	const callers = 100
	c, _ := createTestCA(t, Options{})
	leaves := newTestLeaves(t, c, 8)
	// Hold the first mint until every caller has missed the cache, so that
	// all of them really arrive while the certificate is being minted.
	release := make(chan struct{})
	leaves.beforeMint = func() { <-release }

	results := make([]*tls.Certificate, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { results[i], errs[i] = leaves.Get("burst.example") })
	}
	deadline := time.Now().Add(10 * time.Second)
	for leaves.waiting.Load() < callers {
		if time.Now().After(deadline) {
			close(release)
			t.Fatalf("only %d of %d callers reached the mint", leaves.waiting.Load(), callers)
		}
		time.Sleep(time.Millisecond) // polling with a deadline, not synchronisation by sleep
	}
	close(release)
	wg.Wait()

	if got := leaves.Minted(); got != 1 {
		t.Errorf("Minted = %d, want 1", got)
	}
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if results[i] != results[0] {
			t.Fatalf("caller %d got a different certificate", i)
		}
	}
	// And the cache now answers without minting.
	again, err := leaves.Get("BURST.example.")
	if err != nil || again != results[0] || leaves.Minted() != 1 {
		t.Errorf("cached Get: same=%v err=%v minted=%d, want same, nil, 1", again == results[0], err, leaves.Minted())
	}
}

func TestLeafCacheIsBounded(t *testing.T) {
	const capacity = 3
	c, _ := createTestCA(t, Options{})
	leaves := newTestLeaves(t, c, capacity)
	hosts := []string{"h0.example", "h1.example", "h2.example", "h3.example", "h4.example"}
	for _, h := range hosts {
		if _, err := leaves.Get(h); err != nil {
			t.Fatal(err)
		}
	}
	if got := leaves.Len(); got != capacity {
		t.Errorf("Len = %d after %d hosts, want %d", got, len(hosts), capacity)
	}
	if got := leaves.Minted(); got != int64(len(hosts)) {
		t.Fatalf("Minted = %d, want %d", got, len(hosts))
	}
	// The most recent host is still cached; the oldest was evicted.
	if _, err := leaves.Get("h4.example"); err != nil {
		t.Fatal(err)
	}
	if got, want := leaves.Minted(), int64(len(hosts)); got != want {
		t.Errorf("Get(recent) minted: Minted = %d, want %d", got, want)
	}
	if _, err := leaves.Get("h0.example"); err != nil {
		t.Fatal(err)
	}
	if got, want := leaves.Minted(), int64(len(hosts)+1); got != want {
		t.Errorf("Get(evicted) did not mint: Minted = %d, want %d", got, want)
	}
	if got := leaves.Len(); got != capacity {
		t.Errorf("Len = %d, want %d", got, capacity)
	}
}

// TestTLSHandshakeWithLeaves serves TLS on loopback with certificates chosen
// by SNI (falling back to the dialled IP, as the proxy does) and connects
// with crypto/tls trusting only the CA.
func TestTLSHandshakeWithLeaves(t *testing.T) {
	for _, keyType := range []KeyType{KeyECDSA, KeyRSA} {
		t.Run(string(keyType), func(t *testing.T) {
			dir := t.TempDir()
			c, err := Create(dir, Options{KeyType: keyType, Subject: "tls@test"}) // real clock: crypto/tls verifies against time.Now
			if err != nil {
				t.Fatal(err)
			}
			leaves := newTestLeaves(t, c, 8)
			ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
				GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
					if hello.ServerName != "" {
						return leaves.Get(hello.ServerName)
					}
					return leaves.Get("127.0.0.1")
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			go func() {
				for {
					conn, err := ln.Accept()
					if err != nil {
						return
					}
					go func() {
						defer conn.Close()
						conn.SetDeadline(time.Now().Add(10 * time.Second))
						_ = conn.(*tls.Conn).Handshake()
						conn.Write([]byte("ok"))
					}()
				}
			}()
			// crypto/tls sends no SNI for an IP address, so "127.0.0.1"
			// exercises the fallback to the dialled host.
			for _, serverName := range []string{"site.example", "127.0.0.1"} {
				cfg := &tls.Config{RootCAs: caPool(c), ServerName: serverName}
				conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", ln.Addr().String(), cfg)
				if err != nil {
					t.Errorf("handshake for %q: %v", serverName, err)
					continue
				}
				buf := make([]byte, 2)
				_, err = conn.Read(buf)
				conn.Close()
				if err != nil || string(buf) != "ok" {
					t.Errorf("read after handshake for %q: %q %v", serverName, buf, err)
				}
			}
			_, err = tls.Dial("tcp", ln.Addr().String(), &tls.Config{ServerName: "site.example"})
			if err == nil {
				t.Errorf("handshake succeeded without trusting the CA")
			}
		})
	}
}

func BenchmarkLeafMint(b *testing.B) {
	for _, keyType := range []KeyType{KeyECDSA, KeyRSA} {
		b.Run(string(keyType), func(b *testing.B) {
			c, _ := createTestCA(b, Options{KeyType: keyType})
			leaves := newTestLeaves(b, c, 1024)
			b.ResetTimer()
			start := time.Now()
			n := 0
			for b.Loop() {
				if _, err := leaves.Get(fmt.Sprintf("host-%d.example", n)); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/float64(n), "µs/op")
			if leaves.Minted() != int64(n) {
				b.Fatalf("Minted = %d, want %d (every Get a miss)", leaves.Minted(), n)
			}
		})
	}
}

func BenchmarkLeafCached(b *testing.B) {
	c, _ := createTestCA(b, Options{})
	leaves := newTestLeaves(b, c, 1024)
	if _, err := leaves.Get("cached.example"); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	n := 0
	for b.Loop() {
		if _, err := leaves.Get("cached.example"); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(n)/1000, "µs/op")
}

// BenchmarkLeafMintParallel measures minting throughput with every core
// minting distinct hosts, as a browser opening many sites at once does.
func BenchmarkLeafMintParallel(b *testing.B) {
	c, _ := createTestCA(b, Options{})
	leaves := newTestLeaves(b, c, 1<<16)
	var next atomic.Int64
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := leaves.Get(fmt.Sprintf("p%d.example", next.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	if n := leaves.Minted(); n > 0 {
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "leaves/s")
	}
}
