package app

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// parsePerSecond reads a rate written N/s, N/m or N/h (or a bare N, per
// second) and returns it per second; 0 turns a limit off.
func parsePerSecond(s string) (float64, error) {
	n, unit, found := strings.Cut(strings.TrimSpace(s), "/")
	per := time.Second
	if found {
		switch strings.TrimSpace(unit) {
		case "s":
		case "m":
			per = time.Minute
		case "h":
			per = time.Hour
		default:
			return 0, fmt.Errorf("unit %q: want s, m or h", unit)
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("want a number of 0 or more, then /s, /m or /h (5/s)")
	}
	return v / per.Seconds(), nil
}

// parsePrefixes reads a comma-separated list of CIDRs or addresses.
func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("%q is neither a CIDR nor an address", f)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a CIDR nor an address", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// checkSecurity validates the settings of the metrics listener, the limit
// on failed authentications, trusted proxies and TLS.
func (c *Config) checkSecurity() error {
	var err error
	if c.authFailRate, err = parsePerSecond(c.AuthFailRate); err != nil {
		return fmt.Errorf("KAMREG_AUTH_FAIL_RATE %q: %v", c.AuthFailRate, err)
	}
	if c.AuthFailBurst < 1 {
		return fmt.Errorf("KAMREG_AUTH_FAIL_BURST %d: must be at least 1", c.AuthFailBurst)
	}
	if c.trustedProxies, err = parsePrefixes(c.TrustedProxies); err != nil {
		return fmt.Errorf("KAMREG_TRUSTED_PROXIES: %v", err)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("KAMREG_TLS_CERT and KAMREG_TLS_KEY go together: set both or neither")
	}
	// Port 0 asks for a free port: two of them never collide.
	if c.MetricsListen != "" && c.MetricsListen == c.Listen && !strings.HasSuffix(c.Listen, ":0") {
		return fmt.Errorf("KAMREG_METRICS_LISTEN %s: must differ from KAMREG_LISTEN (the metrics stay off the API port)", c.MetricsListen)
	}
	return nil
}
