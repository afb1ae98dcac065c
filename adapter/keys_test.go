package adapter

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
)

func TestMatch(t *testing.T) {
	b := binding()
	r := FromBinding(&b, mapCtx(acme()))
	tests := []struct {
		filters []kamreg.Filter
		want    bool
	}{
		{nil, true},
		{[]kamreg.Filter{{Key: "username", Value: "alice"}}, true},
		{[]kamreg.Filter{{Key: "username", Value: "bob"}}, false},
		{[]kamreg.Filter{{Key: "username", Value: "alice", Not: true}}, false},
		{[]kamreg.Filter{{Key: "contact_port", Value: "5062"}, {Key: "suppress_unregister_notify", Value: "false"}}, true},
		{[]kamreg.Filter{{Key: "contact_port", Value: "5062"}, {Key: "expires", Value: "1"}}, false},
		{[]kamreg.Filter{{Key: "owner_id", Value: "undefined", Not: true}}, true},
	}
	for _, tt := range tests {
		if got := Match(&r, tt.filters); got != tt.want {
			t.Errorf("%s: %v, want %v", cmp.Diff(nil, tt.filters), got, tt.want)
		}
	}
}

// TestFields pins the table against a hand-written list: each key, its
// kind, whether it is optional, and its location column.
func TestFields(t *testing.T) {
	type row struct {
		Name     string
		Kind     Kind
		Optional bool
		Column   string
	}
	want := []row{
		{"account_name", Text, false, ""},
		{"account_realm", Text, false, ""},
		{"authorizing_id", Text, false, ""},
		{"authorizing_type", Text, false, ""},
		{"call_id", Text, false, "callid"},
		{"contact", Text, false, "contact"},
		{"contact_ip", Text, false, ""},
		{"contact_port", Text, false, ""},
		{"event_timestamp", Integer, false, ""},
		{"expires", Integer, false, ""},
		{"from_host", Text, false, "domain"},
		{"from_user", Text, false, "username"},
		{"network_ip", Text, false, ""},
		{"network_port", Text, false, ""},
		{"original_contact", Text, false, "contact"},
		{"owner_id", Text, false, ""},
		{"proxy_ip", Text, false, ""},
		{"proxy_port", Text, false, ""},
		{"realm", Text, false, "domain"},
		{"suppress_unregister_notify", Boolean, false, ""},
		{"to_host", Text, false, "domain"},
		{"to_user", Text, false, "username"},
		{"user_agent", Text, false, "user_agent"},
		{"username", Text, false, "username"},
		{"initial_registration", Integer, true, ""},
		{"last_registration", Integer, true, ""},
		{"presence_id", Text, true, ""},
		{"proxy_protocol", Text, true, ""},
		{"register_overwrite_notify", Boolean, true, ""},
		{"registrar_hostname", Text, true, ""},
		{"registrar_node", Text, true, ""},
		{"source_ip", Text, true, ""},
		{"source_port", Text, true, ""},
	}
	var got []row
	for _, f := range Fields {
		got = append(got, row{f.Name, f.Kind, f.Optional, f.Column})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
	if len(Keys) != 24 || len(AllKeys) != len(Fields) {
		t.Errorf("%d keys, %d of %d in all", len(Keys), len(AllKeys), len(Fields))
	}
}

func TestColumn(t *testing.T) {
	tests := []struct {
		key, col string
		ok       bool
	}{
		{"to_user", "username", true},
		{"from_host", "domain", true},
		{"original_contact", "contact", true},
		{"call_id", "callid", true},
		{"owner_id", "", false},
		{"source_ip", "", false},
		{"no_such_key", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		col, ok := Column(tt.key)
		if diff := cmp.Diff([]any{tt.col, tt.ok}, []any{col, ok}); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.key, diff)
		}
	}
}

func TestValue(t *testing.T) {
	r := kamreg.Registration{Username: "alice", Expires: 0, EventTimestamp: 63962913599, LastRegistration: 0,
		InitialRegistration: 63962909999, SuppressUnregisterNotify: true, RegisterOverwriteNotify: "false"}
	tests := []struct{ key, want string }{
		{"username", "alice"},
		{"expires", "0"},          // one of the 24: known as 0
		{"last_registration", ""}, // optional: 0 is unknown
		{"initial_registration", "63962909999"},
		{"event_timestamp", "63962913599"},
		{"suppress_unregister_notify", "true"},
		{"register_overwrite_notify", "false"},
		{"presence_id", ""},
		{"no_such_key", ""},
	}
	for _, tt := range tests {
		if got := Value(&r, tt.key); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.key, got, tt.want)
		}
	}
}
