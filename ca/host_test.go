package ca

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"
)

func TestNormaliseHost(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		wantIP bool
	}{
		{"example.com", "example.com", false},
		{"Example.COM", "example.com", false},
		{"example.com.", "example.com", false},
		{"example.com:443", "example.com", false},
		{"localhost", "localhost", false},
		{"my_host.internal", "my_host.internal", false},
		{"xn--bcher-kva.example", "xn--bcher-kva.example", false},
		{"127.0.0.1", "127.0.0.1", true},
		{"127.0.0.1:8443", "127.0.0.1", true},
		{"::1", "::1", true},
		{"[::1]", "::1", true},
		{"[::1]:443", "::1", true},
		{"[2001:DB8::1]", "2001:db8::1", true},
		{"fe80::1%eth0", "fe80::1", true},
		{"::ffff:192.0.2.1", "192.0.2.1", true},
	}
	for _, tt := range tests {
		got, err := normaliseHost(tt.in)
		if err != nil {
			t.Errorf("normaliseHost(%q): %v", tt.in, err)
			continue
		}
		if got.name != tt.want || got.ip.IsValid() != tt.wantIP {
			t.Errorf("normaliseHost(%q) = %q ip=%v, want %q ip=%v", tt.in, got.name, got.ip.IsValid(), tt.want, tt.wantIP)
		}
	}
}

func TestNormaliseHostRejects(t *testing.T) {
	for _, in := range []string{
		"",
		".",
		"a..b",
		".example.com",
		"exa mple.com",
		"example.com/path",
		"*.example.com",
		"bücher.example",
		"[::1",
		"example.com:",
		strings.Repeat("a", 64) + ".com",
		strings.Repeat("abcdefghi.", 26),
	} {
		if got, err := normaliseHost(in); !errors.Is(err, ErrInvalidHost) {
			t.Errorf("normaliseHost(%q) = %q, %v; want ErrInvalidHost", in, got.name, err)
		}
	}
}

// FuzzNormaliseHost checks that a normalised host is a fixed point and that
// every host accepted can be minted into a certificate that verifies for it.
func FuzzNormaliseHost(f *testing.F) {
	for _, seed := range []string{"example.com", "EXAMPLE.com.", "[::1]:443", "127.0.0.1", "a_b.internal", "fe80::1%lo", "x:y:z", "[]", "::ffff:1.2.3.4"} {
		f.Add(seed)
	}
	c, _ := createTestCA(f, Options{})
	leaves := newTestLeaves(f, c, 64)
	f.Fuzz(func(t *testing.T, in string) {
		h, err := normaliseHost(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidHost) {
				t.Fatalf("normaliseHost(%q): error %v does not wrap ErrInvalidHost", in, err)
			}
			return
		}
		again, err := normaliseHost(h.name)
		if err != nil || again != h {
			t.Fatalf("normaliseHost(%q) = %+v, but normalising %q again gives %+v, %v", in, h, h.name, again, err)
		}
		cert, err := leaves.Get(in)
		if err != nil {
			t.Fatalf("Get(%q): %v", in, err)
		}
		if _, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: h.name, Roots: caPool(c), CurrentTime: t0}); err != nil {
			t.Fatalf("leaf for %q does not verify as %q: %v", in, h.name, err)
		}
	})
}
