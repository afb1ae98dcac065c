package adapter

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestKeysMatchJSON keeps Keys, the accessors and the JSON tags in step.
func TestKeysMatchJSON(t *testing.T) {
	r := FromBinding(binding(), nil, now)
	raw, _ := json.Marshal(r)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if len(m) != len(Keys) || len(accessors) != len(Keys) {
		t.Fatalf("%d JSON keys, %d Keys, %d accessors", len(m), len(Keys), len(accessors))
	}
	for _, k := range Keys {
		want, _ := json.Marshal(m[k])
		got := r.Value(k)
		if s, ok := m[k].(string); ok {
			if got != s {
				t.Errorf("%s: %q, JSON has %q", k, got, s)
			}
		} else if got != string(want) {
			t.Errorf("%s: %q, JSON has %s", k, got, want)
		}
	}
}

func TestMatch(t *testing.T) {
	r := FromBinding(binding(), nil, now)
	tests := []struct {
		filters []Filter
		want    bool
	}{
		{nil, true},
		{[]Filter{{Key: "username", Value: "alice"}}, true},
		{[]Filter{{Key: "username", Value: "bob"}}, false},
		{[]Filter{{Key: "username", Value: "alice", Not: true}}, false},
		{[]Filter{{Key: "contact_port", Value: "5062"}, {Key: "suppress_unregister_notify", Value: "false"}}, true},
		{[]Filter{{Key: "contact_port", Value: "5062"}, {Key: "expires", Value: "1"}}, false},
		{[]Filter{{Key: "owner_id", Value: "undefined", Not: true}}, true},
	}
	for _, tt := range tests {
		if got := r.Match(tt.filters); got != tt.want {
			t.Errorf("%s: %v, want %v", cmp.Diff(nil, tt.filters), got, tt.want)
		}
	}
}
