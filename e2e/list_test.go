//go:build integration

package e2e

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg/adapter"
	"github.com/kamreg/kamreg/testbed"
)

// TestList registers phones in two realms (one username with two phones,
// channel vars on some) and checks every key of every entry.
func TestList(t *testing.T) {
	reseller := newAccount(t, "Reseller", "reseller.list.kamreg.test", "", false)
	a := newAccount(t, "Acme List", "Acme.List.Kamreg.Test", reseller.id, false)
	other := newAccount(t, "Other List", "other.list.kamreg.test", "", false)
	device, owner := newID(), newID()
	mustCLI(t, "devices", "put", "--account", a.id, "--username", "alice", "--device-id", device, "--owner-id", owner, "--suppress-unregister-notify")
	const realm = "acme.list.kamreg.test"
	ccv := `{"Account-ID":"` + a.id + `","Authorizing-ID":"ccvdevice","Authorizing-Type":"device","Owner-ID":"ccvowner"}`
	reg := register(t,
		testbed.Phone{User: "alice", Domain: realm, ContactPort: 5070, ChannelVars: ccv},
		testbed.Phone{User: "alice", Domain: realm, ContactPort: 5072},
		testbed.Phone{User: "bob", Domain: realm, ContactHost: "[::1]", ContactPort: 5080, ChannelVars: ccv},
		testbed.Phone{User: "carol", Domain: "other.list.kamreg.test", ContactPort: 5070},
	)
	waitCount(t, env.main, a, 3)
	waitCount(t, env.main, other, 1)

	r := call(t, "GET", env.main.Base+"/v2/accounts/"+a.id+"/registrations", a.token, "X-Request-ID", "list-1")
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var got struct {
		AuthToken string         `json:"auth_token"`
		Data      []registration `json:"data"`
		PageSize  int            `json:"page_size"`
		RequestID string         `json:"request_id"`
		Revision  string         `json:"revision"`
		Status    string         `json:"status"`
	}
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix() + adapter.GregorianOffset
	for i, e := range got.Data {
		if e.Expires < 280 || e.Expires > 300 {
			t.Errorf("entry %d: expires %d, want about 300 (time zone %s misread?)", i, e.Expires, kamailioTZ)
		}
		if e.EventTimestamp < now-60 || e.EventTimestamp > now+2 || e.LastRegistration != e.EventTimestamp {
			t.Errorf("entry %d: event_timestamp %d, last_registration %d, want about %d", i, e.EventTimestamp, e.LastRegistration, now)
		}
		// The reference kamailio.cfg records the first REGISTER of each
		// contact; these registered once.
		if e.InitialRegistration < now-60 || e.InitialRegistration > e.EventTimestamp {
			t.Errorf("entry %d: initial_registration %d, want about %d", i, e.InitialRegistration, now)
		}
		got.Data[i].Expires, got.Data[i].EventTimestamp, got.Data[i].LastRegistration, got.Data[i].InitialRegistration = 0, 0, 0, 0
	}
	sp := strconv.Itoa(reg.Port)
	kp := strconv.Itoa(env.kam.SIPPort)
	entry := func(user, contact, host, cport, callID string) registration {
		return registration{
			AccountName: "Acme List", AccountRealm: "Acme.List.Kamreg.Test",
			AuthorizingID: "undefined", AuthorizingType: "undefined", OwnerID: "undefined",
			CallID: callID, Contact: contact, OriginalContact: contact, ContactIP: host, ContactPort: cport,
			FromHost: realm, ToHost: realm, Realm: realm, FromUser: user, ToUser: user, Username: user,
			NetworkIP: "127.0.0.1", NetworkPort: sp, ProxyIP: "127.0.0.1", ProxyPort: kp,
			UserAgent: `kamreg testbed phone, "` + user + `"`,
			SourceIP:  "127.0.0.1", SourcePort: sp, ProxyProtocol: "udp",
		}
	}
	alice1 := entry("alice", "sip:alice@127.0.0.77:5070", "127.0.0.77", "5070", reg.CallIDs[0])
	alice2 := entry("alice", "sip:alice@127.0.0.77:5072", "127.0.0.77", "5072", reg.CallIDs[1])
	for _, e := range []*registration{&alice1, &alice2} {
		e.AuthorizingID, e.AuthorizingType, e.OwnerID, e.SuppressUnregisterNotify = device, "device", owner, true
	}
	bob := entry("bob", "sip:bob@[::1]:5080", "[::1]", "5080", reg.CallIDs[2])
	bob.AuthorizingID, bob.AuthorizingType, bob.OwnerID = "ccvdevice", "device", "ccvowner"
	want := []registration{alice1, alice2, bob}
	if diff := cmp.Diff(want, got.Data); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	if got.PageSize != 3 || got.Status != "success" || got.RequestID != "list-1" || got.AuthToken != a.token || len(got.Revision) != 32 {
		t.Errorf("envelope: page_size %d status %q request_id %q auth_token %q revision %q",
			got.PageSize, got.Status, got.RequestID, got.AuthToken, got.Revision)
	}
	if h := r.header.Get("X-Request-ID"); h != "list-1" {
		t.Errorf("X-Request-ID header %q", h)
	}
	if h := r.header.Get("ETag"); h != `"`+got.Revision+`"` {
		t.Errorf("ETag %q, revision %q", h, got.Revision)
	}

	// Every one of the 24 keys is present, even those kamreg cannot know,
	// then Kazoo 4's keys that are known.
	var raw struct{ Data []map[string]any }
	_ = json.Unmarshal(r.body, &raw)
	for i, e := range raw.Data {
		for _, k := range adapter.Keys {
			if _, ok := e[k]; !ok {
				t.Errorf("entry %d has no %s", i, k)
			}
		}
		if len(e) != 29 {
			t.Errorf("entry %d has %d keys, want the 24 and 5 of Kazoo 4's: %v", i, len(e), e)
		}
	}

	// The count is the length of the list, for the account and its ancestor.
	for _, tok := range []string{a.token, reseller.token} {
		c := call(t, "GET", env.main.Base+"/v2/accounts/"+a.id+"/registrations/count", tok).json(t)
		if diff := cmp.Diff(map[string]any{"count": 3.0}, c["data"]); diff != "" {
			t.Errorf("count (-want +got):\n%s", diff)
		}
	}
}

// TestAllRealms checks /v2/registrations: super-duper only, every realm,
// and "undefined" account keys for a realm no account holds.
func TestAllRealms(t *testing.T) {
	super := newAccount(t, "Super", "super.all.kamreg.test", "", true)
	plain := newAccount(t, "Plain", "plain.all.kamreg.test", "", false)
	register(t, testbed.Phone{User: "frank", Domain: "orphan.all.kamreg.test", ContactPort: 5090})
	var found map[string]any
	testbed.Eventually(t, 15*time.Second, "frank listed in /v2/registrations", func() bool {
		var v struct{ Data []map[string]any }
		r := call(t, "GET", env.main.Base+"/v2/registrations", super.token)
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		_ = json.Unmarshal(r.body, &v)
		for _, e := range v.Data {
			if e["realm"] == "orphan.all.kamreg.test" {
				found = e
			}
		}
		return found != nil
	})
	if found["account_name"] != "undefined" || found["account_realm"] != "undefined" {
		t.Errorf("orphan realm: account_name %v account_realm %v", found["account_name"], found["account_realm"])
	}
	for _, path := range []string{"/v2/registrations", "/v2/registrations/count"} {
		if r := call(t, "GET", env.main.Base+path, plain.token); r.status != 403 {
			t.Errorf("%s as a plain account: %d, want 403", path, r.status)
		}
		if r := call(t, "GET", env.main.Base+path, super.token); r.status != 200 {
			t.Errorf("%s as super-duper: %d, want 200", path, r.status)
		}
	}
}

// registration is a registration entry as a client reads it: the
// 24 keys Kazoo documents and Kazoo 4's.
type registration struct {
	AccountName              string `json:"account_name"`
	AccountRealm             string `json:"account_realm"`
	AuthorizingID            string `json:"authorizing_id"`
	AuthorizingType          string `json:"authorizing_type"`
	CallID                   string `json:"call_id"`
	Contact                  string `json:"contact"`
	ContactIP                string `json:"contact_ip"`
	ContactPort              string `json:"contact_port"`
	EventTimestamp           int64  `json:"event_timestamp"`
	Expires                  int64  `json:"expires"`
	FromHost                 string `json:"from_host"`
	FromUser                 string `json:"from_user"`
	NetworkIP                string `json:"network_ip"`
	NetworkPort              string `json:"network_port"`
	OriginalContact          string `json:"original_contact"`
	OwnerID                  string `json:"owner_id"`
	ProxyIP                  string `json:"proxy_ip"`
	ProxyPort                string `json:"proxy_port"`
	Realm                    string `json:"realm"`
	SuppressUnregisterNotify bool   `json:"suppress_unregister_notify"`
	ToHost                   string `json:"to_host"`
	ToUser                   string `json:"to_user"`
	UserAgent                string `json:"user_agent"`
	Username                 string `json:"username"`

	InitialRegistration     int64  `json:"initial_registration,omitempty"`
	LastRegistration        int64  `json:"last_registration,omitempty"`
	PresenceID              string `json:"presence_id,omitempty"`
	ProxyProtocol           string `json:"proxy_protocol,omitempty"`
	RegisterOverwriteNotify *bool  `json:"register_overwrite_notify,omitempty"`
	RegistrarHostname       string `json:"registrar_hostname,omitempty"`
	RegistrarNode           string `json:"registrar_node,omitempty"`
	SourceIP                string `json:"source_ip,omitempty"`
	SourcePort              string `json:"source_port,omitempty"`
}
