package adapter

import (
	"encoding/json"
	"flag"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg/kamailio"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := "testdata/" + name
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// binding is a row as the usrloc reader returns it.
func binding() kamailio.Binding {
	return kamailio.Binding{
		Ruid: "uloc-1", Username: "alice", Domain: "acme.kamreg.test",
		Contact: "sip:alice@127.0.0.10:5062;transport=tcp;ob", Received: "sip:127.0.0.1:40001;transport=tcp",
		Socket: "tcp:127.0.0.1:5060", CallID: "c1@phone", UserAgent: `Yealink T46, "v2"`,
		Expires: now.Add(299500 * time.Millisecond), LastModified: now.Add(-time.Second),
		ChannelVars: `{"Account-ID":"a","Authorizing-ID":"ccv-device","Authorizing-Type":"device","Owner-ID":"ccv-owner"}`,
		AccountID:   "0123456789abcdef0123456789abcdef", AccountName: "Acme", AccountRealm: "Acme.Kamreg.Test",
	}
}

func TestFromBindingGolden(t *testing.T) {
	got, err := json.MarshalIndent(FromBinding(binding(), nil, now), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "registration.json", append(got, '\n'))
}

func TestFromBindingEnrichment(t *testing.T) {
	withDevice := binding()
	withDevice.DeviceID, withDevice.OwnerID, withDevice.SuppressUnregisterNotify = "dev", "own", true
	deviceNoOwner := binding()
	deviceNoOwner.DeviceID = "dev"
	bare := binding()
	bare.ChannelVars, bare.AccountName, bare.AccountRealm, bare.Received, bare.Socket = "", "", "", "", ""
	junk := binding()
	junk.ChannelVars = "not json"

	type keys struct {
		AuthorizingID, AuthorizingType, OwnerID, AccountName, AccountRealm string
		Suppress                                                           bool
		NetworkIP, NetworkPort, ProxyIP, ProxyPort                         string
	}
	pick := func(r Registration) keys {
		return keys{r.AuthorizingID, r.AuthorizingType, r.OwnerID, r.AccountName, r.AccountRealm,
			r.SuppressUnregisterNotify, r.NetworkIP, r.NetworkPort, r.ProxyIP, r.ProxyPort}
	}
	tests := []struct {
		name string
		in   kamailio.Binding
		want keys
	}{
		{"device record wins", withDevice, keys{"dev", "device", "own", "Acme", "Acme.Kamreg.Test", true, "127.0.0.1", "40001", "127.0.0.1", "5060"}},
		{"device without owner falls back to channel vars", deviceNoOwner, keys{"dev", "device", "ccv-owner", "Acme", "Acme.Kamreg.Test", false, "127.0.0.1", "40001", "127.0.0.1", "5060"}},
		{"channel vars", binding(), keys{"ccv-device", "device", "ccv-owner", "Acme", "Acme.Kamreg.Test", false, "127.0.0.1", "40001", "127.0.0.1", "5060"}},
		{"nothing known", bare, keys{"undefined", "undefined", "undefined", "undefined", "undefined", false, "undefined", "undefined", "undefined", "undefined"}},
		{"unreadable channel vars", junk, keys{"undefined", "undefined", "undefined", "Acme", "Acme.Kamreg.Test", false, "127.0.0.1", "40001", "127.0.0.1", "5060"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, pick(FromBinding(tt.in, nil, now))); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestFromBindingTimes(t *testing.T) {
	tests := []struct {
		name    string
		expires time.Time
		want    int64
	}{
		{"rounded up", now.Add(1500 * time.Millisecond), 2},
		{"past", now.Add(-time.Second), 0},
		{"permanent", time.Time{}, 0},
	}
	for _, tt := range tests {
		b := binding()
		b.Expires = tt.expires
		if got := FromBinding(b, nil, now).Expires; got != tt.want {
			t.Errorf("%s: expires %d, want %d", tt.name, got, tt.want)
		}
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	b := binding()
	b.LastModified = time.Date(2026, 11, 26, 13, 0, 0, 0, paris) // 12:00 UTC
	if got, want := FromBinding(b, nil, now).EventTimestamp, now.Unix()+62167219200; got != want {
		t.Errorf("event_timestamp %d, want %d", got, want)
	}
}

func TestAdvertiseRewritesProxy(t *testing.T) {
	adv, _ := ParseAdvertise("tcp:127.0.0.1:5060=127.0.0.99:5080")
	r := FromBinding(binding(), adv, now)
	if r.ProxyIP != "127.0.0.99" || r.ProxyPort != "5080" {
		t.Errorf("proxy %s:%s", r.ProxyIP, r.ProxyPort)
	}
}
