package audit

import (
	"net"
	"net/netip"
	"strings"
)

// isLocalHost is the predicate L of RULES.md: localhost (and, as browsers
// and RFC 6761 §6.3 have it, any name under .localhost), 127.0.0.0/8 or
// ::1. Traffic to such a host never leaves the machine.
func isLocalHost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	if equalFoldASCII(host, "localhost") || hasSuffixFold(host, ".localhost") {
		return true
	}
	if !mayBeIP(host) {
		return false
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	return addr.Unmap().IsLoopback()
}

// mayBeIP is a cheap test before netip.ParseAddr, whose error allocates:
// IPv4 literals start with a digit, IPv6 literals contain ':'.
func mayBeIP(host string) bool {
	return host != "" && (isDigit(host[0]) || strings.IndexByte(host, ':') >= 0)
}

// isIPHost reports whether host is an IP literal (HSTS does not apply to
// those, RFC 6797 §8.1.1).
func isIPHost(host string) bool {
	if !mayBeIP(host) {
		return false
	}
	_, err := netip.ParseAddr(host)
	return err == nil
}

// isSecureScheme: the schemes whose requests the browser sends over TLS.
func isSecureScheme(scheme string) bool {
	return equalFoldASCII(scheme, "https") || equalFoldASCII(scheme, "wss")
}

// addrHost is the host part of a "host:port" address, or addr itself.
func addrHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// isLoopbackAddr reports whether a "host:port" address is on this machine.
func isLoopbackAddr(addr string) bool {
	if addr == "" {
		return false
	}
	return isLocalHost(addrHost(addr))
}

// domainMatch is RFC 6265bis-22 §5.1.3: host equals domain, or host is a
// name (not an IP) ending in "." + domain. Both must be lowercase.
func domainMatch(host, domain string) bool {
	if host == domain {
		return true
	}
	return len(host) > len(domain) && strings.HasSuffix(host, domain) &&
		host[len(host)-len(domain)-1] == '.' && !isIPHost(host)
}
