package ca

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// leafHost is a normalised host a leaf certificate is minted for: either an
// IP address (then the certificate carries an IP SAN) or a DNS name.
type leafHost struct {
	name string     // cache key and CommonName: lowercase, no trailing dot, no brackets
	ip   netip.Addr // valid when the host is an IP address
}

// normaliseHost turns what a proxy sees (an SNI name, a CONNECT host, with
// or without a port, an IPv6 literal with or without brackets) into the one
// form a certificate is minted and cached for.
func normaliseHost(raw string) (leafHost, error) {
	h := strings.TrimSpace(raw)
	if strings.HasPrefix(h, "[") {
		// "[::1]" or "[::1]:443"
		if host, port, err := net.SplitHostPort(h); err == nil && port != "" {
			h = host
		} else if strings.HasSuffix(h, "]") {
			h = h[1 : len(h)-1]
		} else {
			return leafHost{}, fmt.Errorf("ca: host %q: unbalanced bracket: %w", raw, ErrInvalidHost)
		}
	} else if strings.Count(h, ":") == 1 {
		// "example.com:443"; more than one colon is a bare IPv6 address.
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			return leafHost{}, fmt.Errorf("ca: host %q: %w: %w", raw, ErrInvalidHost, err)
		}
		if port == "" {
			return leafHost{}, fmt.Errorf("ca: host %q: empty port: %w", raw, ErrInvalidHost)
		}
		h = host
	}
	// A trailing dot marks a fully qualified name; "10.0.0.1." is still
	// that IP address.
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if addr, err := netip.ParseAddr(h); err == nil {
		// A zone (fe80::1%eth0) is local to this machine and has no place
		// in a certificate; an IPv4-mapped address is the IPv4 address.
		addr = addr.WithZone("").Unmap()
		return leafHost{name: addr.String(), ip: addr}, nil
	}
	if err := checkDNSName(h); err != nil {
		return leafHost{}, fmt.Errorf("ca: host %q: %w: %w", raw, ErrInvalidHost, err)
	}
	return leafHost{name: h}, nil
}

// checkDNSName accepts what may appear in an SNI or Host header as a
// lowercase ASCII host name (IDNs arrive in their xn-- form). Underscores
// are allowed because real internal host names use them.
func checkDNSName(name string) error {
	if name == "" {
		return fmt.Errorf("empty name")
	}
	if len(name) > 253 {
		return fmt.Errorf("name longer than 253 characters")
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" {
			return fmt.Errorf("empty label")
		}
		if len(label) > 63 {
			return fmt.Errorf("label longer than 63 characters")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("character %q not allowed in a host name", c)
			}
		}
	}
	return nil
}
