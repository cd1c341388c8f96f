package ca

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// maxLeafValidity keeps leaves within the 398-day limit Apple and the
// CA/Browser Forum place on TLS server certificates.
const maxLeafValidity = 397 * 24 * time.Hour

// leafBackdate absorbs clock skew between onpath and its clients.
const leafBackdate = time.Hour

// Leaves mints leaf certificates signed by a CA and caches them in a
// bounded LRU. Concurrent first requests for one host mint once. It is safe
// for concurrent use.
type Leaves struct {
	ca     *CA
	key    crypto.Signer // one leaf key for every leaf of this cache
	cache  *lru.Cache[string, *tls.Certificate]
	flight singleflight.Group
	minted atomic.Int64

	// waiting counts callers that missed the cache and are about to join a
	// mint; tests use it to line up concurrent first requests.
	waiting atomic.Int64
	// beforeMint, when set by tests, runs at the start of each mint.
	beforeMint func()
}

// NewLeaves returns a cache of at most capacity leaf certificates. It
// generates the one leaf key all of them share, of the CA's algorithm
// (ECDSA P-256, or RSA-2048 for an RSA CA), from crypto/rand.
func (c *CA) NewLeaves(capacity int) (*Leaves, error) {
	if capacity <= 0 {
		return nil, fmt.Errorf("ca: leaf cache capacity %d: must be positive", capacity)
	}
	cache, err := lru.New[string, *tls.Certificate](capacity)
	if err != nil {
		return nil, fmt.Errorf("ca: leaf cache: %w", err)
	}
	key, err := generateKey(c.keyType)
	if err != nil {
		return nil, err
	}
	return &Leaves{ca: c, key: key, cache: cache}, nil
}

// Get returns the certificate for host, minting it on first use. host is a
// DNS name or an IP address, optionally with a port or IPv6 brackets; it is
// normalised (lowercase, no trailing dot, no brackets) before lookup. The
// result has Leaf set and the chain leaf + CA. It is shared between
// callers and must not be modified. Errors wrap ErrInvalidHost or
// ErrExpired (the CA has expired since it was loaded).
func (l *Leaves) Get(host string) (*tls.Certificate, error) {
	h, err := normaliseHost(host)
	if err != nil {
		return nil, err
	}
	if cert, ok := l.cached(h.name); ok {
		return cert, nil
	}
	l.waiting.Add(1)
	v, err, _ := l.flight.Do(h.name, func() (any, error) {
		// A mint that finished between our cache miss and this call has
		// already stored the certificate.
		if cert, ok := l.cached(h.name); ok {
			return cert, nil
		}
		cert, err := l.mint(h)
		if err != nil {
			return nil, err
		}
		l.cache.Add(h.name, cert)
		return cert, nil
	})
	l.waiting.Add(-1)
	if err != nil {
		return nil, err
	}
	return v.(*tls.Certificate), nil
}

// cached returns the cached certificate for name if it is still valid now.
func (l *Leaves) cached(name string) (*tls.Certificate, bool) {
	cert, ok := l.cache.Get(name)
	if !ok {
		return nil, false
	}
	if !l.ca.now().Before(cert.Leaf.NotAfter) {
		l.cache.Remove(name)
		return nil, false
	}
	return cert, true
}

// Minted is how many leaf certificates this cache has signed.
func (l *Leaves) Minted() int64 { return l.minted.Load() }

// Len is how many leaf certificates the cache holds now.
func (l *Leaves) Len() int { return l.cache.Len() }

func (l *Leaves) mint(h leafHost) (*tls.Certificate, error) {
	if l.beforeMint != nil {
		l.beforeMint()
	}
	caCert := l.ca.cert
	now := l.ca.now()
	if !now.Before(caCert.NotAfter) {
		return nil, fmt.Errorf("ca: mint %s: CA expired on %s: %w", h.name, caCert.NotAfter.UTC().Format(time.DateOnly), ErrExpired)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	notBefore := now.Add(-leafBackdate).Truncate(time.Second)
	if notBefore.Before(caCert.NotBefore) {
		notBefore = caCert.NotBefore
	}
	notAfter := notBefore.Add(maxLeafValidity)
	if notAfter.After(caCert.NotAfter) {
		notAfter = caCert.NotAfter
	}
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"onpath development certificate"}, CommonName: h.name},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		// AuthorityKeyId is copied from the CA's SubjectKeyId by CreateCertificate.
	}
	if _, isRSA := l.key.(*rsa.PrivateKey); isRSA {
		// TLS 1.0–1.2 RSA key exchange encrypts to the certificate key.
		template.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	if h.ip.IsValid() {
		template.IPAddresses = []net.IP{net.IP(h.ip.AsSlice())}
	} else {
		template.DNSNames = []string{h.name}
	}
	der, err := x509.CreateCertificate(rand.Reader, template, caCert, l.key.Public(), l.ca.key)
	if err != nil {
		return nil, fmt.Errorf("ca: sign leaf for %s: %w", h.name, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca: parse leaf for %s: %w", h.name, err)
	}
	l.minted.Add(1)
	l.ca.log.Debug("minted leaf certificate", "host", h.name, "not_after", notAfter)
	return &tls.Certificate{
		Certificate: [][]byte{der, caCert.Raw},
		PrivateKey:  l.key,
		Leaf:        leaf,
	}, nil
}
