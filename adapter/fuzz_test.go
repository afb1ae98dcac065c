package adapter

import "testing"

// FuzzParseURI: never a panic; a parsed URI has a host and a numeric port.
func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"sip:alice@127.0.0.1:5060", "sips:[::1]", "sip:a@h;transport=tls?x=y", "<sip:x@[::1]:1>", "sip:@", "[", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hp, ok := parseURI(s)
		if !ok {
			return
		}
		if hp.Host == "" || !validPort(hp.Port) {
			t.Errorf("%q parsed to %+v", s, hp)
		}
	})
}
