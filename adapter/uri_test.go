package adapter

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseURI(t *testing.T) {
	tests := []struct {
		uri  string
		want HostPort
		ok   bool
	}{
		{"sip:alice@127.0.0.77:5070", HostPort{"127.0.0.77", "5070"}, true},
		{"sip:alice@127.0.0.77", HostPort{"127.0.0.77", "5060"}, true},
		{"sips:alice@127.0.0.77", HostPort{"127.0.0.77", "5061"}, true},
		{"SIP:alice@host.example;transport=TLS", HostPort{"host.example", "5061"}, true},
		{"sip:alice@host.example;transport=tcp", HostPort{"host.example", "5060"}, true},
		{"sip:alice@127.0.0.1:5062;transport=udp;ob?X-Header=1", HostPort{"127.0.0.1", "5062"}, true},
		{"sip:alice@[2001:db8::1]:5062;transport=tcp", HostPort{"[2001:db8::1]", "5062"}, true},
		{"sip:alice@[::1]", HostPort{"[::1]", "5060"}, true},
		{"sips:[::1]", HostPort{"[::1]", "5061"}, true},
		{"<sip:alice@127.0.0.1:5070>;expires=300", HostPort{"127.0.0.1", "5070"}, true},
		{"sip:127.0.0.1:41525", HostPort{"127.0.0.1", "41525"}, true},
		{"sip:127.0.0.1:41525;transport=tls", HostPort{"127.0.0.1", "41525"}, true},
		{"sip:user;phone-context=x@127.0.0.1", HostPort{"127.0.0.1", "5060"}, true},
		{"127.0.0.1:5080", HostPort{"127.0.0.1", "5080"}, true},
		{"sip:alice@", HostPort{}, false},
		{"sip:alice@[::1", HostPort{}, false},
		{"sip:alice@host:port", HostPort{}, false},
		{"sip:alice@[::1]x", HostPort{}, false},
		{"", HostPort{}, false},
	}
	for _, tt := range tests {
		got, ok := parseURI(tt.uri)
		if ok != tt.ok {
			t.Errorf("%q: ok = %v, want %v", tt.uri, ok, tt.ok)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.uri, diff)
		}
	}
}

func TestParseSocket(t *testing.T) {
	tests := []struct {
		socket string
		want   HostPort
		ok     bool
	}{
		{"udp:127.0.0.1:5060", HostPort{"127.0.0.1", "5060"}, true},
		{"tls:[2001:db8::5]:5061", HostPort{"[2001:db8::5]", "5061"}, true},
		{"udp:127.0.0.1", HostPort{}, false},
		{"", HostPort{}, false},
	}
	for _, tt := range tests {
		got, ok := parseSocket(tt.socket)
		if ok != tt.ok || got != tt.want {
			t.Errorf("%q: %v %v, want %v %v", tt.socket, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseAdvertise(t *testing.T) {
	adv, err := ParseAdvertise("udp:127.0.0.1:5060=127.0.0.9:5060, TCP:127.0.0.1:5060=127.0.0.9:5080")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		socket string
		want   HostPort
	}{
		{"udp:127.0.0.1:5060", HostPort{"127.0.0.9", "5060"}},
		{"tcp:127.0.0.1:5060", HostPort{"127.0.0.9", "5080"}},
		{"tls:127.0.0.1:5061", HostPort{"127.0.0.1", "5061"}},
	}
	for _, tt := range tests {
		got, _ := adv.Proxy(tt.socket)
		if got != tt.want {
			t.Errorf("%s: %v, want %v", tt.socket, got, tt.want)
		}
	}
	for spec, want := range map[string]string{
		"udp:127.0.0.1:5060":           `advertise "udp:127.0.0.1:5060": want proto:ip:port=ip:port`,
		"127.0.0.1=127.0.0.9:5060":     `advertise "127.0.0.1=127.0.0.9:5060": "127.0.0.1" is not a listener proto:ip:port`,
		"udp:127.0.0.1:5060=127.0.0.9": `advertise "udp:127.0.0.1:5060=127.0.0.9": "127.0.0.9" is not ip:port`,
	} {
		if _, err := ParseAdvertise(spec); err == nil || err.Error() != want {
			t.Errorf("%q: error %v, want %q", spec, err, want)
		}
	}
}
