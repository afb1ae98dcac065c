package auth

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestClientAddress(t *testing.T) {
	p := Proxies{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		peer string
		xff  []string
		want string
	}{
		{"192.0.2.1:1", nil, "192.0.2.1"},
		{"192.0.2.1:1", []string{"198.51.100.1"}, "192.0.2.1"},
		{"10.0.0.1:1", nil, "10.0.0.1"},
		{"10.0.0.1:1", []string{"198.51.100.1"}, "198.51.100.1"},
		{"10.0.0.1:1", []string{"6.6.6.6, 198.51.100.1, 10.0.0.2"}, "198.51.100.1"},
		{"10.0.0.1:1", []string{"6.6.6.6", "198.51.100.1"}, "198.51.100.1"}, // two header lines
		{"10.0.0.1:1", []string{"10.0.0.3, 10.0.0.2"}, "10.0.0.3"},
		{"10.0.0.1:1", []string{"198.51.100.1, garbage"}, "10.0.0.1"},
		{"[fd00::1]:1", []string{"2001:db8:1:2:3:4:5:6"}, "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.9]:1", nil, "192.0.2.9"},
		{"[2001:db8::1]:1", nil, "2001:db8::/64"},
		{"@", nil, "@"},
	}
	var got, want []string
	for _, tt := range tests {
		got = append(got, p.Client(tt.peer, tt.xff))
		want = append(want, tt.want)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("client addresses (-want +got):\n%s", diff)
	}
}

func TestProxiesTrust(t *testing.T) {
	p := Proxies{netip.MustParsePrefix("10.0.0.0/8")}
	peers := []string{"10.1.2.3:80", "[::ffff:10.0.0.1]:80", "192.0.2.1:80", "garbage", "10.0.0.1"}
	var got []bool
	for _, peer := range peers {
		got = append(got, p.Trusts(peer))
	}
	if diff := cmp.Diff([]bool{true, true, false, false, true}, got); diff != "" {
		t.Errorf("trusted %v (-want +got):\n%s", peers, diff)
	}
	if Proxies(nil).Trusts("10.0.0.1:1") {
		t.Error("no proxies trust nobody")
	}
}
