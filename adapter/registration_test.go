package adapter

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// binding is a row as the usrloc reader returns it.
func binding() kamreg.Binding {
	return kamreg.Binding{
		Ruid: "uloc-1", Username: "alice", Domain: "acme.kamreg.test",
		Contact: "sip:alice@127.0.0.10:5062;transport=tcp;ob", Received: "sip:127.0.0.1:40001;transport=tcp",
		Socket: "tcp:127.0.0.1:5060", CallID: "c1@phone", CSeq: 7, UserAgent: `Yealink T46, "v2"`, ServerID: 11,
		Expires: now.Add(299500 * time.Millisecond), LastModified: now.Add(-time.Second),
		InitialRegistration: now.Add(-time.Hour),
		ChannelVars: `{"Account-ID":"a","Authorizing-ID":"ccv-device","Authorizing-Type":"device","Owner-ID":"ccv-owner",` +
			`"Presence-ID":"alice@acme.kamreg.test","Register-Overwrite-Notify":true}`,
	}
}

// acme is the directory of the fixture's realm: the account, no device.
func acme() *kamreg.Directory {
	d := kamreg.NewDirectory()
	d.AddAccount(kamreg.Account{ID: "0123456789abcdef0123456789abcdef", Name: "Acme", Realm: "Acme.Kamreg.Test"})
	return d
}

func mapCtx(d *kamreg.Directory) *Context {
	return &Context{Directory: d, Now: now, Registrars: map[int]kamreg.Registrar{11: {Node: "edge1", Hostname: "127.0.0.1"}}}
}

// TestFromBindingGolden compares one registration of each kind with its
// golden, each written by hand from openapi.yaml's Registration (Kazoo's
// 24 keys, then Kazoo 4's keys, left out when unknown): identity from the
// channel vars, from a device record, and from nothing known.
func TestFromBindingGolden(t *testing.T) {
	withDevice := acme()
	withDevice.AddDevice("acme.kamreg.test", kamreg.Device{Username: "Alice", DeviceID: "dev", OwnerID: "own", SuppressUnregisterNotify: true})
	bare := binding()
	bare.ChannelVars, bare.Received, bare.Socket = "", "", ""
	tests := []struct {
		golden string
		in     kamreg.Binding
		dir    *kamreg.Directory
	}{
		{"registration.json", binding(), acme()},
		{"registration_device.json", binding(), withDevice},
		{"registration_bare.json", bare, nil},
	}
	for _, tt := range tests {
		r := FromBinding(&tt.in, mapCtx(tt.dir))
		var got bytes.Buffer
		if err := json.Indent(&got, AppendJSON(nil, &r), "", "  "); err != nil {
			t.Fatal(err)
		}
		got.WriteByte('\n')
		want, err := os.ReadFile("testdata/" + tt.golden)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), got.String()); diff != "" {
			t.Errorf("testdata/%s (-want +got):\n%s", tt.golden, diff)
		}
	}
}

func TestFromBindingEnrichment(t *testing.T) {
	withDevice := acme()
	withDevice.AddDevice("acme.kamreg.test", kamreg.Device{Username: "Alice", DeviceID: "dev", OwnerID: "own", SuppressUnregisterNotify: true})
	deviceNoOwner := acme()
	deviceNoOwner.AddDevice("ACME.kamreg.test", kamreg.Device{Username: "alice", DeviceID: "dev"})
	bare := binding()
	bare.ChannelVars, bare.Received, bare.Socket = "", "", ""
	junk := binding()
	junk.ChannelVars = "not json"

	type keys struct {
		AuthorizingID, AuthorizingType, OwnerID, AccountName, AccountRealm string
		Suppress                                                           bool
		NetworkIP, NetworkPort, ProxyIP, ProxyPort                         string
		SourceIP, SourcePort, ProxyProtocol, PresenceID                    string
	}
	pick := func(r kamreg.Registration) keys {
		return keys{r.AuthorizingID, r.AuthorizingType, r.OwnerID, r.AccountName, r.AccountRealm,
			r.SuppressUnregisterNotify, r.NetworkIP, r.NetworkPort, r.ProxyIP, r.ProxyPort,
			r.SourceIP, r.SourcePort, r.ProxyProtocol, r.PresenceID}
	}
	const pres = "alice@acme.kamreg.test"
	tests := []struct {
		name string
		in   kamreg.Binding
		dir  *kamreg.Directory
		want keys
	}{
		{"device record wins", binding(), withDevice, keys{"dev", "device", "own", "Acme", "Acme.Kamreg.Test", true,
			"127.0.0.1", "40001", "127.0.0.1", "5060", "127.0.0.1", "40001", "tcp", pres}},
		{"device without owner falls back to channel vars", binding(), deviceNoOwner, keys{"dev", "device", "ccv-owner",
			"Acme", "Acme.Kamreg.Test", false, "127.0.0.1", "40001", "127.0.0.1", "5060", "127.0.0.1", "40001", "tcp", pres}},
		{"channel vars", binding(), acme(), keys{"ccv-device", "device", "ccv-owner", "Acme", "Acme.Kamreg.Test", false,
			"127.0.0.1", "40001", "127.0.0.1", "5060", "127.0.0.1", "40001", "tcp", pres}},
		{"nothing known: source is the contact", bare, nil, keys{"undefined", "undefined", "undefined", "undefined",
			"undefined", false, "undefined", "undefined", "undefined", "undefined", "127.0.0.10", "5062", "", ""}},
		{"unreadable channel vars", junk, acme(), keys{"undefined", "undefined", "undefined", "Acme", "Acme.Kamreg.Test",
			false, "127.0.0.1", "40001", "127.0.0.1", "5060", "127.0.0.1", "40001", "tcp", ""}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, pick(FromBinding(&tt.in, mapCtx(tt.dir)))); diff != "" {
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
		if got := FromBinding(&b, mapCtx(nil)).Expires; got != tt.want {
			t.Errorf("%s: expires %d, want %d", tt.name, got, tt.want)
		}
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	b := binding()
	b.LastModified = time.Date(2026, 11, 26, 13, 0, 0, 0, paris) // 12:00 UTC
	b.InitialRegistration = time.Time{}
	r := FromBinding(&b, mapCtx(nil))
	if got, want := r.EventTimestamp, int64(63962913600); got != want || r.LastRegistration != want {
		t.Errorf("event_timestamp %d, last_registration %d, want %d", got, r.LastRegistration, want)
	}
	if r.InitialRegistration != 0 {
		t.Errorf("unknown initial_registration is %d, want 0 (left out)", r.InitialRegistration)
	}
}

func TestProxyAddress(t *testing.T) {
	adv, _ := ParseAdvertise("tcp:127.0.0.1:5060=127.0.0.99:5080,udp:0.0.0.0:5060=127.0.0.98:5060")
	tests := []struct {
		name, socket string
		adv          Advertise
		ip, port     string
		wildcard     bool
	}{
		{"as written", "udp:127.0.0.5:5060", nil, "127.0.0.5", "5060", false},
		{"advertised", "tcp:127.0.0.1:5060", adv, "127.0.0.99", "5080", false},
		{"wildcard advertised", "udp:0.0.0.0:5060", adv, "127.0.0.98", "5060", false},
		{"wildcard without a mapping", "udp:0.0.0.0:5060", nil, "undefined", "5060", true},
		{"IPv6 wildcard", "tcp:[::]:5060", nil, "undefined", "5060", true},
		{"no socket", "", nil, "undefined", "undefined", false},
	}
	for _, tt := range tests {
		b := binding()
		b.Socket = tt.socket
		var told []string
		c := mapCtx(nil)
		c.Advertise, c.OnWildcard = tt.adv, func(s string) { told = append(told, s) }
		r := FromBinding(&b, c)
		if r.ProxyIP != tt.ip || r.ProxyPort != tt.port || (len(told) > 0) != tt.wildcard {
			t.Errorf("%s: proxy %s:%s, wildcard told %v", tt.name, r.ProxyIP, r.ProxyPort, told)
		}
	}
}
