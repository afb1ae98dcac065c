package registry

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/kamailio"
)

// deviceRealm is acme with carol's phone known from Kazoo's channel vars
// and alice's second contact held by the node of server_id 2.
func deviceRealm() (*fakeSource, *fakeDirectory) {
	src, dir := acme()
	for i := range src.bindings {
		switch src.bindings[i].Ruid {
		case "r4":
			src.bindings[i].ChannelVars = `{"Authorizing-ID":"dev-carol","Authorizing-Type":"device"}`
		case "r2":
			src.bindings[i].ServerID = 2
			src.bindings[i].Received = "sip:192.0.2.7:5062"
		}
	}
	src.bindings = append(src.bindings, bind("r6", "erin", "acme.test", "sip:erin@127.0.0.6"))
	src.bindings[len(src.bindings)-1].ChannelVars = `{"Authorizing-ID":"undefined"}`
	return src, dir
}

func TestDeviceStatus(t *testing.T) {
	hideBob := kamreg.FlushRecord{Ruid: "r3", CallID: "c-r3", CSeq: 1, LastModified: now.Add(-time.Minute)}
	for _, tt := range []struct {
		name    string
		records []kamreg.FlushRecord
		realm   string
		want    []string
	}{
		// bob from the device records, carol from the channel vars; alice
		// and erin ("undefined") have no device id.
		{"device records and channel vars", nil, "acme.test", []string{"dev-bob", "dev-carol"}},
		{"a flushed device is not registered", []kamreg.FlushRecord{hideBob}, "acme.test", []string{"dev-carol"}},
		{"a realm with no device", nil, "other.test", []string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src, dir := deviceRealm()
			dir.records = tt.records
			r := &Registry{Source: src, Directory: dir, Now: func() time.Time { return now }}
			got, err := r.DeviceStatus(context.Background(), kamreg.Scope{Realm: tt.realm})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("device ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeviceStatusReadFails(t *testing.T) {
	src, dir := deviceRealm()
	src.err = kamreg.Errorf(kamreg.EUNAVAILABLE, "down")
	r := &Registry{Source: src, Directory: dir, Now: func() time.Time { return now }}
	if _, err := r.DeviceStatus(context.Background(), kamreg.Scope{Realm: "acme.test"}); kamreg.ErrorCode(err) != kamreg.EUNAVAILABLE {
		t.Fatalf("err %v, want the source's", err)
	}
}

// uacNode is a node that sends requests: held maps an AoR to the ruids its
// ul.lookup finds; sendErr and lookupErr make those calls fail.
type uacNode struct {
	name      string
	serverID  int
	held      map[string][]string
	sendErr   error
	lookupErr error
	mu        sync.Mutex
	sent      []kamailio.UAC
}

func (n *uacNode) Node() kamailio.Node                          { return kamailio.Node{Name: n.name, ServerID: n.serverID} }
func (n *uacNode) Remove(context.Context, string, string) error { return nil }
func (n *uacNode) Lookup(_ context.Context, _, aor string) ([]kamailio.Contact, error) {
	if n.lookupErr != nil {
		return nil, n.lookupErr
	}
	var cs []kamailio.Contact
	for _, r := range n.held[aor] {
		cs = append(cs, kamailio.Contact{Ruid: kamailio.Text(r)})
	}
	return cs, nil
}
func (n *uacNode) SendRequest(_ context.Context, u kamailio.UAC) error {
	if n.sendErr != nil {
		return n.sendErr
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, u)
	return nil
}

// sentTo lists the RURI, next hop and socket of each request a node sent.
func sentTo(n *uacNode) []string {
	out := []string{}
	for _, u := range n.sent {
		out = append(out, u.RURI+" via "+u.NextHop+" from "+u.Socket)
	}
	return out
}

func TestSync(t *testing.T) {
	down := kamreg.Errorf(kamreg.EUNAVAILABLE, "Kamailio node n1 did not answer")
	for _, tt := range []struct {
		name       string
		req        SyncRequest
		n1         *uacNode
		wantErr    error
		wantReport SyncReport
		wantN1     []string
		wantN2     []string
	}{
		{"a device by its record, from the node that holds it",
			SyncRequest{Scope: kamreg.Scope{Realm: "acme.test"}, DeviceID: "dev-bob"},
			&uacNode{held: map[string][]string{"bob@acme.test": {"r3"}}}, nil,
			SyncReport{Sent: []string{"sip:bob@127.0.0.3"}},
			[]string{"sip:bob@127.0.0.3 via  from udp:127.0.0.1:5060"}, []string{}},
		{"a device by its channel vars",
			SyncRequest{Scope: kamreg.Scope{Realm: "acme.test"}, DeviceID: "dev-carol"},
			&uacNode{held: map[string][]string{"carol@acme.test": {"r4"}}}, nil,
			SyncReport{Sent: []string{"sip:carol@127.0.0.4"}},
			[]string{"sip:carol@127.0.0.4 via  from udp:127.0.0.1:5060"}, []string{}},
		// r2's server_id names n2, which is not asked; r1 is looked up.
		{"a username: every contact, r2 through its server_id and its received",
			SyncRequest{Scope: kamreg.Scope{Realm: "acme.test", Username: "alice"}},
			&uacNode{held: map[string][]string{"alice@acme.test": {"r1"}}}, nil,
			SyncReport{Sent: []string{"sip:alice@127.0.0.1", "sip:alice@127.0.0.2"}},
			[]string{"sip:alice@127.0.0.1 via  from udp:127.0.0.1:5060"},
			[]string{"sip:alice@127.0.0.2 via sip:192.0.2.7:5062 from udp:127.0.0.1:5060"}},
		{"no live registration",
			SyncRequest{Scope: kamreg.Scope{Realm: "acme.test"}, DeviceID: "dev-nobody"},
			&uacNode{}, ErrNoRegistration, SyncReport{}, []string{}, []string{}},
		{"another realm's device is not this realm's",
			SyncRequest{Scope: kamreg.Scope{Realm: "other.test"}, DeviceID: "dev-bob"},
			&uacNode{}, ErrNoRegistration, SyncReport{}, []string{}, []string{}},
		{"the node holding the contact refuses the request",
			SyncRequest{Scope: kamreg.Scope{Realm: "acme.test"}, DeviceID: "dev-bob"},
			&uacNode{held: map[string][]string{"bob@acme.test": {"r3"}}, sendErr: down}, nil,
			SyncReport{Failed: []string{"sip:bob@127.0.0.3"}, Nodes: []kamreg.NodeFailure{{Node: "n1", Error: "Kamailio node n1 did not answer"}}},
			[]string{}, []string{}},
		{"a node that cannot be asked whether it holds the contact",
			SyncRequest{Scope: kamreg.Scope{Realm: "acme.test"}, DeviceID: "dev-bob"},
			&uacNode{lookupErr: down}, nil,
			SyncReport{Failed: []string{"sip:bob@127.0.0.3"}, Nodes: []kamreg.NodeFailure{{Node: "n1", Error: "Kamailio node n1 did not answer"}}},
			[]string{}, []string{}},
		{"no node holds the contact",
			SyncRequest{Scope: kamreg.Scope{Realm: "acme.test"}, DeviceID: "dev-bob"},
			&uacNode{}, nil,
			SyncReport{Failed: []string{"sip:bob@127.0.0.3"}, Nodes: []kamreg.NodeFailure{{Node: "", Error: "no Kamailio node holds the contact of bob@acme.test"}}},
			[]string{}, []string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src, dir := deviceRealm()
			n1 := tt.n1
			n1.name = "n1"
			n2 := &uacNode{name: "n2", serverID: 2}
			r := &Registry{Source: src, Directory: dir, Nodes: []Node{n1, n2}, Table: "location", Now: func() time.Time { return now }}
			rep, err := r.Sync(context.Background(), tt.req)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantReport, rep); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantN1, sentTo(n1)); diff != "" {
				t.Errorf("n1 sent (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantN2, sentTo(n2)); diff != "" {
				t.Errorf("n2 sent (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSyncNoNodes(t *testing.T) {
	src, dir := deviceRealm()
	r := &Registry{Source: src, Directory: dir, Now: func() time.Time { return now }}
	_, err := r.Sync(context.Background(), SyncRequest{Scope: kamreg.Scope{Realm: "acme.test"}, DeviceID: "dev-bob"})
	if !errors.Is(err, ErrNoNodes) {
		t.Fatalf("err %v, want ErrNoNodes", err)
	}
}

// TestCheckSync: the NOTIFY's headers, written by hand, with and without
// reboot; a username is escaped in the To URI.
func TestCheckSync(t *testing.T) {
	b := bind("r1", "a b>", "acme.test", "sip:x@127.0.0.1:5070")
	for _, tt := range []struct {
		reboot bool
		event  string
	}{{false, "Event: check-sync"}, {true, "Event: check-sync;reboot=true"}} {
		u := checkSync(&b, tt.reboot)
		from := u.Headers[0]
		if !strings.HasPrefix(from, "From: <sip:kamreg@acme.test>;tag=") || len(from) != len("From: <sip:kamreg@acme.test>;tag=")+16 {
			t.Errorf("From %q", from)
		}
		want := []string{"To: <sip:a%20b%3E@acme.test>", tt.event, "Subscription-State: active"}
		if diff := cmp.Diff(want, u.Headers[1:]); diff != "" {
			t.Errorf("headers (-want +got):\n%s", diff)
		}
		if u.Method != "NOTIFY" || u.RURI != "sip:x@127.0.0.1:5070" || u.Socket != "udp:127.0.0.1:5060" {
			t.Errorf("request %+v", u)
		}
	}
}
