package web

import (
	"net"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// clientAddrKey is the visitor's address as a rate-limit key: the peer,
// or, when the peer is a trusted proxy, the nearest X-Forwarded-For hop
// that is not. IPv4-mapped IPv6 is IPv4; IPv6 is keyed by its /64 (one
// host usually holds a whole /64).
func ClientAddrKey(c *fiber.Ctx, trusted []*net.IPNet) string {
	addr, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	if isTrusted(addr, trusted) {
		hops := strings.Split(string(c.Request().Header.Peek(fiber.HeaderXForwardedFor)), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // malformed: keep the last good hop
			}
			addr = a
			if !isTrusted(a.Unmap(), trusted) {
				break
			}
		}
	}
	return AddrKey(addr)
}

// AddrKey is the canonical key of an IP address for per-address limits:
// an IPv4 address (IPv4-mapped IPv6 addresses are unmapped first) in dotted
// decimal, an IPv6 address as its /64 prefix ("2001:db8:1:2::/64"), since
// one subscriber is routinely given a whole /64.
func AddrKey(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// PeerTrusted reports whether the request's TCP peer is one of the
// trusted proxies (whose forwarding headers are believed).
func PeerTrusted(c *fiber.Ctx, trusted []*net.IPNet) bool {
	if len(trusted) == 0 {
		return false
	}
	a, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	return isTrusted(a, trusted)
}

func isTrusted(a netip.Addr, trusted []*net.IPNet) bool {
	for _, n := range trusted {
		if n.Contains(a.Unmap().AsSlice()) {
			return true
		}
	}
	return false
}
