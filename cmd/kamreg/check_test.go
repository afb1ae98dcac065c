package main

import (
	"strings"
	"testing"
)

// TestPrintVersion: each node's core.version is printed, and a major
// version kamreg is not verified on is warned about.
func TestPrintVersion(t *testing.T) {
	tests := []struct{ version, want string }{
		{"kamailio 5.6.3 (x86_64/linux)", "     Kamailio node edge1 runs kamailio 5.6.3 (x86_64/linux)\n"},
		{"kamailio 6.0.1 (x86_64/linux)", "     Kamailio node edge1 runs kamailio 6.0.1 (x86_64/linux)\n"},
		{"kamailio 6.1.0 (x86_64/linux)", "     Kamailio node edge1 runs kamailio 6.1.0 (x86_64/linux)\n" +
			"warn Kamailio node edge1 runs Kamailio 6.1, which kamreg is not verified on (verified: 5.6, 6.0)\n"},
		{"something else", "     Kamailio node edge1 runs something else\n" +
			"warn Kamailio node edge1 runs Kamailio of an unknown version, which kamreg is not verified on (verified: 5.6, 6.0)\n"},
	}
	for _, tt := range tests {
		var b strings.Builder
		printVersion(&b, "edge1", tt.version)
		if b.String() != tt.want {
			t.Errorf("%q:\n%s\nwant:\n%s", tt.version, b.String(), tt.want)
		}
	}
}
