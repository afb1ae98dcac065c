package kamailio_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/adapter"
	"github.com/kamreg/kamreg/kamailio"
)

func TestQuerySelectsConds(t *testing.T) {
	b := kamreg.Binding{Ruid: "r1", Username: "alice", Domain: "acme.test", Contact: "sip:alice@127.0.0.1",
		CallID: "c1", UserAgent: "phone A"}
	tests := []struct {
		name  string
		where []kamailio.Cond
		want  bool
	}{
		{"none", nil, true},
		{"username", []kamailio.Cond{{Column: kamailio.ColumnUsername, Value: "alice"}}, true},
		{"username differs", []kamailio.Cond{{Column: kamailio.ColumnUsername, Value: "bob"}}, false},
		{"negated", []kamailio.Cond{{Column: kamailio.ColumnUsername, Value: "alice", Not: true}}, false},
		{"negated other", []kamailio.Cond{{Column: kamailio.ColumnDomain, Value: "b.test", Not: true}}, true},
		{"every column", []kamailio.Cond{{Column: kamailio.ColumnDomain, Value: "acme.test"},
			{Column: kamailio.ColumnContact, Value: "sip:alice@127.0.0.1"}, {Column: kamailio.ColumnCallID, Value: "c1"},
			{Column: kamailio.ColumnUserAgent, Value: "phone A"}}, true},
		{"a column kamailio does not know", []kamailio.Cond{{Column: "to_user", Value: "alice"}}, false},
		{"an unknown column negated", []kamailio.Cond{{Column: "owner_id", Value: "x", Not: true}}, false},
		{"the zero column", []kamailio.Cond{{}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (kamailio.Query{Where: tt.where}).Selects(&b); got != tt.want {
				t.Errorf("%v, want %v", got, tt.want)
			}
		})
	}
}

// TestWhereSQL checks that a condition names its column and passes its
// value as an argument, and that an unknown column selects nothing,
// never reaching the statement.
func TestWhereSQL(t *testing.T) {
	u, err := kamailio.NewUsrloc(nil, "location", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		where    []kamailio.Cond
		want     string
		wantArgs []any
	}{
		{"equal", []kamailio.Cond{{Column: kamailio.ColumnCallID, Value: "c1"}}, "l.callid = $1 AND ", []any{"c1", "UTC"}},
		{"negated", []kamailio.Cond{{Column: kamailio.ColumnUserAgent, Value: "x' OR true", Not: true}},
			"l.user_agent IS DISTINCT FROM $1 AND ", []any{"x' OR true", "UTC"}},
		{"unknown column", []kamailio.Cond{{Column: "domain = domain OR true --", Value: "v"}}, "false AND ", []any{"UTC"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sql, args := u.CountSQL(kamailio.Query{Where: tt.where})
			_, where, _ := strings.Cut(sql, "WHERE ")
			if !strings.HasPrefix(where, tt.want) || strings.Contains(sql, "--") {
				t.Errorf("WHERE %s, want it to start %q", where, tt.want)
			}
			if diff := cmp.Diff(tt.wantArgs, args); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEveryKeyColumnIsKnown keeps the table of registration keys and the
// columns kamailio compares in step.
func TestEveryKeyColumnIsKnown(t *testing.T) {
	for _, f := range adapter.Fields {
		if f.Column != "" && !kamailio.Column(f.Column).Known() {
			t.Errorf("%s: column %q is not one kamailio compares", f.Name, f.Column)
		}
	}
}
