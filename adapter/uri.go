package adapter

import "strings"

// Default SIP ports when a URI names none.
const (
	portSIP  = "5060"
	portSIPS = "5061"
)

// HostPort is the host and port a SIP URI points at. IPv6 hosts keep their
// brackets. Port is never empty: a missing port becomes 5061 for sips: or
// transport=tls, otherwise 5060.
type HostPort struct {
	Host string
	Port string
}

// parseURI extracts the host and port of a SIP or SIPS URI such as
// "sip:alice@[2001:db8::1]:5062;transport=tcp?X=1". Angle brackets and a
// missing scheme are tolerated. ok is false when no host can be found.
func parseURI(uri string) (hp HostPort, ok bool) {
	s := strings.TrimSpace(uri)
	if i := strings.IndexByte(s, '<'); i >= 0 {
		s = s[i+1:]
		if j := strings.IndexByte(s, '>'); j >= 0 {
			s = s[:j]
		}
	}
	secure := false
	if i := strings.IndexByte(s, ':'); i > 0 {
		switch strings.ToLower(s[:i]) {
		case "sips":
			secure = true
			s = s[i+1:]
		case "sip":
			s = s[i+1:]
		}
	}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	var params string
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s, params = s[:i], s[i+1:]
	}
	if hasParam(params, "transport", "tls") {
		secure = true
	}
	hp, ok = splitHostPort(s)
	if ok && hp.Port == "" {
		hp.Port = portSIP
		if secure {
			hp.Port = portSIPS
		}
	}
	return hp, ok
}

// splitHostPort splits "host", "host:port", "[v6]" or "[v6]:port". The
// port is empty when absent.
func splitHostPort(s string) (HostPort, bool) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return HostPort{}, false
		}
		hp := HostPort{Host: s[:end+1]}
		rest := s[end+1:]
		if rest != "" {
			if rest[0] != ':' || !validPort(rest[1:]) {
				return HostPort{}, false
			}
			hp.Port = rest[1:]
		}
		return hp, true
	}
	host, port, found := strings.Cut(s, ":")
	if host == "" || (found && !validPort(port)) {
		return HostPort{}, false
	}
	return HostPort{Host: host, Port: port}, true
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 {
		return false
	}
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// hasParam tells whether the ;-separated params hold name=value, both
// compared case-insensitively.
func hasParam(params, name, value string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), name) && strings.EqualFold(strings.TrimSpace(v), value) {
			return true
		}
	}
	return false
}

// parseSocket reads a Kamailio listener "proto:ip:port" (IPv6 as
// "proto:[v6]:port").
func parseSocket(socket string) (HostPort, bool) {
	_, rest, found := strings.Cut(strings.TrimSpace(socket), ":")
	if !found {
		return HostPort{}, false
	}
	hp, ok := splitHostPort(rest)
	if !ok || hp.Port == "" {
		return HostPort{}, false
	}
	return hp, true
}
