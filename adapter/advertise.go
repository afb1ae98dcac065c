package adapter

import (
	"fmt"
	"strings"
)

// Advertise maps a Kamailio listener socket ("proto:ip:port") to the
// address reported for it as proxy_ip and proxy_port.
type Advertise map[string]HostPort

// ParseAdvertise reads KAMREG_ADVERTISE: "proto:ip:port=ip:port,…".
func ParseAdvertise(spec string) (Advertise, error) {
	adv := Advertise{}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		socket, addr, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("advertise %q: want proto:ip:port=ip:port", item)
		}
		if _, ok := parseSocket(socket); !ok {
			return nil, fmt.Errorf("advertise %q: %q is not a listener proto:ip:port", item, socket)
		}
		hp, ok := splitHostPort(strings.TrimSpace(addr))
		if !ok || hp.Port == "" {
			return nil, fmt.Errorf("advertise %q: %q is not ip:port", item, addr)
		}
		if isWildcard(hp.Host) {
			return nil, fmt.Errorf("advertise %q: %q is a wildcard, not an address phones reach", item, addr)
		}
		adv[strings.ToLower(strings.TrimSpace(socket))] = hp
	}
	return adv, nil
}

// Proxy returns the address to report for a listener socket.
func (a Advertise) Proxy(socket string) (HostPort, bool) {
	if hp, ok := a[strings.ToLower(strings.TrimSpace(socket))]; ok {
		return hp, true
	}
	return parseSocket(socket)
}

// isWildcard tells whether a listener host is a wildcard address (the
// socket does not say which address the phone reached).
func isWildcard(host string) bool {
	switch strings.Trim(host, "[]") {
	case "0.0.0.0", "::", "*", "0:0:0:0:0:0:0:0":
		return true
	}
	return false
}

// Wildcards returns the sockets among the given ones that listen on a
// wildcard address and have no advertised address.
func (a Advertise) Wildcards(sockets []string) []string {
	var out []string
	for _, s := range sockets {
		if hp, ok := a.Proxy(s); ok && isWildcard(hp.Host) {
			out = append(out, s)
		}
	}
	return out
}
