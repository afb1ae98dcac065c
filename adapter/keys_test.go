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
