package proxy

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// Loops are found by address, never by a marker header: onpath sends
// requests upstream as the client sent them, and a Via or private header
// would be seen (and echoed, or signed over) by every server. The target
// is checked before dialling (IP literals, localhost), and every dialled
// upstream connection's resolved address after it (any name that leads
// back here). A loop through an outside forwarder (ssh -L, a container
// port mapping to another port) is not detected.

// errLoop is a request addressed to the proxy itself.
var errLoop = errors.New("the request is addressed to onpath itself (a proxy loop)")

// selfAddrs are the addresses the proxy listens on: its listen IP and
// port, or every local interface address when it listens on all.
type selfAddrs struct {
	port int
	ips  map[netip.Addr]bool
	any  bool // listening on 0.0.0.0 or [::]: every local address
}

// listenSelf describes the listener's address. Interface addresses are
// read once, when serving starts.
func listenSelf(addr net.Addr) *selfAddrs {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return nil
	}
	s := &selfAddrs{port: tcp.Port, ips: map[netip.Addr]bool{}}
	ip, ok := netip.AddrFromSlice(tcp.IP)
	if !ok {
		return nil
	}
	ip = ip.Unmap()
	s.any = ip.IsUnspecified()
	if !s.any {
		s.ips[ip] = true
		if ip.IsLoopback() {
			// localhost resolves to either family.
			s.ips[netip.IPv6Loopback()] = true
			s.ips[netip.MustParseAddr("127.0.0.1")] = true
		}
		return s
	}
	s.ips[netip.IPv6Loopback()] = true
	s.ips[netip.MustParseAddr("127.0.0.1")] = true
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if prefix, err := netip.ParsePrefix(a.String()); err == nil {
				s.ips[prefix.Addr().Unmap()] = true
			}
		}
	}
	return s
}

// contains reports whether ip:port is one of the proxy's addresses. With
// a listener on all addresses, any loopback IP (127.0.0.0/8) counts too;
// with one on 127.0.0.1, 127.0.1.1 is another address.
func (s *selfAddrs) contains(ip netip.Addr, port int) bool {
	if s == nil || port != s.port {
		return false
	}
	ip = ip.Unmap()
	if s.ips[ip] {
		return true
	}
	return s.any && ip.IsLoopback()
}

// containsHostPort checks a request target before any dial: IP literals
// and localhost. Other names are checked on the dialled address.
func (s *selfAddrs) containsHostPort(host string, port int) bool {
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return s.contains(netip.MustParseAddr("127.0.0.1"), port)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	return s.contains(ip, port)
}

// containsAddr checks a dialled connection's remote address.
func (s *selfAddrs) containsAddr(addr net.Addr) bool {
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return false
	}
	return s.contains(ap.Addr(), int(ap.Port()))
}

// isLoopRequest reports whether req's target is the proxy's own address.
func (p *Proxy) isLoopRequest(req *http.Request) bool {
	port := req.URL.Port()
	if port == "" {
		port = "80"
		if req.URL.Scheme == "https" {
			port = "443"
		}
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return false
	}
	return p.rt.self.Load().containsHostPort(req.URL.Hostname(), n)
}

func loopRefusal() *refusal {
	return &refusal{status: http.StatusLoopDetected, reason: errLoop.Error() + "; point the client at the real server"}
}
