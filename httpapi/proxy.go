package httpapi

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// headerForwardedFor is the header in which each reverse proxy appends the
// address it received a request from, in canonical form.
const headerForwardedFor = "X-Forwarded-For"

// ParseTrustedProxy reads one entry of Server.TrustedProxies: an IP address,
// which stands for itself alone, or a CIDR prefix such as 10.0.0.0/8 or
// fd00::/8 (host bits are dropped: 127.0.0.1/8 is 127.0.0.0/8). IPv4 is
// matched as IPv4 whether it arrives as such or mapped into IPv6, so a mapped
// entry such as ::ffff:10.0.0.0/104 is read as the IPv4 prefix it maps. A
// prefix of every address is refused: it would let every client name itself.
func ParseTrustedProxy(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix", s)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR prefix", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}

	if p.Addr().Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("%q covers more than the IPv4 addresses "+
				"mapped into IPv6; give IPv4 and IPv6 prefixes separately", s)
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	if p.Bits() == 0 {
		return netip.Prefix{}, fmt.Errorf("%q trusts every address, so any client "+
			"could name itself anyone; list the proxies' own addresses", s)
	}
	return p.Masked(), nil
}

// forwardedClient makes the request's RemoteAddr the client's own address when
// the request came through trusted proxies, so that rate limits, lockouts,
// sessions, audit events and logs name the client rather than the proxy. The
// port of that address is unknown and given as 0.
func (s *Server) forwardedClient(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addrPort, err := netip.ParseAddrPort(r.RemoteAddr)
		peer := addrPort.Addr().Unmap()
		if err != nil || !s.trustedProxy(peer) {
			next.ServeHTTP(w, r)
			return
		}

		// A proxy that forwarded nobody else is the client itself, and the
		// request needs no copy.
		client := s.clientBehind(peer, r.Header[headerForwardedFor])
		if client == peer {
			next.ServeHTTP(w, r)
			return
		}
		forwarded := *r
		forwarded.RemoteAddr = netip.AddrPortFrom(client, 0).String()
		next.ServeHTTP(w, &forwarded)
	})
}

// clientBehind returns the client that the X-Forwarded-For values name, for a
// request received from peer, a trusted proxy. Each proxy appends the address
// it received the request from, so the entries are read from the right: those
// of trusted proxies are skipped, and the first other one is the client.
// Everything left of it came from the client, who may have written anything
// there. An entry that is not an address ends the walk at the trusted proxy
// that wrote it; when every entry is a trusted proxy, the leftmost is the
// client.
func (s *Server) clientBehind(peer netip.Addr, values []string) netip.Addr {
	client := peer
	for i := len(values) - 1; i >= 0; i-- {
		rest := values[i]
		for rest != "" {
			var entry string
			if j := strings.LastIndexByte(rest, ','); j >= 0 {
				entry, rest = rest[j+1:], rest[:j]
			} else {
				entry, rest = rest, ""
			}

			// A list may hold empty elements (RFC 9110 section 5.6.1).
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			a, ok := parseForwardedAddr(entry)
			if !ok {
				return client
			}
			client = a
			if !s.trustedProxy(a) {
				return client
			}
		}
	}
	return client
}

// parseForwardedAddr reads one X-Forwarded-For entry: an IP address, as nginx,
// Traefik, Caddy and HAProxy write it, or an address and port (192.0.2.7:5000,
// [2001:db8::7]:5000), as some load balancers do. Anything else, such as
// "unknown" or an address with an IPv6 zone, is not an address.
func parseForwardedAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	if a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// trustedProxy reports whether a is in one of the trusted prefixes.
func (s *Server) trustedProxy(a netip.Addr) bool {
	for _, p := range s.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
