package kamailio

import "testing"

func TestMajorAndVerified(t *testing.T) {
	tests := []struct {
		version, major string
		verified       bool
	}{
		{"kamailio 5.6.3 (x86_64/linux)", "5.6", true},
		{"kamailio 6.0.1 (x86_64/linux)", "6.0", true},
		{"kamailio 6.0.5 (aarch64/linux) 0f1e2d", "6.0", true},
		{"kamailio 6.1.0 (x86_64/linux)", "6.1", false},
		{"kamailio 5.8.4 (x86_64/linux)", "5.8", false},
		{"kamailio", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got := Major(tt.version); got != tt.major {
			t.Errorf("Major(%q) = %q, want %q", tt.version, got, tt.major)
		}
		if got := Verified(tt.version); got != tt.verified {
			t.Errorf("Verified(%q) = %v, want %v", tt.version, got, tt.verified)
		}
	}
}

// TestVersion reads core.version as Debian 13's Kamailio 6.0.1 answered
// it (testdata/core_version.json), trailing space included.
func TestVersion(t *testing.T) {
	c := fakeKamailio(t, fixture("core_version"))
	v, err := c.Version(t.Context())
	if err != nil || v != "kamailio 6.0.1 (x86_64/linux)" {
		t.Errorf("Version = %q, %v", v, err)
	}
}
