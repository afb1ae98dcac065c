package auth

import (
	"net"
	"net/netip"
	"strings"
)

// Proxies are the peers whose X-Forwarded-For is believed.
type Proxies []netip.Prefix

// Client returns the key of the caller's address given the peer's address
// (host:port) and the X-Forwarded-For values it sent: the peer, or when
// the peer is a trusted proxy, the right-most hop that is not one (hops
// left of it could be written by the caller). IPv6 addresses count per
// /64, which one host can hold whole.
func (p Proxies) Client(remoteAddr string, forwardedFor []string) string {
	addr := peerAddr(remoteAddr)
	if addr.IsValid() && p.trusted(addr) {
		hops := strings.Split(strings.Join(forwardedFor, ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // a mangled hop: keep the last address known good
			}
			addr = hop.Unmap()
			if !p.trusted(addr) {
				break
			}
		}
	}
	if !addr.IsValid() {
		return remoteAddr
	}
	if addr.Is6() {
		pre, _ := addr.Prefix(64)
		return pre.String()
	}
	return addr.String()
}

// Trusts tells whether the peer (host:port) is one of the proxies.
func (p Proxies) Trusts(remoteAddr string) bool {
	a := peerAddr(remoteAddr)
	return a.IsValid() && p.trusted(a)
}

func (p Proxies) trusted(a netip.Addr) bool {
	for _, pre := range p {
		if pre.Contains(a) {
			return true
		}
	}
	return false
}

func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}
