package watch

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kamreg/kamreg"
)

// ent is a live binding of user with identity id at version ver.
func ent(id, user, ver string) Entry {
	return Entry{ID: id, Version: ver, Reg: kamreg.Registration{Username: user, Contact: "sip:" + user + "@127.0.0.1",
		CallID: "c-" + id, Realm: "acme.test", Expires: 60, UserAgent: "ua-" + ver}}
}

type seen struct {
	Type, User string
	Expires    int64
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name       string
		prev, next []Entry
		want       []seen
	}{
		{"nothing changed", []Entry{ent("r1", "alice", "1")}, []Entry{ent("r1", "alice", "1")}, nil},
		{"a new contact", []Entry{ent("r1", "alice", "1")}, []Entry{ent("r1", "alice", "1"), ent("r2", "bob", "1")},
			[]seen{{Registered, "bob", 60}}},
		{"a refresh", []Entry{ent("r1", "alice", "1")}, []Entry{ent("r1", "alice", "2")}, []seen{{Refreshed, "alice", 60}}},
		{"gone, shown with expires 0", []Entry{ent("r1", "alice", "1"), ent("r2", "bob", "1")}, []Entry{ent("r2", "bob", "1")},
			[]seen{{Unregistered, "alice", 0}}},
		{"the same contact with a new ruid is gone, then new", []Entry{ent("r1", "alice", "1")}, []Entry{ent("r9", "alice", "1")},
			[]seen{{Unregistered, "alice", 0}, {Registered, "alice", 60}}},
		{"gone first, then in the list's order", []Entry{ent("r2", "bob", "1"), ent("r3", "carol", "1")},
			[]Entry{ent("r1", "alice", "1"), ent("r2", "bob", "2")},
			[]seen{{Unregistered, "carol", 0}, {Registered, "alice", 60}, {Refreshed, "bob", 60}}},
		{"everything flushed", []Entry{ent("r1", "alice", "1"), ent("r2", "bob", "1")}, nil,
			[]seen{{Unregistered, "alice", 0}, {Unregistered, "bob", 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []seen
			for _, c := range diff(tt.prev, tt.next) {
				got = append(got, seen{c.typ, c.reg.Username, c.reg.Expires})
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("changes (-want +got):\n%s", d)
			}
		})
	}
}

func TestViewWithFilters(t *testing.T) {
	ua := func(v string) []kamreg.Filter { return []kamreg.Filter{{Key: "user_agent", Value: v}} }
	old, now := ent("r1", "alice", "1").Reg, ent("r1", "alice", "2").Reg
	tests := []struct {
		name    string
		c       change
		filters []kamreg.Filter
		want    string
		wantOK  bool
	}{
		{"no filter", change{typ: Refreshed, reg: &now, old: &old}, nil, Refreshed, true},
		{"refresh seen both times", change{typ: Refreshed, reg: &now, old: &old}, []kamreg.Filter{{Key: "username", Value: "alice"}}, Refreshed, true},
		{"refresh into view", change{typ: Refreshed, reg: &now, old: &old}, ua("ua-2"), Registered, true},
		{"refresh out of view", change{typ: Refreshed, reg: &now, old: &old}, ua("ua-1"), Unregistered, true},
		{"refresh never in view", change{typ: Refreshed, reg: &now, old: &old}, ua("ua-3"), "", false},
		{"registered out of view", change{typ: Registered, reg: &now}, ua("ua-1"), Registered, false},
		{"unregistered in view", change{typ: Unregistered, reg: &old}, ua("ua-1"), Unregistered, true},
		{"filter_not", change{typ: Registered, reg: &now}, []kamreg.Filter{{Key: "username", Value: "alice", Not: true}}, Registered, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.c.view(tt.filters)
			if ok != tt.wantOK || (ok && got != tt.want) {
				t.Errorf("view = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
