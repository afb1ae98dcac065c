package kamailio

import (
	"context"
	"regexp"
	"strings"
)

// verifiedMajors are the Kamailio major versions kamreg's suite runs
// against: 5.6 (Debian 12) and 6.0 (Debian 13).
var verifiedMajors = []string{"5.6", "6.0"}

// Version asks the node for its version (core.version), for example
// "kamailio 6.0.1 (x86_64/linux)", without the trailing space Kamailio
// sends.
func (c *Client) Version(ctx context.Context) (string, error) {
	var v string
	if err := c.call(ctx, "core.version", nil, &v); err != nil {
		return "", err
	}
	return strings.TrimSpace(v), nil
}

var versionRE = regexp.MustCompile(`\b(\d+)\.(\d+)(?:\.\d+)?`)

// Major returns the major version ("6.0") in what core.version answered,
// or "" when it holds none.
func Major(version string) string {
	m := versionRE.FindStringSubmatch(version)
	if m == nil {
		return ""
	}
	return m[1] + "." + m[2]
}

// Verified tells whether version is of a major version kamreg is verified
// on.
func Verified(version string) bool {
	major := Major(version)
	for _, v := range verifiedMajors {
		if major == v {
			return true
		}
	}
	return false
}

// VerifiedList is verifiedMajors for a message: "5.6, 6.0".
func VerifiedList() string { return strings.Join(verifiedMajors, ", ") }
